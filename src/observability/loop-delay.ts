/**
 * Event-loop delay for /stats, over the last complete window (default 10 s) rather than since
 * start-up, so that a connect storm an hour ago does not hide today's figure. Node's histogram
 * measures the intervals of its own sampling timer, so an idle loop reads about the resolution:
 * that is subtracted.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  windowMs: number;
}

export class LoopDelayMonitor {
  private readonly h: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private last: LoopDelay | undefined;

  constructor(
    private readonly resolutionMs = 10,
    private readonly windowMs = 10_000,
  ) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
    this.timer = setInterval(() => {
      this.last = this.read();
      this.h.reset();
    }, windowMs);
    this.timer.unref();
  }

  private read(): LoopDelay {
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - this.resolutionMs) * 100) / 100);
    const empty = this.h.count === 0;
    return {
      p50: empty ? 0 : ms(this.h.percentile(50)),
      p99: empty ? 0 : ms(this.h.percentile(99)),
      max: empty ? 0 : ms(this.h.max),
      windowMs: this.windowMs,
    };
  }

  /** The last complete window (the current one before the first window ends). */
  snapshot(): LoopDelay {
    return this.last ?? this.read();
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
