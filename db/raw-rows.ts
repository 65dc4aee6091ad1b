/**
 * The rows of `db.execute(sql...)`: postgres.js gives an array, PGlite an object holding one.
 * Only statements written as fixed SQL need it; drizzle's builders return rows already.
 */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
