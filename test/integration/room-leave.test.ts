/**
 * PROTOCOL §5.3 `room:leave`: the owner disbands the room (§10.9), a member just leaves, and the
 * last member's explicit leave deletes the room at once (§8).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Client, closeAll, connect, createRoom, emitAck, joinRoom, Recorder, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type ListedRoom = { id: string; memberCount: number; ownerId: string };

/** Everything the server sent to `s` before this round trip has arrived once it resolves. */
const settle = (s: Client) => emitAck<ListedRoom[]>(s, 'room:list');

const NOT_FOUND = { success: false, error: '房间不存在', code: 'room_not_found' };

describe('room:leave (PROTOCOL §5.3)', () => {
  let srv: TestServer;
  // A long empty-room grace, so that "deleted at once" cannot be the sweeper's doing.
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000', EMPTY_ROOM_GRACE_MS: '60000' })));
  after(() => srv.close());
  afterEach(closeAll);

  async function roomOfThree(password?: string) {
    const owner = await connect(srv.url);
    const m1 = await connect(srv.url);
    const m2 = await connect(srv.url);
    const room = await createRoom(owner, { password });
    for (const m of [m1, m2]) assert.equal((await joinRoom(m, { roomId: room.id, password })).success, true);
    return { owner, m1, m2, room };
  }

  it("the owner's leave disbands the room: room:deleted owner_left to the others, and the room is gone (§10.9)", async () => {
    const { owner, m1, m2, room } = await roomOfThree('pw1234');
    const own = new Recorder(owner);
    const deleted = [m1, m2].map((m) => waitFor<unknown>(m, 'room:deleted'));
    owner.emit('room:leave');
    for (const d of deleted) assert.deepEqual(await d, { reason: 'owner_left' });
    await settle(owner);
    assert.equal(own.count('room:deleted'), 0, 'room:deleted goes to-others');
    own.stop();

    assert.equal((await settle(m1)).some((r) => r.id === room.id), false);
    // Gone for good: not even the password or the owner token bring it back.
    assert.deepEqual(await joinRoom(m1, { roomId: room.id, password: 'pw1234' }), NOT_FOUND);
    assert.deepEqual(await joinRoom(owner, { roomId: room.id, ownerToken: room.ownerToken }), NOT_FOUND);
    // Every member was removed: nothing is left in the room's broadcast group (§10.10).
    assert.equal(srv.app.io.sockets.adapter.rooms.get(room.id), undefined);
  });

  it('after a disband the former members are in no room: their chat reaches nobody', async () => {
    const { owner, m1, m2 } = await roomOfThree();
    const deleted = [m1, m2].map((m) => waitFor(m, 'room:deleted'));
    owner.emit('room:leave');
    await Promise.all(deleted);
    const heard = [owner, m2].map((s) => new Recorder(s));
    m1.emit('chat:message', { content: 'anyone?', type: 'text' });
    await settle(m1);
    await Promise.all([settle(owner), settle(m2)]);
    for (const h of heard) assert.equal(h.count('chat:message'), 0);
  });

  it("a member's leave: room:member-left(id) to the others, the room stays", async () => {
    const { owner, m1, m2, room } = await roomOfThree();
    const self = new Recorder(m1);
    const left = [owner, m2].map((s) => waitFor<string>(s, 'room:member-left'));
    m1.emit('room:leave');
    for (const l of left) assert.equal(await l, m1.id);

    const list = await settle(m1);
    assert.equal(self.count('room:member-left'), 0, 'room:member-left goes to-others');
    const view = list.find((r) => r.id === room.id);
    assert.equal(view?.memberCount, 2);
    assert.equal(view?.ownerId, owner.id);

    // It no longer receives the room's events.
    const echo = waitFor(m2, 'chat:message');
    owner.emit('chat:message', { content: 'still here', type: 'text' });
    await echo;
    await settle(m1);
    assert.equal(self.count('chat:message'), 0);
    self.stop();
  });

  it('the last member to leave explicitly deletes the room at once', async () => {
    const owner = await connect(srv.url);
    const m = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    // The owner drops (not a leave, §5.21): the room stays, owned by the absent owner.
    const ownerId = owner.id;
    const ownerGone = waitFor<string>(m, 'room:member-left');
    owner.disconnect();
    assert.equal(await ownerGone, ownerId);
    const before = (await settle(m)).find((r) => r.id === room.id);
    assert.deepEqual([before?.memberCount, before?.ownerId], [1, ownerId]);

    m.emit('room:leave');
    assert.equal((await settle(m)).some((r) => r.id === room.id), false);
    const back = await connect(srv.url);
    assert.deepEqual(await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken }), NOT_FOUND);
  });

  it('room:leave from a socket in no room changes nothing', async () => {
    const owner = await connect(srv.url);
    const stranger = await connect(srv.url);
    const room = await createRoom(owner);
    const rec = new Recorder(owner);
    stranger.emit('room:leave');
    const list = await settle(stranger);
    assert.equal(list.find((r) => r.id === room.id)?.memberCount, 1);
    await settle(owner);
    assert.equal(rec.events.length, 0);
    rec.stop();
  });
});
