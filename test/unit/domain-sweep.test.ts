/**
 * The §8 timers as one pure function, driven by a fake clock (plain numbers): owner away (state
 * cleared once, then room deleted), rooms left empty by disconnects, member disconnect grace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRoom, disconnectMember, joinRoom, registerHelper } from '../../src/domain/room-lifecycle.ts';
import { screenStart, setPlaybackState } from '../../src/domain/room-playback.ts';
import { sweepRoom, type SweepTimers } from '../../src/domain/room-sweep.ts';
import type { Effect, RoomRecord } from '../../src/domain/types.ts';
import type { PlayState } from '../../src/wire/schemas.ts';
import { freeze, kept } from '../helpers/domain.ts';

const ID = 'ROOM01';
const T0 = 1_700_000_000_000;
const S = 1_000;
/** PROTOCOL §8 defaults; member grace as configured in each test. */
const timers = (memberGraceMs = 0): SweepTimers => ({
  ownerStateTimeoutMs: 30 * S,
  ownerRoomTimeoutMs: 300 * S,
  emptyRoomGraceMs: 60 * S,
  memberGraceMs,
});

const wire = (effects: Effect[]): unknown => JSON.parse(JSON.stringify(effects));
const toRoom = (event: string, payload?: unknown) => ({ type: 'emit', to: { kind: 'room', roomId: ID }, event, ...(payload === undefined ? {} : { payload }) });
const deletedFx = (reason: string) => [toRoom('room:deleted', { reason }), { type: 'dissolve', roomId: ID, reason }];
const play: PlayState = { type: 'play', url: 'u', currentTime: 5, isPlaying: true, videoId: 'v', videoName: 'V', source: 's' };

function base(): RoomRecord {
  return freeze(
    createRoom(
      {
        id: ID, name: 'R', description: '', isPublic: true, roomType: 'sync', playbackControl: 'shared', passwordHash: null,
        ownerTokenHash: 'h', ownerId: 'owner', ownerName: 'O', creatorIp: '10.0.0.1',
      },
      T0,
    ),
  );
}
const join = (r: RoomRecord, id: string, now = T0, reclaim = false) =>
  kept(joinRoom(r, { socketId: id, userName: id, reclaim, passwordOk: true }, now, 50));
const withMember = () => join(base(), 'a');
/** Owner with state set, then dropped at T0 (grace 0); member 'a' stays. */
const ownerGoneWithState = () => kept(disconnectMember(kept(setPlaybackState(withMember(), 'owner', 'play:update', play, T0)), 'owner', T0, 0));

describe('sweepRoom: nothing due (PROTOCOL §8)', () => {
  it('returns null for a fresh room and for a present owner however long it is silent', () => {
    assert.equal(sweepRoom(base(), T0, timers()), null);
    const r = kept(setPlaybackState(withMember(), 'owner', 'play:update', play, T0));
    assert.equal(sweepRoom(r, T0 + 3_600 * S, timers()), null);
  });
});

