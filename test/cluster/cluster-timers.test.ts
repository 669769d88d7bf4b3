/**
 * PROTOCOL §8 timers on a cluster: three instances sweep the same rooms, yet every timer fires
 * once per room (one `state:cleared`, one `room:deleted`), and rooms whose instance was closed are
 * still swept by the others (none forgotten). Short timers through config; the only sleeps are
 * where a test must show that nothing fires again, and each is followed by a marker.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, expectNone, joinRoom, Recorder, waitFor, type Client } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';
import type { TestServer } from '../helpers/server.ts';

const SWEEP = 100;
const STATE_TIMEOUT = 400;
const ROOM_TIMEOUT = 1200;
const EMPTY_GRACE = 500;
const TIMERS = {
  SWEEP_INTERVAL_MS: String(SWEEP),
  OWNER_STATE_TIMEOUT_MS: String(STATE_TIMEOUT),
  OWNER_ROOM_TIMEOUT_MS: String(ROOM_TIMEOUT),
  EMPTY_ROOM_GRACE_MS: String(EMPTY_GRACE),
};
/** Timer slack: the sweep period plus scheduling. */
const SLACK = SWEEP + 150;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const play = { type: 'play', url: 'https://example.test/a.mp4', currentTime: 5, isPlaying: false, videoId: 'v', videoName: 'n', source: 's' };

function nodes(c: Cluster): [TestServer, TestServer, TestServer] {
  const [a, b, n3] = c.nodes;
  assert.ok(a && b && n3);
  return [a, b, n3];
}

/** Owner on `home`, one member on each of `others`, the owner's state relayed to all of them. */
async function playingRoom(home: TestServer, others: TestServer[]) {
  const owner = await connect(home.url);
  const room = await createRoom(owner);
  const members: Client[] = [];
  for (const n of others) {
    const m = await connect(n.url);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    members.push(m);
  }
  const got = members.map((m) => waitFor(m, 'play:update'));
  owner.emit('play:update', play);
  await Promise.all(got);
  return { owner, room, members };
}

/** Marker through a room broadcast: `sockets` share a fresh room and all see the first one's chat. */
async function chatReachesAll(sockets: Client[], url: string): Promise<void> {
  const [first, ...rest] = sockets;
  assert.ok(first);
  const room = await createRoom(first);
  for (const s of rest) assert.equal((await joinRoom(s, { roomId: room.id })).success, true);
  const got = sockets.map((s) => waitFor(s, 'chat:message', (p: { content: string }) => p.content === url));
  first.emit('chat:message', { content: url, type: 'text' });
  await Promise.all(got);
}

async function listedIds(url: string): Promise<Set<string>> {
  const s = await connect(url);
  const ids = new Set((await emitAck<{ id: string }[]>(s, 'room:list')).map((r) => r.id));
  s.close();
  return ids;
}

