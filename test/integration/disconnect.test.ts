/**
 * PROTOCOL §5.21, §8, §10.7: a dropped connection is not a leave. Members go (after an optional
 * grace), the owner keeps `ownerId`, and a room left empty by disconnects waits for the reconnect
 * grace so that the owner's automatic rejoin with its token finds it.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Client, closeAll, connect, createRoom, emitAck, expectNone, joinRoom, Recorder, waitFor } from '../helpers/client.ts';
import { until } from '../helpers/poll.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type ListedRoom = { id: string; memberCount: number; ownerId: string };
type Member = { id: string; name: string; isOwner: boolean };

const SWEEP = 50;
const EMPTY_GRACE = 400;
const MEMBER_GRACE = 300;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The room as `observer` sees it in room:list (undefined once it is gone). */
async function listed(observer: Client, roomId: string): Promise<ListedRoom | undefined> {
  return (await emitAck<ListedRoom[]>(observer, 'room:list')).find((r) => r.id === roomId);
}

/** Polls room:list until `pred` holds (no event exists for a change nobody in the room sees). */
const untilListed = (observer: Client, roomId: string, pred: (r: ListedRoom | undefined) => boolean, ms = 3000) =>
  until(() => listed(observer, roomId), pred, { ms, everyMs: 25, what: `room ${roomId} in room:list to reach the expected state` });

const chatMarker = (from: Client) => ({
  trigger: () => void from.emit('chat:message', { content: 'marker', type: 'text' }),
  event: 'chat:message',
});

describe('disconnect (PROTOCOL §5.21, §8, §10.7)', () => {
  let srv: TestServer;
  before(
    async () =>
      (srv = await startServer({
        MAX_ROOMS_PER_IP: '1000',
        // The observer polls room:list; keep it from tripping the per-socket room rate.
        RATE_ROOM: '100:200',
        SWEEP_INTERVAL_MS: String(SWEEP),
        EMPTY_ROOM_GRACE_MS: String(EMPTY_GRACE),
      })),
  );
  after(() => srv.close());
  afterEach(closeAll);

  it("a member's disconnect sends room:member-left(id) to the others", async () => {
    const owner = await connect(srv.url);
    const m1 = await connect(srv.url);
    const m2 = await connect(srv.url);
    const room = await createRoom(owner);
    for (const m of [m1, m2]) assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    const m1Id = m1.id;
    const left = [owner, m2].map((s) => waitFor<string>(s, 'room:member-left'));
    m1.disconnect();
    for (const l of left) assert.equal(await l, m1Id);
    assert.equal((await listed(owner, room.id))?.memberCount, 2);
  });

  it("the owner's disconnect keeps ownerId; the owner takes the room back with its token", async () => {
    const owner = await connect(srv.url);
    const m = await connect(srv.url);
    const room = await createRoom(owner, { userName: 'olga' });
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    const ownerId = owner.id;
    const left = waitFor<string>(m, 'room:member-left');
    owner.disconnect();
    assert.equal(await left, ownerId);
    const view = await listed(m, room.id);
    assert.deepEqual([view?.ownerId, view?.memberCount], [ownerId, 1]);

    const back = await connect(srv.url);
    const announced = waitFor<Member>(m, 'room:member-joined');
    const r = await joinRoom(back, { roomId: room.id, userName: 'olga', ownerToken: room.ownerToken });
    assert.equal(r.success, true);
    assert.equal(r.room.ownerId, back.id);
    assert.equal(r.room.ownerToken, room.ownerToken);
    assert.deepEqual(r.members.map((x) => [x.id, x.isOwner]).sort(), [[back.id, true], [m.id, false]].sort());
    const a = await announced;
    assert.deepEqual([a.id, a.name, a.isOwner], [back.id, 'olga', true]);
  });

  it('an owner alone who reloads finds the room during the empty-room grace and reclaims it (§10.7)', async () => {
    const owner = await connect(srv.url);
    const observer = await connect(srv.url);
    const room = await createRoom(owner, { password: 'pw1234' });
    const back = await connect(srv.url); // the reloaded page
    owner.disconnect();
    await untilListed(observer, room.id, (r) => r?.memberCount === 0); // the drop was handled, the room stays

    const r = await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken });
    assert.equal(r.success, true, 'no password asked from the token holder');
    assert.equal(r.room.ownerId, back.id);
    assert.equal(r.room.ownerToken, room.ownerToken);
    assert.deepEqual(r.members.map((x) => x.id), [back.id]);

    // The grace is over for this room: it is no longer empty and outlives EMPTY_ROOM_GRACE_MS.
    await expectNone(back, 'room:deleted', () => sleep(EMPTY_GRACE + 4 * SWEEP), chatMarker(back));
    assert.equal((await listed(observer, room.id))?.memberCount, 1);
  });

  it('a room left empty by disconnects is deleted once EMPTY_ROOM_GRACE_MS ends', async () => {
    const owner = await connect(srv.url);
    const m = await connect(srv.url);
    const observer = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    m.disconnect();
    const t0 = Date.now();
    owner.disconnect();
    const empty = await untilListed(observer, room.id, (r) => r?.memberCount === 0);
    assert.ok(empty, 'the room must outlive the disconnects that emptied it');
    await untilListed(observer, room.id, (r) => r === undefined, EMPTY_GRACE + 3000);
    assert.ok(Date.now() - t0 >= EMPTY_GRACE, `deleted after ${Date.now() - t0} ms, before the grace`);
    const late = await connect(srv.url);
    assert.deepEqual(await joinRoom(late, { roomId: room.id, ownerToken: room.ownerToken }), {
      success: false,
      error: '房间不存在',
      code: 'room_not_found',
    });
  });

  it('a member joining during the empty-room grace keeps the room alive', async () => {
    const owner = await connect(srv.url);
    const observer = await connect(srv.url);
    const room = await createRoom(owner);
    const m = await connect(srv.url);
    owner.disconnect();
    await untilListed(observer, room.id, (r) => r?.memberCount === 0);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    await expectNone(m, 'room:deleted', () => sleep(EMPTY_GRACE + 4 * SWEEP), chatMarker(m));
    assert.equal((await listed(observer, room.id))?.memberCount, 1);
  });
});

