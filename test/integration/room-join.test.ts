/**
 * PROTOCOL §5.2 `room:join`: failures (§3), passwords, id case, the member list, the to-others
 * announcement, idempotent re-joins (§1.6), moving between rooms (§10.10) and the owner reclaim
 * with its token (§2.3, §6, §10.8).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  type Client,
  closeAll,
  connect,
  createRoom,
  emitAck,
  expectNone,
  joinRoom,
  Recorder,
  waitFor,
} from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type Member = { id: string; name: string; isOwner: boolean; lastHeartbeat: number };

/** Everything the server sent to `s` before this round trip has arrived once it resolves. */
const settle = (s: Client) => emitAck<{ id: string; memberCount: number }[]>(s, 'room:list');

const chatMarker = (from: Client, content = 'marker') => ({
  trigger: () => void from.emit('chat:message', { content, type: 'text' }),
  event: 'chat:message',
  pred: (m: unknown) => (m as { content: string }).content === content,
});

const play = (url: string) => ({
  type: 'play', url, currentTime: 3, isPlaying: false, videoId: 'v', videoName: 'Video', source: 's',
});

const roles = (members: readonly { id?: string; isOwner: boolean }[]) => members.map((m) => [m.id, m.isOwner]).sort();

describe('room:join (PROTOCOL §5.2)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('an unknown room answers 房间不存在 / room_not_found', async () => {
    const a = await connect(srv.url);
    assert.deepEqual(await joinRoom(a, { roomId: 'ZZZZZ9' }), { success: false, error: '房间不存在', code: 'room_not_found' });
  });

  it('checks the password: wrong or missing -> 密码错误, right -> joined', async () => {
    const owner = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(owner, { password: 'pw1234' });
    const wrong = { success: false, error: '密码错误', code: 'wrong_password' };
    assert.deepEqual(await joinRoom(b, { roomId: room.id, password: 'nope' }), wrong);
    assert.deepEqual(await joinRoom(b, { roomId: room.id }), wrong);
    const ok = await joinRoom(b, { roomId: room.id, password: 'pw1234' });
    assert.equal(ok.success, true);
    assert.equal(ok.room.hasPassword, true);
    assert.equal(JSON.stringify(ok).includes('pw1234'), false, 'the password never leaves the server (§6)');
  });

  it('accepts a lower-case id; the ack lists every member, joiner included; room:member-joined goes to-others', async () => {
    const owner = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(owner, { userName: 'olga' });
    const announced = waitFor<Member>(owner, 'room:member-joined');
    const own = new Recorder(b);
    const r = await joinRoom(b, { roomId: room.id.toLowerCase(), userName: 'bob' });
    assert.equal(r.success, true);
    assert.equal(r.room.id, room.id);
    assert.equal(r.room.memberCount, 2);
    assert.equal(r.room.ownerToken, undefined, 'ownerToken only goes to the owner (§6)');
    assert.deepEqual(roles(r.members), roles([{ id: owner.id, isOwner: true }, { id: b.id, isOwner: false }]));
    assert.equal(r.members.find((m) => m.id === b.id)?.name, 'bob');
    const m = await announced;
    assert.deepEqual({ ...m, lastHeartbeat: 0 }, { id: b.id, name: 'bob', isOwner: false, lastHeartbeat: 0 });
    assert.equal(typeof m.lastHeartbeat, 'number');
    // The effects are emitted before the ack: had the joiner been announced to itself, it would be here.
    assert.equal(own.count('room:member-joined'), 0);
    own.stop();
  });

  it('a repeat join is idempotent: no duplicate member, no second room:member-joined', async () => {
    const owner = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(b, { roomId: room.id, userName: 'bob' })).success, true);
    await expectNone(
      owner,
      'room:member-joined',
      async () => {
        const again = await joinRoom(b, { roomId: room.id, userName: 'bob' });
        assert.equal(again.success, true);
        assert.equal(again.members.length, 2);
        assert.equal(again.room.memberCount, 2);
      },
      chatMarker(b),
    );
  });

  it('two joins back to back from one socket (manual reconnect, §1.6) make one member and one announcement', async () => {
    const owner = await connect(srv.url);
    const c = await connect(srv.url);
    const room = await createRoom(owner);
    const rec = new Recorder(owner);
    const [r1, r2] = await Promise.all([
      joinRoom(c, { roomId: room.id, userName: 'carl' }),
      joinRoom(c, { roomId: room.id, userName: 'carl' }),
    ]);
    assert.equal(r1.success && r2.success, true);
    assert.equal(r2.members.filter((m) => m.id === c.id).length, 1);
    assert.equal(r2.members.length, 2);
    const marker = chatMarker(c);
    const arrived = waitFor(owner, marker.event, marker.pred);
    marker.trigger();
    await arrived;
    assert.deepEqual(rec.payloads<Member>('room:member-joined').map((m) => m.id), [c.id]);
    rec.stop();
  });

  it('a repeat join with another userName announces the changed member', async () => {
    const owner = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(b, { roomId: room.id, userName: 'bob' })).success, true);
    const renamed = waitFor<Member>(owner, 'room:member-joined');
    const r = await joinRoom(b, { roomId: room.id, userName: 'robert' });
    assert.equal(r.members.length, 2);
    assert.deepEqual({ id: (await renamed).id, name: (await renamed).name }, { id: b.id, name: 'robert' });
  });

  it('joining another room leaves the first one (§10.10)', async () => {
    const ownerA = await connect(srv.url);
    const ownerB = await connect(srv.url);
    const b = await connect(srv.url);
    const roomA = await createRoom(ownerA);
    const roomB = await createRoom(ownerB);
    assert.equal((await joinRoom(b, { roomId: roomA.id })).success, true);

    const left = waitFor<string>(ownerA, 'room:member-left');
    const joinedB = waitFor<Member>(ownerB, 'room:member-joined');
    const r = await joinRoom(b, { roomId: roomB.id });
    assert.equal(r.success, true);
    assert.equal(await left, b.id);
    assert.equal((await joinedB).id, b.id);

    const list = await settle(ownerA);
    assert.equal(list.find((x) => x.id === roomA.id)?.memberCount, 1);
    assert.equal(list.find((x) => x.id === roomB.id)?.memberCount, 2);
    // Not a ghost in room A: its chat does not reach b any more.
    const rec = new Recorder(b);
    const echo = waitFor(ownerA, 'chat:message');
    ownerA.emit('chat:message', { content: 'A only', type: 'text' });
    await echo;
    await settle(b);
    assert.equal(rec.count('chat:message'), 0);
    rec.stop();
  });
});

