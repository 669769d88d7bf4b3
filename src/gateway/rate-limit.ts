/**
 * The one rate limiter (token buckets), used per socket and per event class, and keyed (per IP, per
 * room and IP) for password guesses. Events over a limit are dropped and their acks answered
 * `rate_limited`; nothing here ever disconnects a client (PROTOCOL §1.7). Later limits (per IP,
 * per room) extend this module rather than sit beside it.
 */
import type { Clock } from '../domain/types.ts';
import type { RateSpec } from '../config/config.ts';

export const RATE_CLASSES = ['heartbeat', 'room', 'chat', 'playback', 'signal', 'audio'] as const;
export type RateClass = (typeof RATE_CLASSES)[number];

export class TokenBucket {
  // Initialised with numbers, not left to the class-field default (undefined), so that V8 can give
  // both a double representation from the start (issue 4). No effect was measurable at 4,000
  // sockets; the promotion this was aimed at turned out to come from gc-nepotism.ts's arrays.
  private tokens = 0;
  private last = 0;

  constructor(
    private readonly spec: RateSpec,
    now: number,
  ) {
    this.tokens = spec.burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.spec.burst, this.tokens + ((now - this.last) / 1000) * this.spec.perSecond);
      this.last = now;
    }
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    return this.takeN(1, now);
  }

  /** Takes `n` tokens if there are that many (a byte budget spends a frame's size at once). */
  takeN(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Gives one token back (never above the burst). */
  give(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.spec.burst, this.tokens + 1);
  }

  /** True when the bucket is back to full, so forgetting it changes nothing. */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.spec.burst;
  }
}

/**
 * A socket's buckets, one per event class, made on first use: a bucket starts full, so one made
 * late is the one made at connect, and most sockets only ever use two or three classes (a few
 * hundred bytes a socket at 18,000 sockets, issue 4).
 */
export class SocketRateLimiter {
  private readonly buckets: Partial<Record<RateClass | 'signalBytes', TokenBucket>> = {};

  constructor(
    private readonly specs: Record<RateClass, RateSpec> & { signalBytes: RateSpec },
    private readonly clock: Clock,
  ) {}

  private bucket(cls: RateClass | 'signalBytes', now: number): TokenBucket {
    return (this.buckets[cls] ??= new TokenBucket(this.specs[cls], now));
  }

  take(cls: RateClass): boolean {
    const now = this.clock.now();
    return this.bucket(cls, now).take(now);
  }

  /** Spends a signalling message's size (RATE_SIGNAL_BYTES); false when it does not fit. */
  takeSignalBytes(n: number): boolean {
    const now = this.clock.now();
    return this.bucket('signalBytes', now).takeN(n, now);
  }
}

/**
 * Buckets by key (an IP, a room and an IP). Bounded: full buckets are forgotten, and past
 * `maxKeys` the oldest key goes first.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private ops = 0;

  constructor(
    private readonly spec: RateSpec,
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  /** Spends one token for the key; false when none was left. */
  take(key: string): boolean {
    return this.takeN(key, 1);
  }

  /** Spends `n` tokens for the key (a byte budget); false, spending nothing, when fewer are left. */
  takeN(key: string, n: number): boolean {
    const now = this.clock.now();
    // Prune first: pruning after the lookup could drop this very bucket and forget its spend.
    if (++this.ops % 1024 === 0) this.prune(now);
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evictOldest();
      b = new TokenBucket(this.spec, now);
      this.buckets.set(key, b);
    }
    return b.takeN(n, now);
  }

  /** Gives back a token spent for the key (a known bucket only: an unknown one is full). */
  give(key: string): void {
    this.buckets.get(key)?.give(this.clock.now());
  }

  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.full(now)) this.buckets.delete(k);
  }

  private evictOldest(): void {
    const first = this.buckets.keys().next();
    if (!first.done) this.buckets.delete(first.value);
  }
}

/**
 * Keyed buckets shared by every instance of the server where it matters (password guesses, §10.11):
 * the same token bucket, behind an async interface so that it can live in memory or in Redis.
 */
export interface SharedRateLimiter {
  /** Spends one token for the key; false when none was left. */
  take(key: string): Promise<boolean>;
  /** Gives back one token spent by `take` (a guess that turned out right). */
  give(key: string): Promise<void>;
}

export class MemorySharedLimiter implements SharedRateLimiter {
  private readonly inner: KeyedRateLimiter;
  constructor(spec: RateSpec, clock: Clock) {
    this.inner = new KeyedRateLimiter(spec, clock);
  }
  take(key: string): Promise<boolean> {
    return Promise.resolve(this.inner.take(key));
  }
  give(key: string): Promise<void> {
    this.inner.give(key);
    return Promise.resolve();
  }
}
