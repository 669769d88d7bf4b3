/**
 * Fuzz (PROTOCOL §5: "the server never throws, and never crashes, whatever arrives"; §3: every ack
 * is answered; §10.2, §10.5): random and malformed payloads for every client event, random valid
 * command sequences from many sockets, raw garbage Engine.IO / Socket.IO frames over a plain
 * WebSocket; then named invariants. Seeded: rerun a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { clientOptions, closeAll, connect, emitAck, emitAckWithin, type Client } from '../helpers/client.ts';
import { until } from '../helpers/poll.ts';
import { startServer, TEST_KEY, type TestServer } from '../helpers/server.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 32);
console.log(`fuzz seed ${SEED} (reproduce: FUZZ_SEED=${SEED} node scripts/run-tests.mjs test/integration/fuzz.test.ts)`);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const chance = (p: number) => rnd() < p;

type Obj = Record<string, unknown>;
type Reply = { success?: boolean; error?: string; code?: string; room?: Obj & { id: string; ownerId: string; ownerToken?: string; memberCount: number }; members?: { id: string }[] };
const SIGNALS = ['voice:offer', 'voice:answer', 'voice:ice', 'screen:offer', 'screen:answer', 'screen:ice'];
const MUSIC = ['music:change', 'music:update', 'music:play', 'music:pause', 'music:seek', 'music:queue'];
const BARE = ['room:leave', 'room:list', 'play:play', 'play:pause', 'screen:stop', 'screen:viewer-ready', 'state:clear', 'heartbeat'];
const ACKED = new Set(['room:create', 'room:join', 'room:list', 'screen:helper-register', 'state:clear']);
const CODES = new Set(['room_not_found', 'wrong_password', 'too_many_attempts', 'rate_limited', 'invalid_payload', 'room_full', 'too_many_rooms', 'owner_check_failed', 'not_in_room', 'not_owner']);
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'type', 'roomId', 'targetUserId', 'name', 'content', '$gt', ''];
const NUMBERS = [0, -0, 1, -1, 0.5, 255, 256, 3000, 48000, 1e308, -1e308, 2 ** 53 + 2, 5e-324, -1e-9];

/** What the fuzz learned from create acks: every live room's reclaim token and password. */
const creds = new Map<string, { token: string; password?: string }>();
const serverDrops: string[] = [];

const set = (o: Obj, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
const huge = () => 'x'.repeat(pick([201, 501, 5_000, 30_000, 60_000]));
const randomString = (n: number) => String.fromCharCode(...Array.from({ length: n }, () => int(0x10000)));
const nest = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : chance(0.5) ? [nest(depth - 1, leaf)] : { a: nest(depth - 1, leaf) });

function randomValue(depth: number): unknown {
  switch (int(depth > 0 ? 9 : 6)) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return pick(NUMBERS);
    case 3: return rnd() * 2e6 - 1e6;
    case 4: return pick(['', ' ', 'ZZZZZZ', 'abcdef', '房间', '🎬', '__proto__', '\u0000', '{"$gt":""}', huge()]);
    case 5: return randomString(int(40));
    case 6: return Array.from({ length: int(5) }, () => randomValue(depth - 1));
    default: {
      const o: Obj = {};
      for (let i = int(5); i > 0; i--) set(o, pick(KEYS), randomValue(depth - 1));
      return o;
    }
  }
}

/** One random change to a (usually valid) payload: the shapes a validator must survive. */
function mutate(v: unknown): unknown {
  const r = int(12);
  if (r === 0) return randomValue(2);
  if (r === 1) return null;
  if (r === 2) return [v];
  if (r === 3) return JSON.stringify(v) ?? 'undefined';
  if (r === 4) return nest(17 + int(400), v);
  if (typeof v !== 'object' || v === null) return randomValue(1);
  const o: Obj = { ...(v as Obj) }; // an array becomes an object with index keys
  const keys = Object.keys(o);
  const k = keys.length > 0 && chance(0.7) ? pick(keys) : pick(KEYS);
  const how = int(4);
  if (how === 0) delete o[k];
  else set(o, k, how === 1 ? randomValue(2) : how === 2 ? mutate(o[k]) : huge());
  return o;
}

