/**
 * PROTOCOL §5.4 `room:list`: public rooms only, always an array, redacted (§6, §10.1), with a
 * `memberCount` of connected members (§5.21).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type ListedRoom = Record<string, unknown> & { id: string; memberCount: number };

describe('room:list (PROTOCOL §5.4)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  // Runs first, on a server with no rooms yet.
  it('answers an empty array when there is no room', async () => {
    const a = await connect(srv.url);
    assert.deepEqual(await emitAck(a, 'room:list'), []);
  });

  it('lists public rooms only, to any socket, in a room or not', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const open = await createRoom(a, { name: 'Open', isPublic: true });
    const hidden = await createRoom(b, { name: 'Hidden', isPublic: false });
    const stranger = await connect(srv.url);
    for (const s of [stranger, a, b]) {
      const list = await emitAck<ListedRoom[]>(s, 'room:list');
      assert.ok(Array.isArray(list));
      assert.equal(list.some((r) => r.id === open.id), true);
      assert.equal(list.some((r) => r.id === hidden.id), false, 'a private room is never listed');
    }
    // A private room is still joinable by its id.
    assert.equal((await joinRoom(stranger, { roomId: hidden.id })).success, true);
  });

  it('is redacted: no ownerToken, no password; a placeholder and hasPassword for protected rooms (§6, §10.1)', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const locked = await createRoom(a, { name: 'Locked', password: 'secret99' });
    const open = await createRoom(b, { name: 'Open room' });
    const stranger = await connect(srv.url);
    const list = await emitAck<ListedRoom[]>(stranger, 'room:list');
    const raw = JSON.stringify(list);
    assert.equal(raw.includes('secret99'), false, 'the real password leaked');
    assert.equal(raw.includes(locked.ownerToken!), false, 'an owner token leaked');
    assert.equal(raw.includes(open.ownerToken!), false, 'an owner token leaked');
    for (const r of list) assert.equal('ownerToken' in r, false);

    const l = list.find((r) => r.id === locked.id);
    assert.ok(l);
    assert.equal(typeof l.password, 'string');
    assert.ok((l.password as string).length > 0, 'the client tests password for truthiness (lock icon)');
    assert.equal(l.hasPassword, true);

    const o = list.find((r) => r.id === open.id);
    assert.ok(o);
    assert.equal('password' in o, false);
    assert.equal('hasPassword' in o, false);
    assert.deepEqual(
      { id: o.id, name: o.name, ownerId: o.ownerId, ownerName: o.ownerName, memberCount: o.memberCount, roomType: o.roomType },
      { id: open.id, name: 'Open room', ownerId: b.id, ownerName: 'owner', memberCount: 1, roomType: 'sync' },
    );
    // The owner's own view in the list is redacted too.
    const mine = await emitAck<ListedRoom[]>(a, 'room:list');
    assert.equal(mine.find((r) => r.id === locked.id)?.ownerToken, undefined);
  });

  it('counts connected members only', async () => {
    const owner = await connect(srv.url);
    const m1 = await connect(srv.url);
    const m2 = await connect(srv.url);
    const room = await createRoom(owner);
    for (const m of [m1, m2]) assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    const count = async () => (await emitAck<ListedRoom[]>(owner, 'room:list')).find((r) => r.id === room.id)?.memberCount;
    assert.equal(await count(), 3);

    const left = waitFor<string>(owner, 'room:member-left');
    const m2Id = m2.id;
    m2.disconnect();
    assert.equal(await left, m2Id);
    assert.equal(await count(), 2, 'a dropped member no longer counts');

    const left2 = waitFor<string>(owner, 'room:member-left');
    m1.emit('room:leave');
    assert.equal(await left2, m1.id);
    assert.equal(await count(), 1);
  });

  it('answers a room:list emitted with extra arguments, still with an array', async () => {
    const a = await connect(srv.url);
    const list = await emitAck<unknown>(a, 'room:list', { junk: true });
    assert.ok(Array.isArray(list));
  });
});
