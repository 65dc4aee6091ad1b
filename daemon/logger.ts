import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths never to print, whatever a caller passes in by mistake. */
const REDACT = ['secret', 'password', 'config.secret', 'headers.authorization', 'req.headers.authorization', '*.raw', 'raw'];

/** The one root logger: pino JSON to stdout (or a test's in-memory stream). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mailroom' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