describe('disconnect with MEMBER_DISCONNECT_GRACE_MS > 0 (PROTOCOL §5.21, §8)', () => {
  let srv: TestServer;
  before(
    async () =>
      (srv = await startServer({
        MAX_ROOMS_PER_IP: '1000',
        RATE_ROOM: '100:200',
        SWEEP_INTERVAL_MS: String(SWEEP),
        MEMBER_DISCONNECT_GRACE_MS: String(MEMBER_GRACE),
      })),
  );
  after(() => srv.close());
  afterEach(closeAll);

  it('room:member-left comes when the grace ends; meanwhile the member does not count and is not listed', async () => {
    const owner = await connect(srv.url);
    const m = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    const mId = m.id;
    const rec = new Recorder(owner);
    const left = waitFor<string>(owner, 'room:member-left', (id) => id === mId, MEMBER_GRACE + 3000);
    const t0 = Date.now();
    m.disconnect();

    // Not connected any more: not counted (§5.21) and not in a joiner's member list.
    await untilListed(owner, room.id, (r) => r?.memberCount === 1);
    assert.equal(rec.count('room:member-left'), 0, 'memberCount must drop at the disconnect, not when the grace ends');
    const probe = await connect(srv.url);
    const r = await joinRoom(probe, { roomId: room.id });
    assert.deepEqual(r.members.map((x) => x.id).sort(), [owner.id, probe.id].sort());

    assert.equal(await left, mId);
    assert.ok(Date.now() - t0 >= MEMBER_GRACE, `member-left after ${Date.now() - t0} ms, inside the grace`);
    assert.equal(rec.count('room:member-left'), 1);
    rec.stop();
  });

  it("the owner's disconnect keeps ownerId past the member grace", async () => {
    const owner = await connect(srv.url);
    const m = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    const ownerId = owner.id;
    const left = waitFor<string>(m, 'room:member-left', (id) => id === ownerId, MEMBER_GRACE + 3000);
    owner.disconnect();
    await left;
    assert.equal((await listed(m, room.id))?.ownerId, ownerId);
    const back = await connect(srv.url);
    const r = await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken });
    assert.equal(r.room.ownerId, back.id);
  });
});
