/**
 * Issue 5: every refusal counted, and logged once per kind and offender per interval, so that a
 * flood costs counters and a handful of log lines; the memory of who was logged stays bounded.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Refusals } from '../../src/observability/refusals.ts';

function setup(intervalMs = 60_000) {
  let t = 1_000_000;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const refusals = new Refusals(pino({ level: 'info' }, sink), { now: () => t }, intervalMs);
  const flush = () => new Promise((r) => setImmediate(r));
  return { refusals, lines, flush, advance: (ms: number) => void (t += ms) };
}

describe('Refusals', () => {
  it('counts every refusal and logs each kind and offender once per interval', async () => {
    const { refusals, lines, flush, advance } = setup(60_000);
    for (let i = 0; i < 10_000; i++) refusals.refuse('rate_limited', { ip: '10.0.0.1', socketId: 'a' });
    refusals.refuse('rate_limited', { ip: '10.0.0.2', socketId: 'b' });
    refusals.refuse('unknown_event', { ip: '10.0.0.1', socketId: 'a' });
    await flush();
    assert.equal(refusals.snapshot().refused.rate_limited, 10_001);
    assert.equal(refusals.snapshot().refused.unknown_event, 1);
    assert.deepEqual(
      lines.map((l) => [l.kind, l.ip]),
      [
        ['rate_limited', '10.0.0.1'],
        ['rate_limited', '10.0.0.2'],
        ['unknown_event', '10.0.0.1'],
      ],
    );
    advance(59_999);
    refusals.refuse('rate_limited', { ip: '10.0.0.1', socketId: 'a' });
    await flush();
    assert.equal(lines.length, 3, 'still inside the interval');
    advance(1);
    refusals.refuse('rate_limited', { ip: '10.0.0.1', socketId: 'a' });
    await flush();
    assert.equal(lines.length, 4, 'logged again once the interval is over');
    assert.equal(lines[3]!.total, 10_003);
  });

  it('cuts are counted and always logged', async () => {
    const { refusals, lines, flush } = setup();
    refusals.cut('flood', { ip: '10.0.0.9', socketId: 'x' });
    refusals.cut('flood', { ip: '10.0.0.9', socketId: 'x' });
    refusals.cut('slow_reader', { ip: '10.0.0.9', socketId: 'y' }, { queuedBytes: 5_000_000 });
    await flush();
    assert.deepEqual(refusals.snapshot().disconnected, { flood: 2, slow_reader: 1, inbound_bytes: 0, frame_shape: 0, malformed: 0, bad_frame: 0, handshake_flood: 0 });
    assert.equal(lines.length, 3);
    assert.equal(lines[2]!.queuedBytes, 5_000_000);
  });

  it('a flood of distinct offenders keeps a bounded memory and goes on logging new ones', async () => {
    const { refusals, lines, flush } = setup();
    for (let i = 0; i < 25_000; i++) refusals.refuse('connect_rate', { ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` });
    await flush();
    assert.equal(refusals.snapshot().refused.connect_rate, 25_000);
    assert.equal(lines.length, 25_000, 'each new offender logged once');
    const remembered = (refusals as unknown as { logged: Map<string, number> }).logged.size;
    assert.ok(remembered <= 10_000, `remembers ${remembered}`);
  });
});
