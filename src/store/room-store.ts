/**
 * The room store seam. Memory is the default and the reference; Redis comes next behind the same
 * interface and the same contract suite (test/store-contract.ts). Each room change is one `update`:
 * the store hands the current record to a pure change function and stores its result atomically,
 * so concurrent changes to one room can never lose an update. Change functions must be pure: a
 * store may call one again with a fresher record (optimistic retries).
 */
import type { Failure } from '../domain/errors.ts';
import type { Change } from '../domain/outcome.ts';
import type { RoomRecord } from '../domain/types.ts';

export type ChangeFn<R> = (room: RoomRecord) => Change<R> | Failure | null;

/** `null` from the change function means "nothing to do": no write happens. */
export type UpdateResult<R> = Change<R> | Failure | null;

/** Room caps checked in the same atomic step as the insert (checked apart, parallel creates overshoot). */
export interface InsertCaps {
  maxRooms: number;
  /** Rooms whose `creatorIp` is the new room's. */
  maxPerIp: number;
}

export type InsertResult = 'inserted' | 'id_taken' | 'too_many_rooms';

export interface RoomStore {
  readonly kind: 'memory' | 'redis';
  get(roomId: string): Promise<RoomRecord | undefined>;
  /** Every room. Used by `room:list`, `/stats` and the sweep. */
  list(): Promise<RoomRecord[]>;
  /** Adds a room, unless its id is taken or a cap is reached (then nothing is written). */
  insert(room: RoomRecord, caps?: InsertCaps): Promise<InsertResult>;
  /** Applies one change atomically; `room_not_found` when the room does not exist. */
  update<R>(roomId: string, change: ChangeFn<R>): Promise<UpdateResult<R>>;
  count(): Promise<number>;
  countByCreatorIp(ip: string): Promise<number>;
  /** Can the store serve now? (Redis: is it reachable.) */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
