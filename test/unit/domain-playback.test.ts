/**
 * Pure unit tests of playback, live, music and screen state (PROTOCOL §4, §5.5-§5.12, §5.19) with a
 * fake clock. Input rooms are deep-frozen: a function that mutated its input would throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRoom, disconnectMember, joinRoom, registerHelper, type NewRoom } from '../../src/domain/room-lifecycle.ts';
import {
  clearState,
  musicEvent,
  screenStart,
  screenStop,
  seek,
  setPlaybackState,
  setPlaying,
  type MusicEvent,
} from '../../src/domain/room-playback.ts';
import type { Effect, RoomRecord } from '../../src/domain/types.ts';
import type { LiveState, MusicSyncState, PlayState, ScreenState } from '../../src/wire/schemas.ts';
import { freeze, ok, kept } from '../helpers/domain.ts';

const ID = 'ROOM01';
const T0 = 1_700_000_000_000;

/** Owner 'owner' and members 'a', 'b'. */
function fixture(over: Partial<NewRoom> = {}): RoomRecord {
  let r = freeze(
    createRoom(
      {
        id: ID, name: 'R', description: '', isPublic: true, roomType: 'sync', playbackControl: 'shared', passwordHash: null,
        ownerTokenHash: 'h', ownerId: 'owner', ownerName: 'Olivia', creatorIp: '10.0.0.1', ...over,
      },
      T0,
    ),
  );
  for (const id of ['a', 'b']) r = kept(joinRoom(r, { socketId: id, userName: id, reclaim: false, passwordOk: true }, T0, 50));
  return r;
}
const body = (payload: unknown) => (payload === undefined ? {} : { payload });
const wire = (effects: Effect[]): unknown => JSON.parse(JSON.stringify(effects));
const others = (except: string, event: string, payload?: unknown) => ({ type: 'emit', to: { kind: 'room', roomId: ID, except }, event, ...body(payload) });
const toRoom = (event: string, payload?: unknown) => ({ type: 'emit', to: { kind: 'room', roomId: ID }, event, ...body(payload) });
const refused = (code: string) => ({ ok: false, code });

const play = (over: Partial<PlayState> = {}): PlayState => ({
  type: 'play', url: 'https://v/1.m3u8', currentTime: 10, isPlaying: true, videoId: 'v1', videoName: 'Film',
  videoYear: '', searchTitle: '', episode: 1, source: 'src', ...over,
});
const live: LiveState = { type: 'live', channelId: 'c1', channelName: 'News', channelUrl: 'https://live/1' };
const music = (over: Partial<MusicSyncState> = {}): MusicSyncState => ({
  type: 'music', song: { id: 's1', name: 'Song', artist: 'Art', platform: 'qq' }, nextSong: null, currentTime: 3,
  isPlaying: false, quality: '320k', playMode: 'loop', updatedAt: 123, ...over,
});
const sharing: ScreenState = { type: 'screen', status: 'sharing', ownerName: 'Olivia', hasAudio: true, startedAt: 5 };
const withPlay = (r: RoomRecord, s: PlayState, now = T0) => kept(setPlaybackState(r, 'owner', 'play:change', s, now));

describe('setPlaybackState: owner only (PROTOCOL §5.5, §5.6, §5.9)', () => {
  for (const event of ['play:update', 'play:change'] as const) {
    it(`${event}: stored as currentState, relayed to-others with the same payload`, () => {
      const res = ok(setPlaybackState(fixture(), 'owner', event, play(), T0 + 50));
      assert.deepEqual(res.room!.currentState, play());
      assert.equal(res.room!.stateUpdatedAt, T0 + 50);
      assert.deepEqual(wire(res.effects), [others('owner', event, play())]);
    });
  }

  it('live:change: stored and relayed to-others', () => {
    const res = ok(setPlaybackState(fixture(), 'owner', 'live:change', live, T0));
    assert.deepEqual(res.room!.currentState, live);
    assert.deepEqual(wire(res.effects), [others('owner', 'live:change', live)]);
  });

  it('a member gets not_owner, a stranger not_in_room, a dropped owner not_in_room', () => {
    const r = fixture();
    assert.deepEqual(setPlaybackState(r, 'a', 'play:update', play(), T0), refused('not_owner'));
    assert.deepEqual(setPlaybackState(r, 'x', 'play:update', play(), T0), refused('not_in_room'));
    const dropped = kept(disconnectMember(r, 'owner', T0, 0));
    assert.deepEqual(setPlaybackState(dropped, 'owner', 'play:change', play(), T0), refused('not_in_room'));
  });
});