function templates(ids: string[]): Record<string, () => unknown> {
  const rooms = () => [...creds.keys(), 'ZZZZZZ'];
  const song = () => ({ id: chance(0.5) ? 's1' : 7, name: 'song', artist: 'a', platform: 'netease', duration: 200 });
  const t: Record<string, () => unknown> = {
    'room:create': () => ({
      name: `r${int(1e6)}`, description: 'd', isPublic: chance(0.7), roomType: pick(['sync', 'screen', 'music']), userName: 'u',
      ...(chance(0.15) ? { password: `pw${int(10)}` } : {}),
    }),
    'room:join': () => {
      const roomId = pick(rooms());
      const c = creds.get(roomId);
      return { roomId: chance(0.3) ? roomId.toLowerCase() : roomId, userName: 'u', password: chance(0.8) ? c?.password : 'nope', ownerToken: chance(0.2) ? c?.token : undefined };
    },
    'play:update': () => ({ type: 'play', url: 'https://v/1.m3u8', currentTime: rnd() * 100, isPlaying: chance(0.5), videoId: 'v', videoName: 'n', source: 's', episode: 1, videoYear: '' }),
    'play:seek': () => rnd() * 1000,
    'live:change': () => ({ type: 'live', channelId: 'c1', channelName: 'n', channelUrl: 'https://l/1.m3u8' }),
    'screen:start': () => ({ type: 'screen', status: pick(['idle', 'sharing']), ownerName: 'o', hasAudio: true, startedAt: Date.now() }),
    'screen:helper-register': () => {
      const roomId = pick(rooms());
      return { roomId, ownerToken: creds.get(roomId)?.token ?? 'x' };
    },
    'chat:message': () => ({ content: chance(0.5) ? 'hi' : '👍', type: pick(['text', 'emoji']) }),
    'voice:audio-chunk': () => ({ roomId: 'x', audioData: Array.from({ length: 2 * int(300) + 2 }, () => int(256)), sampleRate: chance(0.5) ? 48000 : undefined }),
  };
  t['play:change'] = t['play:update']!;
  for (const e of MUSIC) {
    t[e] = () => ({ type: 'music', song: song(), nextSong: chance(0.5) ? song() : null, currentTime: rnd() * 100, isPlaying: chance(0.5), quality: 'hq', playMode: pick(['loop', 'single', 'random']), updatedAt: Date.now() });
  }
  for (const e of SIGNALS) {
    const field = e.split(':')[1] === 'ice' ? 'candidate' : e.split(':')[1]!;
    t[e] = () => ({ targetUserId: pick([...ids, 'nobody']), [field]: { type: field, sdp: 'v=0' } });
  }
  for (const e of BARE) t[e] = () => undefined;
  return t;
}

/** Every ack of §3 is answered, well-formed, never `internal`; create acks feed `creds`. */
function checkAck(event: string, reply: unknown, sender: Client, payload: unknown): void {
  const ctx = () => `${event} ${JSON.stringify(payload)?.slice(0, 300)} -> ${JSON.stringify(reply)?.slice(0, 300)}`;
  if (event === 'room:list') {
    assert.ok(Array.isArray(reply), `room:list answers an array: ${ctx()}`);
    assert.ok(reply.every((r: Obj) => !('ownerToken' in r)), `room:list carries no owner token: ${ctx()}`);
    return;
  }
  const r = reply as Reply;
  assert.equal(typeof r?.success, 'boolean', `ack shape: ${ctx()}`);
  if (!r.success) {
    assert.ok(r.code !== undefined && CODES.has(r.code), `no handler failed (code is a known, non-internal one): ${ctx()}`);
    assert.ok(typeof r.error === 'string' && r.error.length > 0, `failed ack has an error string: ${ctx()}`);
    return;
  }
  if (event !== 'room:create' && event !== 'room:join') return;
  assert.match(r.room?.id ?? '', /^[0-9A-Z]{6}$/, ctx());
  assert.ok(r.members === undefined || r.members.some((m) => m.id === sender.id), `a join ack lists the joiner: ${ctx()}`);
  if (event === 'room:create') {
    const pw = (payload as Obj).password;
    creds.set(r.room!.id, { token: r.room!.ownerToken!, password: typeof pw === 'string' && pw ? pw : undefined });
  }
}

