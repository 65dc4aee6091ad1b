import { describe, expect, it } from 'vitest';
import { AppError } from '../../daemon/errors.js';
import { formatStartFailure, startFailureExitCode } from '../../daemon/start-failure.js';

describe('a failed start, as a terminal shows it', () => {
  it('is one line with the reason and the error code', () => {
    const err = new AppError('LISTEN_FAILED', 'MAILROOM_SMTP_PORT: port 2525 on 127.0.0.1 is in use');
    expect(formatStartFailure(err)).toBe('mailroom: cannot start: MAILROOM_SMTP_PORT: port 2525 on 127.0.0.1 is in use (LISTEN_FAILED)\n');
  });

  it('indents the further mistakes of a rules file under the first', () => {
    const err = new AppError('CONFIG_INVALID', 'rules.yaml:4:5: mailboxes[0]: Unrecognized key: "lenguaje"\nrules.yaml:9:3: fields[0].id: Required');
    expect(formatStartFailure(err)).toBe('mailroom: cannot start: rules.yaml:4:5: mailboxes[0]: Unrecognized key: "lenguaje" (CONFIG_INVALID)\n  rules.yaml:9:3: fields[0].id: Required\n');
  });

  it('keeps the stack of an error without a code, a bug to report', () => {
    const text = formatStartFailure(new TypeError('x is undefined'));
    expect(text.split('\n')[0]).toBe('mailroom: cannot start: x is undefined (unexpected error; please report it with what follows)');
    expect(text).toMatch(/\n\s+at /);
  });

  it.each([
    ['CONFIG_INVALID', 78],
    ['STORAGE_UNAVAILABLE', 69],
    ['LISTEN_FAILED', 71],
    ['DATA_DIR_LOCKED', 75],
    ['NOT_FOUND', 1],
  ] as const)('exits %s with %i', (code, exitCode) => {
    expect(startFailureExitCode(new AppError(code, 'x'))).toBe(exitCode);
  });
});
