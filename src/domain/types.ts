/**
 * The room as the server keeps it: plain, JSON-serialisable data (the Redis store keeps exactly
 * this). What clients see is built from it in `views.ts`; secrets never leave through there.
 */
import type { CurrentState } from '../wire/schemas.ts';

export type RoomType = 'sync' | 'screen' | 'music';
export type PlaybackControl = 'shared' | 'owner';

/** Member lifecycle as a tagged union (STYLE: tldraw). `away` only exists with a disconnect grace. */
export type Presence = { status: 'connected' } | { status: 'away'; since: number };

export interface MemberRecord {
  id: string; // socket id (PROTOCOL §2.1)
  name: string; // display text only (§2.2)
  joinedAt: number;
  lastHeartbeat: number;
  presence: Presence;
  /** The server instance holding this member's socket (several instances on Redis). */
  instanceId?: string;
}

export interface RoomRecord {
  id: string;
  name: string;
  description: string;
  isPublic: boolean;
  roomType: RoomType;
  playbackControl: PlaybackControl;
  /** `scrypt$N$salt$hash`, or null for an open room. Never sent (§6). */
  passwordHash: string | null;
  /** sha256 of the owner token, hex. The token itself is only ever held by the owner (§6). */
  ownerTokenHash: string;
  ownerId: string;
  ownerName: string;
  createdAt: number;
  lastOwnerHeartbeat: number;
  currentState: CurrentState | null;
  /** When `currentState` was last written, to advance a playing PlayState for joiners (§6). */
  stateUpdatedAt: number;
  members: MemberRecord[];
  /** Socket registered with `screen:helper-register` (§5.15). */
  helperId: string | null;
  /** The instance holding the helper's socket (so a crashed instance's helper is noticed). */
  helperInstanceId?: string;
  /** When the owner stopped being connected; null while the owner is present (§8). */
  ownerAwaySince: number | null;
  /** True once `state:cleared` was sent for the current absence (§8 "once"). */
  stateClearedForAbsence: boolean;
  /** When the last connected member disconnected; null while anyone is connected (§8). */
  emptySince: number | null;
  /** Address that created the room, for the per-IP room cap. Never sent. */
  creatorIp: string;
  /**
   * When the §8 timers of this room were last looked at. A longer gap than the sweep allows means
   * no instance was running; that time is not counted (§8: restarts never expire a room).
   */
  timersCheckedAt?: number;
}

/** Where an emit goes (PROTOCOL §4). */
export type Target =
  | { kind: 'room'; roomId: string; except?: string }
  | { kind: 'socket'; socketId: string };

/**
 * What the transport must do after a domain change. The domain never touches a socket: it returns
 * these and the gateway carries them out.
 */
export type Effect =
  | { type: 'emit'; to: Target; event: string; payload?: unknown; volatile?: boolean }
  /** Put a socket into the room's broadcast group, as a member or as the screen-share helper. */
  | { type: 'subscribe'; socketId: string; roomId: string; role: 'member' | 'helper' }
  /** Take a socket out of the room's broadcast group. */
  | { type: 'unsubscribe'; socketId: string; roomId: string }
  /** The room is gone: empty its broadcast group everywhere. */
  | { type: 'dissolve'; roomId: string; reason: DeleteReason };

export type DeleteReason = 'owner_left' | 'owner_timeout' | 'empty' | 'closed';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
