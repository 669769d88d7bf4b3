/**
 * Rooms across instances (PROTOCOL §5.1-§5.4, §5.21, §6, §9): members of one room on different
 * in-process instances sharing one Redis see exactly what they would see on one instance.
 * Every "nothing arrives" check is closed by a marker sent by the same socket as the action, so
 * both go through the same instance, in order, and through the same adapter stream.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, expectNone, joinRoom, Recorder, waitFor, type Client, type JoinReply } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';
import { TEST_KEY, type TestServer } from '../helpers/server.ts';

const MAX_MEMBERS = 3;
type Member = { id: string; name: string; isOwner: boolean; lastHeartbeat: number };
type Listed = Record<string, unknown> & { id: string; memberCount: number };

const WRONG = { success: false, error: '密码错误', code: 'wrong_password' };
const NOT_FOUND = { success: false, error: '房间不存在', code: 'room_not_found' };
const play = { type: 'play', url: 'https://example.test/a.mp4', currentTime: 3, isPlaying: false, videoId: 'v', videoName: 'n', source: 's' };

const isChat = (content: string) => (p: unknown) => (p as { content: string }).content === content;
const chatMarker = (from: Client, content: string) =>
  ({ trigger: () => void from.emit('chat:message', { content, type: 'text' }), event: 'chat:message', pred: isChat(content) });

const joinedBy = (id: string | undefined) => (m: Member) => m.id === id;

/** `s` joins and resolves with the ack once every watcher saw its room:member-joined. */
async function joinSeen(s: Client, roomId: string, watchers: Client[], extra: Record<string, unknown> = {}) {
  const seen = watchers.map((w) => waitFor<Member>(w, 'room:member-joined', joinedBy(s.id)));
  const r = await joinRoom(s, { roomId, ...extra });
  assert.equal(r.success, true, JSON.stringify(r));
  await Promise.all(seen);
  return r;
}

const listed = async (s: Client, id: string) => (await emitAck<Listed[]>(s, 'room:list')).find((x) => x.id === id);

function nodes(c: Cluster): [TestServer, TestServer, TestServer] {
  const [a, b, n3] = c.nodes;
  assert.ok(a && b && n3);
  return [a, b, n3];
}

type Stats = { totalRooms: number; totalMembers: number; rooms: { id: string; memberCount: number }[] };
const stats = (url: string) => fetch(`${url}/stats`, { headers: { Authorization: `Bearer ${TEST_KEY}` } }).then((r) => r.json() as Promise<Stats>);