describe('sweepRoom: owner away (PROTOCOL §8)', () => {
  it('clears the state after the state timeout, to-room, once', () => {
    const r = ownerGoneWithState();
    assert.equal(sweepRoom(r, T0 + 30 * S - 1, timers()), null);
    const res = sweepRoom(r, T0 + 30 * S + 1, timers());
    const cleared = kept(res);
    assert.deepEqual(wire(res!.effects), [toRoom('state:cleared')]);
    assert.equal(cleared.currentState, null);
    assert.equal(cleared.ownerId, 'owner');
    assert.equal(cleared.stateClearedForAbsence, true);
    assert.equal(sweepRoom(cleared, T0 + 60 * S, timers()), null);
  });

  it('state set again during the same absence (a helper shares) is not cleared a second time', () => {
    const cleared = kept(sweepRoom(ownerGoneWithState(), T0 + 31 * S, timers()));
    const helper = kept(registerHelper(cleared, 'h', true));
    const shared = kept(screenStart(helper, 'h', { type: 'screen', status: 'sharing', ownerName: 'O' }, T0 + 35 * S));
    assert.equal(sweepRoom(shared, T0 + 40 * S, timers()), null);
  });

  it('sends no state:cleared when there is no state', () => {
    const r = kept(disconnectMember(withMember(), 'owner', T0, 0));
    assert.equal(sweepRoom(r, T0 + 31 * S, timers()), null);
  });

  it('deletes the room after the room timeout with reason owner_timeout', () => {
    const r = kept(sweepRoom(ownerGoneWithState(), T0 + 31 * S, timers()));
    assert.equal(sweepRoom(r, T0 + 300 * S - 1, timers()), null);
    const res = sweepRoom(r, T0 + 300 * S + 1, timers());
    assert.ok(res);
    assert.equal(res.room, null);
    assert.deepEqual(wire(res.effects), deletedFx('owner_timeout'));
  });

  it('a returning owner resets the clock, and a later absence clears again', () => {
    let r = kept(sweepRoom(ownerGoneWithState(), T0 + 31 * S, timers()));
    r = join(r, 'o2', T0 + 40 * S, true);
    assert.equal(r.ownerAwaySince, null);
    assert.equal(r.stateClearedForAbsence, false);
    assert.equal(sweepRoom(r, T0 + 400 * S, timers()), null);
    r = kept(setPlaybackState(r, 'o2', 'play:update', play, T0 + 41 * S));
    r = kept(disconnectMember(r, 'o2', T0 + 50 * S, 0));
    assert.equal(sweepRoom(r, T0 + 79 * S, timers()), null);
    const again = sweepRoom(r, T0 + 81 * S, timers());
    assert.equal(kept(again).currentState, null);
    assert.deepEqual(wire(again!.effects), [toRoom('state:cleared')]);
  });

  it('an owner back before the state timeout keeps the state', () => {
    const r = join(ownerGoneWithState(), 'o2', T0 + 10 * S, true);
    assert.equal(sweepRoom(r, T0 + 31 * S, timers()), null);
    assert.deepEqual(r.currentState, play);
  });
});

describe('sweepRoom: empty by disconnects (PROTOCOL §8, §10.7)', () => {
  it('is kept through the reconnect grace, then deleted with reason empty', () => {
    const r = kept(disconnectMember(base(), 'owner', T0, 0));
    assert.equal(r.emptySince, T0);
    assert.equal(sweepRoom(r, T0 + 60 * S - 1, timers()), null);
    const res = sweepRoom(r, T0 + 60 * S + 1, timers());
    assert.ok(res);
    assert.equal(res.room, null);
    assert.deepEqual(wire(res.effects), deletedFx('empty'));
  });

  it("the owner's token rejoin within the grace saves it", () => {
    const r = join(kept(disconnectMember(base(), 'owner', T0, 0)), 'o2', T0 + 2 * S, true);
    assert.equal(r.emptySince, null);
    assert.equal(sweepRoom(r, T0 + 61 * S, timers()), null);
  });

  it('state is cleared at 30 s while the empty room waits, and it is deleted at 60 s', () => {
    const r = kept(disconnectMember(kept(setPlaybackState(base(), 'owner', 'play:update', play, T0)), 'owner', T0, 0));
    const cleared = kept(sweepRoom(r, T0 + 31 * S, timers()));
    assert.equal(cleared.currentState, null);
    assert.equal(sweepRoom(cleared, T0 + 61 * S, timers())?.room, null);
  });
});

describe('sweepRoom: member disconnect grace (PROTOCOL §5.21)', () => {
  it('an away member is dropped with room:member-left after the grace, not before', () => {
    const r = kept(disconnectMember(withMember(), 'a', T0, 5 * S));
    assert.equal(sweepRoom(r, T0 + 5 * S - 1, timers(5 * S)), null);
    const res = sweepRoom(r, T0 + 5 * S + 1, timers(5 * S));
    assert.deepEqual(kept(res).members.map((m) => m.id), ['owner']);
    assert.deepEqual(wire(res!.effects), [toRoom('room:member-left', 'a')]);
  });

  it('a lone owner away: member-left at the grace, room deleted (empty) when the room grace ends', () => {
    const r = kept(disconnectMember(base(), 'owner', T0, 5 * S));
    assert.equal(r.ownerAwaySince, T0);
    const gone = sweepRoom(r, T0 + 6 * S, timers(5 * S));
    assert.deepEqual(wire(gone!.effects), [toRoom('room:member-left', 'owner')]);
    const after = kept(gone);
    assert.equal(after.ownerId, 'owner');
    const res = sweepRoom(after, T0 + 61 * S, timers(5 * S));
    assert.equal(res?.room, null);
    assert.deepEqual(wire(res.effects), deletedFx('empty'));
  });

  it('member-left comes before room:deleted when both fall due in one sweep', () => {
    const r = kept(disconnectMember(base(), 'owner', T0, 5 * S));
    const res = sweepRoom(r, T0 + 61 * S, timers(5 * S));
    assert.equal(res?.room, null);
    assert.deepEqual(wire(res.effects), [toRoom('room:member-left', 'owner'), ...deletedFx('empty')]);
  });
});

