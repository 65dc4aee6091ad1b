/**
 * Folds text for matching that ignores case and accents: "Envíos", "ENVIOS" and "envios" are
 * the same word, and so are "año" and "ano" (customers often type without accents, so ñ is
 * treated as n like every other accented letter).
 */
export function foldText(text: string): string {
  // Lower case first: some capitals lower-case to a letter plus a combining mark ("İ" → "i̇").
  return text.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '');
}
