/**
 * The rows of `db.execute`: postgres.js answers with the row array itself, PGlite with an object
 * that holds it under `rows`.
 */
export function resultRows<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
