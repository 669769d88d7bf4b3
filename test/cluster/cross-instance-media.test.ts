/**
 * Playback, music, screen, chat and voice across instances (PROTOCOL §5.5-§5.20, §10.4): the owner
 * sits on A, members on B and C, and every relay, echo rule and stored state is what one instance
 * would give. "Nothing arrives" checks end with a marker from the same sender (same queue, same
 * instance, same adapter stream), so a dead relay cannot pass.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, expectNone, joinRoom, Recorder, waitFor, type Client, chatMarker } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';
import type { TestServer } from '../helpers/server.ts';

const play = (over: Record<string, unknown> = {}) => ({
  type: 'play', url: 'https://example.test/ep1.m3u8', currentTime: 12, isPlaying: false, videoId: 'v1',
  videoName: '片名', videoYear: '', searchTitle: '', episode: 1, source: 'src', ...over,
});
const live = { type: 'live', channelId: 'cctv1', channelName: 'CCTV-1', channelUrl: 'https://live.example.test/1.m3u8' };
const music = (over: Record<string, unknown> = {}) => ({
  type: 'music', song: { id: '1974443814', name: '晴天', artist: '周杰伦', platform: 'netease', duration: 269 },
  nextSong: null, currentTime: 42, isPlaying: true, quality: '320k', playMode: 'loop', updatedAt: 1_700_000_000_000, ...over,
});
const screen = { type: 'screen', status: 'sharing', ownerName: 'olga', hasAudio: true, startedAt: 1_700_000_000_000 };
const offer = { type: 'offer', sdp: 'v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const answer = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const candidate = { candidate: 'candidate:1 1 udp 1677729535 203.0.113.7 54400 typ srflx', sdpMid: '0', sdpMLineIndex: 0 };
const SIGNALS = [
  ['offer', { offer }], ['answer', { answer }], ['ice', { candidate }],
] as const;
const pcm = (n = 8192) => Array.from({ length: n }, (_, i) => (i * 7) % 256);

redisDescribe('media relays across instances (PROTOCOL §5.5-§5.20)', () => {
  let c: Cluster;
  let A: TestServer, B: TestServer, C: TestServer;
  before(async () => {
    c = await startCluster(3, 'xinst-media');
    const [a, b, n3] = c.nodes;
    assert.ok(a && b && n3);
    [A, B, C] = [a, b, n3];
  });
  after(() => c.close());
  afterEach(closeAll);

  /** Owner on A, bob on B, cleo on C; resolves once every join was announced to everyone. */
  async function trio(extra: Record<string, unknown> = {}) {
    const owner = await connect(A.url);
    const room = await createRoom(owner, { userName: 'olga', ...extra });
    const bob = await connect(B.url);
    const cleo = await connect(C.url);
    const seen = (s: Client, ws: Client[]) => ws.map((w) => waitFor(w, 'room:member-joined', (m: { id: string }) => m.id === s.id));
    const s1 = seen(bob, [owner]);
    assert.equal((await joinRoom(bob, { roomId: room.id, userName: 'bob' })).success, true);
    await Promise.all(s1);
    const s2 = seen(cleo, [owner, bob]);
    assert.equal((await joinRoom(cleo, { roomId: room.id, userName: 'cleo' })).success, true);
    await Promise.all(s2);
    return { owner, bob, cleo, room };
  }

  /** What a new joiner on `url` gets as `currentState` (§6). */
  async function stateOn(url: string, roomId: string): Promise<Record<string, unknown> | null> {
    const r = await joinRoom(await connect(url), { roomId, userName: 'late' });
    assert.equal(r.success, true);
    return r.room.currentState as Record<string, unknown> | null;
  }

  it('§5.5 §5.6 play:update / play:change from A reach B and C, not the owner; a joiner on C gets the stored state', async () => {
    const { owner, bob, cleo, room } = await trio();
    const upd = play({ isPlaying: true, extraField: 'kept' });
    const got = [bob, cleo].map((s) => waitFor(s, 'play:update'));
    await expectNone(owner, 'play:update', () => void owner.emit('play:update', upd), chatMarker(owner, 'u'));
    for (const p of await Promise.all(got)) assert.deepEqual(p, upd);
    const t0 = Date.now();
    const s = await stateOn(C.url, room.id);
    assert.ok(s && typeof s.currentTime === 'number' && s.currentTime >= 12 && s.currentTime <= 12 + (Date.now() - t0) / 1000 + 1);
    assert.deepEqual({ ...s, currentTime: 12 }, upd);
    const chg = play({ url: 'https://example.test/ep2.m3u8', episode: 2, currentTime: 0 });
    const got2 = [bob, cleo].map((x) => waitFor(x, 'play:change'));
    await expectNone(owner, 'play:change', () => void owner.emit('play:change', chg), chatMarker(owner, 'c'));
    for (const p of await Promise.all(got2)) assert.deepEqual(p, chg);
    assert.deepEqual(await stateOn(C.url, room.id), chg);
    // §4: a member on B cannot set the state.
    await expectNone(cleo, 'play:change', () => void bob.emit('play:change', play({ url: 'x' })), chatMarker(bob, 'm'));
  });

  it('§5.7 §5.8 play / pause / seek from members on B and C reach the other instances; the stored state follows', async () => {
    const { owner, bob, cleo, room } = await trio();
    const set = waitFor(bob, 'play:update');
    owner.emit('play:update', play({ currentTime: 10 }));
    await set;
    const plays = [owner, cleo].map((s) => waitFor(s, 'play:play'));
    bob.emit('play:play');
    for (const p of await Promise.all(plays)) assert.notEqual(typeof p, 'object');
    assert.equal((await stateOn(A.url, room.id))?.isPlaying, true);
    const seeks = [owner, bob].map((s) => waitFor(s, 'play:seek'));
    cleo.emit('play:seek', 100);
    assert.deepEqual(await Promise.all(seeks), [100, 100]);
    const pauses = [owner, cleo].map((s) => waitFor(s, 'play:pause'));
    bob.emit('play:pause');
    await Promise.all(pauses);
    const s = await stateOn(A.url, room.id);
    assert.ok(s);
    assert.equal(s.isPlaying, false);
    assert.ok(typeof s.currentTime === 'number' && s.currentTime >= 100 && s.currentTime < 102, String(s.currentTime));
  });

  it('§5.9 live:change from A reaches B and C and is stored', async () => {
    const { owner, bob, cleo, room } = await trio();
    const got = [bob, cleo].map((s) => waitFor(s, 'live:change'));
    await expectNone(owner, 'live:change', () => void owner.emit('live:change', live), chatMarker(owner, 'l'));
    for (const p of await Promise.all(got)) assert.deepEqual(p, live);
    assert.deepEqual(await stateOn(B.url, room.id), live);
  });

  it('§5.10 music:* from the owner on A reach B and C, are never echoed, and are stored as sent', async () => {
    const { owner, bob, cleo, room } = await trio({ roomType: 'music' });
    const events = ['music:change', 'music:update', 'music:play', 'music:pause', 'music:seek', 'music:queue'] as const;
    const recs = [bob, cleo].map((s) => new Recorder(s));
    const ownerRec = new Recorder(owner);
    for (const e of events) owner.emit(e, music({ currentTime: events.indexOf(e) }));
    const marks = [bob, cleo, owner].map((s) => waitFor(s, 'chat:message'));
    owner.emit('chat:message', { content: 'done', type: 'text' });
    await Promise.all(marks);
    assert.equal(ownerRec.events.filter((e) => e.event.startsWith('music:')).length, 0);
    const want = events.map((e, i) => [e, music({ currentTime: i, ...(e === 'music:pause' ? { isPlaying: false } : {}) })]);
    for (const rec of recs) {
      assert.deepEqual(rec.events.filter((e) => e.event.startsWith('music:')).map((e) => [e.event, e.args[0]]), want);
    }
    assert.deepEqual(await stateOn(C.url, room.id), music({ currentTime: 5 }));
  });

  it('§5.11 §5.12 screen:start / screen:stop go to-room: the owner on A and members on B and C', async () => {
    const { owner, bob, cleo, room } = await trio({ roomType: 'screen' });
    const starts = [owner, bob, cleo].map((s) => waitFor(s, 'screen:start'));
    owner.emit('screen:start', screen);
    for (const p of await Promise.all(starts)) assert.deepEqual(p, screen);
    assert.deepEqual(await stateOn(B.url, room.id), screen);
    const stops = [owner, bob, cleo].map((s) => waitFor(s, 'screen:stop'));
    owner.emit('screen:stop');
    for (const p of await Promise.all(stops)) assert.notEqual(typeof p, 'object');
    assert.equal(await stateOn(C.url, room.id), null);
  });

  it('§5.14 §5.17 screen:* and voice:* signalling reach a target on another instance as {userId: sender, ...}', async () => {
    const { owner, bob, cleo } = await trio({ roomType: 'screen' });
    const pairs: [Client, Client][] = [[owner, bob], [bob, owner], [cleo, bob], [bob, cleo], [owner, cleo]];
    for (const kind of ['screen', 'voice'] as const) {
      for (const [name, body] of SIGNALS) {
        for (const [from, to] of pairs) {
          const got = waitFor(to, `${kind}:${name}`);
          from.emit(`${kind}:${name}`, { targetUserId: to.id, ...body });
          assert.deepEqual(await got, { userId: from.id, ...body }, `${kind}:${name}`);
        }
      }
    }
  });

  it('§10.4 signalling never reaches a socket in another room or in no room, on any instance', async () => {
    const { owner, bob, cleo } = await trio();
    const other = await connect(C.url);
    const r2 = await createRoom(other);
    const inR2 = [await connect(A.url), await connect(B.url)];
    for (const s of inR2) assert.equal((await joinRoom(s, { roomId: r2.id })).success, true);
    const outsiders = [...inR2, other, await connect(A.url)];
    const recs = outsiders.map((s) => new Recorder(s));
    for (const kind of ['screen', 'voice']) {
      for (const [name, body] of SIGNALS) for (const t of outsiders) bob.emit(`${kind}:${name}`, { targetUserId: t.id, ...body });
    }
    // Markers by the same path: bob's next offers reach its room mates on A and C (the outsiders'
    // instances read the same stream in order); then each outsider's own round trip flushes its socket.
    const marks = [owner, cleo].map((s) => waitFor(s, 'voice:offer', (p: { userId: string }) => p.userId === bob.id));
    for (const s of [owner, cleo]) bob.emit('voice:offer', { targetUserId: s.id, offer });
    await Promise.all(marks);
    await Promise.all(outsiders.map((s) => emitAck(s, 'room:list')));
    for (const rec of recs) assert.deepEqual(rec.events.filter((e) => /^(screen|voice):/.test(e.event)), []);
  });

  it('§5.13 screen:viewer-ready from B and C reaches the sharing owner on A as {userId}', async () => {
    const { owner, bob, cleo } = await trio({ roomType: 'screen' });
    const start = waitFor(cleo, 'screen:start');
    owner.emit('screen:start', screen);
    await start;
    for (const s of [bob, cleo]) {
      const got = waitFor(owner, 'screen:viewer-ready');
      s.emit('screen:viewer-ready');
      assert.deepEqual(await got, { userId: s.id });
    }
  });

  it('§5.15 a helper on C acts for the owner on A: start to-room, viewer-ready, signalling, stop on disconnect', async () => {
    const { owner, bob, room } = await trio({ roomType: 'screen' });
    const helper = await connect(C.url);
    assert.deepEqual(await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: 'nope' }), {
      success: false, error: '房主身份验证失败', code: 'owner_check_failed',
    });
    assert.deepEqual(await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: room.ownerToken }), { success: true });
    const shared = { ...screen, ownerName: 'helper' };
    const starts = [owner, bob, helper].map((s) => waitFor(s, 'screen:start'));
    helper.emit('screen:start', shared);
    for (const p of await Promise.all(starts)) assert.deepEqual(p, shared);
    const ready = waitFor(helper, 'screen:viewer-ready');
    bob.emit('screen:viewer-ready');
    assert.deepEqual(await ready, { userId: bob.id });
    const gotOffer = waitFor(bob, 'screen:offer');
    helper.emit('screen:offer', { targetUserId: bob.id, offer });
    assert.deepEqual(await gotOffer, { userId: helper.id, offer });
    const gotAnswer = waitFor(helper, 'screen:answer');
    bob.emit('screen:answer', { targetUserId: helper.id, answer });
    assert.deepEqual(await gotAnswer, { userId: bob.id, answer });
    const stops = [owner, bob].map((s) => waitFor(s, 'screen:stop'));
    helper.disconnect();
    await Promise.all(stops);
    assert.equal(await stateOn(A.url, room.id), null);
  });

  it('§5.16 chat from B reaches everyone on A, B and C as one server-built ChatMessage', async () => {
    const { owner, bob, cleo } = await trio();
    const got = [owner, bob, cleo].map((s) => waitFor(s, 'chat:message'));
    const t0 = Date.now();
    bob.emit('chat:message', { content: '你好 👋', type: 'text', userName: 'spoofed', userId: 'spoofed' });
    const msgs = (await Promise.all(got)) as Record<string, unknown>[];
    const t1 = Date.now();
    const [first] = msgs;
    assert.ok(first);
    for (const m of msgs) assert.deepEqual(m, first);
    assert.deepEqual(Object.keys(first).sort(), ['content', 'id', 'timestamp', 'type', 'userId', 'userName']);
    assert.deepEqual([first.userId, first.userName, first.content, first.type], [bob.id, 'bob', '你好 👋', 'text']);
    assert.ok(typeof first.id === 'string' && first.id.length > 0);
    assert.ok(typeof first.timestamp === 'number' && first.timestamp >= t0 - 5 && first.timestamp <= t1 + 5);
  });

  it('§5.18 voice:audio-chunk from B reaches A and C (not B) as {userId, audioData, sampleRate}', async () => {
    const { owner, bob, cleo } = await trio();
    const data = pcm();
    const got = [owner, cleo].map((s) => waitFor(s, 'voice:audio-chunk'));
    await expectNone(bob, 'voice:audio-chunk', () => void bob.emit('voice:audio-chunk', { roomId: 'OTHER1', audioData: data }), chatMarker(bob, 'a'));
    for (const p of await Promise.all(got)) assert.deepEqual(p, { userId: bob.id, audioData: data, sampleRate: 16000 });
    const got2 = waitFor(owner, 'voice:audio-chunk');
    cleo.emit('voice:audio-chunk', { roomId: 'x', audioData: data.slice(0, 64), sampleRate: 48000 });
    assert.deepEqual(await got2, { userId: cleo.id, audioData: data.slice(0, 64), sampleRate: 48000 });
  });

  it('§5.20 §1.5 heartbeat is answered on every instance; the owner heartbeat from A is visible on C', async () => {
    const { owner, bob, room } = await trio();
    const loner = await connect(C.url);
    const t0 = Date.now();
    for (const s of [bob, loner, owner]) {
      const pong = waitFor<{ timestamp: number }>(s, 'heartbeat:pong', (p) => p.timestamp >= t0);
      s.emit('heartbeat');
      const { timestamp } = await pong;
      assert.ok(timestamp >= t0 && timestamp <= Date.now() + 5);
    }
    await emitAck(owner, 'room:list'); // queued after the owner's heartbeat: it is stored now
    await emitAck(bob, 'room:list');
    const listed = (await emitAck<{ id: string; lastOwnerHeartbeat: number }[]>(await connect(C.url), 'room:list')).find((r) => r.id === room.id);
    assert.ok(listed && listed.lastOwnerHeartbeat >= t0, JSON.stringify(listed));
    const r = await joinRoom(await connect(C.url), { roomId: room.id });
    const hb = (r.members.find((m) => m.id === bob.id) as { lastHeartbeat: number } | undefined)?.lastHeartbeat;
    assert.ok(hb !== undefined && hb >= t0, String(hb));
  });

  it('§5.19 state:clear from the owner on A: state:cleared on B and C (not A); refusals for others', async () => {
    const { owner, bob, cleo, room } = await trio();
    const set = waitFor(cleo, 'play:update');
    owner.emit('play:update', play());
    await set;
    const cleared = [bob, cleo].map((s) => waitFor(s, 'state:cleared'));
    await expectNone(owner, 'state:cleared', async () => {
      assert.deepEqual(await emitAck(owner, 'state:clear'), { success: true });
    }, chatMarker(owner, 's'));
    for (const p of await Promise.all(cleared)) assert.notEqual(typeof p, 'object');
    assert.equal(await stateOn(B.url, room.id), null);
    assert.deepEqual(await emitAck(bob, 'state:clear'), { success: false, error: 'Not owner', code: 'not_owner' });
    assert.deepEqual(await emitAck(await connect(C.url), 'state:clear'), { success: false, error: 'Not in a room', code: 'not_in_room' });
  });
});