redisDescribe('§8 timers fire once per room across three instances', () => {
  let c: Cluster;
  let A: TestServer, B: TestServer, C: TestServer;
  before(async () => {
    c = await startCluster(3, 'xinst-timers', TIMERS);
    [A, B, C] = nodes(c);
  });
  after(() => c.close());
  afterEach(closeAll);

  it('an absent owner: every member gets state:cleared once, then room:deleted owner_timeout once', async () => {
    // Fifteen rooms, five homed on each instance: sweeps of different instances overlap on some of
    // them, so a sweep acting on a stale snapshot would show up here as a duplicate.
    const rooms: Awaited<ReturnType<typeof playingRoom>>[] = [];
    for (let i = 0; i < 5; i++) rooms.push(await playingRoom(A, [B, C]), await playingRoom(B, [C, A]), await playingRoom(C, [A, B]));
    const members = rooms.flatMap((r) => r.members);
    const recs = members.map((m) => new Recorder(m));
    const cleared = members.map((m) => waitFor(m, 'state:cleared', () => true, 4000).then(() => Date.now()));
    const deleted = members.map((m) => waitFor(m, 'room:deleted', () => true, 5000).then(() => Date.now()));
    const t0 = Date.now();
    for (const r of rooms) r.owner.disconnect();
    const clearedAt = await Promise.all(cleared);
    const deletedAt = await Promise.all(deleted);
    for (const t of clearedAt) assert.ok(t - t0 >= STATE_TIMEOUT - 20 && t - t0 < ROOM_TIMEOUT, `cleared after ${t - t0} ms`);
    for (const t of deletedAt) assert.ok(t - t0 >= ROOM_TIMEOUT - 20 && t - t0 < ROOM_TIMEOUT + 4 * SLACK, `deleted after ${t - t0} ms`);
    // Every instance sweeps every 100 ms: five more rounds could only add duplicates.
    await sleep(5 * SWEEP);
    await chatReachesAll(members, 'marker-after-timers');
    for (const rec of recs) {
      assert.equal(rec.count('state:cleared'), 1);
      assert.deepEqual(rec.payloads('room:deleted'), [{ reason: 'owner_timeout' }]);
      // Order: member-left (the owner), state:cleared, room:deleted.
      const order = rec.events.map((e) => e.event).filter((e) => e !== 'chat:message' && e !== 'room:member-joined');
      assert.deepEqual(order, ['room:member-left', 'state:cleared', 'room:deleted']);
    }
    const listed = await listedIds(B.url);
    for (const r of rooms) assert.equal(listed.has(r.room.id), false);
  });

  it('an owner who drops on A and reclaims on C in time: no state:cleared, no room:deleted, from any instance', async () => {
    const { owner, room, members } = await playingRoom(A, [B]);
    const member = members[0] as Client;
    const ownerId = owner.id;
    const left = waitFor(member, 'room:member-left');
    owner.disconnect();
    assert.equal(await left, ownerId);
    const back = await connect(C.url);
    const r = await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken, userName: 'owner' });
    assert.equal(r.room.ownerId, back.id);
    const rec = new Recorder(member);
    await expectNone(member, 'state:cleared', () => sleep(ROOM_TIMEOUT + 3 * SWEEP), {
      trigger: () => void back.emit('play:update', { ...play, currentTime: 9 }),
      event: 'play:update',
    });
    assert.equal(rec.count('room:deleted'), 0);
    const again = await joinRoom(await connect(B.url), { roomId: room.id });
    assert.deepEqual(again.room.currentState, { ...play, currentTime: 9 });
  });
});

redisDescribe('§8 rooms of a closed instance are swept by the others', () => {
  let c: Cluster;
  before(async () => (c = await startCluster(3, 'xinst-closed', TIMERS)));
  after(() => c.close());
  afterEach(closeAll);

  it('empty rooms and rooms whose members sat on the closed node are deleted after the grace; none forgotten', async () => {
    const [A, B, C] = nodes(c);
    // Emptied by a disconnect before C closes.
    const emptied: string[] = [];
    for (let i = 0; i < 3; i++) {
      const owner = await connect(C.url);
      const watcher = await connect(C.url);
      const room = await createRoom(owner);
      assert.equal((await joinRoom(watcher, { roomId: room.id })).success, true);
      const left = waitFor(watcher, 'room:member-left');
      owner.disconnect();
      await left; // C has handled the owner's disconnect; the watcher's follows in the same way
      watcher.disconnect();
      emptied.push(room.id);
    }
    // Still occupied by sockets on C when C closes: the others must drop those members.
    const occupied: string[] = [];
    for (let i = 0; i < 2; i++) occupied.push((await createRoom(await connect(C.url))).id);
    // One with a member on A: it sees the owner go, then the owner timeout, once.
    const cOwner = await connect(C.url);
    const mixed = await createRoom(cOwner);
    const onA = await connect(A.url);
    assert.equal((await joinRoom(onA, { roomId: mixed.id })).success, true);
    const rec = new Recorder(onA);
    const cOwnerId = cOwner.id;
    const ownerGone = waitFor(onA, 'room:member-left', (id) => id === cOwnerId, 5000);
    const mixedDeleted = waitFor(onA, 'room:deleted', () => true, 8000);

    const tClose = Date.now();
    await C.close();
    const all = [...emptied, ...occupied];
    for (const n of [A, B]) {
      const ids = await listedIds(n.url);
      for (const id of all) assert.ok(ids.has(id), `${id} already gone ${Date.now() - tClose} ms after the close`);
    }
    const deadline = Date.now() + 8000;
    let remaining = all;
    while (remaining.length > 0 && Date.now() < deadline) {
      await sleep(SWEEP);
      const ids = await listedIds(B.url);
      remaining = remaining.filter((id) => ids.has(id));
    }
    assert.deepEqual(remaining, [], 'rooms forgotten after their instance closed');
    await ownerGone;
    assert.deepEqual(await mixedDeleted, { reason: 'owner_timeout' });
    await sleep(5 * SWEEP);
    await chatReachesAll([onA, await connect(B.url)], 'after-close');
    assert.equal(rec.count('room:member-left'), 1);
    assert.deepEqual(rec.payloads('room:deleted'), [{ reason: 'owner_timeout' }]);
  });
});
