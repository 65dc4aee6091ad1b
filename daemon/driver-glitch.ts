/**
 * postgres 3.4.9 writes to a socket it already dropped when the server vanishes and throws from a
 * timer (porsager/postgres #1154, #1208). The connection is gone either way and the pool opens a
 * new one, so this one uncaught error is logged, not treated as fatal: shutting down would turn a
 * database outage into a mail outage.
 */
export function isKnownDriverGlitch(err: unknown): boolean {
  return (
    err instanceof TypeError &&
    /Cannot read properties of null \(reading 'write'\)/.test(err.message) &&
    /postgres[\\/](cjs[\\/])?src[\\/]connection\.js/.test(err.stack ?? '')
  );
}
