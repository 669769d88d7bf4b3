/**
 * The timers of PROTOCOL §8 as one pure function run at every sweep: members past their disconnect
 * grace go; an owner away too long first loses the room's state (once), then the room; a room
 * left empty by disconnects is deleted when its reconnect grace ends.
 */
import { changed, draft, toRoom, type Change } from './outcome.ts';
import type { DeleteReason, Effect, RoomRecord } from './types.ts';
import { connectedMembers } from './views.ts';

export interface SweepTimers {
  ownerStateTimeoutMs: number;
  ownerRoomTimeoutMs: number;
  emptyRoomGraceMs: number;
  memberGraceMs: number;
}

function deleted(room: RoomRecord, reason: DeleteReason, effects: Effect[]): Change {
  effects.push(toRoom(room.id, 'room:deleted', { reason }));
  effects.push({ type: 'dissolve', roomId: room.id, reason });
  return changed(null, effects);
}

/** Returns the change to apply, or null when nothing is due (no store write needed). */
export function sweepRoom(room: RoomRecord, now: number, t: SweepTimers): Change | null {
  const effects: Effect[] = [];
  let next: RoomRecord | null = null;
  const work = () => (next ??= draft(room));

  const expired = room.members.filter((m) => m.presence.status === 'away' && now - m.presence.since >= t.memberGraceMs);
  if (expired.length > 0) {
    const gone = new Set(expired.map((m) => m.id));
    work().members = room.members.filter((m) => !gone.has(m.id));
    for (const m of expired) effects.push(toRoom(room.id, 'room:member-left', m.id));
  }
  const current: RoomRecord = next ?? room;

  if (current.emptySince !== null && connectedMembers(current).length === 0) {
    if (now - current.emptySince >= t.emptyRoomGraceMs) return deleted(current, 'empty', effects);
  }
  if (current.ownerAwaySince !== null) {
    const away = now - current.ownerAwaySince;
    if (away >= t.ownerRoomTimeoutMs) return deleted(current, 'owner_timeout', effects);
    if (away >= t.ownerStateTimeoutMs && current.currentState !== null && !current.stateClearedForAbsence) {
      const w = work();
      w.currentState = null;
      w.stateUpdatedAt = now;
      w.stateClearedForAbsence = true;
      effects.push(toRoom(room.id, 'state:cleared'));
    }
  }
  return next ? changed(next, effects) : null;
}
