/**
 * Pure unit tests of the read-only relays (PROTOCOL §5.13, §5.14, §5.16-§5.18, §10.4): chat,
 * WebRTC signalling, viewer-ready and server-relay voice. Rooms are deep-frozen: relays never
 * change them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Relay } from '../../src/domain/outcome.ts';
import { createRoom, disconnectMember, joinRoom, registerHelper } from '../../src/domain/room-lifecycle.ts';
import { screenStart, screenStop } from '../../src/domain/room-playback.ts';
import { audioChunk, chat, signal, viewerReady, type SignalEvent } from '../../src/domain/room-relay.ts';
import type { RoomRecord } from '../../src/domain/types.ts';
import type { ScreenState } from '../../src/wire/schemas.ts';
import { freeze, kept } from '../helpers/domain.ts';

const T0 = 1_700_000_000_000;

function effects(r: Relay): unknown {
  if (!r.ok) assert.fail(`expected a relay, got ${r.code}`);
  return JSON.parse(JSON.stringify(r.effects));
}
/** A room `id` owned by `owner` with the given members joined (names are upper-cased ids). */
function fixture(id: string, owner: string, members: string[], roomType: 'sync' | 'screen' = 'sync'): RoomRecord {
  let r = freeze(
    createRoom(
      {
        id, name: 'R', description: '', isPublic: true, roomType, playbackControl: 'shared', passwordHash: null,
        ownerTokenHash: 'h', ownerId: owner, ownerName: owner.toUpperCase(), creatorIp: '10.0.0.1',
      },
      T0,
    ),
  );
  for (const m of members) r = kept(joinRoom(r, { socketId: m, userName: m.toUpperCase(), reclaim: false, passwordOk: true }, T0, 50));
  return r;
}
const refused = { ok: false, code: 'not_in_room' };
const toId = (socketId: string, event: string, payload: unknown) => ({ type: 'emit', to: { kind: 'socket', socketId }, event, payload });
const sharing: ScreenState = { type: 'screen', status: 'sharing', ownerName: 'OWNER' };

describe('chat (PROTOCOL §5.16)', () => {
  it('builds the message with the stored name and server time, and sends it to-room', () => {
    const r = fixture('ROOM01', 'owner', ['a']);
    const res = chat(r, 'a', { content: 'hello', type: 'emoji' }, 'msg-1', T0 + 77);
    assert.deepEqual(effects(res), [
      {
        type: 'emit',
        to: { kind: 'room', roomId: 'ROOM01' },
        event: 'chat:message',
        payload: { id: 'msg-1', userId: 'a', userName: 'A', content: 'hello', type: 'emoji', timestamp: T0 + 77 },
      },
    ]);
  });

  it('refuses a stranger and a member away in its grace', () => {
    const r = kept(disconnectMember(fixture('ROOM01', 'owner', ['a']), 'a', T0, 5_000));
    assert.deepEqual(chat(r, 'x', { content: 'hi', type: 'text' }, 'm', T0), refused);
    assert.deepEqual(chat(r, 'a', { content: 'hi', type: 'text' }, 'm', T0), refused);
  });
});

