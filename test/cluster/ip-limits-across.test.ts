/**
 * Issue 5: with REDIS_URL set, the per-IP buckets live in Redis, so one IP cannot multiply its
 * allowance by spreading over instances: handshakes and `room:*` events spent on instance A count
 * on instance B.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, emitAck } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';

redisDescribe('per-IP limits shared by two instances on one Redis', () => {
  let c: Cluster;
  before(async () => (c = await startCluster(2, 'iplimits', { RATE_CONNECT_PER_IP: '0.001:4', RATE_ROOM_PER_IP: '0.001:6' })));
  after(() => c.close());
  afterEach(closeAll);

  it('handshakes: 4 per IP over both instances, then refused on either; another IP still connects', async () => {
    const [a, b] = c.nodes as [NonNullable<(typeof c.nodes)[0]>, NonNullable<(typeof c.nodes)[0]>];
    await connect(a.url);
    await connect(a.url);
    await connect(b.url);
    await connect(b.url);
    await assert.rejects(connect(a.url, { reconnection: false }));
    await assert.rejects(connect(b.url, { reconnection: false }));
    await connect(b.url, { localAddress: '127.0.0.5' } as object);
  });

  it('room:* events: the IP\'s 6 are spent across instances, the rest answered as rate limited', async () => {
    const [a, b] = c.nodes as [NonNullable<(typeof c.nodes)[0]>, NonNullable<(typeof c.nodes)[0]>];
    const from = { localAddress: '127.0.0.6' } as object;
    const sa = await connect(a.url, from);
    const sb = await connect(b.url, from);
    const codes: unknown[] = [];
    for (let i = 0; i < 4; i++) codes.push(await emitAck(sa, 'room:join', { roomId: 'NOSUCH', userName: 'x' }));
    for (let i = 0; i < 4; i++) codes.push(await emitAck(sb, 'room:join', { roomId: 'NOSUCH', userName: 'x' }));
    const byCode = codes.map((r) => (r as { code?: string }).code);
    assert.deepEqual(byCode, [...Array<string>(6).fill('room_not_found'), 'rate_limited', 'rate_limited']);
  });
});
