/**
 * What leaves the server (PROTOCOL §6). Every room or member a client sees is built here from an
 * explicit list of fields, so a secret added to RoomRecord can never leak by accident.
 */
import type { CurrentState } from '../wire/schemas.ts';
import type { MemberRecord, RoomRecord } from './types.ts';

/** The client only tests `password` for truthiness (lock icon); the real one never leaves (§6). */
export const PASSWORD_PLACEHOLDER = '********';

export interface RoomView {
  id: string;
  name: string;
  description: string;
  isPublic: boolean;
  roomType: RoomRecord['roomType'];
  ownerId: string;
  ownerName: string;
  memberCount: number;
  currentState: CurrentState | null;
  createdAt: number;
  lastOwnerHeartbeat: number;
  playbackControl: RoomRecord['playbackControl'];
  password?: string;
  hasPassword?: true;
  ownerToken?: string;
}

export interface MemberView {
  id: string;
  name: string;
  isOwner: boolean;
  lastHeartbeat: number;
}

export const isConnected = (m: MemberRecord) => m.presence.status === 'connected';

export function connectedMembers(room: RoomRecord): MemberRecord[] {
  return room.members.filter(isConnected);
}

/**
 * A playing PlayState is advanced to "now" for a joiner (§6); music keeps its own `updatedAt`
 * and everything else is returned as stored.
 */
export function stateForJoiner(room: RoomRecord, now: number): CurrentState | null {
  const s = room.currentState;
  if (!s || s.type !== 'play' || !s.isPlaying) return s;
  const elapsed = Math.max(0, now - room.stateUpdatedAt) / 1000;
  return { ...s, currentTime: s.currentTime + elapsed };
}

export function roomView(room: RoomRecord, now: number, ownerToken?: string): RoomView {
  const view: RoomView = {
    id: room.id,
    name: room.name,
    description: room.description,
    isPublic: room.isPublic,
    roomType: room.roomType,
    ownerId: room.ownerId,
    ownerName: room.ownerName,
    memberCount: connectedMembers(room).length,
    currentState: stateForJoiner(room, now),
    createdAt: room.createdAt,
    lastOwnerHeartbeat: room.lastOwnerHeartbeat,
    playbackControl: room.playbackControl,
  };
  if (room.passwordHash) {
    view.password = PASSWORD_PLACEHOLDER;
    view.hasPassword = true;
  }
  if (ownerToken) view.ownerToken = ownerToken;
  return view;
}

export function memberView(room: RoomRecord, m: MemberRecord): MemberView {
  return { id: m.id, name: m.name, isOwner: m.id === room.ownerId, lastHeartbeat: m.lastHeartbeat };
}

export function memberViews(room: RoomRecord): MemberView[] {
  return connectedMembers(room).map((m) => memberView(room, m));
}
