/**
 * Relays that read the room but do not change it (PROTOCOL §5.13, §5.14, §5.16-§5.18): chat,
 * WebRTC signalling, viewer-ready and server-relay voice. Signalling never leaves the sender's room
 * (§10.4): the target must be a connected member of it, or its screen-share helper.
 */
import { fail } from './errors.ts';
import { findMember, isConnectedMember, isOwner, toRoom, toSocket, type Relay } from './outcome.ts';
import type { RoomRecord } from './types.ts';
import type { AudioChunk, ChatPayload } from '../wire/schemas.ts';

export interface ChatMessage {
  id: string;
  userId: string;
  userName: string;
  content: string;
  type: 'text' | 'emoji';
  timestamp: number;
}

/** §5.16: the server builds the message (own id, stored name, server time) and sends it to-room. */
export function chat(room: RoomRecord, socketId: string, msg: ChatPayload, messageId: string, now: number): Relay {
  const member = findMember(room, socketId);
  if (!member || !isConnectedMember(room, socketId)) return fail('not_in_room');
  const message: ChatMessage = {
    id: messageId,
    userId: socketId,
    userName: member.name,
    content: msg.content,
    type: msg.type,
    timestamp: now,
  };
  return { ok: true, effects: [toRoom(room.id, 'chat:message', message)] };
}

export type SignalEvent =
  | 'voice:offer'
  | 'voice:answer'
  | 'voice:ice'
  | 'screen:offer'
  | 'screen:answer'
  | 'screen:ice';

/** Is this socket part of the room for signalling: a connected member, or (screen) the helper. */
function inRoom(room: RoomRecord, socketId: string, allowHelper: boolean): boolean {
  return isConnectedMember(room, socketId) || (allowHelper && room.helperId === socketId);
}

/**
 * §5.14, §5.17: `{ targetUserId, ...rest }` goes to the target only, as `{ userId: sender, ...rest }`,
 * and only inside the sender's room.
 */
export function signal(
  room: RoomRecord,
  socketId: string,
  event: SignalEvent,
  payload: { targetUserId: string } & Record<string, unknown>,
): Relay {
  const screen = event.startsWith('screen:');
  if (!inRoom(room, socketId, screen)) return fail('not_in_room');
  const { targetUserId, ...rest } = payload;
  if (targetUserId === socketId || !inRoom(room, targetUserId, screen)) return fail('not_in_room');
  return { ok: true, effects: [toSocket(targetUserId, event, { ...rest, userId: socketId })] };
}

/** §5.13: a member tells the sharer (helper, else owner) it is ready, while a screen is shared. */
export function viewerReady(room: RoomRecord, socketId: string): Relay {
  if (!isConnectedMember(room, socketId)) return fail('not_in_room');
  const s = room.currentState;
  if (s?.type !== 'screen' || s.status !== 'sharing') return { ok: true, effects: [] };
  const sharer = room.helperId ?? (isOwner(room, room.ownerId) ? room.ownerId : null);
  if (!sharer || sharer === socketId) return { ok: true, effects: [] };
  return { ok: true, effects: [toSocket(sharer, 'screen:viewer-ready', { userId: socketId })] };
}

/** §5.18: relayed to-others as a volatile emit (drop rather than queue); `roomId` is ignored. */
export function audioChunk(room: RoomRecord, socketId: string, chunk: AudioChunk): Relay {
  if (!isConnectedMember(room, socketId)) return fail('not_in_room');
  const payload = { userId: socketId, audioData: chunk.audioData, sampleRate: chunk.sampleRate };
  return {
    ok: true,
    effects: [{ type: 'emit', to: { kind: 'room', roomId: room.id, except: socketId }, event: 'voice:audio-chunk', payload, volatile: true }],
  };
}
