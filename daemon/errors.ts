/**
 * Every exception mailroom throws on purpose has a stable code; README's "Error codes" table
 * lists them and a test keeps the two in sync.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'The environment or the rules file is invalid; the problems are listed.',
  DATA_DIR_LOCKED: 'Another mailroom process owns the embedded database in this data folder.',
  STORAGE_UNAVAILABLE: 'The database could not be reached or refused the write.',
  LISTEN_FAILED: 'The SMTP or HTTP port could not be opened: in use, not permitted, or on an address this machine does not have.',
  NOT_FOUND: 'The ticket or spool row named on the command line does not exist.',
  USAGE: 'The command line is incomplete or contradictory.',
  REPLAY_FAILED: 'A spool row named to `inbound replay` is in a state that cannot be replayed (suspended, still arriving, being processed), or with `--wait` a replayed row ended failed or did not finish in time.',
  RESEND_REFUSED: 'A delivery cannot be sent again as asked: the reason says why (invalid or suppressed address, still being sent, nothing failed).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}
