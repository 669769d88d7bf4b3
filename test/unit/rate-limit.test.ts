/**
 * Token buckets with a fake clock (PROTOCOL §1.6, §1.7, §10.5, §10.11): burst, refill, per-class
 * independence, keyed buckets for password guesses, and the bound on how many keys are kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type RateSpec } from '../../src/config/config.ts';
import { FANOUT_MIN_BYTES } from '../../src/gateway/connection.ts';
import { KeyedRateLimiter, RATE_CLASSES, SocketRateLimiter, TokenBucket, type RateClass } from '../../src/gateway/rate-limit.ts';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}
/** How many takes succeed right now (stops at `max`). */
function drain(take: () => boolean, max = 10_000): number {
  let n = 0;
  while (n < max && take()) n++;
  return n;
}

describe('TokenBucket', () => {
  it('allows the burst at once, then refills at perSecond', () => {
    const b = new TokenBucket({ perSecond: 2, burst: 5 }, 0);
    assert.equal(drain(() => b.take(0)), 5);
    assert.equal(b.take(0), false);
    assert.equal(b.take(499), false, 'not yet a whole token after 499 ms at 2/s');
    assert.equal(b.take(500), true);
    assert.equal(b.take(500), false);
    assert.equal(drain(() => b.take(2_500)), 4, '2 s more at 2/s');
  });

  it('never holds more than the burst however long it rests', () => {
    const b = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
    b.take(0);
    assert.equal(drain(() => b.take(3_600_000)), 3);
  });

  it('full() only looks; a clock going backwards adds nothing', () => {
    const b = new TokenBucket({ perSecond: 1, burst: 2 }, 1_000);
    assert.equal(b.full(1_000), true);
    assert.equal(b.full(1_000), true, 'full() does not take');
    assert.equal(drain(() => b.take(1_000)), 2);
    assert.equal(b.take(0), false, 'time going backwards refills nothing');
    assert.equal(b.take(1_999), false);
    assert.equal(b.full(1_999), false);
    assert.equal(b.take(2_000), true);
    assert.equal(b.full(3_000), false);
    assert.equal(b.full(4_000), true);
  });

  it('give() returns a token, never above the burst', () => {
    const b = new TokenBucket({ perSecond: 0.001, burst: 2 }, 0);
    b.give(0);
    assert.equal(drain(() => b.take(0)), 2, 'a full bucket gains nothing');
    b.give(0);
    assert.equal(drain(() => b.take(0)), 1);
  });

  it('fractional rates refill slowly (password guesses, 0.02/s)', () => {
    const b = new TokenBucket({ perSecond: 0.02, burst: 5 }, 0);
    assert.equal(drain(() => b.take(0)), 5);
    assert.equal(b.take(49_999), false);
    assert.equal(b.take(50_000), true);
  });
});

describe('SocketRateLimiter', () => {
  const specs = {
    ...(Object.fromEntries(RATE_CLASSES.map((c, i) => [c, { perSecond: 1, burst: i + 1 }])) as Record<RateClass, RateSpec>),
    signalBytes: { perSecond: 1000, burst: 5000 },
  };

  it('gives every class its own bucket with its own spec, on the injected clock', () => {
    const clock = fakeClock();
    const lim = new SocketRateLimiter(specs, clock);
    RATE_CLASSES.forEach((c, i) => assert.equal(drain(() => lim.take(c)), i + 1, c));
    for (const c of RATE_CLASSES) assert.equal(lim.take(c), false);
    clock.advance(1_000);
    for (const c of RATE_CLASSES) assert.equal(lim.take(c), true, `${c} refilled`);
    for (const c of RATE_CLASSES) assert.equal(lim.take(c), false);
  });

  it('signalling bytes have a bucket of their own, spent by size (RATE_SIGNAL_BYTES)', () => {
    const clock = fakeClock();
    const lim = new SocketRateLimiter(specs, clock);
    assert.equal(lim.takeSignalBytes(4000), true);
    assert.equal(lim.takeSignalBytes(1500), false, 'a message that does not fit is refused whole');
    assert.equal(lim.takeSignalBytes(1000), true);
    clock.advance(2_000);
    assert.equal(lim.takeSignalBytes(2000), true);
    assert.equal(lim.take('signal'), true, 'the message count bucket is apart');
  });

  it('exhausting one class leaves the others untouched', () => {
    const lim = new SocketRateLimiter(specs, fakeClock());
    drain(() => lim.take('chat'));
    assert.equal(lim.take('chat'), false);
    assert.equal(lim.take('heartbeat'), true);
    assert.equal(lim.take('room'), true);
  });
});

