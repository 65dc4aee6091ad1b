/**
 * Line classifiers for the visible-reply extractor.
 *
 * Every check works on one line (or a join of at most three lines) that the caller has
 * already clipped to MAX_LINE_CHARS, and every regex is anchored or bounded, so the cost
 * per line is constant and a hostile message cannot cause catastrophic backtracking.
 */

/** Only this many characters of a line are ever inspected. */
export const MAX_LINE_CHARS = 1000;

/** A quote header ("On … wrote:") spans at most this many physical lines. */
export const MAX_HEADER_LINES = 3;

const MAX_HEADER_CHARS = 500;

export function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
}

export function isBlank(line: string): boolean {
  return line.trim() === '';
}

export function isQuoteLine(line: string): boolean {
  return /^\s*>/.test(line);
}

// ---------------------------------------------------------------------------
// Quote headers: "On <date>, <name> wrote:" and its translations.

// Words that open a localised quote header (en, es/ca, fr, de, nl, pl, da/no/sv, pt, it, cs, sk, id, gl).
const HEADER_START_RE = /^(?:On|El|Le|Am|Op|W dniu|Dnia|Den|Em|Il|Dne|Dňa|Pada|Po|På|Vào|O|Às)\s/iu;

// Verbs that end a header, optionally followed by a colon.
const HEADER_END_VERBS = [
  'wrote', 'writes', 'escribió', 'escribio', 'a écrit', 'a ecrit', 'schrieb', 'geschreven',
  'schreef', 'napisał', 'napisała', 'napisał\\(a\\)', 'napisal', 'napisal\\(a\\)', 'pisze',
  'skrev', 'skrev følgende', 'skrev följande', 'skriver', 'escreveu', 'ha scritto', 'scrisse',
  'написал', 'написала', 'написал\\(а\\)', 'написав', 'написала', 'napsal', 'napsal\\(a\\)',
  'napísal', 'kirjoitti', 'írta', 'yazdı', '작성', 'のメッセージ', '写道', '寫道', 'έγραψε',
  'menulis', 'napisao', 'napisala', 'a scris', 'rašė', 'đã viết', 'כתב', 'כתבה', 'كتب', 'sent',
  // Catalan (Gmail, Apple Mail: "va escriure"; Thunderbird: "ha escrit"), Galician ("escribiu"),
  // Basque (Gmail: "erabiltzaileak hau idatzi zuen"), Russian Thunderbird ("пишет").
  'va escriure', 'ha escrit', 'escribiu', 'idatzi zuen', 'idatzi du', 'пишет',
];
const HEADER_END_RE = new RegExp(`(?:^|[\\s>"'»)\\]])(?:${HEADER_END_VERBS.join('|')})\\s*[:：]?$`, 'iu');

// Verbs that sit before the sender's name ("Am … schrieb Hans <h@x.de>:").
// Basque Thunderbird puts the date after the verb: "Ana(e)k idatzi zuen 2026/03/03 10:00(e)an:".
const HEADER_MID_RE = /(?:^|\s)(?:schrieb|schreef|skrev|wrote|escribió|escreveu|написал|napisał|idatzi zuen|idatzi du)\s/iu;

// A time, a four-digit year or a numeric date: what separates a header from prose.
const DATEISH_RE = /\d{1,2}[:.h]\d{2}|\b(?:19|20)\d{2}\b|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}/u;

/** Strips "-----" / "***" decoration; reports whether both ends carried some. */
function undecorate(s: string): { core: string; decorated: boolean } {
  const core = s.replace(/^[-*_=\s]+/, '').replace(/[-*_=\s]+$/, '');
  const decorated = /^[-*_=]{2}/.test(s.trim()) && /[-*_=]{2}$/.test(s.trim());
  return { core, decorated };
}

/** "… <someone@example.com>:" — a sender address right before the closing colon. */
function endsWithAddressColon(s: string): boolean {
  if (!/>\s*[:：]$/.test(s)) return false;
  const open = s.lastIndexOf('<');
  return open !== -1 && s.indexOf('@', open) !== -1;
}

