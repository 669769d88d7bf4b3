/**
 * The in-memory room store: the default and the reference implementation. Updates run the change
 * function synchronously on the current record, so they are atomic by construction.
 */
import { fail } from '../domain/errors.ts';
import type { RoomRecord } from '../domain/types.ts';
import type { ChangeFn, RoomStore, UpdateResult, InsertCaps, InsertResult } from './room-store.ts';

export class MemoryRoomStore implements RoomStore {
  readonly kind = 'memory' as const;
  private readonly rooms = new Map<string, RoomRecord>();
  private readonly perIp = new Map<string, number>();

  get(roomId: string): Promise<RoomRecord | undefined> {
    return Promise.resolve(this.rooms.get(roomId));
  }

  list(): Promise<RoomRecord[]> {
    return Promise.resolve([...this.rooms.values()]);
  }

  insert(room: RoomRecord, caps?: InsertCaps): Promise<InsertResult> {
    if (this.rooms.has(room.id)) return Promise.resolve('id_taken');
    if (caps && (this.rooms.size >= caps.maxRooms || (this.perIp.get(room.creatorIp) ?? 0) >= caps.maxPerIp)) {
      return Promise.resolve('too_many_rooms');
    }
    this.set(room);
    return Promise.resolve('inserted');
  }

  update<R>(roomId: string, change: ChangeFn<R>): Promise<UpdateResult<R>> {
    const room = this.rooms.get(roomId);
    if (!room) return Promise.resolve(fail('room_not_found'));
    const result = change(room);
    if (result?.ok) {
      if (result.room) this.set(result.room);
      else this.remove(roomId);
    }
    return Promise.resolve(result);
  }

  count(): Promise<number> {
    return Promise.resolve(this.rooms.size);
  }

  countByCreatorIp(ip: string): Promise<number> {
    return Promise.resolve(this.perIp.get(ip) ?? 0);
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private set(room: RoomRecord): void {
    const old = this.rooms.get(room.id);
    if (!old) this.perIp.set(room.creatorIp, (this.perIp.get(room.creatorIp) ?? 0) + 1);
    this.rooms.set(room.id, room);
  }

  private remove(roomId: string): void {
    const old = this.rooms.get(roomId);
    if (!old) return;
    this.rooms.delete(roomId);
    const n = (this.perIp.get(old.creatorIp) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(old.creatorIp);
    else this.perIp.set(old.creatorIp, n);
  }
}
