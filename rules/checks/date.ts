import { execShortMatch } from '../compile-regex.js';
import type { FoundField } from '../verdict.js';
import type { CheckInput } from './check-input.js';

/*
 * Date and time expressions in Spanish and English, as customers write when a problem started.
 * One RE2 pattern (linear time on hostile text), case-insensitive, with accented and unaccented
 * spellings. Word edges are "not a letter or digit of any script" (RE2's `\b` is ASCII-only), and
 * the edge characters are consumed outside the `value` group, which keeps only the expression.
 * Bare numbers ("12", "3/4") are deliberately not dates: they are far more often quantities.
 */

const MONTHS_ES = 'enero|febrero|marzo|abril|mayo|junio|julio|agosto|sep?tiembre|octubre|noviembre|diciembre';
const MONTHS_EN = 'january|february|march|april|may|june|july|august|september|october|november|december';
/** English abbreviations only next to a day number: "mar" and "may" are words on their own. */
const MONTHS_EN_SHORT = 'jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec';
const WEEKDAYS_ES = 'lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo';
const WEEKDAYS_EN = 'monday|tuesday|wednesday|thursday|friday|saturday|sunday';
const DAY = '(?:0?[1-9]|[12]\\d|3[01])';
const HOUR = '(?:[01]?\\d|2[0-3])';
const AMPM = '(?:am|pm|a\\.\\s?m\\.|p\\.\\s?m\\.)';
const COUNT_ES = '(?:\\d{1,3}|un|una|unos|unas|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|varios|varias|algunos|algunas|un\\s+par\\s+de)';
const COUNT_EN = '(?:\\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a\\s+few|a\\s+couple\\s+of|several|couple\\s+of)';
const UNITS_ES = '(?:minutos?|horas?|d[ií]as?|semanas?|mes(?:es)?|años?)';
const UNITS_EN = '(?:minutes?|hours?|days?|weeks?|months?|years?)';
/**
 * "desde el lunes", "a partir del 3 de marzo", "since Monday", "from yesterday": an optional
 * lead-in kept in the value. Written once in front of the alternation rather than inside each
 * alternative, which keeps RE2's automaton (and so the cost per character) small.
 */
const SINCE = '(?:(?:desde|a\\s+partir\\s+de(?:l)?|since|from|starting)\\s+(?:(?:el|la|the|last)\\s+)?)?';

const EXPRESSIONS = [
  // Numeric dates: 2026-03-12, 12/03/2026, 12-3-26, 12.03.2026.
  `\\d{4}-\\d{1,2}-\\d{1,2}`,
  `${DAY}[/.-]\\d{1,2}[/.-](?:\\d{4}|\\d{2})`,
  // "12 de marzo (de 2026)", "el lunes 3 de marzo".
  `(?:(?:el\\s+)?(?:${WEEKDAYS_ES}),?\\s+)?${DAY}\\s+de\\s+(?:${MONTHS_ES})(?:\\s+(?:de|del)\\s+\\d{4})?`,
  // "March 12(th)(, 2026)", "Mar. 12", "12(th) (of) March (2026)".
  `(?:${MONTHS_EN}|(?:${MONTHS_EN_SHORT})\\.?)\\s+${DAY}(?:st|nd|rd|th)?(?:,?\\s+\\d{4})?`,
  `${DAY}(?:st|nd|rd|th)?\\s+(?:of\\s+)?(?:${MONTHS_EN}|${MONTHS_EN_SHORT})(?:,?\\s+\\d{4})?`,
  // A month after a preposition: "desde marzo", "since March", "a principios de mayo".
  `(?:desde|en|durante|since|in|during)\\s+(?:(?:principios|mediados|finales)\\s+de\\s+|(?:early|mid|late)[\\s-])?(?:${MONTHS_ES}|${MONTHS_EN})`,
  // Relative days, Spanish.
  `(?:anteayer|antier|antes\\s+de\\s+ayer|ayer|hoy|anoche)`,
  `(?:esta|este)\\s+(?:ma[nñ]ana|tarde|noche|madrugada|semana|mes|fin\\s+de\\s+semana)`,
  `(?:la\\s+)?semana\\s+pasada|(?:el\\s+)?(?:mes|año|fin\\s+de\\s+semana)\\s+pasado`,
  `hace\\s+(?:${COUNT_ES}\\s+${UNITS_ES}|un\\s+rato|poco|tiempo)`,
  // Relative days, English.
  `(?:the\\s+day\\s+before\\s+yesterday|yesterday|today|tonight|earlier\\s+today)`,
  `(?:last|this)\\s+(?:night|morning|afternoon|evening|week|weekend|month|year|${WEEKDAYS_EN})`,
  `${COUNT_EN}\\s+${UNITS_EN}\\s+ago`,
  // Weekday names: "el lunes", "desde el martes", "on Monday", "since Tuesday".
  `(?:el\\s+|on\\s+)?(?:${WEEKDAYS_ES}|${WEEKDAYS_EN})`,
  // Times: 10:30, 10:30 h, 9:05pm, 10am, 10 p.m., "a las 10".
  `${HOUR}:[0-5]\\d(?::[0-5]\\d)?(?:\\s*(?:h|hs|horas|${AMPM}))?`,
  `${HOUR}\\s*${AMPM}`,
  `(?:a|sobre|hacia|desde)\\s+las\\s+${HOUR}(?::[0-5]\\d)?(?:\\s*(?:h|horas|${AMPM}))?`,
];

const DATE = `(?i)(?:^|[^\\p{L}\\p{N}])(?P<value>${SINCE}(?:${EXPRESSIONS.join('|')}))(?:$|[^\\p{L}\\p{N}])`;

/** A date or time expression; the value is the expression as written. */
export function checkDate(input: CheckInput): FoundField | null {
  const match = execShortMatch(DATE, input.text);
  const value = match?.groups?.value;
  return value === undefined ? null : { value: value.trim() };
}