/** True when `s` (one header, possibly joined from several lines) reads as a quote header. */
export function isHeaderText(s: string): boolean {
  const { core, decorated } = undecorate(s);
  if (core.length < 5 || core.length > MAX_HEADER_CHARS) return false;
  const evidence = HEADER_START_RE.test(core) || core.includes('@') || DATEISH_RE.test(core);
  if (HEADER_END_RE.test(core.slice(-60))) return evidence || decorated;
  if (!/[:：]$/.test(core)) return isDateNameAddress(core);
  if (HEADER_MID_RE.test(core) && evidence) return true;
  return endsWithAddressColon(core) && DATEISH_RE.test(core);
}

/** Old Gmail: "2011/4/7 Nathan <support@example.com>" with no verb and no colon. */
function isDateNameAddress(s: string): boolean {
  const t = s.trim();
  if (!/^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s/.test(t) || !t.endsWith('>')) return false;
  const open = t.lastIndexOf('<');
  return open !== -1 && t.indexOf('@', open) !== -1;
}

/** Could this line be the first of a header wrapped over several lines? */
export function canStartWrappedHeader(line: string): boolean {
  const t = line.trim();
  if (/[.!?]$/.test(t)) return false;
  return HEADER_START_RE.test(t) || DATEISH_RE.test(t);
}

/**
 * "reply text On <date>, bob wrote:" — a reply and an English header sharing one line.
 * Returns the reply part, or null when the line is not of that shape.
 */
