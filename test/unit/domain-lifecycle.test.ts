/**
 * Pure unit tests of the room lifecycle (PROTOCOL §5.1-§5.3, §5.15, §5.20, §5.21, §10.7-§10.10).
 * Time is a plain number; every input room is deep-frozen, so a domain function that mutated its
 * input (instead of returning a new room) would throw here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createRoom,
  disconnectMember,
  heartbeat,
  joinRoom,
  leaveRoom,
  registerHelper,
  type NewRoom,
} from '../../src/domain/room-lifecycle.ts';
import { screenStart, setPlaybackState } from '../../src/domain/room-playback.ts';
import type { Effect, RoomRecord } from '../../src/domain/types.ts';
import type { PlayState } from '../../src/wire/schemas.ts';
import { freeze, ok, kept } from '../helpers/domain.ts';

const ID = 'ROOM01';
const T0 = 1_700_000_000_000;
const CAP = 50;

function newRoom(over: Partial<NewRoom> = {}): RoomRecord {
  return freeze(
    createRoom(
      {
        id: ID, name: 'Movie night', description: '', isPublic: true, roomType: 'sync', playbackControl: 'shared',
        passwordHash: null, ownerTokenHash: 'tokenhash', ownerId: 'owner', ownerName: 'Olivia', creatorIp: '10.0.0.1',
        ...over,
      },
      T0,
    ),
  );
}
type JoinOpts = { name?: string; now?: number; reclaim?: boolean; passwordOk?: boolean; cap?: number };
function join(r: RoomRecord, socketId: string, o: JoinOpts = {}) {
  const cmd = { socketId, userName: o.name ?? socketId, reclaim: o.reclaim ?? false, passwordOk: o.passwordOk ?? true };
  return joinRoom(r, cmd, o.now ?? T0, o.cap ?? CAP);
}
/** Effects as they go on the wire (undefined payloads vanish, as in applyEffects). */
const wire = (effects: Effect[]): unknown => JSON.parse(JSON.stringify(effects));
const body = (payload: unknown) => (payload === undefined ? {} : { payload });
const others = (except: string, event: string, payload?: unknown) => ({ type: 'emit', to: { kind: 'room', roomId: ID, except }, event, ...body(payload) });
const toRoom = (event: string, payload?: unknown) => ({ type: 'emit', to: { kind: 'room', roomId: ID }, event, ...body(payload) });
const sub = (socketId: string, role = 'member') => ({ type: 'subscribe', socketId, roomId: ID, role });
const member = (id: string, name: string, isOwner: boolean, lastHeartbeat = T0) => ({ id, name, isOwner, lastHeartbeat });
const ids = (r: RoomRecord) => r.members.map((m) => m.id);
const play: PlayState = { type: 'play', url: 'u', currentTime: 1, isPlaying: true, videoId: 'v', videoName: 'V', source: 's' };

describe('createRoom (PROTOCOL §5.1)', () => {
  it('makes the creator owner and only member, with clean timers', () => {
    const r = newRoom();
    assert.equal(r.ownerId, 'owner');
    assert.deepEqual(r.members, [{ id: 'owner', name: 'Olivia', joinedAt: T0, lastHeartbeat: T0, presence: { status: 'connected' } }]);
    assert.equal(r.createdAt, T0);
    assert.equal(r.lastOwnerHeartbeat, T0);
    assert.equal(r.currentState, null);
    assert.equal(r.helperId, null);
    assert.equal(r.ownerAwaySince, null);
    assert.equal(r.emptySince, null);
    assert.equal(r.stateClearedForAbsence, false);
  });
});

