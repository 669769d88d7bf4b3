/**
 * Counting for one measurement in one generator. An event counts when its send stamp falls in the
 * window [windowStart, windowEnd): at send its expected deliveries (the room's live recipients),
 * at receipt one delivery and its latency, as long as the meter is open (until the drain ends).
 * Sender and receivers of a room live in the same generator, so stamps and receipts are read
 * from one process clock.
 */
import { Histogram } from './histogram.ts';
import { EVENTS, type BenchEvent, type MeasureResult } from './ipc.ts';

/** Sub-millisecond wall-clock time, comparable with Date.now(). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

interface Tally {
  sent: number;
  expected: number;
  delivered: number;
  hist: Histogram;
}

export class Meter {
  private readonly tallies = new Map<BenchEvent, Tally>(
    EVENTS.map((e) => [e, { sent: 0, expected: 0, delivered: 0, hist: new Histogram() }]),
  );
  private readonly real = { expected: 0, delivered: 0 };
  private readonly heartbeats = { sent: 0, pongs: 0 };
  private readonly unexpected: Record<string, number> = {};
  private misrouted = 0;
  private disconnects = 0;
  open = true;

  constructor(
    readonly windowStart: number,
    readonly windowEnd: number,
  ) {}

  inWindow(t: number): boolean {
    return t >= this.windowStart && t < this.windowEnd;
  }

  /** An event sent at `t` toward `recipients` sockets, `realRecipients` of them real clients. */
  sent(event: BenchEvent, t: number, recipients: number, realRecipients: number): void {
    if (!this.open || !this.inWindow(t)) return;
    const tally = this.tallies.get(event)!;
    tally.sent++;
    tally.expected += recipients;
    this.real.expected += realRecipients;
  }

  /** A receipt of an event stamped `t` (NaN: unstamped, counted when the window has begun). */
  delivered(event: BenchEvent, t: number, now: number, real: boolean): void {
    if (!this.open) return;
    const stamped = !Number.isNaN(t);
    if (stamped ? !this.inWindow(t) : now < this.windowStart) return;
    const tally = this.tallies.get(event)!;
    tally.delivered++;
    if (stamped) tally.hist.add(now - t);
    if (real) this.real.delivered++;
  }

  heartbeat(now: number): void {
    if (this.open && this.inWindow(now)) this.heartbeats.sent++;
  }

  pong(now: number): void {
    if (this.open && this.inWindow(now)) this.heartbeats.pongs++;
  }

  misroute(): void {
    if (this.open) this.misrouted++;
  }

  other(event: string): void {
    if (this.open) this.unexpected[event] = (this.unexpected[event] ?? 0) + 1;
  }

  disconnect(): void {
    if (this.open) this.disconnects++;
  }

  /** Closes the meter (later receipts no longer count) and returns what it holds. */
  close(generatorLoop: MeasureResult['generatorLoop']): MeasureResult {
    this.open = false;
    const events = {} as MeasureResult['events'];
    for (const [e, t] of this.tallies) {
      events[e] = { sent: t.sent, expected: t.expected, delivered: t.delivered, latency: t.hist.toSparse() };
    }
    return {
      events,
      real: { ...this.real },
      heartbeats: { ...this.heartbeats },
      misrouted: this.misrouted,
      unexpected: { ...this.unexpected },
      disconnects: this.disconnects,
      generatorLoop,
    };
  }
}