function send(s: Client, event: string, payload: unknown, ackOdds = 0.9): Promise<unknown> {
  const args: unknown[] = payload === undefined && chance(0.5) ? [] : [payload];
  if (chance(0.05)) args.push(randomValue(1));
  if (!ACKED.has(event) || !chance(ackOdds)) {
    s.emit(event, ...args);
    return Promise.resolve(undefined);
  }
  // Every ack must come, but not within 5 s: hundreds of random joins and creates each wait for a
  // password hash (scrypt, off-thread) in their socket's queue, and CI runs two test files at once.
  return emitAckWithin(20_000, s, event, ...args).then((reply) => (checkAck(event, reply, s, payload), reply));
}

const fuzzClient = async (url: string) => {
  const s = await connect(url, { ...clientOptions(), reconnectionDelay: 50, reconnectionDelayMax: 100 });
  s.on('disconnect', (reason) => reason === 'io server disconnect' && serverDrops.push(`${s.id ?? '?'}: ${reason}`));
  return s;
};

type Raw = { ws: WebSocket; inbox: string[]; closed: boolean };

/** The first message after index `from` matching `pred`; 'closed' if the server closed first. */
function waitRaw(raw: Raw, from: number, pred: (m: string) => boolean, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      raw.ws.off('message', check);
      raw.ws.off('close', check);
      resolve(v);
    };
    function check() {
      const hit = raw.inbox.slice(from).find(pred);
      if (hit !== undefined) done(hit);
      else if (raw.closed) done('closed');
    }
    const timer = setTimeout(() => done('timeout'), ms);
    raw.ws.on('message', check);
    raw.ws.on('close', check);
    check();
  });
}

