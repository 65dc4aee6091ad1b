import type { Db } from './client.js';

/**
 * Locks between the lanes of one filing transaction. Lanes file different mails side by side in
 * one transaction, so that their statements share the socket writes and PostgreSQL's wake-ups;
 * but a row lock or an advisory lock cannot keep two lanes of the same transaction apart (they are
 * the same holder), so every lock that serialises filing (a ticket's row, an automatic mail's
 * recipient) is also taken here. A lane holds its locks until its last mail is filed. Deadlock is
 * impossible by construction ("wait-die"): a lane waits only for an earlier lane; a lane that
 * wants what a later lane holds throws LaneConflict, the batch is rolled back, and its mails are
 * filed one by one, where PostgreSQL's own locks apply.
 */
export class LaneConflict extends Error {
  override name = 'LaneConflict';
}

interface Lane {
  index: number;
  lanes: number;
  holders: Map<string, Lane>;
  held: Set<string>;
  finished: Promise<void>;
}

const laneOfHandle = new WeakMap<object, Lane>();

/**
 * One handle per lane on transaction `tx`: the same transaction, telling takeLaneLock which lane
 * asks. `finish(i)` releases lane i's locks once its work is done.
 */
export function openLanes(tx: Db, count: number): { handles: Db[]; finish(index: number): void } {
  const holders = new Map<string, Lane>();
  const releases: Array<() => void> = [];
  const lanes = Array.from({ length: count }, (_, index): Lane => {
    let release!: () => void;
    const finished = new Promise<void>((resolve) => (release = resolve));
    releases.push(release);
    return { index, lanes: count, holders, held: new Set(), finished };
  });
  const handles = lanes.map((lane) => {
    // The transaction itself, seen through an object of the lane's own: drizzle reads its
    // session and dialect through the prototype.
    const handle = Object.create(tx as object) as Db;
    laneOfHandle.set(handle, lane);
    return handle;
  });
  return {
    handles,
    finish(index) {
      const lane = lanes[index]!;
      for (const key of lane.held) if (holders.get(key) === lane) holders.delete(key);
      lane.held.clear();
      releases[index]!();
    },
  };
}

/** Takes `key` for the lane of `db` until the lane finishes; nothing outside lanes. */
export async function takeLaneLock(db: Db, key: string): Promise<void> {
  const lane = laneOfHandle.get(db);
  if (!lane) return;
  for (;;) {
    const holder: Lane | undefined = lane.holders.get(key);
    if (!holder || holder === lane) break;
    if (holder.index > lane.index) throw new LaneConflict(`lane ${lane.index} needs ${key}, which a later lane holds`);
    await holder.finished;
  }
  lane.holders.set(key, lane);
  lane.held.add(key);
}

/** How many other lanes file beside the lane of `db` (0 outside lanes). */
export function otherLanes(db: Db): number {
  const lane = laneOfHandle.get(db);
  return lane ? lane.lanes - 1 : 0;
}
