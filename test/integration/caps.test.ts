/**
 * PROTOCOL §3, §10.5, §10.11: caps on members per room, rooms per IP and rooms overall; a limit on
 * password guesses that locks out whatever the password; oversized voice chunks dropped (§5.18).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, expectNone, joinRoom, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const FULL = { success: false, error: '房间已满', code: 'room_full' };
const TOO_MANY_ROOMS = { success: false, error: '房间数量已达上限', code: 'too_many_rooms' };
const TOO_MANY_ATTEMPTS = { success: false, error: '尝试次数过多，请稍后再试', code: 'too_many_attempts' };
const WRONG = { success: false, error: '密码错误', code: 'wrong_password' };

const newRoom = (name: string) => ({ name, description: '', isPublic: true, userName: 'o' });

/** One server per test, since caps are global state. */
function withServer(env: Record<string, string>) {
  const box: { srv?: TestServer } = {};
  afterEach(async () => {
    closeAll();
    await box.srv?.close();
    box.srv = undefined;
  });
  return async () => (box.srv = await startServer(env));
}

describe('member cap: MAX_MEMBERS_PER_ROOM=2 (§3, §10.5)', () => {
  const boot = withServer({ MAX_MEMBERS_PER_ROOM: '2' });

  it('the third join gets room_full; the owner reclaiming with its token still gets in', async () => {
    const srv = await boot();
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const c = await connect(srv.url);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    assert.deepEqual(await joinRoom(c, { roomId: room.id }), FULL);
    // Idempotent re-join of a member of a full room is not refused.
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);

    // The owner drops (a page reload); someone else takes the free place: the room is full again.
    const left = waitFor(b, 'room:member-left');
    a.close();
    await left;
    assert.equal((await joinRoom(c, { roomId: room.id })).success, true);
    const d = await connect(srv.url);
    assert.deepEqual(await joinRoom(d, { roomId: room.id }), FULL);

    // §2.3, §5.21: the owner's automatic rejoin with its token is never refused for a full room.
    const back = await connect(srv.url);
    const r = await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken, userName: 'owner' });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.equal(r.room.ownerId, back.id);
    assert.equal(r.room.memberCount, 3);
    assert.equal(r.members.find((m) => m.id === back.id)?.isOwner, true);
  });
});

describe('room caps (§3, §10.5)', () => {
  describe('MAX_ROOMS_PER_IP=2', () => {
    const boot = withServer({ MAX_ROOMS_PER_IP: '2' });

    it('the third room from one address gets too_many_rooms; a disbanded room frees a place', async () => {
      const srv = await boot();
      const [a, b, c] = await Promise.all([connect(srv.url), connect(srv.url), connect(srv.url)]);
      await createRoom(a, { name: 'one' });
      await createRoom(b, { name: 'two' });
      assert.deepEqual(await emitAck(c, 'room:create', newRoom('three')), TOO_MANY_ROOMS);
      assert.deepEqual(await emitAck(c, 'room:create', newRoom('three again')), TOO_MANY_ROOMS);
      const list = await emitAck<{ name: string }[]>(c, 'room:list');
      assert.deepEqual(list.map((r) => r.name).sort(), ['one', 'two']);

      // A cap on rooms held now, not a lifetime quota: the owner's disband frees one.
      a.emit('room:leave');
      await emitAck(a, 'room:list'); // ordered after the leave
      const created = await emitAck<{ success: boolean }>(c, 'room:create', newRoom('three'));
      assert.equal(created.success, true);
    });
  });

  describe('MAX_ROOMS_PER_IP=2, creates at once (issue 5)', () => {
    const boot = withServer({ MAX_ROOMS_PER_IP: '2' });

    it('ten password creates at once from one address: two rooms, and the eight refusals come before any hash is spent on them', async () => {
      const srv = await boot();
      const sockets = await Promise.all(Array.from({ length: 10 }, () => connect(srv.url)));
      const order: string[] = [];
      const acks = await Promise.all(
        sockets.map(async (s, i) => {
          const ack = await emitAck<{ success: boolean; code?: string }>(s, 'room:create', { ...newRoom(`burst ${i}`), password: `pw-${i}` });
          order.push(ack.success ? 'created' : (ack.code ?? 'failed'));
          return ack;
        }),
      );
      assert.equal(acks.filter((a) => a.success).length, 2);
      // A password create hashes one at a time (tens of ms each): a refusal answered only after the
      // hashes of those ahead of it would come after the first room. Counted in flight, it comes at once.
      assert.deepEqual(order, [...Array<string>(8).fill('too_many_rooms'), 'created', 'created']);
    });
  });

  describe('MAX_ROOMS=1', () => {
    const boot = withServer({ MAX_ROOMS: '1' });

    it('the second room on the server gets too_many_rooms, whoever asks', async () => {
      const srv = await boot();
      const a = await connect(srv.url);
      const b = await connect(srv.url);
      await createRoom(a, { name: 'only' });
      assert.deepEqual(await emitAck(b, 'room:create', newRoom('second')), TOO_MANY_ROOMS);
      // Joining the existing room is still fine.
      assert.equal((await joinRoom(b, { roomId: (await emitAck<{ id: string }[]>(b, 'room:list'))[0]?.id })).success, true);
    });
  });
});

