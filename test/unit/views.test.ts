/**
 * What leaves the server (PROTOCOL §6, §10.1): room and member views built from the stored record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRoom, disconnectMember, joinRoom, type NewRoom } from '../../src/domain/room-lifecycle.ts';
import { musicEvent, setPlaybackState, setPlaying } from '../../src/domain/room-playback.ts';
import type { RoomRecord } from '../../src/domain/types.ts';
import { memberView, memberViews, PASSWORD_PLACEHOLDER, roomView, stateForJoiner } from '../../src/domain/views.ts';
import type { LiveState, MusicSyncState, PlayState } from '../../src/wire/schemas.ts';
import { freeze, kept } from '../helpers/domain.ts';

const T0 = 1_700_000_000_000;
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

function fixture(over: Partial<NewRoom> = {}, members: string[] = ['a']): RoomRecord {
  let r = freeze(
    createRoom(
      {
        id: 'ROOM01', name: 'Movie', description: 'd', isPublic: true, roomType: 'sync', playbackControl: 'shared',
        passwordHash: null, ownerTokenHash: 'f00dfeed', ownerId: 'owner', ownerName: 'Olivia', creatorIp: '203.0.113.9', ...over,
      },
      T0,
    ),
  );
  for (const m of members) r = kept(joinRoom(r, { socketId: m, userName: m, reclaim: false, passwordOk: true }, T0, 50));
  return r;
}
const play = (over: Partial<PlayState> = {}): PlayState => ({
  type: 'play', url: 'u', currentTime: 100, isPlaying: true, videoId: 'v', videoName: 'V', source: 's', ...over,
});

describe('roomView: secrets (PROTOCOL §6, §10.1)', () => {
  it('a protected room carries the fixed placeholder and hasPassword, never the hash', () => {
    const view = roomView(fixture({ passwordHash: HASH }), T0);
    assert.equal(view.password, PASSWORD_PLACEHOLDER);
    assert.ok(typeof view.password === 'string' && view.password.length > 0);
    assert.equal(view.hasPassword, true);
    const other = roomView(fixture({ passwordHash: 'scrypt$1$2$3$x$y' }), T0);
    assert.equal(other.password, view.password, 'the placeholder does not depend on the password');
    const json = JSON.stringify(view);
    for (const secret of [HASH, 'c2FsdHNhbHQ', 'aGFzaGhhc2hoYXNo', 'f00dfeed', '203.0.113.9']) assert.ok(!json.includes(secret), secret);
  });

  it('an open room has neither password nor hasPassword, and exactly the documented fields', () => {
    const view = roomView(fixture(), T0 + 1);
    assert.deepEqual(JSON.parse(JSON.stringify(view)), {
      id: 'ROOM01', name: 'Movie', description: 'd', isPublic: true, roomType: 'sync', ownerId: 'owner', ownerName: 'Olivia',
      memberCount: 2, currentState: null, createdAt: T0, lastOwnerHeartbeat: T0, playbackControl: 'shared',
    });
    assert.ok(!('password' in view) && !('hasPassword' in view) && !('ownerToken' in view));
  });

  it('ownerToken appears only when the caller passes it (owner acks)', () => {
    assert.equal(roomView(fixture(), T0, 'tok-123').ownerToken, 'tok-123');
    assert.ok(!('ownerToken' in roomView(fixture(), T0)));
    assert.ok(!('ownerToken' in roomView(fixture(), T0, undefined)));
  });
});

describe('roomView / memberViews: members (PROTOCOL §5.21, §6)', () => {
  it('memberCount and the member list count connected members only', () => {
    let r = fixture({}, ['a', 'b', 'c']);
    r = kept(disconnectMember(r, 'a', T0 + 1, 5_000)); // away in its grace
    r = kept(disconnectMember(r, 'b', T0 + 1, 0)); // removed
    assert.equal(roomView(r, T0 + 2).memberCount, 2);
    assert.deepEqual(memberViews(r).map((m) => m.id), ['owner', 'c']);
    r = kept(disconnectMember(r, 'owner', T0 + 3, 0));
    assert.equal(roomView(r, T0 + 4).memberCount, 1);
  });

  it('isOwner is accurate before and after a reclaim, and views hold only public fields', () => {
    const r = fixture({}, ['a']);
    assert.deepEqual(memberViews(r), [
      { id: 'owner', name: 'Olivia', isOwner: true, lastHeartbeat: T0 },
      { id: 'a', name: 'a', isOwner: false, lastHeartbeat: T0 },
    ]);
    const after = kept(joinRoom(r, { socketId: 'o2', userName: 'Olivia', reclaim: true, passwordOk: false }, T0 + 5, 50));
    assert.deepEqual(memberViews(after).map((m) => [m.id, m.isOwner]), [['owner', false], ['a', false], ['o2', true]]);
    assert.equal(roomView(after, T0 + 5).ownerId, 'o2');
    assert.deepEqual(memberView(after, after.members[0]!), { id: 'owner', name: 'Olivia', isOwner: false, lastHeartbeat: T0 });
  });
});

describe('stateForJoiner (PROTOCOL §6)', () => {
  it('a playing PlayState is advanced to now; the stored room is untouched', () => {
    const r = kept(setPlaybackState(fixture(), 'owner', 'play:update', play({ currentTime: 100 }), T0));
    assert.deepEqual(stateForJoiner(r, T0 + 4_500), play({ currentTime: 104.5 }));
    assert.deepEqual(roomView(r, T0 + 2_000).currentState, play({ currentTime: 102 }));
    assert.equal((r.currentState as PlayState).currentTime, 100);
  });

  it('advances from the last stored write, not from creation', () => {
    const r = kept(setPlaybackState(fixture(), 'owner', 'play:update', play({ currentTime: 100 }), T0 + 10_000));
    assert.equal((stateForJoiner(r, T0 + 13_000) as PlayState).currentTime, 103);
    const resumed = kept(setPlaying(kept(setPlaying(r, 'a', false, T0 + 11_000)), 'a', true, T0 + 20_000));
    assert.equal((stateForJoiner(resumed, T0 + 21_000) as PlayState).currentTime, 102);
  });

  it('a paused PlayState is not advanced, nor is one when the clock runs backwards', () => {
    const paused = kept(setPlaybackState(fixture(), 'owner', 'play:update', play({ isPlaying: false }), T0));
    assert.deepEqual(stateForJoiner(paused, T0 + 60_000), play({ isPlaying: false }));
    const playing = kept(setPlaybackState(fixture(), 'owner', 'play:update', play(), T0 + 5_000));
    assert.equal((stateForJoiner(playing, T0) as PlayState).currentTime, 100);
  });

  it('a MusicSyncState and a LiveState are left as stored', () => {
    const song = { id: 's', name: 'n', artist: 'a', platform: 'p' };
    const m: MusicSyncState = {
      type: 'music', song, nextSong: null, currentTime: 30, isPlaying: true, quality: 'q', playMode: 'loop', updatedAt: T0,
    };
    const r = kept(musicEvent(fixture({ roomType: 'music' }), 'owner', 'music:update', m, T0));
    assert.deepEqual(stateForJoiner(r, T0 + 9_000), m);
    assert.deepEqual(roomView(r, T0 + 9_000).currentState, m);
    const live: LiveState = { type: 'live', channelId: 'c', channelName: 'n', channelUrl: 'u' };
    const l = kept(setPlaybackState(fixture(), 'owner', 'live:change', live, T0));
    assert.deepEqual(stateForJoiner(l, T0 + 9_000), live);
  });
});
