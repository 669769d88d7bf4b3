/**
 * The in-memory adapter with connection state recovery, pruning its replay buffer every 5 s
 * instead of every 60 s. The buffer holds every non-volatile broadcast for the recovery window;
 * the stock 60 s prune period keeps up to a minute more than that, which at thousands of rooms is
 * hundreds of megabytes (issue 4: heap and GC time were dominated by it).
 */
import { SessionAwareAdapter } from 'socket.io-adapter';

const PRUNE_EVERY_MS = 5_000;

/** The base class keeps these private; they are plain fields at run time. */
interface Internals {
  maxDisconnectionDuration: number;
  packets: { emittedAt: number }[];
  sessions: Map<string, { disconnectedAt: number }>;
}

export class PromptPruneSessionAdapter extends SessionAwareAdapter {
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(nsp: ConstructorParameters<typeof SessionAwareAdapter>[0]) {
    super(nsp);
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  private prune(): void {
    const self = this as unknown as Internals;
    const threshold = Date.now() - self.maxDisconnectionDuration;
    let expired = 0;
    while (expired < self.packets.length && self.packets[expired]!.emittedAt < threshold) expired++;
    if (expired > 0) self.packets.splice(0, expired);
    for (const [id, s] of self.sessions) if (s.disconnectedAt < threshold) self.sessions.delete(id);
  }

  override close(): Promise<void> | void {
    clearInterval(this.pruneTimer);
    return super.close();
  }
}