describe('KeyedRateLimiter', () => {
  const guesses: RateSpec = { perSecond: 0.02, burst: 5 };

  it('takeN spends a byte budget per key: nothing when it does not fit, refilled with time', () => {
    const clock = fakeClock();
    const lim = new KeyedRateLimiter({ perSecond: 1000, burst: 3000 }, clock);
    assert.equal(lim.takeN('a', 2500), true);
    assert.equal(lim.takeN('a', 600), false, 'only 500 left');
    assert.equal(lim.takeN('a', 500), true, 'the refused spend took nothing');
    assert.equal(lim.takeN('b', 3000), true, 'another key has its own');
    clock.advance(1000);
    assert.equal(lim.takeN('a', 1000), true);
    assert.equal(lim.takeN('a', 1), false);
  });

  it('give() on an unknown key remembers nothing; on a spent key returns a token', () => {
    const lim = new KeyedRateLimiter(guesses, fakeClock());
    lim.give('ip');
    assert.equal(lim.size, 0);
    assert.equal(drain(() => lim.take('ip')), 5);
    lim.give('ip');
    assert.equal(lim.take('ip'), true);
    assert.equal(lim.take('ip'), false);
  });

  it('a key runs out after its burst and recovers with time; keys are independent', () => {
    const clock = fakeClock();
    const lim = new KeyedRateLimiter(guesses, clock);
    assert.equal(drain(() => lim.take('ip1')), 5);
    assert.equal(lim.take('ip1'), false);
    assert.equal(lim.take('ip2'), true);
    clock.advance(49_000);
    assert.equal(lim.take('ip1'), false);
    clock.advance(1_000);
    assert.equal(lim.take('ip1'), true);
    assert.equal(lim.take('ip1'), false);
  });

  it('keeps at most maxKeys keys, evicting the oldest first', () => {
    const lim = new KeyedRateLimiter({ perSecond: 0.001, burst: 1 }, fakeClock(), 3);
    for (const k of ['a', 'b', 'c']) assert.equal(lim.take(k), true);
    assert.equal(lim.size, 3);
    assert.equal(lim.take('d'), true);
    assert.equal(lim.size, 3);
    assert.equal(lim.take('c'), false, 'c is remembered, spent');
    assert.equal(lim.take('d'), false);
    assert.equal(lim.take('a'), true, 'the oldest key was forgotten');
  });

  it('forgets refilled keys when it prunes (every 1024 takes)', () => {
    const clock = fakeClock();
    const lim = new KeyedRateLimiter({ perSecond: 1, burst: 1 }, clock);
    for (let i = 0; i < 1000; i++) lim.take(`old${i}`);
    assert.equal(lim.size, 1000);
    clock.advance(2_000);
    lim.take('busy');
    for (let i = 0; i < 22; i++) lim.take('busy'); // 1023 takes so far
    lim.take('busy'); // the 1024th take prunes
    assert.equal(lim.size, 1, 'only the key still short of tokens is kept');
    assert.equal(lim.take('busy'), false);
  });

  it('the take that triggers a prune is still counted (§10.11: no free guesses)', () => {
    // A bucket that is full when the 1024th take arrives (a new key, or one that has refilled) is
    // pruned before the token is taken; the take must still count against the key.
    const lim = new KeyedRateLimiter({ perSecond: 0.001, burst: 1 }, fakeClock());
    for (let i = 0; i < 1023; i++) lim.take(`k${i}`);
    assert.equal(lim.take('victim'), true);
    assert.equal(lim.size, 1024, 'the spent token is remembered');
    assert.equal(lim.take('victim'), false, 'a second guess with burst 1 is refused');
  });
});

describe('RATE_FANOUT_BYTES_PER_IP default (issue 5, PROTOCOL §5.18)', () => {
  // The real client's audio: 8192 byte values every ~256 ms, about 29 KB of JSON (§5.18).
  const CHUNK_JSON = JSON.stringify(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 256)).length;
  const LISTENERS = 49; // a full room (MAX_MEMBERS_PER_ROOM 50) but the speaker
  const spec = loadConfig({}).rates.fanoutPerIp;

  /** Chunks relayed of those sent by `speakers` sockets of one IP at `perSecond` each for `seconds`. */
  function relayed(speakers: number, perSecond: number, seconds: number): { sent: number; relayed: number } {
    const clock = fakeClock();
    const lim = new KeyedRateLimiter(spec, clock);
    let sent = 0;
    let ok = 0;
    const stepMs = 1000 / (speakers * perSecond);
    for (let t = 0; t < seconds * 1000; t += stepMs) {
      clock.advance(stepMs);
      sent++;
      if (lim.takeN('household', LISTENERS * Math.max(CHUNK_JSON, FANOUT_MIN_BYTES))) ok++;
    }
    return { sent, relayed: ok };
  }

  it('four people of one household speaking at once in a full room, for ten minutes: never refused', () => {
    const r = relayed(4, 4, 600);
    assert.equal(r.relayed, r.sent);
  });

  it('the client bug\'s three streams from one speaker in a full room: never refused', () => {
    const r = relayed(1, 12, 600);
    assert.equal(r.relayed, r.sent);
  });

  it('fifty sockets of one IP at 15 chunks a second (bench:abuse room-fanout): under a twentieth relayed after the burst', () => {
    const r = relayed(50, 15, 60);
    assert.ok(r.relayed / r.sent < 0.05, `${r.relayed} of ${r.sent}`);
  });
});
