/**
 * Runs the §8 timers: every `sweepIntervalMs` each room goes through the pure `sweepRoom`, one
 * store update per room that has something due. A run never overlaps the previous one.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { sweepRoom } from '../domain/room-sweep.ts';
import type { Clock, Effect } from '../domain/types.ts';
import type { RoomStore } from '../store/room-store.ts';

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: RoomStore,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly apply: (effects: Effect[]) => void,
    private readonly log: Logger,
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
      };
      for (const room of await this.store.list()) {
        const now = this.clock.now();
        if (!sweepRoom(room, now, timers)) continue;
        const res = await this.store.update(room.id, (r) => sweepRoom(r, now, timers));
        if (res?.ok) this.apply(res.effects);
      }
    } catch (err) {
      this.log.error({ err }, 'sweep failed');
    }
  }
}
