import { EXIT } from './cli/exit-codes.js';
import { AppError, type ErrorCode } from './errors.js';

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  CONFIG_INVALID: EXIT.CONFIG,
  DATA_DIR_LOCKED: EXIT.LOCKED,
  STORAGE_UNAVAILABLE: EXIT.STORAGE,
  LISTEN_FAILED: EXIT.LISTEN,
};

/** The exit code of a failed start: one per kind of failure, so a supervisor can tell them apart. */
export function startFailureExitCode(err: unknown): number {
  return (err instanceof AppError && EXIT_BY_CODE[err.code]) || EXIT.FAILURE;
}

/**
 * What an operator at a terminal reads when start fails: one line with the reason and the error
 * code, the further lines of a reason that has several (each mistake of a rules file) indented
 * below it. An error without a code is a bug: its stack follows, as it is what the report needs.
 */
export function formatStartFailure(err: unknown): string {
  if (err instanceof AppError) {
    const [first, ...rest] = err.message.split('\n');
    return [`mailroom: cannot start: ${first} (${err.code})`, ...rest.map((line) => `  ${line}`)].join('\n') + '\n';
  }
  const error = err instanceof Error ? err : new Error(String(err));
  const stack = (error.stack ?? '').split('\n').slice(1);
  return [`mailroom: cannot start: ${error.message} (unexpected error; please report it with what follows)`, ...stack].join('\n') + '\n';
}
