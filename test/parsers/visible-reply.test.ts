import { describe, it, expect } from 'vitest';
import { extractVisibleReply, extractVisibleReplyFromHtml } from '../../parsers/visible-reply.js';

describe('extractVisibleReply', () => {
  it.each([
    ['an English "On … wrote:" header', 'Thanks!\n\nOn Tue, Mar 1, 2011 at 6:02 PM, Bob <bob@example.com> wrote:\n\n> Hi'],
    ['an English header without the colon', 'Thanks!\n\nOn Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote\n\nOld text'],
    ['an English header split over three lines', 'Thanks!\n\nOn Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@reply.github.com>\nwrote:\n\n> Old'],
    ['a Spanish "El … escribió:" header', 'Thanks!\n\nEl 19/03/2014 11:34, Juan Pérez <juan@example.com> escribió:\n\nTexto anterior'],
    ['a German "Am … schrieb …:" header', 'Thanks!\n\nAm 18.03.2014 um 21:05 schrieb Test User <test@example.com>:\n\n> Alt'],
    ['a French "Le … a écrit :" header', 'Thanks!\n\nLe 19 mars 2014 10:37, Cédric <cedric@example.com> a écrit :\n\nAncien message'],
    ['a Polish header wrapped onto a second line', 'Thanks!\n\nW dniu 28 stycznia 2015 01:53 użytkownik Zoe <zoe@example.com>\nnapisał:\n\nBlah'],
    ['a Dutch "Op … schreef …:" header', 'Thanks!\n\nOp 13-02-2014 3:18 schreef Julius <j@rome.com>:\n\nOud'],
    ['a Gmail date header ending in the address', 'Thanks!\n\n2017-11-24 16:32 GMT+01:00 Baptiste <b@example.com>:\n\nOld'],
    ['a dash-decorated Android header', 'Thanks!\n\n---- John Smith wrote ----\n\n> quoted'],
  ])('cuts the quoted history at %s', (_name, input) => {
    expect(extractVisibleReply(input)).toBe('Thanks!');
  });

  it.each([
    ['an English Outlook block', 'Got it.\n\nFrom: somebody@example.com\nSent: March-19-11 5:42 PM\nTo: Somebody\nSubject: Loop\n\nOld'],
    ['a German Outlook block', 'Got it.\n\nVon: a@example.de\nGesendet: Dienstag, 25. November 2014 14:59\nAn: Somebody\nBetreff: Loop\n\nAlt'],
    ['an indented French block with spaced colons', 'Got it.\n\n   De : Company<mailto:q@company.com>\n   Envoyé le :jeudi 15 décembre 2016 09:35\n   Objet :Hello\n\nAncien'],
    ['a Spanish Outlook block', 'Got it.\n\nDe: Ana <ana@example.es>\nEnviado: lunes, 3 de abril de 2023 10:00\nPara: Luis\nAsunto: Hola\n\nViejo'],
    ['a block that starts with Date:', 'Got it.\n\nDate: Wed, 16 May 2012 00:15:02 -0600\nTo: klizhentas@example.com\n\nOld'],
    ['bold *From:* fields under a dashed rule', 'Got it.\n\n ------------------------------\n\n*From:* Team [mailto:t@example.com]\n*Sent:* Thursday\n*To:* me\n\nOld'],
    ['an underscore separator', 'Got it.\n________________________________\nFrom: CRM <crm@example.com>\nSent: Friday\nTo: John\nSubject: x\n\nOld'],
    ['"-----Original Message-----"', 'Got it.\n\n-----Original Message-----\nFrom: a@example.com\n\nOld'],
    ['a Danish "Oprindelig besked" banner', 'Got it.\n\n-------- Oprindelig besked --------\nFra: A <a@a.org>\nDato: 04.07.2024\n\nOld'],
  ])('cuts the quoted history at %s', (_name, input) => {
    expect(extractVisibleReply(input)).toBe('Got it.');
  });

  it.each([
    ['a "-- " delimiter', 'Wow.\n\n-- \nBob Smith\nACME'],
    ['a "--" delimiter without the space', 'Wow.\n--\nrick'],
    ['"Sent from my iPhone"', 'Wow.\n\nSent from my iPhone'],
    ['"Sent from Mailbox for iPhone"', 'Wow.\nSent from Mailbox for iPhone'],
    ['"Get Outlook for iOS" with its link', 'Wow.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>'],
    ['"Enviado desde mi iPhone"', 'Wow.\n\nEnviado desde mi iPhone'],
    ['a dash-prefixed name', 'Wow.\n-roman'],
    ['a sign-off followed by a name', 'Wow.\n\nThanks in advance,\nBob'],
    ['a sign-off followed by a name and title', 'Wow.\n\nRegards,\n\nJohn Doe\nCEO @ Acme'],
    ['a name glued to a "via mobile" line', 'Wow.\n\nStavros Xxxxxx\nvia mobile'],
  ])('drops the signature given %s', (_name, input) => {
    expect(extractVisibleReply(input)).toBe('Wow.');
  });

  it.each([
    ['a plain message', 'Hello,\n\nMy order has not arrived yet.\nCan you check?'],
    ['a line starting with "On" that is not a header', 'On Thursday I tried again.\n\nOn your site the button is gone.'],
    ['"Something wrote:" without date or address', 'My colleague wrote:\nthe printer is broken'],
    ['dates that are only content', 'Times:\n\n2024-01-15 14:30:25\n15.01.2024 14:30\nJan 15, 2024 at 14:30'],
    ['"--" inside a sentence', 'Here is a fix -- this is not a signature.\n\nkthxbai'],
    ['a one-line sign-off with the name', 'See you then.\n\nRegards, Roman'],
    ['"Sent from" followed by prose', 'Done.\n\nSent from a magnificent torch of pixels'],
    ['a single decorative ">" line', 'Visit us\n>>> >>>  http://www.domain.com <<<\nVisit our site'],
    ['a bulleted list', 'Steps:\n\n- open the app\n- tap login'],
  ])('keeps %s whole', (_name, input) => {
    expect(extractVisibleReply(input)).toBe(input);
  });

  it.each([
    ['removes ">" quoted lines around a bottom-posted reply', '> question one\n> question two\n\nMy answer', 'My answer'],
    ['keeps the reply written below a quoted header', 'On 04/19/2011 07:10 AM, Roman wrote:\n\n>\n> Test\nTest reply', 'Test reply'],
    ['keeps text after a quote block that follows a header', 'Reply\n\nOn 04/19/2011 07:10 AM, Roman wrote:\n\n> Test.\n\nRegards, Roman', 'Reply\n\nRegards, Roman'],
    ['drops quote lines that a client re-wrapped without ">"', 'Ok\n\nOn 1 May 2020, at 10:00, Al <a@b.c> wrote:\n> a long line that was\nwrapped here\n> end', 'Ok'],
    ['splits a reply sharing its line with the header', 'reply--- On Wed, Apr 4, 2012 at 3:59 PM, me@domain.com wrote:\n> Hi', 'reply'],
    ['keeps a forwarded message whole', 'FYI\n\n---------- Forwarded message ----------\nFrom: bob@example.com\nDate: Tue, Sep 4, 2012\n\nText', 'FYI\n\n---------- Forwarded message ----------\nFrom: bob@example.com\nDate: Tue, Sep 4, 2012\n\nText'],
    ['converts CRLF input to LF output', 'Line one\r\nLine two\r\n\r\nOn Tue, Mar 1, 2011 at 6:02 PM, Bob <b@x.com> wrote:\r\n> Hi\r\n', 'Line one\nLine two'],
    ['trims surrounding whitespace', '\n\n   Hello there   \n\n', 'Hello there'],
    ['returns an empty string for empty input', '', ''],
    ['returns an empty string when everything is quoted', '> a\n> b', ''],
  ])('%s', (_name, input, expected) => {
    expect(extractVisibleReply(input)).toBe(expected);
  });

  it('never throws on non-string input', () => {
    expect(extractVisibleReply(undefined as unknown as string)).toBe('');
    expect(extractVisibleReply(null as unknown as string)).toBe('');
  });

  it.each([
    ['200,000 lines of "On"', 'On\n'.repeat(200_000)],
    ['200,000 lines of ">>>>"', '>>>>\n'.repeat(200_000)],
    ['one 1 MB line of spaces and "On "', 'On '.repeat(350_000) + 'wrote:'],
    ['200,000 header-like lines', 'On 1 May 2020 12:00 Bob <\n'.repeat(40_000)],
    ['100,000 field lines', 'From: a\nTo: b\n'.repeat(50_000)],
    ['200,000 dash lines', '-----\n'.repeat(200_000)],
  ])('handles a pathological input of %s quickly', (_name, input) => {
    const started = performance.now();
    extractVisibleReply(input);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('extractVisibleReplyFromHtml', () => {
  it.each([
    ['a Gmail quote div', 'Reply<div class="gmail_quote">On 11-Apr-2011, Bob &lt;bob@example.com&gt; wrote:<div>Test</div></div>', 'Reply'],
    ['an Apple blockquote type=cite', '<div>Reply</div><div>On Jun 27, 2014, at 12:06, Al &lt;a@b.c&gt; wrote:</div><blockquote type="cite">Old</blockquote>', 'Reply'],
    ['a Thunderbird cite prefix and blockquote', 'Hi.<br><div class="moz-cite-prefix">On 26.06.2014 14:41, Al wrote:<br></div><blockquote type="cite">Old</blockquote>', 'Hi.'],
    ['an Outlook divRplyFwdMsg', '<div>Reply</div><hr><div id="divRplyFwdMsg"><b>From:</b> Bob</div><div>Old body</div>', 'Reply'],
    ['an Outlook border-top From block', '<p>Reply</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> Bob<br><b>Sent:</b> Monday<br><b>To:</b> Al<br><b>Subject:</b> x</p></div><p>Old</p>', 'Reply'],
    ['a Yahoo quote', '<div>Reply</div><div class="yahoo_quoted">On Monday, Bob wrote: Old</div>', 'Reply'],
    ['the last plain blockquote', '<div>message</div><blockquote>Quote</blockquote><div>disclaimer</div>', 'message\ndisclaimer'],
  ])('removes %s', (_name, html, expected) => {
    expect(extractVisibleReplyFromHtml(html)).toBe(expected);
  });

  it('keeps a blockquote that is not followed by history', () => {
    expect(extractVisibleReplyFromHtml('Message<blockquote class="gmail_quote">My name is Will.</blockquote>')).toBe(
      'Message\n\nMy name is Will.',
    );
  });

  it('keeps the sign-off of an HTML reply', () => {
    expect(extractVisibleReplyFromHtml('<p>Hi. I am fine.</p><p>Thanks,<br>Alex</p>')).toBe('Hi. I am fine.\n\nThanks,\nAlex');
  });

  it('renders links as their text without the URL', () => {
    expect(extractVisibleReplyFromHtml('See <a href="https://example.com/x">the page</a> <img src="a.png" alt="logo">')).toBe(
      'See the page',
    );
  });

  it('returns an empty string for empty or broken input', () => {
    expect(extractVisibleReplyFromHtml('')).toBe('');
    expect(extractVisibleReplyFromHtml('<div><blockquote')).toBe('');
    expect(extractVisibleReplyFromHtml(undefined as unknown as string)).toBe('');
  });

  it('handles 1 MB of nested markup quickly', () => {
    const html = '<div><blockquote>'.repeat(30_000) + 'x' + '</blockquote></div>'.repeat(30_000);
    const started = performance.now();
    extractVisibleReplyFromHtml(html);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('quote headers of the mail clients customers write with', () => {
  // The clients' own localized strings (Gmail, Outlook, Apple Mail, Thunderbird, Windows Mail),
  // in the languages of the support addresses: Spanish, Catalan, Galician, Basque, Portuguese,
  // French, Italian, German, Russian, English, and addresses written as <mailto:…>.
  const headers: Array<[string, string]> = [
    ['gmail ca', 'El dl., 3 de març 2026 a les 10:00, Ana Pérez <ana@cliente.es> va escriure:'],
    ['gmail gl', 'O luns, 3 de marzo de 2026, Ana Pérez <ana@cliente.es> escribiu:'],
    ['gmail eu', '2026(e)ko mar. 3(a) (al.) 10:00(e)tan, Ana Pérez (<ana@cliente.es>) erabiltzaileak hau idatzi zuen:'],
    ['gmail pt-BR', 'Em seg., 3 de mar. de 2026 às 10:00, Ana Pérez <ana@cliente.es> escreveu:'],
    ['gmail pt-PT', 'Ana Pérez <ana@cliente.es> escreveu no dia segunda, 3/03/2026 à(s) 10:00:'],
    ['gmail fr', 'Le lun. 3 mars 2026 à 10:00, Ana Pérez <ana@cliente.es> a écrit :'],
    ['gmail it', 'Il giorno lun 3 mar 2026 alle ore 10:00 Ana Pérez <ana@cliente.es> ha scritto:'],
    ['gmail de', 'Am Mo., 3. März 2026 um 10:00 Uhr schrieb Ana Pérez <ana@cliente.es>:'],
    ['gmail ru', 'пн, 3 мар. 2026 г. в 10:00, Ana Pérez <ana@cliente.es>:'],
    ['apple es', 'El 3 mar 2026, a las 10:00, Ana Pérez <ana@cliente.es> escribió:'],
    ['apple fr', 'Le 3 mars 2026 à 10:00, Ana Pérez <ana@cliente.es> a écrit :'],
    ['apple de', 'Am 03.03.2026 um 10:00 schrieb Ana Pérez <ana@cliente.es>:'],
    ['apple it', 'Il giorno 3 mar 2026, alle ore 10:00, Ana Pérez <ana@cliente.es> ha scritto:'],
    ['apple pt', 'Em 3 de mar. de 2026, à(s) 10:00, Ana Pérez <ana@cliente.es> escreveu:'],
    ['apple ca', 'El 3 de març 2026, a les 10:00, Ana Pérez <ana@cliente.es> va escriure:'],
    ['apple ru', '3 марта 2026 г., в 10:00, Ana Pérez <ana@cliente.es> написал(а):'],
    ['tb de', 'Am 03.03.26 um 10:00 schrieb Ana Pérez:'],
    ['tb fr', 'Le 03/03/2026 à 10:00, Ana Pérez a écrit :'],
    ['tb es', 'El 3/3/26 a las 10:00, Ana Pérez escribió:'],
    ['tb it', 'Il 03/03/26 10:00, Ana Pérez ha scritto:'],
    ['tb pt', 'Às 10:00 de 03/03/2026, Ana Pérez escreveu:'],
    ['tb ru', '03.03.2026 10:00, Ana Pérez пишет:'],
    ['tb ca', 'El 3/3/26 a les 10:00, Ana Pérez ha escrit:'],
    ['tb gl', 'O 03/03/26 ás 10:00, Ana Pérez escribiu:'],
    ['tb eu', 'Ana Pérez(e)k idatzi zuen 2026/03/03 10:00(e)an:'],
    ['mailto en', 'On Mon, Mar 3, 2026 at 10:00 AM Ana Pérez <mailto:ana@cliente.es> wrote:'],
    ['mailto es', 'El lun, 3 mar 2026 a las 10:00, Ana Pérez <mailto:ana@cliente.es> escribió:'],
    ['mailto nested', 'On Mon, Mar 3, 2026 at 10:00 AM Ana Pérez <ana@cliente.es<mailto:ana@cliente.es>> wrote:'],
    ['outlook ca', 'De: Ana Pérez <ana@cliente.es>\nEnviat: dilluns, 3 de març de 2026 10:00\nPer a: soporte@example.com\nAssumpte: Re: envíos'],
    ['outlook gl', 'De: Ana Pérez <ana@cliente.es>\nEnviado: luns, 3 de marzo de 2026 10:00\nPara: soporte@example.com\nAsunto: Re: envíos'],
    ['outlook eu', 'Nork: Ana Pérez <ana@cliente.es>\nNoiz: astelehena, 2026(e)ko martxoaren 3(a) 10:00\nNori: soporte@example.com\nGaia: Re: envíos'],
    ['outlook pt', 'De: Ana Pérez <ana@cliente.es>\nEnviado: segunda-feira, 3 de março de 2026 10:00\nPara: soporte@example.com\nAssunto: Re: envíos'],
    ['outlook fr', 'De : Ana Pérez <ana@cliente.es>\nEnvoyé : lundi 3 mars 2026 10:00\nÀ : soporte@example.com\nObjet : Re: envíos'],
    ['outlook it', 'Da: Ana Pérez <ana@cliente.es>\nInviato: lunedì 3 marzo 2026 10:00\nA: soporte@example.com\nOggetto: Re: envíos'],
    ['outlook de', 'Von: Ana Pérez <ana@cliente.es>\nGesendet: Montag, 3. März 2026 10:00\nAn: soporte@example.com\nBetreff: AW: envíos'],
    ['outlook ru', 'От: Ana Pérez <ana@cliente.es>\nОтправлено: 3 марта 2026 г. 10:00\nКому: soporte@example.com\nТема: RE: envíos'],
    ['outlook new de', 'Von: Ana Pérez <ana@cliente.es>\nDatum: Montag, 3. März 2026 um 10:00\nAn: soporte@example.com\nBetreff: AW: envíos'],
    ['winmail es', 'De: Soporte<mailto:soporte@example.com>\nEnviado: lunes, 3 de marzo de 2026 10:00\nPara: Ana Pérez<mailto:ana@cliente.es>\nAsunto: Re: envíos'],
    ['winmail fr', 'De : Soporte<mailto:soporte@example.com>\nEnvoyé le :lundi 3 mars 2026 10:00\nÀ : Ana Pérez<mailto:ana@cliente.es>\nObjet :Re: envíos'],
    ['winmail de', 'Von: Soporte<mailto:soporte@example.com>\nGesendet: Montag, 3. März 2026 10:00\nAn: Ana Pérez<mailto:ana@cliente.es>\nBetreff: AW: envíos'],
    ['winmail ca', 'De: Soporte<mailto:soporte@example.com>\nData d\'enviament: dilluns, 3 de març de 2026 10:00\nA: Ana Pérez<mailto:ana@cliente.es>\nAssumpte: Re: envíos'],
  ];
  it.each(headers)('cuts the quoted history under %s', (_client, header) => {
    const visible = extractVisibleReply(`Aquí tienen la cuenta.\n\n${header}\nCuenta: 999999\nCómo: texto citado\n`);
    expect(visible).toBe('Aquí tienen la cuenta.');
  });
});
