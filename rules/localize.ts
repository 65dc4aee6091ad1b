/**
 * Picks the text for a language from a `{ es: …, en: … }` map: the exact tag, then its base
 * language ("es" for "es-MX"), then English, then whatever the admin wrote first; '' when the map
 * is missing or empty. A label in another language beats an empty line in a customer's mail.
 */
export function localize(texts: Readonly<Record<string, string>> | undefined, language: string): string {
  if (!texts) return '';
  const base = language.split('-')[0] ?? language;
  return texts[language] ?? texts[base] ?? texts.en ?? Object.values(texts)[0] ?? '';
}
