import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../daemon/logger.js';

export interface LogLine {
  level: number;
  event?: string;
  msg?: string;
  [key: string]: unknown;
}

/** An in-memory pino destination so tests can assert log events. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: LogLine[]; events(name: string): LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });
  const logger = createLogger(level, stream);
  return { logger, lines, events: (name) => lines.filter((line) => line.event === name) };
}
