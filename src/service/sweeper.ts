/**
 * Runs the §8 timers: every `sweepIntervalMs` each room goes through the pure `sweepRoom`, one
 * store update per room that has something due. A run never overlaps the previous one.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { sweepRoom } from '../domain/room-sweep.ts';
import type { Clock, Effect, MemberRecord, RoomRecord } from '../domain/types.ts';
import type { RoomStore } from '../store/room-store.ts';

export interface SweepHooks {
  /** Called once per sweep: which connected members are gone without a handled disconnect. */
  gonePredicate?(): Promise<(m: MemberRecord) => boolean>;
  /** Called with the rooms as listed at the start of the sweep. */
  afterSweep?(rooms: RoomRecord[]): void;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: RoomStore,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly apply: (effects: Effect[]) => void,
    private readonly log: Logger,
    private readonly hooks: SweepHooks = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.runOnce(), this.config.timers.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep over every room (tests call this directly with a fake clock). */
  runOnce(): Promise<void> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<void> {
    try {
      const t = this.config.timers;
      const timers = {
        ownerStateTimeoutMs: t.ownerStateTimeoutMs,
        ownerRoomTimeoutMs: t.ownerRoomTimeoutMs,
        emptyRoomGraceMs: t.emptyRoomGraceMs,
        memberGraceMs: t.memberGraceMs,
        sweepIntervalMs: t.sweepIntervalMs,
        // Longer than this without a look at a room's timers: no instance was running (§8).
        maxGapMs: 3 * t.sweepIntervalMs + 1000,
      };
      const isGone = await this.hooks.gonePredicate?.();
      const ctx = isGone ? { isGone } : {};
      const rooms = await this.store.list();
      for (const room of rooms) {
        const now = this.clock.now();
        if (!sweepRoom(room, now, timers, ctx)) continue;
        const res = await this.store.update(room.id, (r) => sweepRoom(r, now, timers, ctx));
        if (res?.ok) this.apply(res.effects);
      }
      this.hooks.afterSweep?.(rooms);
    } catch (err) {
      this.log.error({ err }, 'sweep failed');
    }
  }
}
