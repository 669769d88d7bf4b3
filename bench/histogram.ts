/**
 * Latency histogram with log buckets (about 1 % wide) from 10 µs to 10 min. Generators keep one per
 * event kind and ship it sparse over IPC; the runner merges them. Constant memory whatever the
 * delivery count, so an 18,000-socket run keeps every sample instead of a subsample.
 */
const MIN_MS = 0.01;
const GROWTH = Math.log(1.01);
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / GROWTH) + 1;

/** [bucket index, count] pairs: what crosses the process boundary. */
export type SparseHistogram = [number, number][];

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  add(ms: number): void {
    const v = ms > MIN_MS ? ms : MIN_MS;
    const i = Math.min(BUCKETS - 1, Math.ceil(Math.log(v / MIN_MS) / GROWTH));
    this.counts[i]! += 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The upper edge of the bucket holding the p-th percentile (a conservative reading). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, MIN_MS * Math.exp(i * GROWTH));
    }
    return this.max;
  }

  toSparse(): { buckets: SparseHistogram; max: number } {
    const buckets: SparseHistogram = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { buckets, max: this.max };
  }

  merge(s: { buckets: SparseHistogram; max: number }): void {
    for (const [i, n] of s.buckets) {
      this.counts[i]! += n;
      this.count += n;
    }
    if (s.max > this.max) this.max = s.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

export function summarize(h: Histogram): LatencySummary {
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(h.percentile(50)), p99: r(h.percentile(99)), max: r(h.max) };
}
