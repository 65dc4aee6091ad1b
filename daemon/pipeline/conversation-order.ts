import type { Db } from '../../db/client.js';
import { claimInbound, earliestUnfinishedBefore, type InboundRow } from '../../db/inbound.js';
import type { Logger } from '../logger.js';

/**
 * How long a row waits for its conversation to move: for the earliest unfinished row before it
 * to be filed. Counted from the last move, so a long run of one ticket's mail on a loaded machine
 * waits as long as it keeps moving, and only a row held by a worker that died ends the wait.
 */
export const CONVERSATION_STALL_MS = 30_000;
const CONVERSATION_POLL_MS = 20;

export interface ConversationOrderDeps {
  db: Db;
  logger: Logger;
  /** How long the conversation may stand still before the row goes ahead; CONVERSATION_STALL_MS by default. */
  stallMs?: number;
}

/**
 * Workers take rows side by side, so two mails of one conversation that arrive together could be
 * filed in either order: a reply before the mail it follows, details "still missing" that came
 * first. Before a row is filed, every earlier unfinished row of its conversation is filed: one
 * nobody works on (its job still queued, or waiting out a retry) is filed here and now; one
 * another worker holds is waited for. The earliest row never waits, so neither can two rows on
 * each other. Bounded: a row held by a worker that died stalls the conversation for
 * CONVERSATION_STALL_MS, and one that fails when filed here is left to its own retries; the row
 * then goes ahead, logged.
 */
export function createConversationOrder(deps: ConversationOrderDeps, processRow: (row: InboundRow) => Promise<void>): (row: InboundRow) => Promise<void> {
  return async (row) => {
    let waitUntil = 0;
    let waitingFor: number | null = null;
    for (;;) {
      const earlier = await earliestUnfinishedBefore(deps.db, row);
      if (!earlier) return;
      if (earlier.id !== waitingFor) {
        waitingFor = earlier.id;
        waitUntil = Date.now() + (deps.stallMs ?? CONVERSATION_STALL_MS);
      }
      if (earlier.state === 'received') {
        const claimed = await claimInbound(deps.db, earlier.id);
        const filed = claimed
          ? await processRow(claimed).then(
              () => true,
              () => false,
            )
          : true;
        if (filed) continue;
      } else if (Date.now() < waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, CONVERSATION_POLL_MS));
        continue;
      }
      deps.logger.warn(
        { event: 'message.order_not_kept', inboundId: row.id, earlierInboundId: earlier.id, earlierState: earlier.state },
        'an earlier mail of this conversation is not filed yet; filing this one anyway',
      );
      return;
    }
  };
}