describe('joinRoom (PROTOCOL §5.2)', () => {
  it('adds a plain member and announces it to-others', () => {
    const res = ok(join(newRoom(), 'a', { name: 'Ann', now: T0 + 5 }));
    assert.equal(res.result.isOwner, false);
    assert.deepEqual(ids(res.room!), ['owner', 'a']);
    assert.deepEqual(wire(res.effects), [sub('a'), others('a', 'room:member-joined', member('a', 'Ann', false, T0 + 5))]);
  });

  it('refuses a wrong password with wrong_password and changes nothing', () => {
    assert.deepEqual(join(newRoom(), 'a', { passwordOk: false }), { ok: false, code: 'wrong_password' });
  });

  it('a valid owner token wins over the password; the old owner stays as a plain member (§10.8)', () => {
    const r = kept(join(newRoom(), 'a', { name: 'Ann' }));
    const res = ok(join(r, 'o2', { name: 'Olivia2', reclaim: true, passwordOk: false, now: T0 + 9 }));
    const next = res.room!;
    assert.equal(res.result.isOwner, true);
    assert.equal(next.ownerId, 'o2');
    assert.equal(next.ownerName, 'Olivia2');
    assert.equal(next.lastOwnerHeartbeat, T0 + 9);
    assert.deepEqual(ids(next), ['owner', 'a', 'o2']);
    assert.deepEqual(wire(res.effects), [
      sub('o2'),
      others('o2', 'room:member-joined', member('o2', 'Olivia2', true, T0 + 9)),
      others('o2', 'room:member-joined', member('owner', 'Olivia', false)),
    ]);
    // The old owner socket keeps no owner rights (§4).
    assert.deepEqual(setPlaybackState(freeze(next), 'owner', 'play:update', play, T0 + 10), { ok: false, code: 'not_owner' });
    assert.equal(ok(setPlaybackState(freeze(next), 'o2', 'play:update', play, T0 + 10)).ok, true);
  });

  it('a reclaim after the owner dropped announces only the new owner', () => {
    const gone = kept(disconnectMember(kept(join(newRoom(), 'a')), 'owner', T0 + 1, 0));
    const res = ok(join(gone, 'o2', { name: 'Olivia', reclaim: true, now: T0 + 2 }));
    assert.equal(res.room!.ownerAwaySince, null);
    assert.deepEqual(wire(res.effects), [sub('o2'), others('o2', 'room:member-joined', member('o2', 'Olivia', true, T0 + 2))]);
  });

  it('a repeat join by the owner socket, with its token, is idempotent', () => {
    const res = ok(join(newRoom(), 'owner', { name: 'Olivia', reclaim: true }));
    assert.equal(res.result.isOwner, true);
    assert.deepEqual(ids(res.room!), ['owner']);
    assert.deepEqual(wire(res.effects), [sub('owner')]);
  });

  it('a repeat join by a member: no duplicate, no second member-joined, password not asked again', () => {
    const r = kept(join(newRoom(), 'a', { name: 'Ann' }));
    const res = ok(join(r, 'a', { name: 'Ann', passwordOk: false, now: T0 + 300 }));
    assert.equal(res.result.isOwner, false);
    assert.deepEqual(ids(res.room!), ['owner', 'a']);
    assert.deepEqual(wire(res.effects), [sub('a')]);
  });

  it('a repeat join under a new name updates the member and announces it once', () => {
    const r = kept(join(newRoom(), 'a', { name: 'Ann' }));
    const res = ok(join(r, 'a', { name: 'Anna' }));
    assert.deepEqual(res.room!.members.map((m) => m.name), ['Olivia', 'Anna']);
    assert.deepEqual(wire(res.effects), [sub('a'), others('a', 'room:member-joined', member('a', 'Anna', false))]);
  });

  it('a wrong owner token (reclaim false) joins as a plain member', () => {
    const res = ok(join(newRoom(), 'x', { reclaim: false }));
    assert.equal(res.room!.ownerId, 'owner');
    assert.equal(res.result.isOwner, false);
  });

  it('room_full counts connected members; the returning owner always gets in', () => {
    let r = kept(join(kept(join(newRoom(), 'a', { cap: 3 })), 'b', { cap: 3 }));
    assert.deepEqual(join(r, 'c', { cap: 3 }), { ok: false, code: 'room_full' });
    r = kept(disconnectMember(r, 'owner', T0 + 1, 0));
    r = kept(join(r, 'c', { cap: 3 }));
    assert.deepEqual(join(r, 'd', { cap: 3 }), { ok: false, code: 'room_full' });
    const back = ok(join(r, 'o2', { reclaim: true, cap: 3 }));
    assert.equal(back.room!.ownerId, 'o2');
    assert.equal(back.room!.members.length, 4);
  });

  it('members away in their disconnect grace do not count toward the cap', () => {
    const r = kept(disconnectMember(kept(join(newRoom(), 'a', { cap: 2 })), 'a', T0 + 1, 5_000));
    assert.equal(ok(join(r, 'b', { cap: 2 })).ok, true);
  });

  it('a recovered owner socket (same id, away) returns as owner and is announced', () => {
    const away = kept(disconnectMember(kept(join(newRoom(), 'a')), 'owner', T0 + 1, 5_000));
    assert.equal(away.ownerAwaySince, T0 + 1);
    const res = ok(join(away, 'owner', { name: 'Olivia', now: T0 + 2 }));
    assert.equal(res.result.isOwner, true);
    assert.equal(res.room!.ownerAwaySince, null);
    assert.deepEqual(wire(res.effects), [sub('owner'), others('owner', 'room:member-joined', member('owner', 'Olivia', true))]);
  });
});