describe('signal (PROTOCOL §5.14, §5.17, §10.4)', () => {
  const cases: [SignalEvent, string, unknown][] = [
    ['voice:offer', 'offer', { type: 'offer', sdp: 'v=0' }],
    ['voice:answer', 'answer', { type: 'answer', sdp: 'v=0' }],
    ['voice:ice', 'candidate', { candidate: 'c', sdpMid: '0' }],
    ['screen:offer', 'offer', { type: 'offer', sdp: 'v=0' }],
    ['screen:answer', 'answer', { type: 'answer', sdp: 'v=0' }],
    ['screen:ice', 'candidate', null],
  ];
  for (const [event, field, value] of cases) {
    it(`${event}: to the target only, as { ${field}, userId: sender }`, () => {
      const r = fixture('ROOM01', 'owner', ['a', 'b']);
      const res = signal(r, 'a', event, { targetUserId: 'b', [field]: value });
      assert.deepEqual(effects(res), [toId('b', event, { [field]: value, userId: 'a' })]);
    });
  }

  it('the sender id cannot be spoofed; unknown fields are relayed', () => {
    const r = fixture('ROOM01', 'owner', ['a']);
    const res = signal(r, 'a', 'voice:offer', { targetUserId: 'owner', offer: {}, userId: 'owner', extra: 1 });
    assert.deepEqual(effects(res), [toId('owner', 'voice:offer', { offer: {}, extra: 1, userId: 'a' })]);
  });

  it('never to a socket in another room, to self, to a stranger, or from a stranger', () => {
    const r1 = fixture('ROOM01', 'owner', ['a']);
    fixture('ROOM02', 'other', ['z']);
    for (const event of ['voice:offer', 'screen:offer'] as const) {
      assert.deepEqual(signal(r1, 'a', event, { targetUserId: 'z', offer: {} }), refused);
      assert.deepEqual(signal(r1, 'a', event, { targetUserId: 'other', offer: {} }), refused);
      assert.deepEqual(signal(r1, 'a', event, { targetUserId: 'a', offer: {} }), refused);
      assert.deepEqual(signal(r1, 'z', event, { targetUserId: 'a', offer: {} }), refused);
    }
  });

  it('not to a member away in its disconnect grace', () => {
    const r = kept(disconnectMember(fixture('ROOM01', 'owner', ['a', 'b']), 'b', T0, 5_000));
    assert.deepEqual(signal(r, 'a', 'voice:ice', { targetUserId: 'b', candidate: {} }), refused);
  });

  it('the helper takes part in screen:* signalling, not in voice:*', () => {
    const r = kept(registerHelper(fixture('ROOM01', 'owner', ['a'], 'screen'), 'h', true));
    assert.deepEqual(effects(signal(r, 'h', 'screen:offer', { targetUserId: 'a', offer: { sdp: 's' } })), [
      toId('a', 'screen:offer', { offer: { sdp: 's' }, userId: 'h' }),
    ]);
    assert.deepEqual(effects(signal(r, 'a', 'screen:answer', { targetUserId: 'h', answer: { sdp: 'x' } })), [
      toId('h', 'screen:answer', { answer: { sdp: 'x' }, userId: 'a' }),
    ]);
    assert.deepEqual(signal(r, 'h', 'voice:offer', { targetUserId: 'a', offer: {} }), refused);
    assert.deepEqual(signal(r, 'a', 'voice:offer', { targetUserId: 'h', offer: {} }), refused);
  });
});

describe('viewerReady (PROTOCOL §5.13)', () => {
  it('while the owner shares: to the owner only, as { userId: sender }', () => {
    const r = kept(screenStart(fixture('ROOM01', 'owner', ['a'], 'screen'), 'owner', sharing, T0));
    assert.deepEqual(effects(viewerReady(r, 'a')), [toId('owner', 'screen:viewer-ready', { userId: 'a' })]);
    assert.deepEqual(effects(viewerReady(r, 'owner')), []);
  });

  it('with a helper registered: to the helper rather than the owner', () => {
    const withHelper = kept(registerHelper(fixture('ROOM01', 'owner', ['a'], 'screen'), 'h', true));
    const r = kept(screenStart(withHelper, 'h', sharing, T0));
    assert.deepEqual(effects(viewerReady(r, 'a')), [toId('h', 'screen:viewer-ready', { userId: 'a' })]);
    assert.deepEqual(effects(viewerReady(r, 'owner')), [toId('h', 'screen:viewer-ready', { userId: 'owner' })]);
  });

  it('nothing when not sharing (no state, idle, stopped) or when the sharer dropped', () => {
    const base = fixture('ROOM01', 'owner', ['a'], 'screen');
    assert.deepEqual(effects(viewerReady(base, 'a')), []);
    const idle = kept(screenStart(base, 'owner', { type: 'screen', status: 'idle', ownerName: 'O' }, T0));
    assert.deepEqual(effects(viewerReady(idle, 'a')), []);
    const started = kept(screenStart(base, 'owner', sharing, T0));
    assert.deepEqual(effects(viewerReady(kept(screenStop(started, 'owner', T0)), 'a')), []);
    assert.deepEqual(effects(viewerReady(kept(disconnectMember(started, 'owner', T0, 0)), 'a')), []);
  });

  it('refuses a stranger', () => {
    const r = kept(screenStart(fixture('ROOM01', 'owner', ['a'], 'screen'), 'owner', sharing, T0));
    assert.deepEqual(viewerReady(r, 'x'), refused);
  });
});

describe('audioChunk (PROTOCOL §5.18)', () => {
  it('volatile, to-others, as { userId, audioData, sampleRate }', () => {
    const r = fixture('ROOM01', 'owner', ['a']);
    const res = audioChunk(r, 'a', { audioData: [0, 255, 1, 2], sampleRate: 48000 });
    assert.deepEqual(effects(res), [
      {
        type: 'emit',
        to: { kind: 'room', roomId: 'ROOM01', except: 'a' },
        event: 'voice:audio-chunk',
        payload: { userId: 'a', audioData: [0, 255, 1, 2], sampleRate: 48000 },
        volatile: true,
      },
    ]);
  });

  it('refuses a stranger', () => {
    assert.deepEqual(audioChunk(fixture('ROOM01', 'owner', []), 'x', { audioData: [0, 0], sampleRate: 16000 }), refused);
  });
});
