/**
 * Room lifecycle as pure functions: create, join (with owner reclaim), leave, disconnect, heartbeat
 * and the screen-share helper. `(room, command, now) -> new room + effects`, or a coded failure.
 * Secrets are checked by the caller (hashes are slow and async); the domain gets the verdicts.
 */
import { fail } from './errors.ts';
import {
  changed,
  draft,
  findMember,
  isConnectedMember,
  toOthers,
  toRoom,
  type Outcome,
} from './outcome.ts';
import type { Effect, MemberRecord, RoomRecord } from './types.ts';
import { connectedMembers, isConnected, memberView } from './views.ts';

export type NewRoom = Pick<
  RoomRecord,
  | 'id'
  | 'name'
  | 'description'
  | 'isPublic'
  | 'roomType'
  | 'playbackControl'
  | 'passwordHash'
  | 'ownerTokenHash'
  | 'ownerId'
  | 'ownerName'
  | 'creatorIp'
> & { instanceId?: string };

/** PROTOCOL §5.1: the creator becomes owner and first member. */
export function createRoom(input: NewRoom, now: number): RoomRecord {
  const { instanceId, ...fields } = input;
  return {
    ...fields,
    createdAt: now,
    lastOwnerHeartbeat: now,
    currentState: null,
    stateUpdatedAt: now,
    members: [newMember(input.ownerId, input.ownerName, now, instanceId)],
    helperId: null,
    ownerAwaySince: null,
    stateClearedForAbsence: false,
    emptySince: null,
  };
}

function newMember(id: string, name: string, now: number, instanceId?: string): MemberRecord {
  const m: MemberRecord = { id, name, joinedAt: now, lastHeartbeat: now, presence: { status: 'connected' } };
  if (instanceId !== undefined) m.instanceId = instanceId;
  return m;
}

export interface JoinCommand {
  socketId: string;
  userName: string;
  /** The presented owner token matched (checked in constant time by the caller). */
  reclaim: boolean;
  /** The presented password matched, or the room has none. */
  passwordOk: boolean;
  /** The instance holding the socket (a recovered socket may come back on another one). */
  instanceId?: string;
}

/**
 * PROTOCOL §5.2. Idempotent for a socket that is already a member; a valid owner token makes the
 * sender the owner and leaves a still-connected previous owner as a plain member (§10.8).
 */
export function joinRoom(
  room: RoomRecord,
  cmd: JoinCommand,
  now: number,
  maxMembers: number,
): Outcome<{ isOwner: boolean }> {
  const existing = findMember(room, cmd.socketId);
  const becomesOwner = cmd.reclaim && room.ownerId !== cmd.socketId;
  if (!existing) {
    if (!cmd.reclaim && !cmd.passwordOk) return fail('wrong_password');
    // The owner always gets back in, even into a full room (§5.21: ownership survives a drop).
    const ownerReturning = cmd.reclaim || room.ownerId === cmd.socketId;
    if (!ownerReturning && connectedMembers(room).length >= maxMembers) return fail('room_full');
  }

  const next = draft(room);
  const effects: Effect[] = [{ type: 'subscribe', socketId: cmd.socketId, roomId: room.id, role: 'member' }];
  const previousOwner = room.ownerId;
  let announce = !existing || !isConnected(existing) || existing.name !== cmd.userName;

  const member: MemberRecord = existing
    ? { ...existing, name: cmd.userName, presence: { status: 'connected' } }
    : newMember(cmd.socketId, cmd.userName, now, cmd.instanceId);
  if (cmd.instanceId !== undefined) member.instanceId = cmd.instanceId;
  next.members = existing
    ? next.members.map((m) => (m.id === cmd.socketId ? member : m))
    : [...next.members, member];

  if (becomesOwner) {
    next.ownerId = cmd.socketId;
    announce = true;
  }
  if (next.ownerId === cmd.socketId) {
    next.ownerName = cmd.userName;
    next.lastOwnerHeartbeat = now;
    next.ownerAwaySince = null;
    next.stateClearedForAbsence = false;
  }
  next.emptySince = null;

  if (announce) effects.push(toOthers(room.id, cmd.socketId, 'room:member-joined', memberView(next, member)));
  if (becomesOwner && isConnectedMember(room, previousOwner)) {
    // §5.2 / §10.8: the old owner socket stays, as a plain member, and everyone is told so.
    const old = findMember(next, previousOwner);
    if (old) effects.push(toOthers(room.id, cmd.socketId, 'room:member-joined', memberView(next, old)));
  }
  return changed(next, effects, { isOwner: next.ownerId === cmd.socketId });
}

