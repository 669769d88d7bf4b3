/**
 * Which instances are alive (§5.21, issue 3) against a real Redis: an instance judges others only
 * while its own view is sound. Here the view that is not: this process stalled past another
 * instance's TTL, so that instance's beat is overdue for the same reason (under load, two
 * instances on one machine; in the cluster tests, two in one process). The stall must not turn
 * the other instance's members into ghosts.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisRegistry } from '../../src/cluster/instance-registry.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { dropPrefix, freshPrefix, REDIS_URL, redisDescribe } from '../helpers/redis.ts';

const prefix = freshPrefix('registry');
const HEARTBEAT = 100;
const TTL = 400;

redisDescribe('instance registry', () => {
  const clients: Redis[] = [];
  const registries: RedisRegistry[] = [];
  after(async () => {
    for (const r of registries) await r.stop();
    for (const c of clients) c.disconnect();
    await dropPrefix(prefix);
  });

  function registry(id: string): RedisRegistry {
    const c = new Redis(REDIS_URL);
    clients.push(c);
    const r = new RedisRegistry(c, prefix, id, HEARTBEAT, TTL, pino({ level: 'silent' }));
    registries.push(r);
    return r;
  }

  it('after this process stalls past the TTL, the other instance is not judged dead; once beats are on time, it is live', async () => {
    const a = registry('reg-a');
    const b = registry('reg-b');
    await a.start();
    await b.start();
    await sleep(TTL + 3 * HEARTBEAT); // a full TTL of good beats: a judges
    assert.equal(await a.refresh(), true);
    assert.equal(a.isLive('reg-b'), true);

    const until = Date.now() + TTL + 300; // the stall: every timer of this process runs late
    while (Date.now() < until);
    const judge = await a.refresh(); // before any beat of either could run
    assert.ok(!judge || a.isLive('reg-b'), 'reg-b judged dead for this process\'s own stall');

    await sleep(3 * HEARTBEAT);
    assert.equal(await a.refresh(), true, 'judges again once its own beats are on time');
    assert.equal(a.isLive('reg-b'), true);
  });
});
