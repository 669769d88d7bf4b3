/**
 * The in-memory adapter with connection state recovery, made lighter in two ways (issue 4: the
 * replay buffer dominated heap and GC time at thousands of rooms):
 *
 * - it prunes its replay buffer every 5 s instead of every 60 s (the stock period keeps up to a
 *   minute more than the recovery window);
 * - periodic state events that the next one supersedes (`play:update`, `music:update`, sent every
 *   5 s by each owner) keep only their latest copy per room: older copies become tombstones (the
 *   id alone, so that a client whose last offset points at one still recovers). A recovering client
 *   gets the latest state once instead of a train of stale ones it would seek through;
 * - a kept packet shares one `{ rooms, except }` per room (and excepted sender) instead of holding
 *   the broadcast's own Sets and flags (three objects and two Set tables a packet, for 60 s);
 * - local broadcasts (`io.local`: heartbeat pongs, one-to-one signals to a socket of this process)
 *   are not kept at all, as the cluster adapter does not publish them: with recovery on, even
 *   `socket.emit` is a broadcast, and every pong (one per socket per 5 s) used to be kept 60 s;
 * - the one pong each new socket gets as a broadcast (gateway.ts: it gives the client an offset to
 *   recover from) is kept as a tombstone at once: its id is the anchor, replaying a pong is useless,
 *   and keeping it whole held a packet, its payload and a `{ rooms, except }` per socket for 60 s;
 * - a kept packet's data array is copied to its exact size: Socket.IO appends the offset to the
 *   array the event was built in, which grows it to 17 slots (136 bytes more per kept packet).
 */
import { Adapter, SessionAwareAdapter } from 'socket.io-adapter';

const PRUNE_EVERY_MS = 5_000;
const SUPERSEDED = new Set(['play:update', 'music:update']);
/** Sent as a broadcast only to give a new socket a recovery offset (gateway.ts): kept as an id. */
const ANCHORS = new Set(['heartbeat:pong']);

interface StoredPacket {
  id: string;
  emittedAt: number;
  data: unknown[];
  opts: { rooms: Set<string>; except?: Set<string> };
}

/** The base class keeps these private; they are plain fields at run time. */
interface Internals {
  maxDisconnectionDuration: number;
  packets: StoredPacket[];
  sessions: Map<string, { disconnectedAt: number }>;
}

/** Matches no session (no socket is in this room), so a tombstone is never replayed. */
const TOMBSTONE_OPTS = { rooms: new Set(['\u0000tombstone']), except: new Set<string>(), flags: {} };
const TOMBSTONE_DATA: unknown[] = [];
const NO_EXCEPT = new Set<string>();

interface SharedOpts {
  opts: StoredPacket['opts'];
  usedAt: number;
}

export class PromptPruneSessionAdapter extends SessionAwareAdapter {
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly latest = new Map<string, StoredPacket>();
  /** Room (and excepted socket) → the `{ rooms, except }` its kept packets share (what restoreSession reads). */
  private readonly sharedOpts = new Map<string, SharedOpts>();

  constructor(nsp: ConstructorParameters<typeof SessionAwareAdapter>[0]) {
    super(nsp);
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  override broadcast(...args: Parameters<SessionAwareAdapter['broadcast']>): void {
    const [packet, opts] = args as [{ data?: unknown[] }, { rooms: Set<string>; flags?: { local?: boolean } }];
    if (opts.flags?.local) {
      Adapter.prototype.broadcast.apply(this, args); // the in-memory base: sent, not kept
      return;
    }
    super.broadcast(...args);
    const { packets } = this as unknown as Internals;
    const stored = packets[packets.length - 1];
    if (!stored || stored.data !== packet.data) return; // not stored (volatile, with an ack)
    const event = packet.data?.[0];
    if (typeof event === 'string' && ANCHORS.has(event)) {
      stored.data = TOMBSTONE_DATA;
      stored.opts = TOMBSTONE_OPTS;
      return;
    }
    // Sent by now (the in-memory adapter encodes and writes synchronously): the copy is what stays.
    stored.data = stored.data.slice();
    stored.opts = this.share(stored);
    if (typeof event !== 'string' || !SUPERSEDED.has(event)) return;
    const key = `${event}\u0000${[...opts.rooms].join('\u0000')}`;
    const previous = this.latest.get(key);
    if (previous) {
      previous.data = TOMBSTONE_DATA;
      previous.opts = TOMBSTONE_OPTS;
    }
    this.latest.set(key, stored);
  }

  /**
   * One room, nobody or one socket excepted (a broadcast "to the others"): the common cases, shared
   * per room and sender; anything else is kept as it came.
   */
  private share(stored: StoredPacket): StoredPacket['opts'] {
    const { rooms, except } = stored.opts;
    const excepted = except?.size ?? 0;
    if (rooms.size !== 1 || excepted > 1) return stored.opts;
    const room = rooms.values().next().value as string;
    const but = excepted === 1 ? (except!.values().next().value as string) : undefined;
    const key = but === undefined ? room : `${room}\u0000${but}`;
    let shared = this.sharedOpts.get(key);
    if (!shared) {
      const opts = { rooms: new Set([room]), except: but === undefined ? NO_EXCEPT : new Set([but]) };
      this.sharedOpts.set(key, (shared = { opts, usedAt: 0 }));
    }
    shared.usedAt = stored.emittedAt;
    return shared.opts;
  }

  private prune(): void {
    const self = this as unknown as Internals;
    const threshold = Date.now() - self.maxDisconnectionDuration;
    let expired = 0;
    while (expired < self.packets.length && self.packets[expired]!.emittedAt < threshold) expired++;
    if (expired > 0) self.packets.splice(0, expired);
    for (const [id, s] of self.sessions) if (s.disconnectedAt < threshold) self.sessions.delete(id);
    for (const [key, p] of this.latest) if (p.emittedAt < threshold) this.latest.delete(key);
    for (const [key, o] of this.sharedOpts) if (o.usedAt < threshold) this.sharedOpts.delete(key);
  }

  override close(): Promise<void> | void {
    clearInterval(this.pruneTimer);
    return super.close();
  }
}
