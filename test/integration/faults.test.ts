/**
 * PROTOCOL §10: one regression test per fault of the servers in use today, each driving the real
 * server over real sockets and asserting that the fault is absent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cryptoIds, type IdSource } from '../../src/security/random.ts';
import { clientOptions, closeAll, connect, createRoom, emitAck, joinRoom, Recorder, waitFor, type Client } from '../helpers/client.ts';
import { eventually, until } from '../helpers/poll.ts';
import { startServer, TEST_KEY, type TestServer } from '../helpers/server.ts';

type Ack = { success: boolean; error?: string; code?: string };
type Msg = Record<string, unknown>;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A round trip through the socket's serial queue: everything it sent before has been handled. */
const flush = (s: Client) => emitAck<Msg[]>(s, 'room:list');
type Six = [Client, Client, Client, Client, Client, Client];
/** `n` (up to 6) connected clients, typed for destructuring. */
const many = (url: string, n: number) => Promise.all(Array.from({ length: n }, () => connect(url))) as Promise<unknown> as Promise<Six>;
const SIGNALS = ['voice:offer', 'voice:answer', 'voice:ice', 'screen:offer', 'screen:answer', 'screen:ice'];
const CLIENT_EVENTS = [
  'room:create', 'room:join', 'room:leave', 'room:list', 'play:update', 'play:change', 'play:play', 'play:pause',
  'play:seek', 'live:change', 'music:change', 'music:update', 'music:play', 'music:pause', 'music:seek', 'music:queue',
  'screen:start', 'screen:stop', 'screen:viewer-ready', 'screen:helper-register', 'chat:message', 'voice:audio-chunk',
  'state:clear', 'heartbeat', ...SIGNALS,
];
const signalBody = (event: string, targetUserId: string): Msg =>
  event.endsWith('ice')
    ? { targetUserId, candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host' } }
    : event.endsWith('offer')
      ? { targetUserId, offer: { type: 'offer', sdp: 'v=0' } }
      : { targetUserId, answer: { type: 'answer', sdp: 'v=0' } };
const play = (videoName: string): Msg => ({
  type: 'play', url: 'https://v.example/1.m3u8', currentTime: 1, isPlaying: true, videoId: 'v1', videoName, source: 's',
});

async function stats(url: string, key = TEST_KEY) {
  const res = await fetch(`${url}/stats`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as { totalRooms: number; rooms: { id: string; memberCount: number }[] } };
}

/**
 * "Nothing arrives" (brief rule): after `action`, a marker must arrive at `s` as `marker.event`;
 * only then is it checked that no `event` payload matching `bad` arrived. Returns the marker.
 */
async function noneWhere(
  s: Client,
  event: string,
  bad: (p: Msg) => boolean,
  action: () => Promise<void>,
  marker: { trigger: () => unknown; event: string; pred: (p: Msg) => boolean },
): Promise<Msg> {
  const rec = new Recorder(s);
  await action();
  const arrived = waitFor<Msg>(s, marker.event, marker.pred);
  await marker.trigger();
  const got = await arrived;
  rec.stop();
  const wrong = rec.payloads<Msg>(event).filter((p) => p !== got && bad(p));
  assert.deepEqual(wrong, [], `${event} must not arrive: ${JSON.stringify(wrong)}`);
  return got;
}

/** Room ids drawn from a script first (to force collisions and id reuse), then from crypto. */
function scriptedIds(ids: string[]): IdSource {
  return { ...cryptoIds, roomId: () => ids.shift() ?? cryptoIds.roomId() };
}

/** `npm start` as a child process; resolves once it listens (port parsed from its own log line). */
async function spawnMain(env: Record<string, string>) {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: process.env.TMPDIR ?? '/tmp' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT, env: { ...base, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  await eventually(() => /"port":\d+[^\n]*watch room server listening/.test(out) || child.exitCode !== null, { ms: 20_000, everyMs: 20, what: 'main.ts to listen' });
  const port = Number(/"port":(\d+)[^\n]*watch room server listening/.exec(out)?.[1]);
  assert.ok(port > 0, `main.ts did not start: ${out}`);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      return out;
    },
  };
}