describe("setPlaying / seek under 'shared' control (PROTOCOL §5.7, §5.8)", () => {
  it('a member pauses: relayed to-others only; stored isPlaying false, position advanced to now', () => {
    const r = withPlay(fixture(), play({ currentTime: 10, isPlaying: true }));
    const res = ok(setPlaying(r, 'a', false, T0 + 4_000));
    assert.deepEqual(wire(res.effects), [others('a', 'play:pause')]);
    const s = res.room!.currentState as PlayState;
    assert.equal(s.isPlaying, false);
    assert.equal(s.currentTime, 14);
    assert.equal(res.room!.stateUpdatedAt, T0 + 4_000);
  });

  it('a member plays a paused state: isPlaying true, position unchanged', () => {
    const r = withPlay(fixture(), play({ currentTime: 10, isPlaying: false }));
    const res = ok(setPlaying(r, 'b', true, T0 + 9_000));
    assert.deepEqual(wire(res.effects), [others('b', 'play:play')]);
    assert.deepEqual(res.room!.currentState, play({ currentTime: 10, isPlaying: true }));
  });

  it('a member seeks: relayed to-others with the number; stored currentTime follows', () => {
    const r = withPlay(fixture(), play({ currentTime: 10, isPlaying: true }));
    const res = ok(seek(r, 'a', 42.5, T0 + 1_000));
    assert.deepEqual(wire(res.effects), [others('a', 'play:seek', 42.5)]);
    assert.equal((res.room!.currentState as PlayState).currentTime, 42.5);
    assert.equal(res.room!.stateUpdatedAt, T0 + 1_000);
  });

  it('with no PlayState stored the commands are still relayed and nothing is stored', () => {
    const r = fixture();
    const p = ok(setPlaying(r, 'a', true, T0));
    assert.deepEqual(wire(p.effects), [others('a', 'play:play')]);
    assert.equal(p.room!.currentState, null);
    const liveRoom = kept(setPlaybackState(r, 'owner', 'live:change', live, T0));
    const s = ok(seek(liveRoom, 'b', 7, T0));
    assert.deepEqual(wire(s.effects), [others('b', 'play:seek', 7)]);
    assert.deepEqual(s.room!.currentState, live);
  });

  it('a socket outside the room (or dropped) controls nothing', () => {
    const r = kept(disconnectMember(fixture(), 'a', T0, 5_000));
    assert.deepEqual(setPlaying(r, 'x', true, T0), refused('not_in_room'));
    assert.deepEqual(setPlaying(r, 'a', true, T0), refused('not_in_room'));
    assert.deepEqual(seek(r, 'a', 1, T0), refused('not_in_room'));
  });
});

describe("setPlaying / seek under 'owner' control (PROTOCOL §5.7, §5.8)", () => {
  it('members are refused with not_owner; the owner is relayed to-others', () => {
    const r = withPlay(fixture({ playbackControl: 'owner' }), play({ isPlaying: true }));
    assert.deepEqual(setPlaying(r, 'a', false, T0), refused('not_owner'));
    assert.deepEqual(seek(r, 'b', 3, T0), refused('not_owner'));
    const p = ok(setPlaying(r, 'owner', false, T0));
    assert.deepEqual(wire(p.effects), [others('owner', 'play:pause')]);
    assert.equal((p.room!.currentState as PlayState).isPlaying, false);
    assert.deepEqual(wire(ok(seek(r, 'owner', 3, T0)).effects), [others('owner', 'play:seek', 3)]);
  });
});

