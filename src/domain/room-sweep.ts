/**
 * The timers of PROTOCOL §8 as one pure function run at every sweep: members whose connection is
 * gone without a disconnect being handled (their instance died, §5.21) are dropped; members past
 * their disconnect grace go; an owner away too long first loses the room's state (once), then
 * the room; a room left empty by disconnects is deleted when its reconnect grace ends.
 *
 * Time when no instance was running does not count (§8): a room whose timers were last looked at
 * longer ago than `maxGapMs` has them moved forward by the gap, before they are judged.
 */
import { disconnectMember } from './room-lifecycle.ts';
import { changed, draft, toRoom, type Change } from './outcome.ts';
import type { DeleteReason, Effect, MemberRecord, RoomRecord } from './types.ts';
import { connectedMembers } from './views.ts';

export interface SweepTimers {
  ownerStateTimeoutMs: number;
  ownerRoomTimeoutMs: number;
  emptyRoomGraceMs: number;
  memberGraceMs: number;
  /** The sweep period, counted as running time even across a gap. */
  sweepIntervalMs?: number;
  /** A gap longer than this between two looks at a room's timers is downtime. */
  maxGapMs?: number;
}

export interface SweepContext {
  /** True for a connected member whose socket no longer exists anywhere (dead instance). */
  isGone?: (m: MemberRecord) => boolean;
}

function deleted(room: RoomRecord, reason: DeleteReason, effects: Effect[]): Change {
  effects.push(toRoom(room.id, 'room:deleted', { reason }));
  effects.push({ type: 'dissolve', roomId: room.id, reason });
  return changed(null, effects);
}

function hasPendingTimer(room: RoomRecord): boolean {
  return room.ownerAwaySince !== null || room.emptySince !== null || room.members.some((m) => m.presence.status === 'away');
}

/** Moves every running timer forward by `shift` ms (downtime, §8). */
function shifted(room: RoomRecord, shift: number): RoomRecord {
  const next = draft(room);
  if (next.ownerAwaySince !== null) next.ownerAwaySince += shift;
  if (next.emptySince !== null) next.emptySince += shift;
  next.members = next.members.map((m) =>
    m.presence.status === 'away' ? { ...m, presence: { status: 'away', since: m.presence.since + shift } } : m,
  );
  return next;
}

/** Returns the change to apply, or null when nothing is due (no store write needed). */
export function sweepRoom(room: RoomRecord, now: number, t: SweepTimers, ctx: SweepContext = {}): Change | null {
  const effects: Effect[] = [];
  let next: RoomRecord | null = null;
  const work = () => (next ??= draft(room));

  // Downtime first, on the timers that were running before it (the ones started below, by
  // members found gone, start now and must not be shifted).
  const last = room.timersCheckedAt;
  if (hasPendingTimer(room) && t.maxGapMs !== undefined && last !== undefined && now - last > t.maxGapMs) {
    next = shifted(room, now - last - (t.sweepIntervalMs ?? 0));
  }

  // Connections that vanished without a handled disconnect: handled as a disconnect now.
  const gone = ctx.isGone ? room.members.filter((m) => m.presence.status === 'connected' && ctx.isGone?.(m)) : [];
  for (const m of gone) {
    const res = disconnectMember(next ?? room, m.id, now, t.memberGraceMs);
    if (res.ok && res.room) {
      next = res.room;
      effects.push(...res.effects);
    }
  }
  // The screen-share helper is not a member but can vanish the same way (§5.15).
  const helper = (next ?? room).helperId;
  if (helper && ctx.isGone && !room.members.some((m) => m.id === helper)) {
    const ghost = { id: helper, name: '', joinedAt: 0, lastHeartbeat: 0, presence: { status: 'connected' as const } };
    if (ctx.isGone({ ...ghost, ...(room.helperInstanceId ? { instanceId: room.helperInstanceId } : {}) })) {
      const res = disconnectMember(next ?? room, helper, now, t.memberGraceMs);
      if (res.ok && res.room) {
        next = res.room;
        effects.push(...res.effects);
      }
    }
  }
  if (t.maxGapMs !== undefined && hasPendingTimer(next ?? room)) work().timersCheckedAt = now;

  const expired = (next ?? room).members.filter(
    (m) => m.presence.status === 'away' && now - m.presence.since >= t.memberGraceMs,
  );
  if (expired.length > 0) {
    const ids = new Set(expired.map((m) => m.id));
    const w = work();
    w.members = w.members.filter((m) => !ids.has(m.id));
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
