/**
 * Batched stream reads (issue 4). The Redis Streams adapter reads the stream in a loop: one
 * `XREAD BLOCK` per turn, issued again as soon as the last one answered. Under load every answer
 * holds one or two entries, so each instance sends one XREAD (a write syscall that wakes Redis, and
 * a reply to parse) per broadcast in the whole cluster: at 2,500 rooms x 4 over three instances that
 * was 17 % of the servers' busy time. Spacing the reads by at most `delayMs` lets entries gather:
 * a broadcast from another instance arrives up to `delayMs` later, and each read carries several.
 * An idle stream is unaffected (a read that blocked for longer than `delayMs` is followed at once).
 *
 * A reply's entries are then handed to the adapter one per turn, each after the callbacks of the
 * writes the previous one caused (`process.nextTick`): the adapter would emit them all in one
 * synchronous loop, and Socket.IO drops a volatile packet (audio, §5.18) toward a socket whose
 * previous write has not called back yet, so two speakers' chunks in one read reached a listener
 * as one (test/cluster/stream-reads.test.ts).
 */
import type { Redis } from 'ioredis';

type Xread = (...args: unknown[]) => Promise<unknown>;
type Entry = [id: string, fields: string[]];
type Reply = [stream: string, entries: Entry[]][] | null;

/** Makes every client duplicated from `client` (the adapter reads through one) space its XREADs. */
export function spaceStreamReads(client: Redis, delayMs: number): void {
  if (delayMs <= 0) return;
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const copy = duplicate(...args);
    (copy as unknown as { xread: Xread }).xread = spacedXread((copy.xread as unknown as Xread).bind(copy), delayMs);
    return copy;
  };
}

function spacedXread(xread: Xread, delayMs: number): Xread {
  let last = 0;
  /** Entries of the last reply not handed over yet, and the id the next call must read after. */
  let held: { stream: string; entries: Entry[]; after: string } | undefined;
  return async (...args: unknown[]) => {
    // `XREAD ... STREAMS <name> <offset>`: the adapter reads after the last entry it was given.
    if (held?.entries.length && args[args.length - 1] === held.after) {
      await new Promise((r) => process.nextTick(r));
      const entry = held.entries.shift()!;
      held.after = entry[0];
      return [[held.stream, [entry]]];
    }
    held = undefined;
    const wait = last + delayMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    last = Date.now();
    const reply = (await xread(...args)) as Reply;
    const first = reply?.length === 1 ? reply[0] : undefined;
    if (!first || first[1].length < 2) return reply;
    const [stream, entries] = first;
    const head = entries.shift()!;
    held = { stream, entries, after: head[0] };
    return [[stream, [head]]];
  };
}
