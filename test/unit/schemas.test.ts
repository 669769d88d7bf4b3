/**
 * The edge (PROTOCOL §3, §5): sanitiser, zod payload schemas and `fromSchema` (sanitise, validate,
 * size cap). Raw payloads are built with JSON.parse where it matters, as the Socket.IO parser does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromSchema } from '../../src/gateway/handler.ts';
import { isPcmBytes, MAX_DEPTH, MAX_KEYS, MAX_NODES, sanitize } from '../../src/wire/sanitize.ts';
import {
  chatSchema,
  iceSchema,
  musicStateSchema,
  offerSchema,
  playStateSchema,
  roomCreateSchema,
  roomIdSchema,
  roomJoinSchema,
  screenStateSchema,
  seekSchema,
} from '../../src/wire/schemas.ts';

const play = { type: 'play', url: 'https://v/1.m3u8', currentTime: 12.5, isPlaying: true, videoId: 'v1', videoName: 'Film', source: 's' };
const song = { id: 1, name: 'Song', artist: 'Art', platform: 'qq' };
const music = { type: 'music', song, nextSong: null, currentTime: 3, isPlaying: true, quality: '320k', playMode: 'loop', updatedAt: 1 };
const parsePlay = fromSchema(playStateSchema, 8192);
function value<T>(r: { ok: true; value: T } | { ok: false }): T {
  if (!r.ok) assert.fail('expected the payload to pass');
  return r.value;
}
const x = (n: number) => 'x'.repeat(n);

describe('optional fields: null means absent (PROTOCOL §5)', () => {
  it('room:create defaults: description "", isPublic true, roomType sync, empty password absent', () => {
    const p = value(fromSchema(roomCreateSchema, 4096)({ name: 'R', description: null, password: null, isPublic: null, roomType: null, userName: 'U' }));
    assert.deepEqual(JSON.parse(JSON.stringify(p)), { name: 'R', description: '', isPublic: true, roomType: 'sync', userName: 'U' });
    assert.equal(p.password, undefined);
    assert.equal(p.playbackControl, undefined);
    assert.equal(value(fromSchema(roomCreateSchema, 4096)({ name: 'R', password: '', userName: 'U' })).password, undefined);
  });

  it('room:join with null password and ownerToken', () => {
    const p = value(fromSchema(roomJoinSchema, 4096)({ roomId: 'abc123', password: null, userName: 'U', ownerToken: null }));
    assert.equal(p.password, undefined);
    assert.equal(p.ownerToken, undefined);
  });

  it('PlayState: null optional fields pass, empty videoYear/searchTitle pass (§3)', () => {
    const p = value(parsePlay({ ...play, videoYear: null, searchTitle: null, episode: null }));
    assert.equal(p.episode, undefined);
    assert.equal(value(parsePlay({ ...play, videoYear: '', searchTitle: '' })).videoYear, '');
    assert.equal(value(fromSchema(screenStateSchema, 8192)({ type: 'screen', status: 'idle', ownerName: 'O', hasAudio: null })).hasAudio, undefined);
  });

  it('MusicSyncState: nextSong missing or null is null; a required field null fails', () => {
    const { nextSong: _omit, ...noNext } = music;
    assert.equal(value(fromSchema(musicStateSchema, 8192)(noNext)).nextSong, null);
    assert.equal(fromSchema(musicStateSchema, 8192)({ ...music, song: null }).ok, false);
    assert.equal(parsePlay({ ...play, url: null }).ok, false);
  });
});

describe('unknown fields and dangerous keys (PROTOCOL §5)', () => {
  it('unknown fields are kept on state and signal payloads, nested ones too', () => {
    const p = value(parsePlay({ ...play, newField: { a: [1, 2] } }));
    assert.deepEqual(p.newField, { a: [1, 2] });
    const m = value(fromSchema(musicStateSchema, 8192)({ ...music, song: { ...song, lyricUrl: 'l' } }));
    assert.equal(m.song.lyricUrl, 'l');
    assert.equal(value(fromSchema(offerSchema, 4096)({ targetUserId: 't', offer: { sdp: 's' }, extra: 1 })).extra, 1);
  });

  it('__proto__, constructor and prototype keys are dropped at every depth', () => {
    const raw: unknown = JSON.parse(
      JSON.stringify({ ...play, extra: { ok: 1 } }).replace('{', '{"__proto__":{"polluted":1},"constructor":{"x":1},"prototype":2,')
        .replace('"extra":{', '"extra":{"__proto__":{"polluted":2},'),
    );
    const p = value(parsePlay(raw));
    for (const k of ['__proto__', 'constructor', 'prototype']) assert.ok(!Object.hasOwn(p, k), k);
    assert.equal(Object.getPrototypeOf(p), Object.prototype);
    assert.deepEqual(p.extra, { ok: 1 });
    assert.ok(!Object.hasOwn(p.extra, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('sanitize builds fresh objects and refuses anything that is not plain JSON', () => {
    const input = { a: { b: [1, { c: 'd' }] } };
    const out = sanitize(input) as typeof input;
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
    assert.notEqual(out.a, input.a);
    assert.notEqual(out.a.b, input.a.b);
    for (const bad of [new Date(), new Map(), () => 1, undefined, Symbol('s'), 1n, { a: new Uint8Array(2) }, [1, () => 2]]) {
      assert.equal(sanitize(bad), undefined);
    }
    assert.equal(sanitize(Object.create(null)) !== undefined, true);
  });

  it(`nesting deeper than ${MAX_DEPTH} is refused`, () => {
    const nest = (n: number): unknown => (n === 0 ? 1 : { k: nest(n - 1) });
    assert.notEqual(sanitize(nest(MAX_DEPTH - 1)), undefined);
    assert.equal(sanitize(nest(MAX_DEPTH + 1)), undefined);
    assert.equal(parsePlay({ ...play, deep: nest(MAX_DEPTH + 1) }).ok, false);
  });

  it(`objects past ${MAX_KEYS} keys and payloads past ${MAX_NODES} values are refused (issue 5: bounded work)`, () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    assert.notEqual(sanitize(keys(MAX_KEYS)), undefined);
    assert.equal(sanitize(keys(MAX_KEYS + 1)), undefined);
    assert.notEqual(sanitize(Array(MAX_NODES - 1).fill(1)), undefined);
    assert.equal(sanitize(Array(MAX_NODES).fill(1)), undefined, 'the array itself counts');
    const wide = Array.from({ length: 40 }, () => Array<string>(60).fill('x'));
    assert.equal(sanitize(wide), undefined, '40 x 60 values spread over arrays');
    assert.equal(parsePlay({ ...play, extra: keys(MAX_KEYS + 1) }).ok, false);
  });
});

describe('numbers and sizes (PROTOCOL §3, §5)', () => {
  it('non-finite numbers are refused wherever they appear', () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      assert.equal(sanitize(n), undefined);
      assert.equal(parsePlay({ ...play, currentTime: n }).ok, false);
      assert.equal(fromSchema(seekSchema, 64)(n).ok, false);
      assert.equal(parsePlay({ ...play, extra: [1, n] }).ok, false);
      assert.equal(seekSchema.safeParse(n).success, false, 'the schema alone refuses it too');
    }
  });

  it('play:seek takes a finite number >= 0 only', () => {
    assert.equal(value(fromSchema(seekSchema, 64)(0)), 0);
    assert.equal(value(fromSchema(seekSchema, 64)(3600.25)), 3600.25);
    for (const bad of [-0.5, '10', null, undefined, {}, [1]]) assert.equal(fromSchema(seekSchema, 64)(bad).ok, false, JSON.stringify(bad));
    assert.equal(parsePlay({ ...play, currentTime: -1 }).ok, false);
  });

  it('the sizes the real client produces are accepted (§3)', () => {
    const create = fromSchema(roomCreateSchema, 4096)({ name: x(50), description: x(200), password: x(20), isPublic: false, roomType: 'music', userName: x(20) });
    assert.equal(create.ok, true);
    assert.equal(value(fromSchema(chatSchema(200), 1056)({ content: x(200), type: 'text' })).content, x(200));
  });

  it('oversized fields and payloads over the per-event cap are refused', () => {
    assert.equal(fromSchema(roomCreateSchema, 4096)({ name: x(101), userName: 'U' }).ok, false);
    assert.equal(fromSchema(roomCreateSchema, 4096)({ name: 'R', userName: x(65) }).ok, false);
    assert.equal(fromSchema(roomJoinSchema, 4096)({ roomId: x(33), userName: 'U' }).ok, false);
    assert.equal(parsePlay({ ...play, url: x(8193) }).ok, false);
    const small = fromSchema(playStateSchema, 1024);
    assert.equal(small({ ...play, url: x(900) }).ok, true);
    assert.equal(small({ ...play, url: x(1000) }).ok, false, 'the serialised value is over the cap');
    assert.equal(small({ ...play, unknown: x(1000) }).ok, false, 'unknown fields count toward the cap');
  });

  it('required strings and enums are checked', () => {
    assert.equal(fromSchema(roomCreateSchema, 4096)({ name: '   ', userName: 'U' }).ok, false);
    assert.equal(fromSchema(roomCreateSchema, 4096)({ name: 'R', userName: '' }).ok, false);
    assert.equal(fromSchema(roomCreateSchema, 4096)({ name: 'R', userName: 'U', roomType: 'cinema' }).ok, false);
    assert.equal(fromSchema(roomCreateSchema, 4096)({ name: 'R', userName: 'U', isPublic: 'yes' }).ok, false);
    assert.equal(fromSchema(musicStateSchema, 8192)({ ...music, playMode: 'shuffle' }).ok, false);
    assert.equal(fromSchema(iceSchema, 4096)({ targetUserId: '', candidate: {} }).ok, false);
    assert.equal(value(fromSchema(iceSchema, 4096)({ targetUserId: 't', candidate: null })).candidate, null);
    for (const raw of [null, undefined, 'str', 42, []]) assert.equal(parsePlay(raw).ok, false);
  });
});

describe('room id (PROTOCOL §3)', () => {
  it('is trimmed and upper-cased', () => {
    assert.equal(roomIdSchema.parse('  ab12cd '), 'AB12CD');
    assert.equal(value(fromSchema(roomJoinSchema, 4096)({ roomId: 'xy9z0q', userName: 'U' })).roomId, 'XY9Z0Q');
    for (const bad of ['', '   ', 123, null]) assert.equal(roomIdSchema.safeParse(bad).success, false);
  });
});

describe('chat:message (PROTOCOL §5.16)', () => {
  const parse = fromSchema(chatSchema(200), 200 * 4 + 256);
  it('empty, blank and too long are refused; type defaults to text', () => {
    for (const content of ['', '   ', '\n\t', x(201)]) assert.equal(parse({ content, type: 'text' }).ok, false, JSON.stringify(content));
    assert.equal(parse({ content: 'hi', type: 'voice' }).ok, false);
    assert.equal(parse({ content: 42, type: 'text' }).ok, false);
    assert.deepEqual({ ...value(parse({ content: '😀', type: null })) }, { content: '😀', type: 'text' });
    assert.deepEqual({ ...value(parse({ content: '😀', type: 'emoji' })) }, { content: '😀', type: 'emoji' });
  });
});

describe('isPcmBytes (PROTOCOL §5.18)', () => {
  it('accepts an even number of 0..255 integers up to the max', () => {
    assert.equal(isPcmBytes([0, 255], 16), true);
    assert.equal(isPcmBytes(new Array<number>(8192).fill(128), 8192), true);
  });

  it('refuses odd length, empty, too long, out-of-range, fractional and non-number bytes', () => {
    assert.equal(isPcmBytes([1, 2, 3], 16), false);
    assert.equal(isPcmBytes([], 16), false);
    assert.equal(isPcmBytes(new Array<number>(8194).fill(1), 8192), false);
    for (const b of [-1, 256, 1.5, NaN, '1', null]) assert.equal(isPcmBytes([0, b], 16), false, String(b));
    for (const v of [null, 'ab', { length: 2, 0: 1, 1: 2 }, new Uint8Array(2)]) assert.equal(isPcmBytes(v, 16), false);
  });
});
