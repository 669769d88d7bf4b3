/**
 * Shapes shared by every domain function: a change (new room, or null when it is gone, plus the
 * effects to carry out) or a coded failure; and small builders for effects.
 */
import type { Failure } from './errors.ts';
import type { Effect, MemberRecord, RoomRecord } from './types.ts';
import { isConnected } from './views.ts';

export interface Change<R = undefined> {
  ok: true;
  /** The room after the change; `null` when the change deleted it. */
  room: RoomRecord | null;
  effects: Effect[];
  result: R;
}

export type Outcome<R = undefined> = Change<R> | Failure;

/** A read-only command (relays): effects only, the room is untouched. */
export type Relay = { ok: true; effects: Effect[] } | Failure;

export function changed(room: RoomRecord | null, effects: Effect[]): Change;
export function changed<R>(room: RoomRecord | null, effects: Effect[], result: R): Change<R>;
export function changed<R>(room: RoomRecord | null, effects: Effect[], result?: R): Change<R | undefined> {
  return { ok: true, room, effects, result };
}

/** A shallow working copy: the caller replaces (never mutates) the members it changes. */
export function draft(room: RoomRecord): RoomRecord {
  return { ...room, members: room.members.slice() };
}

export function findMember(room: RoomRecord, socketId: string): MemberRecord | undefined {
  return room.members.find((m) => m.id === socketId);
}

export function isConnectedMember(room: RoomRecord, socketId: string): boolean {
  const m = findMember(room, socketId);
  return m !== undefined && isConnected(m);
}

/** The owner is the one connected member whose id is `ownerId` (PROTOCOL §4). */
export function isOwner(room: RoomRecord, socketId: string): boolean {
  return room.ownerId === socketId && isConnectedMember(room, socketId);
}

export const toOthers = (roomId: string, except: string, event: string, payload?: unknown): Effect => ({
  type: 'emit',
  to: { kind: 'room', roomId, except },
  event,
  payload,
});

export const toRoom = (roomId: string, event: string, payload?: unknown): Effect => ({
  type: 'emit',
  to: { kind: 'room', roomId },
  event,
  payload,
});

export const toSocket = (socketId: string, event: string, payload?: unknown): Effect => ({
  type: 'emit',
  to: { kind: 'socket', socketId },
  event,
  payload,
});
