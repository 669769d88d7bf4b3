/**
 * Spaced stream reads (REDIS_STREAM_READ_DELAY_MS, issue 4) against a real Redis: a read issued
 * right after another waits out the spacing, so that broadcasts added meanwhile arrive together in
 * one XREAD reply instead of one XREAD each.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Redis } from 'ioredis';
import { spaceStreamReads } from '../../src/cluster/stream-reads.ts';
import { dropPrefix, freshPrefix, REDIS_URL, redisDescribe } from '../helpers/redis.ts';

const prefix = freshPrefix('stream-reads');

type Reply = [string, [string, string[]][]][] | null;

redisDescribe('spaced stream reads', () => {
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(REDIS_URL);
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) c.disconnect();
    await dropPrefix(prefix);
  });

  /** Reads once (as the adapter's loop does), then reads again while three entries are added. */
  async function secondRead(delayMs: number, stream: string): Promise<number> {
    const base = client();
    spaceStreamReads(base, delayMs);
    const reader = base.duplicate();
    clients.push(reader);
    const writer = client();
    const read = (from: string) => reader.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', stream, from) as Promise<Reply>;
    await writer.xadd(stream, '*', 'n', '0');
    const first = await read('0'); // a fresh stream: everything in it
    const entries = first?.[0]?.[1] ?? [];
    assert.equal(entries.length, 1);
    const lastId = entries[0]![0];
    const next = read(lastId);
    for (let i = 1; i <= 3; i++) await writer.xadd(stream, '*', 'n', String(i));
    const second = await next;
    return second?.[0]?.[1].length ?? 0;
  }

  it('a read right after another waits the spacing out and takes what came meanwhile in one reply', async () => {
    assert.equal(await secondRead(400, `${prefix}spaced`), 3);
  });

  it('with the spacing off (0) the next read is issued at once and answers with the first new entry', async () => {
    assert.equal(await secondRead(0, `${prefix}unspaced`), 1);
  });
});