describe('sweepRoom: members whose connection is gone, and downtime (§5.21, §8, issue 3)', () => {
  const cluster = (): SweepTimers => ({ ...timers(), sweepIntervalMs: 10 * S, maxGapMs: 31 * S });

  it('a connected member judged gone (dead instance) is handled as a disconnect: room:member-left', () => {
    const r = withMember();
    const res = sweepRoom(r, T0 + S, timers(), { isGone: (m) => m.id === 'a' });
    const next = kept(res);
    assert.deepEqual(next.members.map((m) => m.id), ['owner']);
    assert.ok(res?.effects.some((e) => e.type === 'emit' && e.event === 'room:member-left' && e.payload === 'a'));
  });

  it('a gone owner keeps ownerId, starts its away time, and the emptied room its grace', () => {
    const next = kept(sweepRoom(base(), T0 + S, timers(), { isGone: () => true }));
    assert.equal(next.ownerId, 'owner');
    assert.equal(next.ownerAwaySince, T0 + S);
    assert.equal(next.emptySince, T0 + S);
    assert.equal(next.members.length, 0);
  });

  it('nothing is gone and nothing is due: no change', () => {
    assert.equal(sweepRoom(withMember(), T0 + S, timers(), { isGone: () => false }), null);
  });

  it('time with no instance running does not count: a long gap moves the timers forward', () => {
    const r = ownerGoneWithState(); // owner away since T0, timers checked at T0
    assert.equal(r.timersCheckedAt, T0);
    // 100 s later, no sweep in between: downtime of 100 s - one sweep interval.
    const next = kept(sweepRoom(r, T0 + 100 * S, cluster()));
    assert.notEqual(next.currentState, null, 'state kept: only one sweep interval of running time has passed');
    assert.equal(next.ownerAwaySince, T0 + 90 * S);
    assert.equal(next.timersCheckedAt, T0 + 100 * S);
    // Without the downtime rule the same sweep would have cleared it.
    const plain = sweepRoom(r, T0 + 100 * S, timers());
    assert.equal(plain?.room?.currentState, null);
  });

  it('downtime is taken off the old timers before members found gone start new ones', () => {
    const r = ownerGoneWithState(); // owner away since T0; member 'a' was connected to a dead instance
    const next = kept(sweepRoom(r, T0 + 100 * S, cluster(), { isGone: (m) => m.id === 'a' }));
    assert.notEqual(next.currentState, null, 'the downtime did not count toward the owner timer');
    assert.equal(next.ownerAwaySince, T0 + 90 * S);
    assert.equal(next.emptySince, T0 + 100 * S, 'the grace of the now empty room starts now, unshifted');
    assert.deepEqual(next.members, []);
  });

  it('regular sweeps count in full: the state is cleared 30 s after the owner left', () => {
    let r = ownerGoneWithState();
    let cleared = 0;
    for (let t = 10 * S; t <= 40 * S; t += 10 * S) {
      const res = sweepRoom(r, T0 + t, cluster());
      if (res?.effects.some((e) => e.type === 'emit' && e.event === 'state:cleared')) cleared = t;
      if (res?.room) r = freeze(res.room);
    }
    assert.equal(cleared, 30 * S);
  });
});

describe('sweepRoom: a screen-share helper whose connection is gone (§5.15, issue 3)', () => {
  const sharing = () => {
    const helped = kept(registerHelper(base(), 'helper', true, 'dead-instance'));
    return kept(screenStart(helped, 'helper', { type: 'screen', status: 'sharing', ownerName: 'O' }, T0));
  };

  it('is handled as its disconnect: screen:stop to-room, state cleared, helper forgotten', () => {
    const res = sweepRoom(sharing(), T0 + S, timers(), { isGone: (m) => m.instanceId === 'dead-instance' });
    const next = kept(res);
    assert.equal(next.helperId, null);
    assert.equal(next.currentState, null);
    assert.ok(res?.effects.some((e) => e.type === 'emit' && e.event === 'screen:stop'));
  });

  it('a helper on a live instance is left alone', () => {
    assert.equal(sweepRoom(sharing(), T0 + S, timers(), { isGone: () => false }), null);
  });
});
