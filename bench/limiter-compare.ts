/**
 * Why the rate limits are our token buckets and not `rate-limiter-flexible` (issue 5 names it
 * "where it fits"): this prints, for the same limit, what each lets through and what a call costs.
 *
 *   npm install --no-save rate-limiter-flexible && node --import tsx bench/limiter-compare.ts
 *
 * Not a dependency of the project: the script only compares. Three measurements:
 * 1. Password guessing (PASSWORD_ATTEMPTS, 0.02/s, burst 5) as rate-limiter-flexible expresses it
 *    (5 points per 250 s window): one guess opens the window, then 12 guesses 10 ms apart from
 *    just before its end to just after; how many of those get through (windows scaled 250x).
 * 2. The same as a BurstyRateLimiter (1 point per 50 s, plus a 5-point burst per 250 s).
 * 3. Cost per call, allowed and refused, of RateLimiterMemory.consume against TokenBucket.take,
 *    for the per-socket event limits (a flood refuses tens of thousands of events a second).
 */
import { performance } from 'node:perf_hooks';
import { TokenBucket } from '../src/gateway/rate-limit.ts';

type Limiter = { consume(key: string, points?: number): Promise<unknown> };
type Lib = {
  RateLimiterMemory: new (o: { points: number; duration: number }) => Limiter;
  BurstyRateLimiter: new (a: Limiter, b: Limiter) => Limiter;
};

const LIB = 'rate-limiter-flexible';
let lib: Lib;
try {
  lib = (await import(LIB)) as Lib;
} catch {
  process.stderr.write('rate-limiter-flexible is not installed: npm install --no-save rate-limiter-flexible\n');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = (p: Promise<unknown>) => p.then(() => true, () => false);

/** Guesses let through of 12 made 10 ms apart from 60 ms before the first window's end (scaled time). */
async function straddle(make: (scale: number) => Limiter): Promise<number> {
  // Windows scaled down 250x (250 s -> 1 s) so that the run takes seconds; counts are unchanged.
  const scale = 250;
  const l = make(scale);
  const t0 = Date.now();
  let through = 0;
  // One guess opens the window; then one every 10 ms from just before its end to just after
  // (only these are counted).
  await ok(l.consume('ip'));
  await sleep(1000 - (Date.now() - t0) - 60);
  for (let i = 0; i < 12; i++) {
    if (await ok(l.consume('ip'))) through++;
    await sleep(10);
  }
  return through;
}

function bucketStraddle(): number {
  const b = new TokenBucket({ perSecond: 0.02, burst: 5 }, 0);
  let through = 0;
  b.take(0);
  for (let i = 0; i < 12; i++) if (b.take(250_000 - 60 + i * 10)) through++;
  return through;
}

async function cost(): Promise<void> {
  const n = 200_000;
  const rl = new lib.RateLimiterMemory({ points: 20, duration: 1 });
  // Allowed: a fresh key per call (each gets a record and a timer, as a socket's first event would).
  let t = performance.now();
  for (let i = 0; i < n; i++) await rl.consume(`s${i}`).catch(() => undefined);
  const rlAllowed = ((performance.now() - t) * 1000) / n;
  // Refused: one key, long past its points (a flood).
  t = performance.now();
  for (let i = 0; i < n; i++) await rl.consume('flood').catch(() => undefined);
  const rlRefused = ((performance.now() - t) * 1000) / n;
  const b = new TokenBucket({ perSecond: 20, burst: 20 }, 0);
  t = performance.now();
  let now = 0;
  for (let i = 0; i < n; i++) b.take((now += 0.001));
  const tb = ((performance.now() - t) * 1000) / n;
  const heapBefore = process.memoryUsage().heapUsed;
  const keep: Limiter[] = [];
  for (let i = 0; i < 20_000; i++) {
    const l = new lib.RateLimiterMemory({ points: 20, duration: 1 });
    await l.consume('k').catch(() => undefined);
    keep.push(l);
  }
  const perSocket = (process.memoryUsage().heapUsed - heapBefore) / 20_000;
  process.stdout.write(
    `cost per call: rate-limiter-flexible memory ${rlAllowed.toFixed(2)} µs allowed (a key's first call), ${rlRefused.toFixed(2)} µs refused; ` +
      `TokenBucket.take ${(tb * 1000).toFixed(0)} ns\n` +
      `heap per socket with one RateLimiterMemory used once: ~${Math.round(perSocket)} bytes\n`,
  );
}

const fixed = await straddle((s) => new lib.RateLimiterMemory({ points: 5, duration: 250 / s }));
const bursty = await straddle(
  (s) => new lib.BurstyRateLimiter(new lib.RateLimiterMemory({ points: 1, duration: 50 / s }), new lib.RateLimiterMemory({ points: 5, duration: 250 / s })),
);
process.stdout.write(
  `password guesses let through of 12 made within 110 ms around t=250 s, after one at t=0:\n` +
    `  token bucket 0.02/s burst 5: ${bucketStraddle()}\n` +
    `  RateLimiterMemory 5 per 250 s: ${fixed}\n` +
    `  BurstyRateLimiter 1 per 50 s + 5 per 250 s: ${bursty}\n`,
);
await cost();