/**
 * PROTOCOL §5.3. The owner's explicit leave disbands the room (§10.9); a member's leave removes it,
 * and the last member's explicit leave deletes the room at once (§8).
 */
export function leaveRoom(room: RoomRecord, socketId: string): Outcome {
  if (!findMember(room, socketId)) return fail('not_in_room');
  if (room.ownerId === socketId) {
    return changed(null, [
      toOthers(room.id, socketId, 'room:deleted', { reason: 'owner_left' }),
      { type: 'unsubscribe', socketId, roomId: room.id },
      { type: 'dissolve', roomId: room.id, reason: 'owner_left' },
    ]);
  }
  const next = draft(room);
  next.members = next.members.filter((m) => m.id !== socketId);
  const effects: Effect[] = [
    toOthers(room.id, socketId, 'room:member-left', socketId),
    { type: 'unsubscribe', socketId, roomId: room.id },
  ];
  if (connectedMembers(next).length === 0) {
    effects.push(toRoom(room.id, 'room:deleted', { reason: 'empty' }));
    effects.push({ type: 'dissolve', roomId: room.id, reason: 'empty' });
    return changed(null, effects);
  }
  return changed(next, effects);
}

/**
 * PROTOCOL §5.21: a dropped connection is not a leave. The member goes (now, or after the grace);
 * the owner keeps `ownerId` so that its token or a recovered connection takes the room back; a room
 * left empty by disconnects waits for the reconnect grace of §8 (§10.7).
 */
export function disconnectMember(room: RoomRecord, socketId: string, now: number, graceMs: number): Outcome {
  const member = findMember(room, socketId);
  const isHelper = room.helperId === socketId;
  if (!member && !isHelper) return fail('not_in_room');
  const next = draft(room);
  const effects: Effect[] = [];

  if (isHelper) {
    next.helperId = null;
    delete next.helperInstanceId;
    if (room.currentState?.type === 'screen' && room.currentState.status === 'sharing') {
      // §5.15: the helper that was sharing is gone.
      next.currentState = null;
      next.stateUpdatedAt = now;
      effects.push(toRoom(room.id, 'screen:stop'));
    }
  }
  if (member && isConnected(member)) {
    if (graceMs > 0) {
      next.members = next.members.map((m) => (m.id === socketId ? { ...m, presence: { status: 'away', since: now } } : m));
    } else {
      next.members = next.members.filter((m) => m.id !== socketId);
      effects.push(toOthers(room.id, socketId, 'room:member-left', socketId));
    }
    if (room.ownerId === socketId) next.ownerAwaySince = now;
    if (connectedMembers(next).length === 0) next.emptySince = now;
    next.timersCheckedAt = now; // a timer starts now (see room-sweep.ts)
  }
  return changed(next, effects);
}

/** PROTOCOL §5.20: refresh the member's heartbeat, and the room's owner heartbeat from the owner. */
export function heartbeat(room: RoomRecord, socketId: string, now: number): Outcome {
  const member = findMember(room, socketId);
  if (!member) return fail('not_in_room');
  const next = draft(room);
  next.members = next.members.map((m) => (m.id === socketId ? { ...m, lastHeartbeat: now } : m));
  if (room.ownerId === socketId) next.lastOwnerHeartbeat = now;
  return changed(next, []);
}

/** PROTOCOL §5.15: the token holder registers a screen-share helper for the room. */
export function registerHelper(room: RoomRecord, socketId: string, tokenValid: boolean, instanceId?: string): Outcome {
  if (!tokenValid) return fail('owner_check_failed');
  const next = draft(room);
  next.helperId = socketId;
  if (instanceId !== undefined) next.helperInstanceId = instanceId;
  else delete next.helperInstanceId;
  return changed(next, [{ type: 'subscribe', socketId, roomId: room.id, role: 'helper' }]);
}