redisDescribe('rooms across instances (PROTOCOL §5.1-§5.4, §5.21)', () => {
  let c: Cluster;
  let A: TestServer, B: TestServer, C: TestServer;
  before(async () => {
    c = await startCluster(3, 'xinst-rooms', { MAX_MEMBERS_PER_ROOM: String(MAX_MEMBERS) });
    [A, B, C] = nodes(c);
  });
  after(() => c.close());
  afterEach(closeAll);

  /** Owner on A, bob on B, cleo on C, every join announced. */
  async function trio(extra: Record<string, unknown> = {}) {
    const owner = await connect(A.url);
    const room = await createRoom(owner, extra);
    const [bob, cleo] = [await connect(B.url), await connect(C.url)];
    await joinSeen(bob, room.id, [owner]);
    await joinSeen(cleo, room.id, [owner, bob]);
    return { owner, room, bob, cleo };
  }

  it('§5.1 §5.2 a room created on A is joined from B and C; member-joined and member lists span instances', async () => {
    const owner = await connect(A.url);
    const room = await createRoom(owner, { userName: 'olga' });
    assert.deepEqual([room.ownerId, typeof room.ownerToken], [owner.id, 'string']);
    const bob = await connect(B.url);
    const seen = waitFor<Member>(owner, 'room:member-joined');
    const r1 = await joinRoom(bob, { roomId: room.id, userName: 'bob' });
    assert.deepEqual([r1.success, r1.room.ownerToken, r1.room.memberCount], [true, undefined, 2]);
    const m = await seen;
    assert.deepEqual(m, { id: bob.id, name: 'bob', isOwner: false, lastHeartbeat: m.lastHeartbeat });
    assert.equal(typeof m.lastHeartbeat, 'number');
    const cleo = await connect(C.url);
    // §3: people type ids in any case.
    const r2 = await joinSeen(cleo, room.id.toLowerCase(), [owner, bob], { userName: 'cleo' });
    assert.equal(r2.room.id, room.id);
    const want = [[owner.id, 'olga', true], [bob.id, 'bob', false], [cleo.id, 'cleo', false]];
    assert.deepEqual(r2.members.map((x) => [x.id, x.name, x.isOwner]), want);
  });

  it('§5.2 password rules and room_not_found hold on another instance', async () => {
    const [owner, bob] = [await connect(A.url), await connect(B.url)];
    const room = await createRoom(owner, { password: 'hunter2' });
    assert.deepEqual(await joinRoom(bob, { roomId: room.id }), WRONG);
    assert.deepEqual(await joinRoom(bob, { roomId: room.id, password: 'nope', ownerToken: 'not-the-token' }), WRONG);
    const ok = await joinSeen(bob, room.id, [owner], { password: 'hunter2' });
    assert.deepEqual([ok.room.password, ok.room.hasPassword, ok.room.ownerToken], ['********', true, undefined]);
    assert.ok(!JSON.stringify(ok).includes('hunter2'));
    const cleo = await connect(C.url);
    assert.deepEqual(await joinRoom(cleo, { roomId: 'ZZZZZ9' }), NOT_FOUND);
    // A room disbanded on A is gone for C at once.
    const solo = await connect(A.url), gone = await createRoom(solo);
    solo.emit('room:leave');
    assert.equal(await listed(solo, gone.id), undefined);
    assert.deepEqual(await joinRoom(cleo, { roomId: gone.id }), NOT_FOUND);
  });

  it('§3 §10.11 the password-guess limit holds across instances: guesses spread over A, B, C do not add up', async () => {
    const room = await createRoom(await connect(A.url), { password: 'hunter2' });
    const locked = { success: false, error: '尝试次数过多，请稍后再试', code: 'too_many_attempts' };
    const onA = await connect(A.url);
    // PASSWORD_ATTEMPTS default '0.02:5': five guesses per room and IP, then locked out.
    for (let i = 0; i < 5; i++) assert.deepEqual(await joinRoom(onA, { roomId: room.id, password: `guess${i}` }), WRONG);
    assert.deepEqual(await joinRoom(onA, { roomId: room.id, password: 'guess5' }), locked);
    // One server, as far as the client can tell: the same IP is locked out on B and C too.
    assert.deepEqual(await joinRoom(await connect(B.url), { roomId: room.id, password: 'guess6' }), locked);
    assert.deepEqual(await joinRoom(await connect(C.url), { roomId: room.id, password: 'hunter2' }), locked);
  });

  it('§5.2 a repeat join from B is idempotent; a changed name is announced again; the owner repeat join keeps its token', async () => {
    const owner = await connect(A.url);
    const room = await createRoom(owner);
    const bob = await connect(B.url);
    await joinSeen(bob, room.id, [owner], { userName: 'bob' });
    const again: JoinReply[] = [];
    await expectNone(owner, 'room:member-joined', async () => {
      again.push(await joinRoom(bob, { roomId: room.id, userName: 'bob' }));
    }, chatMarker(bob, 'after-rejoin'));
    assert.equal(again[0]?.success, true);
    assert.deepEqual(again[0].members.map((m) => m.id), [owner.id, bob.id]);
    const renamed = waitFor<Member>(owner, 'room:member-joined');
    await joinRoom(bob, { roomId: room.id, userName: 'robert' });
    const m = await renamed;
    assert.deepEqual([m.id, m.name, m.isOwner], [bob.id, 'robert', false]);
    const own = await joinRoom(owner, { roomId: room.id, userName: 'owner' });
    assert.deepEqual([own.room.ownerToken, own.members.length], [room.ownerToken, 2]);
  });

  it('§5.3 §5.21 member-left crosses instances (leave on B, disconnect on C); the last explicit leave deletes the room', async () => {
    const { owner, room, bob, cleo } = await trio();
    const leftB = [owner, cleo].map((s) => waitFor<string>(s, 'room:member-left'));
    bob.emit('room:leave');
    assert.deepEqual(await Promise.all(leftB), [bob.id, bob.id]);
    const [cleoId, leftC] = [cleo.id, waitFor<string>(owner, 'room:member-left')];
    cleo.disconnect();
    assert.equal(await leftC, cleoId);
    const dan = await connect(B.url);
    const r = await joinSeen(dan, room.id, [owner]);
    assert.deepEqual(r.members.map((m) => m.id), [owner.id, dan.id]);
    // The owner drops (not a leave): the room stays; dan's explicit leave empties it: deleted at once.
    const [ownerId, leftO] = [owner.id, waitFor<string>(dan, 'room:member-left')];
    owner.disconnect();
    assert.equal(await leftO, ownerId);
    dan.emit('room:leave');
    assert.equal(await listed(dan, room.id), undefined);
    assert.deepEqual(await joinRoom(await connect(C.url), { roomId: room.id }), NOT_FOUND);
  });

  it('§5.3 §10.9 the owner disbands on A: members on B and C get room:deleted owner_left and are out of the room', async () => {
    const { owner, room, bob, cleo } = await trio();
    const deleted = [bob, cleo].map((s) => waitFor(s, 'room:deleted'));
    owner.emit('room:leave');
    for (const d of await Promise.all(deleted)) assert.deepEqual(d, { reason: 'owner_left' });
    const recs = [bob, cleo].map((s) => new Recorder(s));
    bob.emit('chat:message', { content: 'ghost', type: 'text' });
    // Marker by the same path: bob's next chat, in a room cleo then shares, reaches both.
    const r2 = await createRoom(bob);
    await joinSeen(cleo, r2.id, [bob]);
    const marks = [bob, cleo].map((s) => waitFor(s, 'chat:message', isChat('m')));
    bob.emit('chat:message', { content: 'm', type: 'text' });
    await Promise.all(marks);
    for (const rec of recs) assert.deepEqual(rec.payloads<{ content: string }>('chat:message').map((p) => p.content), ['m']);
    assert.deepEqual(await joinRoom(await connect(C.url), { roomId: room.id }), NOT_FOUND);
  });

  it('§5.2 §2.3 owner reclaim on B after the owner socket on A dropped', async () => {
    const { owner, room, bob, cleo } = await trio({ userName: 'olga' });
    const ownerId = owner.id;
    const left = [bob, cleo].map((s) => waitFor<string>(s, 'room:member-left'));
    owner.disconnect();
    assert.deepEqual(await Promise.all(left), [ownerId, ownerId]);
    const back = await connect(B.url);
    const announced = [bob, cleo].map((s) => waitFor<Member>(s, 'room:member-joined', joinedBy(back.id)));
    const r = await joinRoom(back, { roomId: room.id, userName: 'olga', ownerToken: room.ownerToken });
    assert.deepEqual([r.success, r.room.ownerId, r.room.ownerToken], [true, back.id, room.ownerToken]);
    assert.deepEqual(r.members.map((m) => [m.id, m.isOwner]), [[bob.id, false], [cleo.id, false], [back.id, true]]);
    for (const m of await Promise.all(announced)) assert.deepEqual([m.name, m.isOwner], ['olga', true]);
    const relayed = [bob, cleo].map((s) => waitFor(s, 'play:update'));
    back.emit('play:update', play);
    for (const p of await Promise.all(relayed)) assert.deepEqual(p, play);
  });

  it('§5.2 §10.8 reclaim on B while the old owner is connected on A: the old owner becomes a plain member', async () => {
    const [old, cleo, heir] = [await connect(A.url), await connect(C.url), await connect(B.url)];
    const room = await createRoom(old, { userName: 'olga' });
    await joinSeen(cleo, room.id, [old]);
    const oldSeen = waitFor<Member>(old, 'room:member-joined', joinedBy(heir.id));
    const cleoSeen = [heir.id, old.id].map((id) => waitFor<Member>(cleo, 'room:member-joined', (m) => m.id === id));
    const r = await joinRoom(heir, { roomId: room.id, userName: 'olga2', ownerToken: room.ownerToken });
    assert.deepEqual([r.room.ownerId, r.room.ownerToken], [heir.id, room.ownerToken]);
    assert.deepEqual(r.members.map((m) => [m.id, m.isOwner]), [[old.id, false], [cleo.id, false], [heir.id, true]]);
    assert.equal((await oldSeen).isOwner, true);
    assert.deepEqual((await Promise.all(cleoSeen)).map((m) => m.isOwner), [true, false]);
    assert.deepEqual(await emitAck(old, 'state:clear'), { success: false, error: 'Not owner', code: 'not_owner' });
    await expectNone(cleo, 'play:update', () => void old.emit('play:update', play), chatMarker(old, 'x'));
    const toOld = waitFor(old, 'play:update');
    heir.emit('play:update', play);
    assert.deepEqual(await toOld, play);
    // Its leave is a member's leave now, not a disband.
    const left = [heir, cleo].map((s) => waitFor<string>(s, 'room:member-left'));
    await expectNone(cleo, 'room:deleted', async () => {
      old.emit('room:leave');
      assert.deepEqual(await Promise.all(left), [old.id, old.id]);
    }, chatMarker(heir, 'still here'));
  });

  it('§5.2 §10.10 joining a room on B leaves the socket\'s current room first (member, and owner: disband)', async () => {
    const [a1, c2, s] = [await connect(A.url), await connect(C.url), await connect(B.url)];
    const [r1, r2] = [await createRoom(a1), await createRoom(c2)];
    await joinSeen(s, r1.id, [a1]);
    const left = waitFor<string>(a1, 'room:member-left');
    await joinSeen(s, r2.id, [c2]);
    assert.equal(await left, s.id);
    const rec = new Recorder(s);
    const echo = waitFor(a1, 'chat:message');
    a1.emit('chat:message', { content: 'r1 only', type: 'text' });
    await echo;
    // Marker: r2's chat reaches s after r1's chat was already out (its echo came back to a1).
    const mark = waitFor(s, 'chat:message', isChat('r2'));
    c2.emit('chat:message', { content: 'r2', type: 'text' });
    await mark;
    assert.deepEqual(rec.payloads<{ content: string }>('chat:message').map((p) => p.content), ['r2']);
    const lateSocket = await connect(C.url);
    const late = await joinRoom(lateSocket, { roomId: r1.id });
    assert.deepEqual(late.members.map((m) => m.id), [a1.id, lateSocket.id]);

    // An owner on B whose member is on A: joining r2 disbands its room (§5.3 rules).
    const [b3, a3] = [await connect(B.url), await connect(A.url)];
    const r3 = await createRoom(b3);
    await joinSeen(a3, r3.id, [b3]);
    const del = waitFor(a3, 'room:deleted');
    await joinSeen(b3, r2.id, [c2]);
    assert.deepEqual(await del, { reason: 'owner_left' });
  });

  it('§5.2 the member cap holds across instances, also for concurrent joins on two instances', async () => {
    const owner = await connect(A.url);
    const room = await createRoom(owner);
    await joinSeen(await connect(B.url), room.id, [owner]);
    const racers = [await connect(A.url), await connect(C.url)];
    const replies = await Promise.all(racers.map((s) => joinRoom(s, { roomId: room.id })));
    const full = { success: false, error: '房间已满', code: 'room_full' };
    assert.equal(replies.filter((r) => r.success).length, 1, JSON.stringify(replies));
    assert.deepEqual(replies.find((r) => !r.success), full);
    assert.deepEqual(await joinRoom(await connect(B.url), { roomId: room.id }), full);
    assert.equal((await listed(await connect(C.url), room.id))?.memberCount, MAX_MEMBERS);
  });

  it('§5.4 §6 §10.1 room:list on B lists rooms created on A, redacted; private rooms are not listed', async () => {
    const owner = await connect(A.url);
    const room = await createRoom(owner, { password: 'hunter2', name: 'Listed on A' });
    const hidden = await createRoom(await connect(A.url), { isPublic: false });
    await joinSeen(await connect(C.url), room.id, [owner], { password: 'hunter2' });
    const list = await emitAck<Listed[]>(await connect(B.url), 'room:list');
    const mine = list.find((x) => x.id === room.id);
    assert.ok(Array.isArray(list) && mine);
    assert.deepEqual(
      [mine.name, mine.ownerId, mine.memberCount, mine.password, mine.hasPassword],
      ['Listed on A', owner.id, 2, '********', true],
    );
    assert.equal(list.some((x) => x.id === hidden.id), false);
    const secrets = ['ownerToken', 'ownerTokenHash', 'passwordHash', 'creatorIp', 'members'];
    for (const x of list) assert.deepEqual(secrets.filter((k) => k in x), []);
    const text = JSON.stringify(list);
    assert.ok(!text.includes('hunter2') && !text.includes(room.ownerToken ?? '?'));
  });
});

redisDescribe('GET /stats across instances (PROTOCOL §9)', () => {
  let c: Cluster;
  before(async () => (c = await startCluster(3, 'xinst-stats')));
  after(() => c.close());
  afterEach(closeAll);

  it('every instance counts the whole cluster (totalRooms, totalMembers, rooms)', async () => {
    const [A, B, C] = nodes(c);
    const [owner, bob] = [await connect(A.url), await connect(B.url)];
    const r1 = await createRoom(owner);
    await joinSeen(bob, r1.id, [owner]);
    const r2 = await createRoom(await connect(C.url));
    const expected = [r1.id, r2.id].sort();
    for (const n of [A, B, C]) {
      const s = await stats(n.url);
      assert.deepEqual([s.totalRooms, s.totalMembers], [2, 3], n.url);
      assert.deepEqual(s.rooms.map((r) => r.id).sort(), expected);
      assert.equal(s.rooms.find((r) => r.id === r1.id)?.memberCount, 2);
    }
    const left = waitFor(owner, 'room:member-left');
    bob.emit('room:leave');
    await left;
    for (const n of [A, B, C]) assert.deepEqual(await stats(n.url).then((s) => [s.totalRooms, s.totalMembers]), [2, 2], n.url);
  });
});
