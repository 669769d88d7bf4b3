/**
 * Application heartbeat (PROTOCOL §1.5, §5.20): every socket gets `heartbeat:pong { timestamp }`,
 * in a room or not; a member's heartbeat refreshes its `lastHeartbeat`, the owner's also the room's
 * `lastOwnerHeartbeat`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, waitFor, type Client } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

interface Pong {
  timestamp: number;
}
interface ListedRoom {
  id: string;
  lastOwnerHeartbeat: number;
  createdAt: number;
}

async function heartbeat(s: Client): Promise<Pong> {
  const pong = waitFor<Pong>(s, 'heartbeat:pong');
  s.emit('heartbeat');
  return pong;
}

/** Waits until the wall clock has moved past `t`, so that a refresh is observable (not a fixed sleep). */
async function clockPast(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

async function listed(s: Client, roomId: string): Promise<ListedRoom> {
  const rooms = await emitAck<ListedRoom[]>(s, 'room:list');
  const room = rooms.find((r) => r.id === roomId);
  assert.ok(room, 'room not listed');
  return room;
}

describe('heartbeat (PROTOCOL §1.5, §5.20)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('a socket in no room gets heartbeat:pong {timestamp} in server ms epoch', async () => {
    const s = await connect(srv.url);
    const t0 = Date.now();
    const pong = await heartbeat(s);
    const t1 = Date.now();
    assert.deepEqual(Object.keys(pong), ['timestamp']);
    assert.ok(Number.isInteger(pong.timestamp));
    assert.ok(pong.timestamp >= t0 && pong.timestamp <= t1, `timestamp ${pong.timestamp} not in [${t0}, ${t1}]`);
  });

  it('a pong answers every heartbeat, and only the sender gets it', async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const member = await connect(srv.url);
    await joinRoom(member, { roomId: room.id });
    let others = 0;
    owner.on('heartbeat:pong', () => others++);
    const pongs = await Promise.all([1, 2, 3].map(() => heartbeat(member)));
    assert.equal(pongs.length, 3);
    // The owner's own pong comes after any pong wrongly sent to it by the member's heartbeats.
    await heartbeat(owner);
    assert.equal(others, 1);
  });

  it("the owner's heartbeat refreshes room.lastOwnerHeartbeat (room:list and join ack)", async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const before = await listed(owner, room.id);
    assert.equal(before.lastOwnerHeartbeat, room['lastOwnerHeartbeat']);
    await clockPast(before.lastOwnerHeartbeat + 5);
    const pong = await heartbeat(owner);
    // Same socket, one queue: the list is answered after the heartbeat was applied.
    const afterList = await listed(owner, room.id);
    assert.ok(afterList.lastOwnerHeartbeat >= pong.timestamp, `${afterList.lastOwnerHeartbeat} < pong ${pong.timestamp}`);
    assert.ok(afterList.lastOwnerHeartbeat > before.lastOwnerHeartbeat);
    const joiner = await connect(srv.url);
    const r = await joinRoom(joiner, { roomId: room.id });
    assert.equal(r.room['lastOwnerHeartbeat'], afterList.lastOwnerHeartbeat);
  });

  it("a member's heartbeat refreshes its lastHeartbeat, not the owner's nor lastOwnerHeartbeat", async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const member = await connect(srv.url);
    const first = await joinRoom(member, { roomId: room.id });
    const mine = (r: typeof first, id: string | undefined) =>
      (r.members.find((m) => m.id === id) as { lastHeartbeat: number } | undefined)?.lastHeartbeat;
    const joinedAt = mine(first, member.id);
    const ownerBeat = mine(first, owner.id);
    assert.equal(typeof joinedAt, 'number');
    await clockPast((joinedAt ?? 0) + 5);
    const pong = await heartbeat(member);
    // A repeat join is idempotent (§5.2) and answers the member list after the heartbeat.
    const again = await joinRoom(member, { roomId: room.id });
    const refreshed = mine(again, member.id) ?? 0;
    assert.ok(refreshed >= pong.timestamp && refreshed > (joinedAt ?? 0), `lastHeartbeat ${refreshed} not refreshed`);
    assert.equal(mine(again, owner.id), ownerBeat);
    assert.equal(again.room['lastOwnerHeartbeat'], first.room['lastOwnerHeartbeat']);
    // And anyone joining later sees the same.
    const late = await joinRoom(await connect(srv.url), { roomId: room.id, userName: 'late' });
    assert.equal(mine(late, member.id), refreshed);
  });

  it('a heartbeat with a junk payload or an ack callback still gets its pong', async () => {
    const s = await connect(srv.url);
    const pong = waitFor<Pong>(s, 'heartbeat:pong');
    s.emit('heartbeat', { junk: true }, () => undefined);
    assert.equal(typeof (await pong).timestamp, 'number');
  });
});

describe('heartbeat writes are throttled by HEARTBEAT_REFRESH_MS (issue 4)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000', HEARTBEAT_REFRESH_MS: '60000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('every heartbeat is answered, but lastOwnerHeartbeat is written once per refresh period', async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    await clockPast(room.createdAt as number);
    await heartbeat(owner); // the first one in the room is written
    const first = (await listed(owner, room.id)).lastOwnerHeartbeat;
    assert.ok(first > (room.createdAt as number), 'the first heartbeat is written');
    await clockPast(first);
    const pong = await heartbeat(owner); // answered at once, not written (within 60 s)
    assert.ok(pong.timestamp > first);
    assert.equal((await listed(owner, room.id)).lastOwnerHeartbeat, first);
  });
});
