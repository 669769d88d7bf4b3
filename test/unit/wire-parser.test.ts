/**
 * Issue 5: the guard in front of Socket.IO's decoder: a byte budget per connection, spent before a
 * frame is parsed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardedParser, WireError } from '../../src/wire/parser.ts';
import { sanitize } from '../../src/wire/sanitize.ts';

const event = (payload: unknown) => `2${JSON.stringify(['play:update', payload])}`;

describe('guardedParser', () => {
  function decoder(perSecond: number, burst: number) {
    const { Decoder } = guardedParser({ perSecond, burst }, 16384);
    const d = new Decoder();
    const got: unknown[] = [];
    d.on('decoded', (p: unknown) => got.push(p));
    return { d, got };
  }

  it('decodes ordinary frames like the stock decoder', () => {
    const { d, got } = decoder(1e6, 1e6);
    d.add(event({ currentTime: 1 }));
    assert.deepEqual((got[0] as { data: unknown }).data, ['play:update', { currentTime: 1 }]);
  });

  it('refuses frames past the byte budget; the budget refills with time', async () => {
    const { d, got } = decoder(10_000, 3_000);
    const frame = event({ pad: 'x'.repeat(900) }); // ~930 bytes
    for (let i = 0; i < 3; i++) d.add(frame);
    assert.throws(() => d.add(frame), (e: unknown) => e instanceof WireError);
    assert.equal(got.length, 3);
    await new Promise((r) => setTimeout(r, 150)); // 1,500 bytes back
    d.add(frame);
    assert.equal(got.length, 4);
  });

  it('a frame nested or separated past any payload reaches the handler with a small payload sanitize refuses, not parsed', () => {
    const { d, got } = decoder(1e7, 1e7);
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    d.add(`27["room:create",${deep}]`);
    d.add(`2/other,8["play:update",{${Array.from({ length: 6_000 }, (_, i) => `"k${i}":0`).join(',')}}]`);
    const [a, b] = got as { id?: number; nsp: string; data: unknown[] }[];
    assert.equal(a!.id, 7);
    assert.equal(a!.data[0], 'room:create');
    assert.equal(sanitize(a!.data[1]), undefined);
    assert.ok(JSON.stringify(a!.data[1]).length < 64, 'the substitute, not the 60 KB original');
    assert.deepEqual([b!.nsp, b!.id, b!.data[0]], ['/other', 8, 'play:update']);
    assert.equal(sanitize(b!.data[1]), undefined);
  });

  it('a deep frame whose head is not an event\'s is cut', () => {
    const { d } = decoder(1e7, 1e7);
    assert.throws(() => d.add(`2[1,${'['.repeat(100)}${']'.repeat(100)}]`), (e: unknown) => e instanceof WireError && e.violation === 'frame_shape');
  });
});