describe('room:join with the ownerToken (PROTOCOL §5.2, §2.3, §10.8)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('a new socket with the token becomes owner without the password; the old owner stays as a plain member', async () => {
    const old = await connect(srv.url);
    const m = await connect(srv.url);
    const room = await createRoom(old, { userName: 'olga', password: 'pw1234' });
    assert.equal((await joinRoom(m, { roomId: room.id, password: 'pw1234', userName: 'mike' })).success, true);

    const fresh = await connect(srv.url);
    const seen = new Recorder(m);
    const oldAnnounced = waitFor<Member>(m, 'room:member-joined', (x) => x.id === old.id);
    const r = await joinRoom(fresh, { roomId: room.id, userName: 'olga', ownerToken: room.ownerToken });
    assert.equal(r.success, true);
    assert.equal(r.room.ownerId, fresh.id);
    assert.equal(r.room.ownerToken, room.ownerToken, 'the reclaim ack carries the (unrotated) token');
    assert.deepEqual(
      roles(r.members),
      roles([
        { id: old.id, isOwner: false },
        { id: m.id, isOwner: false },
        { id: fresh.id, isOwner: true },
      ]),
    );

    // Everyone else learns both roles: the new owner, and the old one as a plain member.
    await oldAnnounced;
    const announced = seen.payloads<Member>('room:member-joined').map((x) => [x.id, x.isOwner]);
    assert.deepEqual(announced.sort(), [[fresh.id, true], [old.id, false]].sort());
    seen.stop();

    // The old owner keeps no owner rights (§4, §10.8): its play:update is dropped, the new owner's
    // (sent after the old one was handled) arrives by the same path.
    const urls = new Recorder(m);
    old.emit('play:update', play('https://example.test/old-owner.mp4'));
    await settle(old);
    const marker = waitFor<{ url: string }>(m, 'play:update', (p) => p.url.endsWith('new-owner.mp4'));
    fresh.emit('play:update', play('https://example.test/new-owner.mp4'));
    await marker;
    assert.deepEqual(urls.payloads<{ url: string }>('play:update').map((p) => p.url), ['https://example.test/new-owner.mp4']);
    urls.stop();
    const clear = await emitAck<{ success: boolean }>(old, 'state:clear');
    assert.equal(clear.success, false);

    // A repeat join by the old owner socket (no token) does not carry the token back.
    const oldAgain = await joinRoom(old, { roomId: room.id, userName: 'olga' });
    assert.equal(oldAgain.success, true);
    assert.equal(oldAgain.room.ownerToken, undefined);
    assert.equal(oldAgain.room.ownerId, fresh.id);
    // A repeat join by the new owner socket (no token in the payload) does.
    const freshAgain = await joinRoom(fresh, { roomId: room.id, userName: 'olga' });
    assert.equal(freshAgain.room.ownerToken, room.ownerToken);
  });

  it('a wrong ownerToken joins as a plain member under the password rules', async () => {
    const owner = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(owner, { password: 'pw1234' });
    assert.deepEqual(await joinRoom(b, { roomId: room.id, ownerToken: 'not-the-token' }), {
      success: false,
      error: '密码错误',
      code: 'wrong_password',
    });
    const r = await joinRoom(b, { roomId: room.id, ownerToken: 'not-the-token', password: 'pw1234' });
    assert.equal(r.success, true);
    assert.equal(r.room.ownerId, owner.id);
    assert.equal(r.room.ownerToken, undefined);
    assert.equal(r.members.find((x) => x.id === b.id)?.isOwner, false);
  });

  it('a repeat join by the current owner socket carries the ownerToken, with or without it in the payload', async () => {
    const owner = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    await expectNone(
      b,
      'room:member-joined',
      async () => {
        for (const extra of [{}, { ownerToken: room.ownerToken }]) {
          const r = await joinRoom(owner, { roomId: room.id, userName: 'owner', ...extra });
          assert.equal(r.success, true);
          assert.equal(r.room.ownerId, owner.id);
          assert.equal(r.room.ownerToken, room.ownerToken);
          assert.equal(r.members.length, 2);
        }
      },
      chatMarker(owner),
    );
  });
});
