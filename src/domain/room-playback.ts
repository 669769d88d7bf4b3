/**
 * Playback, live, music and screen state (PROTOCOL §5.5-§5.12, §5.19) as pure functions. Who may
 * do what follows §4: the owner sets state; members may play, pause and seek when the room's policy
 * is shared control; music events are never echoed to the sender; screen events go to the whole room.
 */
import { fail } from './errors.ts';
import { changed, draft, isConnectedMember, isOwner, toOthers, toRoom, type Outcome } from './outcome.ts';
import type { RoomRecord } from './types.ts';
import type { CurrentState, MusicSyncState, PlayState, LiveState, ScreenState } from '../wire/schemas.ts';

function withState(room: RoomRecord, state: CurrentState | null, now: number): RoomRecord {
  const next = draft(room);
  next.currentState = state;
  next.stateUpdatedAt = now;
  return next;
}

/** §5.5, §5.6, §5.9: owner only; stored as `currentState` and relayed to-others. */
export function setPlaybackState(
  room: RoomRecord,
  socketId: string,
  event: 'play:update' | 'play:change' | 'live:change',
  state: PlayState | LiveState,
  now: number,
): Outcome {
  if (!isOwner(room, socketId)) return fail(isConnectedMember(room, socketId) ? 'not_owner' : 'not_in_room');
  return changed(withState(room, state, now), [toOthers(room.id, socketId, event, state)]);
}

function mayControl(room: RoomRecord, socketId: string): Outcome | null {
  if (!isConnectedMember(room, socketId)) return fail('not_in_room');
  if (room.playbackControl === 'owner' && room.ownerId !== socketId) return fail('not_owner');
  return null;
}

/** The stored play position "now", for a playing state (the stored value may be seconds old). */
function positionNow(s: PlayState, since: number, now: number): number {
  return s.isPlaying ? s.currentTime + Math.max(0, now - since) / 1000 : s.currentTime;
}

/** §5.7: `play:play` / `play:pause` by a member (shared control) or the owner; relayed to-others. */
export function setPlaying(room: RoomRecord, socketId: string, playing: boolean, now: number): Outcome {
  const denied = mayControl(room, socketId);
  if (denied) return denied;
  const s = room.currentState;
  const event = playing ? 'play:play' : 'play:pause';
  if (s?.type !== 'play') return changed(room, [toOthers(room.id, socketId, event)]);
  const next = withState(room, { ...s, currentTime: positionNow(s, room.stateUpdatedAt, now), isPlaying: playing }, now);
  return changed(next, [toOthers(room.id, socketId, event)]);
}

/** §5.8: `play:seek` to a finite, non-negative second; relayed to-others. */
export function seek(room: RoomRecord, socketId: string, time: number, now: number): Outcome {
  const denied = mayControl(room, socketId);
  if (denied) return denied;
  const s = room.currentState;
  const effects = [toOthers(room.id, socketId, 'play:seek', time)];
  if (s?.type !== 'play') return changed(room, effects);
  return changed(withState(room, { ...s, currentTime: time }, now), effects);
}

export type MusicEvent = 'music:change' | 'music:update' | 'music:play' | 'music:pause' | 'music:seek' | 'music:queue';

/** §5.10: owner of a music room; `music:play`/`music:pause` force `isPlaying`; never echoed. */
export function musicEvent(
  room: RoomRecord,
  socketId: string,
  event: MusicEvent,
  state: MusicSyncState,
  now: number,
): Outcome {
  if (!isOwner(room, socketId)) return fail(isConnectedMember(room, socketId) ? 'not_owner' : 'not_in_room');
  if (room.roomType !== 'music') return fail('not_owner');
  const stored: MusicSyncState =
    event === 'music:play' ? { ...state, isPlaying: true } : event === 'music:pause' ? { ...state, isPlaying: false } : state;
  return changed(withState(room, stored, now), [toOthers(room.id, socketId, event, stored)]);
}

function screenActor(room: RoomRecord, socketId: string): boolean {
  return isOwner(room, socketId) || room.helperId === socketId;
}

/** §5.11: owner or helper; stored and relayed to the whole room (the owner's UI needs the echo). */
export function screenStart(room: RoomRecord, socketId: string, state: ScreenState, now: number): Outcome {
  if (!screenActor(room, socketId)) return fail(isConnectedMember(room, socketId) ? 'not_owner' : 'not_in_room');
  return changed(withState(room, state, now), [toRoom(room.id, 'screen:start', state)]);
}

/** §5.12: owner or helper; clears the state, relayed to the whole room. */
export function screenStop(room: RoomRecord, socketId: string, now: number): Outcome {
  if (!screenActor(room, socketId)) return fail(isConnectedMember(room, socketId) ? 'not_owner' : 'not_in_room');
  return changed(withState(room, null, now), [toRoom(room.id, 'screen:stop')]);
}

/** §5.19: owner only; `state:cleared` to-others. */
export function clearState(room: RoomRecord, socketId: string, now: number): Outcome {
  if (!isOwner(room, socketId)) return fail(isConnectedMember(room, socketId) ? 'not_owner' : 'not_in_room');
  return changed(withState(room, null, now), [toOthers(room.id, socketId, 'state:cleared')]);
}
