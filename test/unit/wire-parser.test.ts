/**
 * Issue 5: the guard in front of Socket.IO's decoder: a byte budget per connection, spent before a
 * frame is parsed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardedParser, WireError } from '../../src/wire/parser.ts';

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
});