describe('musicEvent (PROTOCOL §5.10)', () => {
  const events: MusicEvent[] = ['music:change', 'music:update', 'music:play', 'music:pause', 'music:seek', 'music:queue'];
  for (const event of events) {
    it(`${event}: stored and relayed to-others, never to the sender`, () => {
      const sent = music({ isPlaying: event === 'music:pause' });
      const res = ok(musicEvent(fixture({ roomType: 'music' }), 'owner', event, sent, T0));
      const expected = event === 'music:play' ? { ...sent, isPlaying: true } : event === 'music:pause' ? { ...sent, isPlaying: false } : sent;
      assert.deepEqual(res.room!.currentState, expected);
      assert.deepEqual(wire(res.effects), [others('owner', event, expected)]);
    });
  }

  it('music:play forces isPlaying true, music:pause forces false', () => {
    const r = fixture({ roomType: 'music' });
    assert.equal((ok(musicEvent(r, 'owner', 'music:play', music({ isPlaying: false }), T0)).room!.currentState as MusicSyncState).isPlaying, true);
    assert.equal((ok(musicEvent(r, 'owner', 'music:pause', music({ isPlaying: true }), T0)).room!.currentState as MusicSyncState).isPlaying, false);
  });

  it('refused outside a music room and from members', () => {
    assert.equal(musicEvent(fixture({ roomType: 'sync' }), 'owner', 'music:update', music(), T0).ok, false);
    assert.deepEqual(musicEvent(fixture({ roomType: 'music' }), 'a', 'music:update', music(), T0), refused('not_owner'));
  });
});

describe('screenStart / screenStop (PROTOCOL §5.11, §5.12)', () => {
  it('the owner starts: stored, relayed to-room (the sender gets the echo)', () => {
    const res = ok(screenStart(fixture({ roomType: 'screen' }), 'owner', sharing, T0));
    assert.deepEqual(res.room!.currentState, sharing);
    assert.deepEqual(wire(res.effects), [toRoom('screen:start', sharing)]);
  });

  it('the registered helper (not a member) may start and stop', () => {
    const r = kept(registerHelper(fixture({ roomType: 'screen' }), 'h', true));
    const started = kept(screenStart(r, 'h', sharing, T0));
    const res = ok(screenStop(started, 'h', T0 + 1));
    assert.equal(res.room!.currentState, null);
    assert.deepEqual(wire(res.effects), [toRoom('screen:stop')]);
  });

  it('members and strangers may not', () => {
    const r = kept(screenStart(fixture({ roomType: 'screen' }), 'owner', sharing, T0));
    assert.deepEqual(screenStart(r, 'a', sharing, T0), refused('not_owner'));
    assert.deepEqual(screenStop(r, 'a', T0), refused('not_owner'));
    assert.deepEqual(screenStop(r, 'x', T0), refused('not_in_room'));
  });

  it('an owner away in its disconnect grace may not (it is not connected)', () => {
    const r = kept(disconnectMember(fixture({ roomType: 'screen' }), 'owner', T0, 5_000));
    assert.deepEqual(screenStart(r, 'owner', sharing, T0), refused('not_in_room'));
  });

  it('after a reclaim the old owner socket can no longer share (§4, §10.8)', () => {
    const r = kept(joinRoom(fixture(), { socketId: 'o2', userName: 'O', reclaim: true, passwordOk: false }, T0, 50));
    assert.deepEqual(screenStart(r, 'owner', sharing, T0), refused('not_owner'));
    assert.equal(ok(screenStart(r, 'o2', sharing, T0)).ok, true);
  });
});

describe('clearState (PROTOCOL §5.19)', () => {
  it('the owner clears: state null, state:cleared to-others', () => {
    const res = ok(clearState(withPlay(fixture(), play()), 'owner', T0 + 1));
    assert.equal(res.room!.currentState, null);
    assert.deepEqual(wire(res.effects), [others('owner', 'state:cleared')]);
  });

  it('a member gets not_owner and a stranger not_in_room', () => {
    const r = withPlay(fixture(), play());
    assert.deepEqual(clearState(r, 'a', T0), refused('not_owner'));
    assert.deepEqual(clearState(r, 'x', T0), refused('not_in_room'));
  });
});