describe('leaveRoom (PROTOCOL §5.3, §10.9)', () => {
  it('the owner disbands: room:deleted owner_left to-others, then the room dissolves', () => {
    const res = ok(leaveRoom(kept(join(newRoom(), 'a')), 'owner'));
    assert.equal(res.room, null);
    assert.deepEqual(wire(res.effects), [
      others('owner', 'room:deleted', { reason: 'owner_left' }),
      { type: 'unsubscribe', socketId: 'owner', roomId: ID },
      { type: 'dissolve', roomId: ID, reason: 'owner_left' },
    ]);
  });

  it('a member leaves: removed, room:member-left(id) to-others', () => {
    const res = ok(leaveRoom(kept(join(kept(join(newRoom(), 'a')), 'b')), 'a'));
    assert.deepEqual(ids(res.room!), ['owner', 'b']);
    assert.deepEqual(wire(res.effects), [others('a', 'room:member-left', 'a'), { type: 'unsubscribe', socketId: 'a', roomId: ID }]);
  });

  it('the last explicit leave deletes the room at once (§8)', () => {
    const r = kept(disconnectMember(kept(join(newRoom(), 'a')), 'owner', T0 + 1, 0));
    const res = ok(leaveRoom(r, 'a'));
    assert.equal(res.room, null);
    assert.deepEqual(wire(res.effects), [
      others('a', 'room:member-left', 'a'),
      { type: 'unsubscribe', socketId: 'a', roomId: ID },
      toRoom('room:deleted', { reason: 'empty' }),
      { type: 'dissolve', roomId: ID, reason: 'empty' },
    ]);
  });

  it('a socket that is not a member cannot leave', () => {
    assert.deepEqual(leaveRoom(newRoom(), 'stranger'), { ok: false, code: 'not_in_room' });
  });
});

describe('disconnectMember (PROTOCOL §5.21, §10.7)', () => {
  it('grace 0: the member is removed with room:member-left to-others', () => {
    const res = ok(disconnectMember(kept(join(newRoom(), 'a')), 'a', T0 + 1, 0));
    assert.deepEqual(ids(res.room!), ['owner']);
    assert.equal(res.room!.emptySince, null);
    assert.deepEqual(wire(res.effects), [others('a', 'room:member-left', 'a')]);
  });

  it('grace > 0: the member is kept as away, silently', () => {
    const res = ok(disconnectMember(kept(join(newRoom(), 'a')), 'a', T0 + 7, 5_000));
    assert.deepEqual(res.room!.members[1]!.presence, { status: 'away', since: T0 + 7 });
    assert.deepEqual(res.effects, []);
  });

  it('the owner keeps ownerId and ownerAwaySince is set; the last one out sets emptySince', () => {
    const r = kept(disconnectMember(kept(join(newRoom(), 'a')), 'owner', T0 + 3, 0));
    assert.equal(r.ownerId, 'owner');
    assert.equal(r.ownerAwaySince, T0 + 3);
    assert.equal(r.emptySince, null);
    const empty = kept(disconnectMember(r, 'a', T0 + 4, 0));
    assert.equal(empty.emptySince, T0 + 4);
    assert.equal(empty.ownerId, 'owner');
    assert.equal(kept(join(empty, 'b')).emptySince, null);
  });

  it('a sharing helper that disconnects stops the share: state null, screen:stop to-room (§5.15)', () => {
    const r = kept(registerHelper(newRoom({ roomType: 'screen' }), 'h', true));
    const sharing = kept(screenStart(r, 'h', { type: 'screen', status: 'sharing', ownerName: 'Olivia' }, T0 + 1));
    const res = ok(disconnectMember(sharing, 'h', T0 + 2, 0));
    assert.equal(res.room!.currentState, null);
    assert.equal(res.room!.helperId, null);
    assert.deepEqual(ids(res.room!), ['owner']);
    assert.deepEqual(wire(res.effects), [toRoom('screen:stop')]);
  });

  it('a helper that disconnects while not sharing only unregisters', () => {
    const res = ok(disconnectMember(kept(registerHelper(newRoom(), 'h', true)), 'h', T0 + 2, 0));
    assert.equal(res.room!.helperId, null);
    assert.deepEqual(res.effects, []);
  });

  it('a socket that is neither member nor helper is refused', () => {
    assert.deepEqual(disconnectMember(newRoom(), 'x', T0, 0), { ok: false, code: 'not_in_room' });
  });
});

describe('heartbeat and helper (PROTOCOL §5.20, §5.15)', () => {
  it('refreshes the member; only the owner refreshes lastOwnerHeartbeat', () => {
    const r = kept(join(newRoom(), 'a'));
    const m = ok(heartbeat(r, 'a', T0 + 5_000));
    assert.equal(m.room!.members[1]!.lastHeartbeat, T0 + 5_000);
    assert.equal(m.room!.lastOwnerHeartbeat, T0);
    assert.deepEqual(m.effects, []);
    const o = ok(heartbeat(r, 'owner', T0 + 6_000));
    assert.equal(o.room!.members[0]!.lastHeartbeat, T0 + 6_000);
    assert.equal(o.room!.lastOwnerHeartbeat, T0 + 6_000);
    assert.deepEqual(heartbeat(r, 'x', T0), { ok: false, code: 'not_in_room' });
  });

  it('registerHelper: a valid token registers and subscribes as helper, a wrong one fails', () => {
    const res = ok(registerHelper(newRoom(), 'h', true));
    assert.equal(res.room!.helperId, 'h');
    assert.deepEqual(ids(res.room!), ['owner']);
    assert.deepEqual(wire(res.effects), [sub('h', 'helper')]);
    assert.deepEqual(registerHelper(newRoom(), 'h', false), { ok: false, code: 'owner_check_failed' });
  });
});