/** A plain WebSocket speaking Engine.IO 4 by hand; `token: null` stops before the Socket.IO CONNECT. */
async function rawOpen(port: number, token: string | null = TEST_KEY): Promise<Raw> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const raw: Raw = { ws, inbox: [], closed: false };
  ws.on('message', (d: Buffer, binary: boolean) => raw.inbox.push(binary ? '<binary>' : d.toString()));
  ws.on('close', () => (raw.closed = true));
  ws.on('error', () => undefined);
  assert.match(await waitRaw(raw, 0, (m) => m.startsWith('0{')), /^0\{/, 'Engine.IO open packet');
  if (token !== null) {
    ws.send(`40${JSON.stringify({ token })}`);
    assert.match(await waitRaw(raw, 0, (m) => m.startsWith('4')), /^40\{"sid"/, 'Socket.IO CONNECT accepted');
  }
  return raw;
}

const EVENTS = ['room:create', 'room:join', 'play:update', 'chat:message', 'play:seek', 'voice:audio-chunk', ...SIGNALS, ...MUSIC, ...BARE];

function garbageFrames(): (string | Buffer)[] {
  const frames: (string | Buffer)[] = [
    '', '4', '9999', '42', '42[', '42["room:create",', '42[]', '42{}', '42[null]', '42[1,2,3]', '42["__proto__",{}]',
    '42["constructor"]', '42["room:list"', '42["play:seek",NaN]', '42["play:seek",1e999]', '42["play:seek",-1e999]',
    '42["play:seek",Infinity]', '42["chat:message",{"content":"\\ud800","type":"text"}]',
    '42["room:create",{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},"name":"proto","userName":"u"}]',
    `42["voice:audio-chunk",{"audioData":${JSON.stringify(new Array(14_000).fill(255))}}]`,
    `42["play:update",${'['.repeat(20_000)}${']'.repeat(20_000)}]`, '40', '41', '43', '430[]', '4399999[1]', '44{}',
    '45-["x"]', '451-["room:create",{"_placeholder":true,"num":0}]', '46', '42/admin,["x"]', '40/admin,', '2', '3', '5',
    '6', '1', 'x'.repeat(70_000), `42["chat:message",{"content":"${'a'.repeat(70_000)}"}]`,
    Buffer.from([0, 1, 2, 255]), Buffer.alloc(70_000, 7),
  ];
  const prefixes = ['', '0', '1', '2', '3', '4', '40', '41', '42', '43', '44', '45', '46', '420', '4299', '42/x,'];
  for (let i = 0; i < 300; i++) {
    if (chance(0.05)) {
      frames.push(Buffer.from(Array.from({ length: int(64) }, () => int(256))));
      continue;
    }
    const body = JSON.stringify([pick([...EVENTS, 'x', '']), randomValue(3)]);
    frames.push(pick(prefixes) + (chance(0.3) ? body.slice(0, int(body.length + 1)) : chance(0.2) ? randomString(int(30)) : body));
  }
  return frames;
}

const show = (f: string | Buffer) => (typeof f === 'string' ? JSON.stringify(f.slice(0, 80)) : `<${f.length} binary bytes>`);

type Stats = { totalRooms: number; totalMembers: number; connections: number; rooms: { id: string; memberCount: number; isPublic: boolean; hasPassword: boolean }[] };

describe('fuzz (PROTOCOL §3, §5, §10.2, §10.5)', () => {
  let srv: TestServer;
  const live = new Set<Client>();
  const stats = async () =>
    (await (await fetch(`${srv.url}/stats`, { headers: { Authorization: `Bearer ${TEST_KEY}` } })).json()) as Stats;
  const fast = '100000:100000'; // rate limits have their own tests; here every payload must reach validation
  before(async () => {
    srv = await startServer({
      RATE_ROOM: fast, RATE_CHAT: fast, RATE_PLAYBACK: fast, RATE_SIGNAL: fast, RATE_AUDIO: fast, RATE_HEARTBEAT: fast,
      PASSWORD_ATTEMPTS: fast, PASSWORD_ATTEMPTS_PER_IP: fast, MAX_ROOMS_PER_IP: '100000', MAX_PENDING_EVENTS: '10000',
      // This test is about validation; cutting a sustained flood is abuse.test.ts's.
      FLOOD_CUT: fast, RATE_INBOUND_BYTES: '1000000000:1000000000',
    });
  });
  after(async () => {
    closeAll();
    await srv.close();
  });

  it('random and malformed payloads on every client event: every ack answered, nothing internal', async () => {
    const socks = await Promise.all(Array.from({ length: 6 }, () => fuzzClient(srv.url)));
    socks.forEach((s) => live.add(s));
    const t = templates(socks.map((s) => s.id!));
    // Start states: owners of a music and of a passworded room, a member of each, two sockets in no room.
    const music = (await send(socks[0]!, 'room:create', { name: 'm', isPublic: true, roomType: 'music', userName: 'o' }, 1)) as Reply;
    const locked = (await send(socks[2]!, 'room:create', { name: 'l', isPublic: true, password: 'pw1', userName: 'o' }, 1)) as Reply;
    await send(socks[1]!, 'room:join', { roomId: music.room!.id, userName: 'm' }, 1);
    await send(socks[3]!, 'room:join', { roomId: locked.room!.id, password: 'pw1', userName: 'm' }, 1);
    const events = Object.keys(t);
    let sent = 0;
    await Promise.all(socks.map(async (s) => {
      for (let batch = 0; batch < 8; batch++) {
        const acks: Promise<unknown>[] = [];
        for (let i = 0; i < 60; i++, sent++) {
          const event = pick(events);
          let payload = chance(0.75) ? mutate(t[event]!()) : randomValue(3);
          if ((JSON.stringify([event, payload])?.length ?? 0) > 64_000) payload = 'x'.repeat(50_000); // stay under maxHttpBufferSize
          acks.push(send(s, event, payload));
        }
        acks.push(send(s, 'room:list', undefined, 1));
        await Promise.all(acks);
      }
    }));
    console.log(`phase 1: ${sent} random payloads`);
    assert.ok(socks.every((s) => s.connected), 'no fuzzed socket lost its connection (§1.7)');
    assert.deepEqual(serverDrops, [], 'the server disconnected nobody (§1.7)');
  });

  it('random valid command sequences from 16 sockets (create/join/leave/play/chat/reclaim/reload/drop)', async () => {
    type Sim = { s: Client; room?: string; token?: string; password?: string };
    const sims: Sim[] = await Promise.all(Array.from({ length: 16 }, async () => ({ s: await fuzzClient(srv.url) })));
    sims.forEach((x) => live.add(x.s));
    const remember = (sim: Sim, payload: Obj, reply: unknown) => {
      const r = reply as Reply;
      if (r?.success && r.room) Object.assign(sim, { room: r.room.id, token: r.room.ownerToken, password: payload.password });
    };
    let steps = 0;
    const step = async (i: number) => {
      const sim = sims[i]!;
      const s = sim.s;
      const t = templates(sims.map((x) => x.s.id ?? 'gone'));
      const r = rnd();
      steps++;
      if (r < 0.4) {
        const event = r < 0.12 ? 'room:create' : 'room:join';
        const p = t[event]!() as Obj;
        remember(sim, p, await send(s, event, p, 1));
      } else if (r < 0.46) {
        s.emit('room:leave');
        sim.room = undefined;
      } else if (r < 0.66) {
        const event = pick(['play:update', 'play:change', 'play:play', 'play:pause', 'play:seek', 'live:change', 'screen:start', 'screen:stop', 'state:clear', ...MUSIC]);
        await send(s, event, t[event]!());
      } else if (r < 0.84) {
        const event = pick(['chat:message', 'chat:message', ...SIGNALS, 'voice:audio-chunk', 'screen:viewer-ready', 'heartbeat']);
        await send(s, event, t[event]!());
      } else if (r < 0.89) {
        await send(s, pick(['screen:helper-register', 'room:list']), t['screen:helper-register']!(), 1);
      } else if (r < 0.96) {
        // A page reload: a new socket, which rejoins the remembered room with password and token (§1.6).
        s.close();
        live.delete(s);
        const next: Sim = { s: await fuzzClient(srv.url) };
        live.add(next.s);
        sims[i] = next;
        if (sim.room && chance(0.7)) {
          const p = { roomId: sim.room, userName: 'u', password: sim.password, ownerToken: sim.token };
          remember(next, p, await send(next.s, 'room:join', p, 1));
        }
      } else {
        // A dropped transport: the client reconnects by itself (connection state recovery, §5.21).
        const back = new Promise((resolve, reject) => {
          s.io.once('reconnect', resolve);
          setTimeout(() => reject(new Error('no reconnect within 5 s')), 5000);
        });
        s.io.engine.close();
        await back;
      }
    };
    for (let round = 0; round < 130; round++) {
      await Promise.all([...new Set(Array.from({ length: 6 }, () => int(sims.length)))].map(step));
    }
    await Promise.all(sims.map((x) => send(x.s, 'room:list', undefined, 1)));
    console.log(`phase 2: ${steps} commands`);
    assert.deepEqual(serverDrops, [], 'the server disconnected nobody (§1.7)');
  });

  it('raw garbage Engine.IO / Socket.IO frames over a plain WebSocket', async () => {
    const badConnects = [
      '40', '40{}', '40{"token":""}', '40{"token":null}', '40{"token":{"$ne":null}}', `40{"token":["${TEST_KEY}"]}`,
      `40{"token":" ${TEST_KEY}"}`, `40{"token":"${TEST_KEY.toUpperCase()}"}`, `40{"token":"${'k'.repeat(50_000)}"}`,
      '40[]', '40"x"', '40null', '42["room:create",{"name":"x","userName":"u"}]',
    ];
    for (const frame of badConnects) {
      const raw = await rawOpen(srv.port, null);
      raw.ws.send(frame);
      const reply = await waitRaw(raw, 0, (m) => m.startsWith('4'));
      assert.ok(reply === 'closed' || reply.startsWith('44{"message":"Unauthorized"'), `no bad key is accepted: ${show(frame)} -> ${show(reply)}`);
      raw.ws.terminate();
    }
    const counts = { answered: 0, closed: 0 };
    let raw = await rawOpen(srv.port);
    let probe = 100_000;
    const frames = garbageFrames();
    for (const frame of frames) {
      if (raw.closed) raw = await rawOpen(srv.port);
      const from = raw.inbox.length;
      const id = probe++;
      raw.ws.send(frame, () => undefined);
      raw.ws.send(`42${id}["room:list"]`, () => undefined);
      let r = await waitRaw(raw, from, (m) => m.startsWith(`43${id}[`), 1000);
      if (r === 'timeout') {
        // e.g. after '41' the probe may reach the socket as it leaves the namespace: a second probe must
        // then be refused with a close ("invalid state").
        raw.ws.send(`42${id}["room:list"]`, () => undefined);
        r = await waitRaw(raw, from, (m) => m.startsWith(`43${id}[`));
      }
      assert.notEqual(r, 'timeout', `the server neither answered a probe nor closed after ${show(frame)}`);
      counts[r === 'closed' ? 'closed' : 'answered']++;
    }
    if (raw.closed) raw = await rawOpen(srv.port);
    const from = raw.inbox.length;
    raw.ws.send('4277["room:join",{"roomId":{"$gt":""},"userName":"x"}]');
    const reply = await waitRaw(raw, from, (m) => m.startsWith('4377['));
    assert.deepEqual(JSON.parse(reply.slice(4)), [{ success: false, error: '请求参数无效', code: 'invalid_payload' }]);
    raw.ws.close();
    console.log(`phase 3: ${frames.length + badConnects.length} raw frames (${counts.answered} kept the connection, ${counts.closed} closed it)`);
  });

  it('invariants hold afterwards', async () => {
    const health = await fetch(`${srv.url}/health`);
    assert.equal(health.status, 200, 'invariant: the process is alive (/health answers)');
    const [p, q] = [await fuzzClient(srv.url), await fuzzClient(srv.url)];
    [p, q].forEach((s) => live.add(s));
    const fresh = (await send(p, 'room:create', { name: 'after', isPublic: true, userName: 'p' }, 1)) as Reply;
    assert.equal(fresh.success, true, 'invariant: a new socket can create a room');
    const joined = (await send(q, 'room:join', { roomId: fresh.room!.id, userName: 'q' }, 1)) as Reply;
    assert.equal(joined.members?.length, 2, 'invariant: a new socket can join a room');

    // Quiescence: the server holds exactly our sockets, and every queued handler has run.
    const connected = [...live].filter((s) => s.connected);
    await until(async () => (await stats()).connections, (held) => held === connected.length, {
      ms: 5000,
      everyMs: 20,
      what: `the server to drop closed connections: it must hold our ${connected.length} open ones`,
    });
    await srv.app.gateway.idle();
    const st = await stats();
    assert.equal(st.totalRooms, st.rooms.length, 'invariant: /stats totalRooms equals rooms.length');
    assert.equal(st.totalMembers, st.rooms.reduce((n, r) => n + r.memberCount, 0), 'invariant: /stats totalMembers is the sum');

    const memberOf = new Map<string, string[]>();
    let unknownPassword = 0;
    for (const room of st.rooms) {
      const known = creds.get(room.id);
      if (room.hasPassword && !known?.password) {
        unknownPassword++;
        continue;
      }
      const checker = await connect(srv.url);
      const r = await emitAck<Reply>(checker, 'room:join', { roomId: room.id, userName: 'checker', password: known?.password });
      assert.equal(r.success, true, `invariant: every /stats room can be joined: ${room.id} -> ${JSON.stringify(r)}`);
      assert.equal(r.room!.memberCount, r.members!.length, `invariant: memberCount equals the members list (${room.id})`);
      assert.equal(r.room!.memberCount, room.memberCount + 1, `invariant: /stats memberCount agrees with a fresh join (${room.id})`);
      for (const m of r.members!) if (m.id !== checker.id) memberOf.set(m.id, [...(memberOf.get(m.id) ?? []), room.id]);
    }
    const liveIds = new Set(connected.map((s) => s.id));
    for (const [id, rooms] of memberOf) {
      assert.ok(liveIds.has(id), `invariant: member ${id} of ${rooms.join()} is a connected socket (no ghost)`);
      assert.equal(rooms.length, 1, `invariant: ${id} is a member of exactly one room, not of ${rooms.join()}`);
    }

    let reclaimed = 0;
    for (const room of st.rooms) {
      const c = creds.get(room.id);
      if (!c) continue;
      const owner = await connect(srv.url);
      const r = await emitAck<Reply>(owner, 'room:join', { roomId: room.id, userName: 'reclaimer', ownerToken: c.token });
      assert.ok(r.success && r.room!.ownerId === owner.id && r.room!.ownerToken === c.token, `invariant: the owner token still reclaims ${room.id}: ${JSON.stringify(r).slice(0, 200)}`);
      reclaimed++;
    }
    assert.ok(reclaimed > 0, 'the reclaim invariant is not vacuous');
    const listed = (await send(p, 'room:list', undefined, 1)) as Obj[];
    const ids = new Set(st.rooms.map((r) => r.id));
    assert.ok(listed.every((r) => ids.has(r.id as string)), 'invariant: every room:list room is in /stats');
    assert.equal(listed.length, st.rooms.filter((r) => r.isPublic).length, 'invariant: room:list lists every public room');
    console.log(`invariants: ${st.rooms.length} rooms, ${memberOf.size} members checked, ${reclaimed} reclaimed, ${unknownPassword} with unknown password skipped`);
  });
});