export function splitSharedHeader(line: string): string | null {
  if (!/wrote:?\s*$/i.test(line) || HEADER_START_RE.test(line.trim())) return null;
  const re = /(?:^|[\s-])On\s/g;
  for (let n = 0; n < 5; n++) {
    const m = re.exec(line);
    if (!m) return null;
    const start = m.index + (m[0].startsWith('O') ? 0 : 1);
    const rest = line.slice(start);
    const prefix = line.slice(0, start).replace(/[-\s]+$/, '');
    if (prefix && /\d/.test(rest) && isHeaderText(rest)) return prefix;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Outlook-style "From: / Sent: / To: / Subject:" blocks.

const FROM_LABELS = [
  'from', 'de', 'von', 'van', 'fra', 'från', 'da', 'od', 'от', 'від', 'feladó', 'kimden',
  'lähettäjä', 'afzender', 'remitente', 'expéditeur', '差出人', '发件人', '寄件者', '보낸 사람',
  'mittente', 'avsändare', 'odesílatel', 'nork',
];
const DATE_LABELS = [
  'sent', 'date', 'envoyé', 'envoyé le', 'envoye', 'gesendet', 'datum', 'enviado', 'enviado el',
  'fecha', 'sendt', 'dato', 'skickat', 'verzonden', 'verstuurd', 'inviato', 'data', 'wysłano',
  'wysłane', 'отправлено', 'дата', 'enviada', 'lähetetty', 'elküldve', 'gönderildi', '送信日時',
  '日付', '日期', '发送时间', 'odesláno', 'enviat', 'noiz',
];
const SUBJECT_LABELS = [
  'subject', 'objet', 'betreff', 'asunto', 'emne', 'ämne', 'onderwerp', 'oggetto', 'temat', 'тема',
  'assunto', 'aihe', 'tárgy', 'konu', '件名', '主题', 'předmět', 'assumpte', 'gaia',
];
const OTHER_LABELS = [
  ...DATE_LABELS, ...SUBJECT_LABELS, 'to', 'cc', 'bcc', 'reply-to', 'à', 'a', 'an', 'para', 'til',
  'till', 'aan', 'do', 'кому', 'vastaanottaja', 'címzett', 'kime', '宛先', '收件人', 'komu',
  'per a', 'nori',
];
const FROM_SET = new Set(FROM_LABELS);
const DATE_SET = new Set(DATE_LABELS);
const SUBJECT_SET = new Set(SUBJECT_LABELS);
const FIELD_RE = new RegExp(
  `^\\s*\\*{0,2}(${[...FROM_LABELS, ...OTHER_LABELS].join('|')})\\*{0,2}\\s*[:：]`,
  'iu',
);
const INLINE_FIELD_RE = new RegExp(`\\s\\*{0,2}(?:${OTHER_LABELS.join('|')})\\*{0,2}\\s?:`, 'giu');

export type FieldKind = 'from' | 'date' | 'subject' | 'other';

/** Is this line a mail header field such as "Sent: …", and which kind? */
export function fieldKind(line: string): FieldKind | null {
  const m = FIELD_RE.exec(line);
  if (!m || m[1] === undefined) return null;
  const label = m[1].toLowerCase();
  if (FROM_SET.has(label)) return 'from';
  if (DATE_SET.has(label)) return 'date';
  return SUBJECT_SET.has(label) ? 'subject' : 'other';
}

/** "From: a Sent: b To: c Subject: d" flattened onto one line. */
export function isInlineFieldBlock(line: string): boolean {
  if (fieldKind(line) !== 'from') return false;
  INLINE_FIELD_RE.lastIndex = 0;
  let count = 0;
  while (count < 2 && INLINE_FIELD_RE.exec(line)) count++;
  return count >= 2;
}

// ---------------------------------------------------------------------------
// Separators: "-----Original Message-----", forwarded-message banners, rules.

const ORIGINAL_PHRASES = new Set([
  'original message', 'reply message', 'ursprüngliche nachricht', 'antwort nachricht',
  'original nachricht', 'oprindelig besked', 'oprindelig meddelelse', "message d'origine",
  'message original', 'mensaje original', 'messaggio originale', 'oorspronkelijk bericht',
  'origineel bericht', 'originalmeddelande', 'opprinnelig melding', 'wiadomość oryginalna',
  'oryginalna wiadomość', 'исходное сообщение', 'mensagem original', 'alkuperäinen viesti',
  'původní zpráva', 'eredeti üzenet', 'orijinal mesaj',
]);
const FORWARD_PHRASES = new Set([
  'forwarded message', 'forwarded message follows', 'weitergeleitete nachricht',
  'videresendt meddelelse', 'message transféré', 'mensaje reenviado', 'messaggio inoltrato',
  'doorgestuurd bericht', 'vidarebefordrat meddelande', 'videresendt melding',
  'wiadomość przekazana', 'пересылаемое сообщение', 'mensagem encaminhada',
]);
const FORWARD_LINES = new Set([
  'begin forwarded message:', 'anfang der weitergeleiteten nachricht:',
  'début du message réexpédié :', 'début du message réexpédié:', 'inicio del mensaje reenviado:',
]);

/**
 * "-----Original Message-----" ('original') or "---------- Forwarded message ----------"
 * ('forward'); the dashes are required and the phrase must match exactly.
 */
export function messageSeparatorKind(line: string): 'original' | 'forward' | null {
  const t = line.trim();
  if (t.length > 120) return null;
  if (FORWARD_LINES.has(t.toLowerCase())) return 'forward';
  if (!/^[-=_*]{2}/.test(t)) return null;
  const inner = t.replace(/^[-=_*\s]+/, '').replace(/[-=_*\s:]+$/, '').toLowerCase();
  if (ORIGINAL_PHRASES.has(inner)) return 'original';
  return FORWARD_PHRASES.has(inner) ? 'forward' : null;
}

/** A line drawn with underscores or dashes, as Outlook puts above a quoted header block. */
export function isRuleLine(line: string): boolean {
  return /^\s*(?:_{5,}|-{5,}|={5,})\s*$/.test(line);
}

/** Decoration-only line, dropped when it is left dangling at the end of the reply. */
export function isDecorationLine(line: string): boolean {
  return /^\s*[-_=*~#]{2,}\s*$/.test(line);
}

/** The "-- " signature delimiter (also without the trailing space), or a "____" footer rule. */
export function isSignatureDelimiter(line: string): boolean {
  return /^--\s*$/.test(line) || /^\s*_{2,}\s*$/.test(line);
}

// ---------------------------------------------------------------------------
// Signatures.

const MOBILE_SIGNATURE_RES: RegExp[] = [
  // At most four words, so "Sent from my desk, which is easier" stays.
  /^Sent from my(?: [^\s,;]+){1,4}$/i,
  // "Sent from Mailbox", "Sent with Sparrow"; a capital keeps out "Sent from a torch of pixels".
  /^Sent (?:from|with|via|using) (?:[A-Z]|iPhone|iPad)/,
  /^(?:Sent )?(?:via|from) (?:my )?(?:mobile|phone|cell|cellphone|smartphone|tablet)\b/i,
  /^Get Outlook for /i,
  /^Envoy[ée] (?:de|depuis|à partir de|a partir de|avec) /i,
  /^Enviado (?:desde|de|do|con|com) \S/i,
  /^Gesendet (?:von|mit|vom) /i,
  /^Von meinem \S.{0,40} gesendet$/i,
  /^(?:Verzonden|Verstuurd) (?:vanaf|met|via|van) /i,
  /^Inviato (?:da|dal|con) /i,
  /^Wysłane (?:z|przy użyciu) /i,
  /^(?:Skickat|Sendt) (?:från|fra|via) /i,
  /^Lähetetty /i,
  /^Отправлено (?:с|из) /i,
];

/** "Sent from my iPhone", "Get Outlook for iOS<https://…>", "Enviado desde mi …". */
export function isMobileSignature(line: string): boolean {
  let t = line.trim();
  if (t.length > 200) return false;
  t = t.replace(/\s*[<(](?:https?|mailto):[^<>()\s]*[>)]$/i, '').replace(/[!.]+$/, '');
  if (t.length > 80) return false;
  return MOBILE_SIGNATURE_RES.some((re) => re.test(t));
}

/** "-roman", "-Abhishek Kona": a dash-prefixed name on the last line. */
export function isDashName(line: string): boolean {
  return /^-{1,2}[A-Za-z][\w.'’]*(?: [\w.'’]+){0,2}$/.test(line.trim()) && line.trim().length <= 30;
}

/** "Stavros Xxxxxx": two or three capitalised words and nothing else. */
export function isNameLine(line: string): boolean {
  const t = line.trim();
  return t.length <= 40 && /^\p{Lu}[\p{L}'’.-]*(?: \p{Lu}[\p{L}'’.-]*){1,2}$/u.test(t);
}

const SIGN_OFFS = new Set([
  'regards', 'best regards', 'kind regards', 'warm regards', 'warmest regards', 'with regards',
  'best wishes', 'all the best', 'best', 'cheers', 'thanks', 'thank you', 'thanks in advance',
  'thank you in advance', 'many thanks', 'thanks again', 'thanks a lot', 'thank you very much',
  'thx', 'sincerely', 'yours sincerely', 'sincerely yours', 'yours truly', 'respectfully',
  'take care', 'cordialement', 'bien cordialement', 'bien à vous', 'salutations', 'merci',
  'saludos', 'un saludo', 'saludos cordiales', 'atentamente', 'gracias',
  'mit freundlichen grüßen', 'mit freundlichen grüssen', 'freundliche grüße', 'viele grüße',
  'beste grüße', 'liebe grüße', 'gruß', 'grüße', 'met vriendelijke groet', 'vriendelijke groet',
  'groeten', 'med vänliga hälsningar', 'vänliga hälsningar', 'hälsningar', 'mvh',
  'med venlig hilsen', 'venlig hilsen', 'hilsen', 'pozdrawiam', 'z poważaniem', 'с уважением',
  'atenciosamente', 'cumprimentos', 'obrigado', 'obrigada', 'cordiali saluti', 'distinti saluti',
  'saluti', 'grazie',
]);

/** A sign-off alone on its line: "Regards,", "Thanks in advance,", "Cheers!". */
export function isSignOff(line: string): boolean {
  const t = line.trim();
  if (t.length > 40) return false;
  return SIGN_OFFS.has(t.replace(/[\s,.!:;]+$/, '').toLowerCase());
}

// ---------------------------------------------------------------------------
// Multi-line checks: each looks at most a few lines ahead of (or behind) line i.

const FIELD_LOOKAHEAD = 7;
// An address or a clock time in a header field value.
const MAIL_FIELD_VALUE_RE = /@|\d{1,2}:\d{2}/;

export function nextNonBlank(lines: string[], from: number, limit = Infinity): number {
  for (let i = from, seen = 0; i < lines.length && seen < limit; i++, seen++) {
    if (!isBlank(clip(lines[i] ?? ''))) return i;
  }
  return -1;
}

/** Header span and any reply text sharing its first line, or null. */
export function matchHeader(lines: string[], i: number): { span: number; prefix: string } | null {
  const first = clip(lines[i] ?? '').trim();
  const prefix = splitSharedHeader(first);
  if (prefix !== null) return { span: 1, prefix };
  if (isHeaderText(first)) return { span: 1, prefix: '' };
  if (!canStartWrappedHeader(first)) return null;
  let joined = first;
  for (let k = 1; k < MAX_HEADER_LINES && i + k < lines.length; k++) {
    const next = clip(lines[i + k] ?? '').trim();
    // Gmail wraps "<addr\n>:" so a tiny ">…" tail is a continuation, not a quote.
    if (!next || (isQuoteLine(next) && next.length > 3)) return null;
    joined += ' ' + next;
    if (isHeaderText(joined)) return { span: k + 1, prefix: '' };
  }
  return null;
}

/**
 * Does an Outlook-style header block ("From:/Sent:/To:/Subject:") start at line i? It takes
 * a From or Date field plus one more field within the next few lines, and some sign that
 * these are mail headers (an address, a Subject, a time) so "Date: 12 May / To: Paris" in a
 * customer's own text survives.
 */
export function startsFieldBlock(lines: string[], i: number): boolean {
  const line = clip(lines[i] ?? '');
  const kind = fieldKind(line);
  if (kind === null) return false;
  if (kind === 'from' && isInlineFieldBlock(line)) return true;
  const prev = nextNonBlankBackward(lines, i - 1);
  if (prev !== -1 && fieldKind(clip(lines[prev] ?? '')) !== null) return false;
  let fields = 1;
  let anchored = kind === 'from' || kind === 'date';
  let mailLike = kind === 'subject' || MAIL_FIELD_VALUE_RE.test(line);
  for (let j = i + 1, seen = 0; j < lines.length && seen < FIELD_LOOKAHEAD; j++) {
    const l = clip(lines[j] ?? '');
    if (isBlank(l)) continue;
    seen++;
    const k = fieldKind(l);
    if (k === null) continue;
    fields++;
    anchored ||= k === 'from' || k === 'date';
    mailLike ||= k === 'subject' || MAIL_FIELD_VALUE_RE.test(l);
  }
  return anchored && mailLike && fields >= 2;
}

function nextNonBlankBackward(lines: string[], from: number): number {
  for (let i = from, seen = 0; i >= 0 && seen < 3; i--, seen++) {
    if (!isBlank(clip(lines[i] ?? ''))) return i;
  }
  return -1;
}

/** A rule line directly above a header field or quote header (Outlook's separator). */
export function isRuleAboveQuote(lines: string[], i: number): boolean {
  if (!isRuleLine(clip(lines[i] ?? ''))) return false;
  const next = nextNonBlank(lines, i + 1, 3);
  if (next === -1) return false;
  return fieldKind(clip(lines[next] ?? '')) !== null || matchHeader(lines, next) !== null;
}