describe('PROTOCOL §10 faults', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ SWEEP_INTERVAL_MS: '50', MAX_ROOMS_PER_IP: '1000', ALLOWED_ORIGINS: '*' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('§10.1 room:list and the join ack carry no password and no owner token', async () => {
    const [a, b, c] = await many(srv.url, 3);
    const room = await createRoom(a, { password: 'pw-first-1' });
    const other = await createRoom(b, { password: 'pw-second-22' });
    const list = await emitAck<Msg[]>(c, 'room:list');
    const l1 = list.find((r) => r.id === room.id);
    const l2 = list.find((r) => r.id === other.id);
    assert.ok(l1 && l2, 'both public rooms are listed');
    assert.equal(l1.hasPassword, true);
    // §6: a fixed placeholder, the same whatever the password (no password, no hash).
    assert.equal(l1.password, l2.password);
    assert.ok(typeof l1.password === 'string' && l1.password.length > 0);
    assert.equal('ownerToken' in l1 || 'ownerToken' in l2, false, 'room:list carries an owner token');
    const joined = await joinRoom(c, { roomId: room.id, password: 'pw-first-1' });
    assert.equal(joined.success, true);
    assert.equal('ownerToken' in joined.room, false, 'join ack carries the owner token');
    assert.equal(joined.room.password, l1.password);
    for (const text of [JSON.stringify(list), JSON.stringify(joined)]) {
      for (const secret of [room.ownerToken, other.ownerToken, 'pw-first-1', 'pw-second-22']) {
        assert.ok(secret && !text.includes(secret), 'a secret left the server');
      }
    }
  });

  it('§10.2 acks missing and null payloads on every event do not kill the server', async () => {
    const [a, b] = await many(srv.url, 2);
    const name = `no-ack-${Date.now()}`;
    a.emit('room:list');
    a.emit('room:list', null);
    a.emit('room:create', { name, description: '', isPublic: true, userName: 'x' });
    a.emit('room:join', { roomId: 'ZZZZZZ', userName: 'x' });
    const listed = (await flush(a)).find((r) => r.name === name);
    assert.equal(listed?.ownerId, a.id, 'the ack-less room:create was handled');
    for (const e of CLIENT_EVENTS) a.emit(e, null);
    for (const e of CLIENT_EVENTS) b.emit(e);
    assert.ok(Array.isArray(await flush(a)), 'the same socket is still served');
    assert.equal((await emitAck<Ack>(b, 'room:create', null)).code, 'invalid_payload');
    assert.equal((await emitAck<Ack>(b, 'room:join', null)).code, 'invalid_payload');
    const c = await connect(srv.url);
    const room = await createRoom(c);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true, 'a fresh socket can create and join');
  });

  it('§10.3 the auth key is never printed, whole or in part', async () => {
    const key = 'Qm7Zr2Wp9Lx4Tv8NcF3kB6yH1dJ5sG0e';
    const nearMiss = `${key.slice(0, -4)}AAAA`; // a typo of the key: printing it would print most of the key
    const main = await spawnMain({ AUTH_KEY: key, LOG_LEVEL: 'trace', NODE_ENV: 'production' });
    let out: string;
    try {
      const ok = await connect(main.url, clientOptions(key));
      await connect(main.url, { ...clientOptions(key), auth: {} }); // key in the Bearer header only
      await assert.rejects(connect(main.url, clientOptions(nearMiss)), /Unauthorized/);
      await assert.rejects(connect(main.url, clientOptions(undefined)), /Unauthorized/);
      await createRoom(ok);
      assert.equal((await stats(main.url, key)).status, 200);
      assert.equal((await stats(main.url, nearMiss)).status, 401);
      closeAll();
    } finally {
      out = await main.stop();
    }
    assert.match(out, /"msg":"connected"/);
    assert.match(out, /connection refused: unauthorized/);
    for (let i = 0; i + 6 <= key.length; i++) {
      assert.ok(!out.includes(key.slice(i, i + 6)), `key fragment "${key.slice(i, i + 6)}" was printed`);
    }
  });

  it('§10.4 voice:* and screen:* signalling never reaches a socket in another room', async () => {
    const [a, b, c, d] = await many(srv.url, 4);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    await createRoom(c); // c is in another room, d in none
    for (const event of SIGNALS) {
      const got = await noneWhere(
        a, event, (p) => p.userId !== b.id,
        async () => {
          c.emit(event, signalBody(event, a.id!));
          d.emit(event, signalBody(event, a.id!));
          await Promise.all([flush(c), flush(d)]);
        },
        { trigger: () => b.emit(event, signalBody(event, a.id!)), event, pred: (p) => p.userId === b.id },
      );
      const { targetUserId: _t, ...rest } = signalBody(event, a.id!);
      assert.deepEqual(got, { ...rest, userId: b.id });
    }
  });

  it('§10.5 invalid input refused, per-socket rate limit, member and room caps', async () => {
    const s5 = await startServer({ MAX_MEMBERS_PER_ROOM: '2', MAX_ROOMS_PER_IP: '2' });
    try {
      const [a, b, c, d, e] = await many(s5.url, 5);
      const room = await createRoom(a);
      assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
      const full = await joinRoom(c, { roomId: room.id });
      assert.deepEqual([full.success, full.code, full.error], [false, 'room_full', '房间已满']);
      await createRoom(d);
      const capped = await emitAck<Ack>(e, 'room:create', { name: 'third', description: '', isPublic: true, userName: 'e' });
      assert.deepEqual([capped.success, capped.code], [false, 'too_many_rooms']);
      const bad = [{ name: 123, isPublic: true, userName: 'x' }, { name: 'x'.repeat(5000), userName: 'x' }, { name: 'ok', userName: {} }, 'str', [1]];
      for (const p of bad) assert.equal((await emitAck<Ack>(c, 'room:create', p)).code, 'invalid_payload', JSON.stringify(p).slice(0, 60));
      assert.equal((await emitAck<Ack>(c, 'room:join', { roomId: { $gt: '' }, userName: 'x' })).code, 'invalid_payload');
      const ok200 = 'y'.repeat(200); // §3: 200 characters must be accepted
      await noneWhere(b, 'chat:message', (p) => p.content !== ok200, async () => {
        for (const p of [{ content: 'x'.repeat(5000), type: 'text' }, { content: 42 }, { content: 'hi', type: 'shout' }]) a.emit('chat:message', p);
        await flush(a);
      }, { trigger: () => a.emit('chat:message', { content: ok200, type: 'text' }), event: 'chat:message', pred: (p) => p.content === ok200 });
      const seeks: unknown[] = [];
      b.on('play:seek', (t: unknown) => seeks.push(t));
      for (const t of [-5, 'abc', { t: 1 }, null]) a.emit('play:seek', t);
      const sought = waitFor(b, 'play:seek', (t) => t === 42);
      a.emit('play:seek', 42);
      await sought;
      assert.deepEqual(seeks, [42], 'invalid seeks were relayed');
      const replies = await Promise.all(Array.from({ length: 30 }, () => joinRoom(d, { roomId: 'ZZZZZZ' })));
      assert.equal(replies[0]?.code, 'room_not_found');
      const limited = replies.filter((r) => r.code === 'rate_limited');
      assert.ok(limited.length >= 10, `per-socket rate limit: only ${limited.length} of 30 limited`);
      assert.equal(limited[0]?.error, '操作过于频繁，请稍后再试');
    } finally {
      closeAll();
      await s5.close();
    }
  });

  it('§10.6 ALLOWED_ORIGINS=* gives Socket.IO polling (and HTTP) a CORS header', async () => {
    const origin = 'https://moontv.example.org';
    const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
    const allowed = (r: Response, what: string) =>
      assert.ok([origin, '*'].includes(r.headers.get('access-control-allow-origin') ?? ''), `${what}: no CORS header`);
    const hs = await fetch(base, { headers: { Origin: origin } });
    allowed(hs, 'polling handshake');
    assert.equal(hs.status, 200, `polling handshake answered ${hs.status}: ${await hs.clone().text()}`);
    const { sid } = JSON.parse((await hs.text()).slice(1)) as { sid: string };
    const pre = await fetch(`${base}&sid=${sid}`, {
      method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    allowed(pre, 'preflight');
    const post = await fetch(`${base}&sid=${sid}`, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'text/plain' }, body: `40${JSON.stringify({ token: TEST_KEY })}` });
    assert.equal(post.status, 200);
    allowed(post, 'polling POST');
    const poll = await fetch(`${base}&sid=${sid}`, { headers: { Origin: origin } });
    allowed(poll, 'polling GET');
    assert.match(await poll.text(), /40\{"sid":/, 'the polling client is connected');
    await fetch(`${base}&sid=${sid}`, { method: 'POST', headers: { Origin: origin }, body: '1' });
    allowed(await fetch(`${srv.url}/health`, { headers: { Origin: origin } }), '/health');
  });

  it('§10.7 the owner\'s page reload keeps the room (alone or not) until its token reclaims it', async () => {
    const a = await connect(srv.url);
    const room = await createRoom(a);
    a.close();
    const inStats = async () => (await stats(srv.url)).body.rooms.find((r) => r.id === room.id);
    await until(inStats, (r) => r?.memberCount !== 1, { ms: 3000, everyMs: 20, what: 'the disconnect to be handled' });
    await sleep(400); // many 50 ms sweeps: none may delete the room inside its reconnect grace
    assert.equal((await inStats())?.memberCount, 0, 'the room of an owner who reloaded alone is gone');
    const a2 = await connect(srv.url);
    const back = await joinRoom(a2, { roomId: room.id, ownerToken: room.ownerToken, userName: 'owner' });
    assert.equal(back.success, true, `rejoin failed: ${back.error}`);
    assert.deepEqual([back.room.ownerId, back.room.ownerToken], [a2.id, room.ownerToken]);
    assert.deepEqual(back.members.map((m) => [m.id, m.isOwner]), [[a2.id, true]]);

    const [b, c, b2] = await many(srv.url, 3);
    const r2 = await createRoom(b);
    assert.equal((await joinRoom(c, { roomId: r2.id })).success, true);
    const bId = b.id; // socket.io-client forgets its id on close
    const left = waitFor(c, 'room:member-left', (id) => id === bId);
    await noneWhere(c, 'room:deleted', () => true, async () => {
      b.close();
      await left;
    }, { trigger: () => joinRoom(b2, { roomId: r2.id, ownerToken: r2.ownerToken }), event: 'room:member-joined', pred: (p) => p.id === b2.id && p.isOwner === true });
  });

  it('§10.8 after a reclaim the old owner socket has no owner rights', async () => {
    const [a, b, a2] = await many(srv.url, 3);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    const demoted = waitFor<Msg>(b, 'room:member-joined', (p) => p.id === a.id);
    const r = await joinRoom(a2, { roomId: room.id, ownerToken: room.ownerToken });
    assert.equal(r.room.ownerId, a2.id);
    assert.deepEqual(r.members.filter((m) => m.isOwner).map((m) => m.id), [a2.id]);
    assert.equal((await demoted).isOwner, false);
    await noneWhere(b, 'play:change', (p) => p.videoName === 'old-owner', async () => {
      a.emit('play:change', play('old-owner'));
      await flush(a);
    }, { trigger: () => a2.emit('play:change', play('new-owner')), event: 'play:change', pred: (p) => p.videoName === 'new-owner' });
    const clear = await emitAck<Ack>(a, 'state:clear');
    assert.deepEqual([clear.success, clear.error], [false, 'Not owner']);
    const again = await joinRoom(a, { roomId: room.id });
    assert.deepEqual([again.success, again.room.ownerId, 'ownerToken' in again.room], [true, a2.id, false]);
    const leftA = waitFor(b, 'room:member-left', (id) => id === a.id);
    await noneWhere(b, 'room:deleted', () => true, async () => {
      a.emit('room:leave');
      await leftA;
    }, { trigger: () => a2.emit('chat:message', { content: 'still here', type: 'text' }), event: 'chat:message', pred: (p) => p.content === 'still here' });
  });

  it('§10.9 the owner\'s explicit leave deletes the room', async () => {
    const [a, b, c] = await many(srv.url, 3);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    const deleted = waitFor(b, 'room:deleted');
    a.emit('room:leave');
    assert.deepEqual(await deleted, { reason: 'owner_left' });
    const r = await joinRoom(c, { roomId: room.id });
    assert.deepEqual([r.success, r.code, r.error], [false, 'room_not_found', '房间不存在']);
    assert.equal((await flush(c)).some((x) => x.id === room.id), false, 'still listed');
    assert.equal((await stats(srv.url)).body.rooms.some((x) => x.id === room.id), false, 'still in /stats');
  });

  it('§10.10 joining a second room leaves the first; a deleted room leaves no stale membership', async () => {
    const s10 = await startServer({}, { ids: scriptedIds(['AAAAAA', 'BBBBBB', 'AAAAAA']) });
    try {
      const [a, b, c, d, e, f] = await many(s10.url, 6);
      const r1 = await createRoom(a);
      assert.equal((await joinRoom(b, { roomId: r1.id })).success, true);
      const r2 = await createRoom(c);
      const left = waitFor(a, 'room:member-left', (id) => id === b.id);
      assert.equal((await joinRoom(b, { roomId: r2.id })).success, true);
      await left;
      const viewed = await joinRoom(d, { roomId: r1.id });
      assert.deepEqual(viewed.members.map((m) => m.id).sort(), [a.id, d.id].sort());
      assert.equal(viewed.room.memberCount, 2);
      await noneWhere(a, 'chat:message', (p) => p.userId === b.id, async () => {
        b.emit('chat:message', { content: 'ghost', type: 'text' });
        await flush(b);
      }, { trigger: () => d.emit('chat:message', { content: 'mark', type: 'text' }), event: 'chat:message', pred: (p) => p.content === 'mark' });

      const gone = waitFor(d, 'room:deleted');
      a.emit('room:leave');
      await gone;
      const reused = await createRoom(e); // the id is free again and drawn again
      assert.equal(reused.id, r1.id);
      assert.equal((await joinRoom(f, { roomId: reused.id })).success, true);
      await noneWhere(d, 'chat:message', (p) => p.content === 'new room', async () => {
        f.emit('chat:message', { content: 'new room', type: 'text' });
        await waitFor(e, 'chat:message', (p: Msg) => p.content === 'new room');
      }, {
        trigger: async () => {
          assert.deepEqual((await joinRoom(d, { roomId: reused.id })).members.length, 3);
          f.emit('chat:message', { content: 'mark2', type: 'text' });
        },
        event: 'chat:message',
        pred: (p) => p.content === 'mark2',
      });
    } finally {
      closeAll();
      await s10.close();
    }
  });
  it('§10.11 crypto ids and tokens, collisions checked, password guesses limited', async () => {
    const s11 = await startServer({}, { ids: scriptedIds(['DUPDUP', 'DUPDUP']) });
    try {
      const [a, b, c] = await many(s11.url, 3);
      const first = await createRoom(a);
      const second = await createRoom(b);
      assert.equal(first.id, 'DUPDUP');
      assert.notEqual(second.id, 'DUPDUP', 'a colliding id was handed out');
      assert.equal((await joinRoom(c, { roomId: 'DUPDUP' })).room.ownerId, a.id, 'the first room was overwritten');

      const owners = await many(s11.url, 12);
      const rooms = (await Promise.all(owners.map(async (s) => {
        const out = [];
        for (let i = 0; i < 8; i++) out.push(await createRoom(s, { isPublic: false }));
        return out;
      }))).flat();
      for (const r of rooms) {
        assert.match(r.id, /^[0-9A-Z]{6}$/);
        assert.ok((r.ownerToken ?? '').length >= 32, `owner token too short: ${r.ownerToken}`);
      }
      assert.equal(new Set(rooms.map((r) => r.id)).size, rooms.length, 'room ids repeat');
      assert.equal(new Set(rooms.map((r) => r.ownerToken)).size, rooms.length, 'owner tokens repeat');

      const locked = await createRoom(a, { password: 'right-pw' });
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 40 && codes.at(-1) !== 'too_many_attempts'; i++) {
        codes.push((await joinRoom(await connect(s11.url), { roomId: locked.id, password: `guess-${i}` })).code);
      }
      assert.equal(codes.at(-1), 'too_many_attempts', `no guess limit after ${codes.length} guesses`);
      assert.ok(codes.slice(0, -1).every((c) => c === 'wrong_password'), codes.join());
      const right = await joinRoom(await connect(s11.url), { roomId: locked.id, password: 'right-pw' });
      assert.deepEqual([right.code, right.error], ['too_many_attempts', '尝试次数过多，请稍后再试']);
    } finally {
      closeAll();
      await s11.close();
    }
  });

  it('§10.12 voice:audio-chunk is relayed to the others', async () => {
    const [a, b, c] = await many(srv.url, 3);
    const room = await createRoom(a);
    for (const s of [b, c]) assert.equal((await joinRoom(s, { roomId: room.id })).success, true);
    const pcm = Array.from({ length: 8192 }, (_, i) => (i * 7) % 256);
    const arrived = Promise.all([waitFor(a, 'voice:audio-chunk'), waitFor(c, 'voice:audio-chunk')]);
    b.emit('voice:audio-chunk', { roomId: 'IGNORE', audioData: pcm }); // §5.18: roomId is ignored
    const expected = { userId: b.id, audioData: pcm, sampleRate: 16000 };
    assert.deepEqual(await arrived, [expected, expected]);
    await noneWhere(b, 'voice:audio-chunk', (p) => p.userId === b.id, async () => {
      b.emit('voice:audio-chunk', { roomId: room.id, audioData: pcm, sampleRate: 48000 });
      await flush(b);
    }, { trigger: () => a.emit('voice:audio-chunk', { roomId: room.id, audioData: [1, 2] }), event: 'voice:audio-chunk', pred: (p) => p.userId === a.id });
  });
});
