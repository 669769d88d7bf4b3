/**
 * PROTOCOL §5.1 `room:create`: the ack (with the owner's token, never the password, §6), the
 * creator as owner and member, defaults, validation (§3), and leaving a previous room first (§5.3).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Client, closeAll, connect, createRoom, emitAck, joinRoom, Recorder, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type Member = { id: string; name: string; isOwner: boolean; lastHeartbeat: number };
type ListedRoom = { id: string; memberCount: number };

const INVALID = { success: false, error: '请求参数无效', code: 'invalid_payload' };

/** Everything the server sent to `s` before this round trip has arrived once it resolves. */
const settle = (s: Client) => emitAck<ListedRoom[]>(s, 'room:list');

describe('room:create (PROTOCOL §5.1)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('acks { success: true, room } with a 6-character id, the owner and the ownerToken', async () => {
    const a = await connect(srv.url);
    const before = Date.now();
    const reply = await emitAck<{ success: boolean; room: Record<string, unknown> }>(a, 'room:create', {
      name: 'Movie night',
      description: 'popcorn',
      isPublic: true,
      userName: 'olga',
    });
    assert.equal(reply.success, true);
    const { room } = reply;
    assert.match(room.id as string, /^[0-9A-Z]{6}$/);
    assert.equal(room.name, 'Movie night');
    assert.equal(room.description, 'popcorn');
    assert.equal(room.isPublic, true);
    assert.equal(room.roomType, 'sync', 'roomType defaults to sync (§3)');
    assert.equal(room.ownerId, a.id);
    assert.equal(room.ownerName, 'olga');
    assert.equal(room.memberCount, 1);
    assert.equal(room.currentState, null);
    assert.equal(typeof room.ownerToken, 'string');
    assert.ok((room.ownerToken as string).length >= 16, 'the owner token must be hard to guess (§6)');
    assert.ok((room.createdAt as number) >= before && (room.createdAt as number) <= Date.now());
    assert.equal(typeof room.lastOwnerHeartbeat, 'number');
    assert.equal('password' in room, false, 'an open room has no password field (§6)');
    assert.equal('hasPassword' in room, false);
  });

  it('keeps a given roomType, and description is optional', async () => {
    const a = await connect(srv.url);
    const music = await createRoom(a, { roomType: 'music' });
    assert.equal(music.roomType, 'music');
    const b = await connect(srv.url);
    const reply = await emitAck<{ success: boolean; room: Record<string, unknown> }>(b, 'room:create', {
      name: 'No description',
      isPublic: false,
      userName: 'bob',
    });
    assert.equal(reply.success, true);
    assert.equal(reply.room.description, '');
    assert.equal(reply.room.isPublic, false);
    assert.equal(reply.room.roomType, 'sync');
  });

  it('draws a fresh id for every room', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 6; i++) ids.add((await createRoom(await connect(srv.url))).id);
    assert.equal(ids.size, 6);
  });

  it('never sends the password back: a placeholder and hasPassword instead (§6)', async () => {
    const a = await connect(srv.url);
    const room = await createRoom(a, { password: 'hunter22' });
    assert.equal(room.hasPassword, true);
    assert.equal(typeof room.password, 'string');
    assert.notEqual(room.password, 'hunter22');
    assert.equal(JSON.stringify(room).includes('hunter22'), false);
  });

  it('makes the creator owner and member of its room', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(a, { userName: 'olga' });
    const announced = waitFor<Member>(a, 'room:member-joined');
    const joined = await joinRoom(b, { roomId: room.id, userName: 'bob' });
    assert.equal(joined.success, true);
    assert.deepEqual(
      joined.members.map((m) => ({ id: m.id, name: m.name, isOwner: m.isOwner })),
      [
        { id: a.id, name: 'olga', isOwner: true },
        { id: b.id, name: 'bob', isOwner: false },
      ],
    );
    // The creator is in the room's broadcast group.
    assert.equal((await announced).id, b.id);
  });

  it('refuses invalid payloads with invalid_payload', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const listed = (await settle(b)).length;
    const bad: unknown[] = [
      {},
      { name: '', isPublic: true, userName: 'x' },
      { name: 42, isPublic: true, userName: 'x' },
      { name: 'ok', isPublic: true },
      { name: 'ok', isPublic: true, userName: 'x', roomType: 'cinema' },
      { name: 'ok', isPublic: 'yes', userName: 'x' },
      { name: 'x'.repeat(5000), isPublic: true, userName: 'x' },
      'room',
      null,
    ];
    for (const payload of bad) {
      assert.deepEqual(await emitAck(a, 'room:create', payload), INVALID, JSON.stringify(payload));
    }
    // Nothing was created (the payloads were public rooms), and a valid create still works.
    assert.equal((await settle(b)).length, listed);
    assert.equal((await createRoom(b)).ownerId, b.id);
  });
});

describe('room:create from a socket already in a room (PROTOCOL §5.1, §5.3, §10.10)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('a member leaves its room first: room:member-left to the others, and it is gone from that room', async () => {
    const owner = await connect(srv.url);
    const member = await connect(srv.url);
    const first = await createRoom(owner);
    assert.equal((await joinRoom(member, { roomId: first.id })).success, true);

    const left = waitFor<string>(owner, 'room:member-left');
    const second = await createRoom(member, { name: 'Second' });
    assert.notEqual(second.id, first.id);
    assert.equal(second.ownerId, member.id);
    assert.equal(await left, member.id);

    const probe = await connect(srv.url);
    const view = await joinRoom(probe, { roomId: first.id });
    assert.deepEqual(view.members.map((m) => m.id).sort(), [owner.id, probe.id].sort());

    // No ghost membership: chat in the first room does not reach it any more.
    const rec = new Recorder(member);
    const echo = waitFor(owner, 'chat:message');
    owner.emit('chat:message', { content: 'first room only', type: 'text' });
    await echo;
    await settle(member);
    assert.equal(rec.count('chat:message'), 0);
    rec.stop();
  });

  it('an owner leaves its room first: the room is disbanded (room:deleted owner_left)', async () => {
    const owner = await connect(srv.url);
    const member = await connect(srv.url);
    const first = await createRoom(owner);
    assert.equal((await joinRoom(member, { roomId: first.id })).success, true);

    const deleted = waitFor<unknown>(member, 'room:deleted');
    const second = await createRoom(owner, { name: 'Second' });
    assert.deepEqual(await deleted, { reason: 'owner_left' });
    assert.equal(second.ownerId, owner.id);

    const list = await settle(member);
    assert.equal(list.some((r) => r.id === first.id), false);
    assert.equal(list.find((r) => r.id === second.id)?.memberCount, 1);
    const again = await joinRoom(member, { roomId: first.id });
    assert.deepEqual(again, { success: false, error: '房间不存在', code: 'room_not_found' });
  });
});
