import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, createRoom, joinRoom, waitFor } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';

redisDescribe('two instances on one Redis: smoke', () => {
  let c: Cluster;
  before(async () => (c = await startCluster(2, 'smoke')));
  after(() => c.close());
  afterEach(closeAll);

  it('a member on instance B joins a room created on A, and chat crosses both ways', async () => {
    const [a, b] = c.nodes as [NonNullable<(typeof c.nodes)[0]>, NonNullable<(typeof c.nodes)[0]>];
    const owner = await connect(a.url);
    const member = await connect(b.url);
    const room = await createRoom(owner);
    const joinedSeen = waitFor<{ id: string }>(owner, 'room:member-joined');
    const r = await joinRoom(member, { roomId: room.id });
    assert.equal(r.success, true);
    assert.equal(r.members.length, 2);
    assert.equal((await joinedSeen).id, member.id);
    const got = waitFor<{ content: string }>(member, 'chat:message');
    owner.emit('chat:message', { content: 'from A', type: 'text' });
    assert.equal((await got).content, 'from A');
    const relayed = waitFor<{ url: string }>(member, 'play:update');
    owner.emit('play:update', { type: 'play', url: 'u', currentTime: 1, isPlaying: true, videoId: 'v', videoName: 'n', source: 's' });
    assert.equal((await relayed).url, 'u');
  });
});
