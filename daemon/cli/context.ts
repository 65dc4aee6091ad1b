import type { Db } from '../../db/client.js';
import type { RuleSet } from '../../rules/schema.js';
import type { Config } from '../config.js';

/** Where a command writes: the terminal, or the HTTP response of a forwarded command. */
export interface CliIO {
  out(text: string): void;
  /**
   * Writes bytes as they are (a stored mail in its own encoding, which text would alter).
   * Absent on an IO that only collects text; commands that print bytes then refuse.
   */
  outBytes?(bytes: Buffer): void;
  err(text: string): void;
  /** Progress and colour only on a terminal. */
  isTTY: boolean;
  /**
   * The terminal's time zone (an IANA name) for times in text output; absent: this process's,
   * which follows TZ. A forwarded command carries the terminal's, not the daemon's.
   */
  timeZone?: string;
}

/** What commands get instead of reaching for process state themselves. */
export interface CliContext {
  io: CliIO;
  config: Config | null;
  configProblems: string[];
  /** Runs `fn` with a database: the daemon's own, or one opened for this command. */
  withDb<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Hands spool rows to the inbound queue now; null when only the daemon's sweeper can. */
  enqueue: ((ids: number[]) => Promise<void>) | null;
  /** Hands outbox rows to the send queue now; null when only the daemon's sweeper can. */
  enqueueDeliveries: ((ids: number[]) => Promise<void>) | null;
  /**
   * Reads a file named on the command line. A forwarded command gets the files the terminal's
   * CLI read and sent along; it never reads the daemon's own disk.
   */
  readFile(path: string): Promise<Buffer>;
  /** The HMAC key tokens are signed with. */
  secret(): string;
  /** The rules in force (the daemon's), or read from the rules file. */
  rules(): Promise<RuleSet>;
  /** Runs the daemon until it is stopped; only the local CLI has it. */
  startDaemon: (() => Promise<number>) | null;
  /** Applies migrations; only the local CLI has it. */
  migrate: (() => Promise<string>) | null;
}

/** Commands that need the database; in embedded mode they run inside the daemon if it is up. */
export const DATABASE_COMMANDS: ReadonlySet<string> = new Set(['tickets', 'inbound', 'suspended', 'outbound', 'deliveries', 'contacts', 'bounces', 'suppressions', 'failures', 'webhooks']);

/** What one forwarded command may carry in files; the daemon refuses a larger request. */
export const MAX_FORWARDED_FILE_BYTES = 48 * 1024 * 1024;

/** Whether a command line reads the database: a database command, or `rules test --ticket N`. */
export function needsDatabase(argv: string[]): boolean {
  if (DATABASE_COMMANDS.has(argv[0] ?? '')) return true;
  return argv[0] === 'rules' && argv[1] === 'test' && argv.some((arg) => arg === '--ticket' || arg.startsWith('--ticket='));
}

export function requireConfig(ctx: CliContext): Config {
  if (!ctx.config) throw new Error(`invalid environment:\n  ${ctx.configProblems.join('\n  ')}`);
  return ctx.config;
}

/** Prints JSON the way every --json output does: one document, two-space indent, newline. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns for human output. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function timeFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let format = timeFormats.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    };
    try {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
    } catch (err) {
      // A zone this process's ICU does not know (sent by a forwarding terminal): its own zone,
      // with the offset shown, still reads right; refusing to print the table would not help.
      if (!(err instanceof RangeError)) throw err;
      format = new Intl.DateTimeFormat('en-US', options);
    }
    timeFormats.set(key, format);
  }
  return format;
}

/**
 * A time as text output shows it: ISO 8601 to the second with the terminal's offset,
 * `2026-12-04 17:05:03+01:00`. `--json` keeps UTC (`toISOString()`), which scripts compare.
 */
export function formatTime(date: Date, io: CliIO): string {
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const { type, value } of timeFormat(io.timeZone).formatToParts(date)) part[type] = value;
  // longOffset names the offset `GMT+01:00`, and UTC itself plain `GMT`.
  const offset = part.timeZoneName === 'GMT' ? '+00:00' : (part.timeZoneName ?? 'GMT+00:00').slice('GMT'.length);
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}${offset}`;
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
