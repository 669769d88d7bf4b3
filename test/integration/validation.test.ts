/**
 * PROTOCOL §3, §5 and §10.2: every payload is validated before it touches state; acks are always
 * answered (`invalid_payload`), events without a callback are handled safely, the server never
 * crashes, garbage changes nothing and relays nothing, and `__proto__` / `constructor` keys are
 * dropped without polluting anything.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, Recorder, waitFor, type Client } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const INVALID = { success: false, error: '请求参数无效', code: 'invalid_payload' };
const HUGE = 'x'.repeat(60_000); // big, but under the transport's maxHttpBufferSize
/** Payloads no event accepts (`undefined` = no payload at all). */
const JUNK: unknown[] = [undefined, null, 0, -1, 42, 'str', HUGE, true, [], [1, 2], {}, { a: 1 }, { type: null }];

/** Emits `event` with `payload` (or none) and an ack; resolves with the reply. */
function ackWith<T = unknown>(s: Client, event: string, payload: unknown): Promise<T> {
  return payload === undefined ? emitAck<T>(s, event) : emitAck<T>(s, event, payload);
}

const play = { type: 'play', url: 'https://v.example/1.m3u8', currentTime: 12, isPlaying: false, videoId: 'v1', videoName: 'Film', source: 'src' };
const song = { id: 's1', name: 'Song', artist: 'Artist', platform: 'qq' };
const music = { type: 'music', song, nextSong: null, currentTime: 3, isPlaying: false, quality: '320k', playMode: 'loop', updatedAt: 1 };

