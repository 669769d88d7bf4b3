/**
 * The store contract against a real Redis (issue 3), plus what only a shared store can show: two
 * independent clients (two instances) changing one room at once never lose an update.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Redis } from 'ioredis';
import { changed } from '../../src/domain/outcome.ts';
import { RedisRoomStore } from '../../src/store/redis-store.ts';
import { dropPrefix, freshPrefix, REDIS_URL, redisDescribe } from '../helpers/redis.ts';
import { sampleRoom, storeContract } from '../helpers/store-contract.ts';

const prefix = freshPrefix('store');

redisDescribe('RedisRoomStore', () => {
  after(() => dropPrefix(prefix));

  storeContract('redis', () => Promise.resolve(new RedisRoomStore(new Redis(REDIS_URL), prefix)));

  it('two instances (two clients) updating one room concurrently lose nothing', async () => {
    const a = new RedisRoomStore(new Redis(REDIS_URL), prefix);
    const b = new RedisRoomStore(new Redis(REDIS_URL), prefix);
    try {
      const room = sampleRoom();
      assert.equal(await a.insert(room), 'inserted');
      const n = 40;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? a : b).update(room.id, (r) =>
            changed({ ...r, members: [...r.members, { ...r.members[0]!, id: `m${i}` }] }, []),
          ),
        ),
      );
      const stored = await b.get(room.id);
      assert.equal(stored?.members.length, n + 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an id inserted by one instance is refused to the other (collision check across instances)', async () => {
    const a = new RedisRoomStore(new Redis(REDIS_URL), prefix);
    const b = new RedisRoomStore(new Redis(REDIS_URL), prefix);
    try {
      const room = sampleRoom();
      const results = await Promise.all([a.insert(room), b.insert({ ...room, name: 'other' })]);
      assert.deepEqual(results.sort(), ['id_taken', 'inserted']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
