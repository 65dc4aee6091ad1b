import { foldText } from './fold-text.js';

/** Words that may stand before a label without changing it ("El número de cuenta:", "Mi cuenta:"). */
const LEADING_WORDS = new Set(['el', 'la', 'los', 'las', 'lo', 'mi', 'mis', 'su', 'sus', 'the', 'a', 'an', 'my', 'our', 'your']);

/**
 * A label as compared: case and accents folded, punctuation ("¿…?", "nº") made spaces, leading
 * articles and possessives dropped. "¿Qué ocurre?", "QUE OCURRE" and "qué ocurre" are one label.
 */
export function normalizeLabel(text: string): string {
  const words = foldText(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  while (words.length > 1 && LEADING_WORDS.has(words[0]!)) words.shift();
  return words.join(' ');
}