describe('validation at the edge (§3, §5, §10.2)', () => {
  let srv: TestServer;
  before(
    async () =>
      (srv = await startServer({
        RATE_ROOM: '1000:1000',
        RATE_CHAT: '1000:1000',
        RATE_PLAYBACK: '1000:1000',
        RATE_SIGNAL: '1000:1000',
        RATE_AUDIO: '1000:1000',
        MAX_PENDING_EVENTS: '10000',
      })),
  );
  after(() => srv.close());
  afterEach(closeAll);

  it('room:create, room:join, screen:helper-register answer invalid_payload for junk (§3)', async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const s = await connect(srv.url);
    const listed = () => emitAck<{ id: string; memberCount: number }[]>(s, 'room:list').then((l) => l.map((r) => [r.id, r.memberCount]));
    const before = await listed();
    const specific: Record<string, unknown[]> = {
      'room:create': [
        { name: HUGE, userName: 'u', isPublic: true, description: '' },
        { name: 'ok', userName: HUGE, isPublic: true },
        { name: 'ok', userName: 'u', password: HUGE },
        { name: 123, userName: 'u' },
        { name: 'ok', userName: 'u', isPublic: 'yes' },
        { name: 'ok', userName: 'u', roomType: 'bogus' },
        { name: '   ', userName: 'u' },
        { name: 'ok' },
      ],
      'room:join': [
        { roomId: HUGE, userName: 'u' },
        { roomId: room.id, userName: HUGE },
        { roomId: room.id, userName: 'u', password: HUGE },
        { roomId: room.id, userName: 'u', ownerToken: HUGE },
        { roomId: 123456, userName: 'u' },
        { roomId: room.id },
        { roomId: room.id, userName: ['u'] },
      ],
      'screen:helper-register': [
        { roomId: room.id, ownerToken: HUGE },
        { roomId: room.id },
        { roomId: room.id, ownerToken: 5 },
        { roomId: null, ownerToken: room.ownerToken },
      ],
    };
    for (const [event, extra] of Object.entries(specific)) {
      for (const payload of [...JUNK, ...extra]) {
        const reply = await ackWith(s, event, payload);
        assert.deepEqual(reply, INVALID, `${event} ${JSON.stringify(payload)?.slice(0, 80)}`);
      }
    }
    // Nothing was created or joined along the way.
    assert.deepEqual(await listed(), before);
    assert.ok(before.some(([id, n]) => id === room.id && n === 1));
  });

  it('room:list answers an array whatever arrives before the callback (§5.4)', async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const s = await connect(srv.url);
    const ids = (await emitAck<{ id: string }[]>(s, 'room:list')).map((r) => r.id);
    assert.ok(ids.includes(room.id));
    for (const payload of JUNK) {
      const list = await ackWith<{ id: string }[]>(s, 'room:list', payload);
      assert.ok(Array.isArray(list), JSON.stringify(payload)?.slice(0, 80));
      assert.deepEqual(list.map((r) => r.id), ids);
    }
  });

  it('state:clear with junk before the callback is still answered with its English strings (§5.19)', async () => {
    const s = await connect(srv.url);
    for (const payload of JUNK) {
      const reply = await ackWith<{ success: boolean; error?: string }>(s, 'state:clear', payload);
      assert.equal(reply.success, false);
      assert.equal(reply.error, 'Not in a room');
    }
    await createRoom(s);
    assert.equal((await emitAck<{ success: boolean }>(s, 'state:clear')).success, true);
  });

  it('ack events emitted with no callback never crash the server (§10.2)', async () => {
    const s = await connect(srv.url);
    const disconnects = new Recorder(s);
    const valid: Record<string, unknown> = {
      'room:create': { name: 'No ack', description: '', isPublic: false, userName: 'u' },
      'room:join': { roomId: 'ZZZZZZ', userName: 'u' },
      'room:list': undefined,
      'screen:helper-register': { roomId: 'ZZZZZZ', ownerToken: 't' },
      'state:clear': undefined,
    };
    for (const [event, ok] of Object.entries(valid)) {
      for (const payload of [...JUNK, ok]) {
        if (payload === undefined) s.emit(event);
        else s.emit(event, payload);
        s.emit(event, payload, 'not a callback');
      }
    }
    // The server is alive and the same socket works normally.
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const joined = await joinRoom(s, { roomId: room.id });
    assert.equal(joined.success, true);
    assert.equal(joined.members.length, 2);
    assert.equal(s.connected, true);
    assert.equal(disconnects.count('disconnect'), 0);
    const res = await fetch(`${srv.url}/health`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  it('every other event with junk changes no state and relays nothing (§5)', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(a, { roomType: 'music' });
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    const stored = waitFor(b, 'music:change');
    a.emit('music:change', music);
    await stored;

    const bad: Record<string, unknown[]> = {
      'play:update': [{ ...play, currentTime: -1 }, { ...play, url: 'u'.repeat(9000) }, { ...play, isPlaying: 'yes' }, { ...play, type: 'live' }],
      'play:change': [{ ...play, videoName: 5 }, { ...play, episode: -2 }, { ...play, source: undefined }],
      'live:change': [{ type: 'live', channelId: 'c' }, { type: 'live', channelId: 'c', channelName: 1, channelUrl: 'u' }],
      'play:seek': [-1, '10', [5], { t: 5 }],
      'music:change': [{ ...music, playMode: 'shuffle' }, { ...music, song: null }, { ...music, currentTime: -3 }],
      'music:update': [{ ...music, updatedAt: 'now' }, { ...music, song: { ...song, name: HUGE } }],
      'music:play': [{ ...music, type: 'play' }],
      'music:pause': [{ ...music, isPlaying: 1 }],
      'music:seek': [{ ...music, currentTime: '5' }],
      'music:queue': [{ ...music, quality: 7 }],
      'screen:start': [{ type: 'screen', status: 'paused', ownerName: 'o' }, { type: 'screen', status: 'sharing' }],
      'chat:message': [{ content: '' }, { content: '   ' }, { content: 'x'.repeat(10_001) }, { content: 'hi', type: 'bogus' }, { content: 5 }],
      'voice:offer': [{ targetUserId: b.id, offer: 'sdp' }, { targetUserId: 5, offer: {} }, { offer: {} }],
      'voice:answer': [{ targetUserId: b.id, answer: null }, { targetUserId: b.id }],
      'voice:ice': [{ targetUserId: b.id, candidate: 'c' }, { targetUserId: [b.id], candidate: {} }],
      'screen:offer': [{ targetUserId: b.id, offer: [1] }],
      'screen:answer': [{ targetUserId: b.id, answer: 'x' }],
      'screen:ice': [{ targetUserId: b.id, candidate: 7 }],
      'voice:audio-chunk': [
        { audioData: [1, 2, 3] },
        { audioData: [256, 0] },
        { audioData: [-1, 0] },
        { audioData: [1.5, 2] },
        { audioData: 'abcd' },
        { audioData: [] },
        { audioData: [1, 2], sampleRate: 'fast' },
      ],
    };
    const recA = new Recorder(a);
    const recB = new Recorder(b);
    for (const [event, specific] of Object.entries(bad)) {
      // 0 and 42 are valid seconds for play:seek.
      const junk = event === 'play:seek' ? JUNK.filter((j) => typeof j !== 'number' || j < 0) : JUNK;
      for (const payload of [...junk, ...specific]) {
        if (payload === undefined) a.emit(event);
        else a.emit(event, payload);
      }
    }
    // Marker by the same path: A's events run in order, so once its chat arrives, all came before.
    const marker = waitFor<{ content: string }>(b, 'chat:message', (m) => m.content === 'marker');
    a.emit('chat:message', { content: 'marker', type: 'text' });
    await marker;
    recA.stop();
    recB.stop();
    assert.deepEqual(recB.events.map((e) => e.event), ['chat:message']);
    assert.deepEqual(recA.events.map((e) => e.event), ['chat:message']);

    const list = await emitAck<{ id: string; currentState: unknown; memberCount: number; ownerId: string }[]>(b, 'room:list');
    const now = list.find((r) => r.id === room.id);
    assert.deepEqual(now?.currentState, music);
    assert.equal(now?.memberCount, 2);
    assert.equal(now?.ownerId, a.id);
    assert.equal(a.connected && b.connected, true);
  });

  it('drops __proto__ / constructor keys, relays unknown fields, pollutes nothing (§5)', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const evil = JSON.parse(
      '{"name":"Evil","description":"","isPublic":true,"userName":"o","__proto__":{"polluted0":1,"isPublic":false},"constructor":{"prototype":{"polluted1":1}}}',
    ) as Record<string, unknown>;
    const created = await emitAck<{ success: boolean; room: { id: string; isPublic: boolean } }>(a, 'room:create', evil);
    assert.equal(created.success, true);
    assert.equal(created.room.isPublic, true);
    assert.equal((await joinRoom(b, { roomId: created.room.id })).success, true);

    const body = JSON.stringify(play).slice(0, -1);
    const payload = JSON.parse(
      `${body},"extraField":"kept","nested":{"ok":1,"__proto__":{"polluted2":1}},` +
        '"__proto__":{"polluted3":1},"constructor":{"prototype":{"polluted4":1}}}',
    ) as Record<string, unknown>;
    assert.ok(Object.hasOwn(payload, '__proto__'), 'the test really sends an own __proto__ key');
    const got = waitFor<Record<string, unknown>>(b, 'play:update');
    a.emit('play:update', payload);
    const relayed = await got;
    assert.equal(relayed.extraField, 'kept');
    assert.equal(relayed.videoId, 'v1');
    assert.equal(Object.hasOwn(relayed, '__proto__'), false);
    assert.equal(Object.hasOwn(relayed, 'constructor'), false);
    assert.deepEqual(relayed.nested, { ok: 1 });

    const list = await emitAck<{ id: string; currentState: Record<string, unknown> }[]>(b, 'room:list');
    const state = list.find((r) => r.id === created.room.id)?.currentState;
    assert.equal(state?.extraField, 'kept');
    assert.equal(Object.hasOwn(state ?? {}, '__proto__'), false);
    assert.equal(Object.hasOwn(state ?? {}, 'constructor'), false);

    // The server runs in this process: its Object.prototype is ours.
    const probe = {} as Record<string, unknown>;
    for (const k of ['polluted0', 'polluted1', 'polluted2', 'polluted3', 'polluted4', 'isPublic']) {
      assert.equal(probe[k], undefined, `Object.prototype.${k} was polluted`);
    }
  });

  it('accepts the sizes the real client produces (§3)', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const name = '影'.repeat(50);
    const room = await createRoom(a, { name, description: 'd'.repeat(200), password: 'p'.repeat(20), userName: 'u'.repeat(20) });
    assert.equal(room.name, name);
    const joined = await joinRoom(b, { roomId: room.id.toLowerCase(), password: 'p'.repeat(20) });
    assert.equal(joined.success, true);
    const content = '字'.repeat(200);
    const got = waitFor<{ content: string; type: string }>(b, 'chat:message');
    a.emit('chat:message', { content, type: 'text' });
    assert.equal((await got).content, content);
    const emoji = waitFor<{ content: string; type: string }>(b, 'chat:message');
    a.emit('chat:message', { content: '😀', type: 'emoji' });
    assert.deepEqual(await emoji.then((m) => [m.content, m.type]), ['😀', 'emoji']);
    const change = waitFor<Record<string, unknown>>(b, 'play:change');
    a.emit('play:change', { ...play, videoYear: '', searchTitle: '', episode: 1 });
    const p = await change;
    assert.equal(p.videoYear, '');
    assert.equal(p.searchTitle, '');
  });
});