describe('password guessing: PASSWORD_ATTEMPTS="0.001:3" (§3, §10.11)', () => {
  const boot = withServer({ PASSWORD_ATTEMPTS: '0.001:3' });

  it('after the burst of wrong guesses, even the right password gets too_many_attempts, never 密码错误', async () => {
    const srv = await boot();
    const owner = await connect(srv.url);
    const room = await createRoom(owner, { password: 'right-pw' });
    const guesser = await connect(srv.url);
    for (const pw of ['a', 'b', 'c']) assert.deepEqual(await joinRoom(guesser, { roomId: room.id, password: pw }), WRONG);
    assert.deepEqual(await joinRoom(guesser, { roomId: room.id, password: 'right-pw' }), TOO_MANY_ATTEMPTS);
    assert.deepEqual(await joinRoom(guesser, { roomId: room.id, password: 'd' }), TOO_MANY_ATTEMPTS);
    assert.deepEqual(await joinRoom(guesser, { roomId: room.id }), TOO_MANY_ATTEMPTS);

    // A new socket from the same address is locked out too: the limit is not per connection.
    const fresh = await connect(srv.url);
    assert.deepEqual(await joinRoom(fresh, { roomId: room.id, password: 'right-pw' }), TOO_MANY_ATTEMPTS);

    // The owner's token is not a guess: its reclaim still works (§2.3).
    const back = await connect(srv.url);
    const r = await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.equal(r.room.ownerId, back.id);
  });

  it('the right password within the allowance gets in, and does not spend a guess', async () => {
    const srv = await boot();
    const owner = await connect(srv.url);
    const room = await createRoom(owner, { password: 'right-pw' });
    const s = await connect(srv.url);
    assert.deepEqual(await joinRoom(s, { roomId: room.id, password: 'x' }), WRONG);
    assert.deepEqual(await joinRoom(s, { roomId: room.id, password: 'y' }), WRONG);
    const ok = await joinRoom(s, { roomId: room.id, password: 'right-pw' });
    assert.equal(ok.success, true);
    s.emit('room:leave');
    await emitAck(s, 'room:list');
    assert.equal((await joinRoom(s, { roomId: room.id, password: 'right-pw' })).success, true);
  });
});

describe('voice chunk size (§5.18)', () => {
  const boot = withServer({});

  it('an oversized audio chunk is dropped; the client-sized one (8192 bytes) is relayed', async () => {
    const srv = await boot();
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    const zeros = (n: number) => new Array<number>(n).fill(0);
    await expectNone(
      b,
      'voice:audio-chunk',
      () => {
        a.emit('voice:audio-chunk', { roomId: room.id, audioData: zeros(16_386) });
        a.emit('voice:audio-chunk', { roomId: room.id, audioData: zeros(30_000) });
      },
      {
        // Ordered marker through A's queue to B (chat is not volatile, unlike the audio relay).
        trigger: () => void a.emit('chat:message', { content: 'marker', type: 'text' }),
        event: 'chat:message',
      },
    );
    const got = waitFor<{ userId: string; audioData: number[]; sampleRate: number }>(b, 'voice:audio-chunk');
    a.emit('voice:audio-chunk', { roomId: room.id, audioData: zeros(8192) });
    const chunk = await got;
    assert.equal(chunk.userId, a.id);
    assert.equal(chunk.audioData.length, 8192);
    assert.equal(chunk.sampleRate, 16000);
    assert.equal(a.connected, true);
  });
});
