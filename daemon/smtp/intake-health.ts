export interface IntakeHealthOptions {
  /** Outcomes older than this are forgotten. @defaultValue 30 s */
  windowMs?: number;
  /** This many failed spool writes in a row (within the window) make intake not ready. @defaultValue 3 */
  failuresInARow?: number;
}

export type IntakeStatus = { ok: true } | { ok: false; error: string };

/**
 * Whether intake can store mail, from the outcomes of its recent spool writes: the database may
 * answer a ping while commits fail (a refusing trigger, a full disk, connections broken mid-COPY).
 * Not ready after a run of failures, so a load balancer sends mail elsewhere; ready again at the
 * next commit, or once the failures have aged out of the window and new mail may try again.
 */
export function createIntakeHealth(options: IntakeHealthOptions = {}) {
  const windowMs = options.windowMs ?? 30_000;
  const failuresInARow = options.failuresInARow ?? 3;
  let failedInARow = 0;
  let lastFailureAt = 0;
  let lastError = '';
  return {
    stored(): void {
      failedInARow = 0;
    },
    failed(error: unknown, now = Date.now()): void {
      // a run of failures spread over longer than the window is not one outage
      if (now - lastFailureAt > windowMs) failedInARow = 0;
      failedInARow += 1;
      lastFailureAt = now;
      lastError = error instanceof Error ? error.message : String(error);
    },
    status(now = Date.now()): IntakeStatus {
      if (failedInARow < failuresInARow || now - lastFailureAt > windowMs) return { ok: true };
      return { ok: false, error: `the last ${failedInARow} spool writes failed (latest ${Math.round((now - lastFailureAt) / 1000)} s ago: ${lastError})` };
    },
  };
}

export type IntakeHealth = ReturnType<typeof createIntakeHealth>;
