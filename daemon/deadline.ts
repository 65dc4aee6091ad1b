/** How long a health probe or a metrics read waits for a dependency: a hung one reads as down. */
export const PROBE_DEADLINE_MS = 2_000;

/**
 * `work`, or what `onTimeout` gives (or throws) once `ms` have passed, whichever comes first. The
 * work itself is not cancelled; a late result is dropped. The timer never keeps the process alive.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
