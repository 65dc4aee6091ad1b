import type { Db } from '../../db/client.js';
import { insertInboundBatch, type Envelope } from '../../db/inbound.js';
import { withDeadline } from '../deadline.js';

export interface SpoolBatcherOptions {
  /** Batches being written at once; a new batch starts whenever fewer are in flight. @defaultValue 2 */
  maxInFlight?: number;
  /** @defaultValue 200 */
  maxRows?: number;
  /** @defaultValue 4 MiB */
  maxBytes?: number;
  /**
   * A batch not committed by then is failed (its senders get 451) and its slot freed, so that one
   * write stuck on a dead connection never holds up the messages behind it. @defaultValue 8 s
   */
  deadlineMs?: number;
}

interface Pending {
  envelope: Envelope;
  raw: Buffer;
  sha256: string;
  conversationKey: string | null;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for small messages: while a batch is being written, the messages that arrive
 * queue up and go together in the next INSERT. No timer: an idle server writes each message at
 * once, a busy one amortises the round trip and the commit over many sessions.
 */
export function createSpoolBatcher(db: Db, options: SpoolBatcherOptions = {}) {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxRows = options.maxRows ?? 200;
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const deadlineMs = options.deadlineMs ?? 8_000;
  const pending: Pending[] = [];
  let inFlight = 0;

  const pump = (): void => {
    while (inFlight < maxInFlight && pending.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < pending.length && count < maxRows && (count === 0 || bytes + pending[count]!.raw.length <= maxBytes)) {
        bytes += pending[count]!.raw.length;
        count += 1;
      }
      const batch = pending.splice(0, count);
      inFlight += 1;
      withDeadline(insertInboundBatch(db, batch), deadlineMs, () => {
        throw new Error(`the spool batch did not commit within ${deadlineMs} ms`);
      })
        .then(
          (ids) => batch.forEach((item, i) => item.resolve(ids[i]!)),
          (err: unknown) => batch.forEach((item) => item.reject(err)),
        )
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  return {
    /** Resolves with the spool id once the batch holding this message has committed. */
    insert(envelope: Envelope, raw: Buffer, sha256: string, conversationKey: string | null = null): Promise<number> {
      return new Promise((resolve, reject) => {
        pending.push({ envelope, raw, sha256, conversationKey, resolve, reject });
        pump();
      });
    },
  };
}

export type SpoolBatcher = ReturnType<typeof createSpoolBatcher>;
