/**
 * The Redis room store: the same contract as the memory store (test/helpers/store-contract.ts),
 * for several instances sharing rooms and for rooms that outlive a restart.
 *
 * Key layout (prefix `REDIS_PREFIX`, default `wrs:`):
 *   {p}room:{id}    hash: `v` (version, integer), `d` (RoomRecord as JSON)
 *   {p}rooms        set of room ids
 *   {p}ip-rooms     hash: creator IP -> number of its rooms that exist
 *
 * Every change is one atomic step: the change function (pure) runs on the record read at version
 * v, and a Lua script writes the result only if the version is still v (optimistic concurrency);
 * otherwise the function runs again on the fresh record, a bounded number of times. Inserts and
 * deletes keep the id set and the per-IP counts in the same script.
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { fail } from '../domain/errors.ts';
import type { RoomRecord } from '../domain/types.ts';
import type { ChangeFn, InsertCaps, InsertResult, RoomStore, UpdateResult } from './room-store.ts';

/** KEYS: room, rooms, ip-rooms; ARGV: JSON, id, creator IP, max rooms, max per IP (-1: no cap). */
const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local maxRooms, maxPerIp = tonumber(ARGV[4]), tonumber(ARGV[5])
if maxRooms >= 0 and redis.call('SCARD', KEYS[2]) >= maxRooms then return -1 end
if maxPerIp >= 0 and tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0') >= maxPerIp then return -1 end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
return 1`;

/** KEYS: room, rooms, ip-rooms; ARGV: expected version, new JSON or '' to delete, id, creator IP. */
const WRITE = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
  if redis.call('HINCRBY', KEYS[3], ARGV[4], -1) <= 0 then redis.call('HDEL', KEYS[3], ARGV[4]) end
else
  redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
end
return 1`;

const MAX_TRIES = 32;

type Scripted = Redis & {
  wrsInsert(room: string, rooms: string, ipRooms: string, json: string, id: string, ip: string, maxRooms: number, maxPerIp: number): Promise<number>;
  wrsWrite(room: string, rooms: string, ipRooms: string, version: string, json: string, id: string, ip: string): Promise<number>;
};

export class RedisRoomStore implements RoomStore {
  readonly kind = 'redis' as const;
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly ownsClient = true,
  ) {
    redis.defineCommand('wrsInsert', { numberOfKeys: 3, lua: INSERT });
    redis.defineCommand('wrsWrite', { numberOfKeys: 3, lua: WRITE });
    this.redis = redis as Scripted;
  }

  private roomKey(id: string): string {
    return `${this.prefix}room:${id}`;
  }
  private get roomsKey(): string {
    return `${this.prefix}rooms`;
  }
  private get ipKey(): string {
    return `${this.prefix}ip-rooms`;
  }

  private async read(id: string): Promise<{ version: string; room: RoomRecord } | undefined> {
    const [v, d] = await this.redis.hmget(this.roomKey(id), 'v', 'd');
    if (v === null || v === undefined || !d) return undefined;
    return { version: v, room: JSON.parse(d) as RoomRecord };
  }

  async get(roomId: string): Promise<RoomRecord | undefined> {
    return (await this.read(roomId))?.room;
  }

  async list(): Promise<RoomRecord[]> {
    const ids = await this.redis.smembers(this.roomsKey);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.roomKey(id), 'd');
    const rows = (await pipe.exec()) ?? [];
    const rooms: RoomRecord[] = [];
    for (const [err, d] of rows) if (!err && typeof d === 'string') rooms.push(JSON.parse(d) as RoomRecord);
    return rooms;
  }

  async insert(room: RoomRecord, caps?: InsertCaps): Promise<InsertResult> {
    const r = await this.redis.wrsInsert(
      this.roomKey(room.id),
      this.roomsKey,
      this.ipKey,
      JSON.stringify(room),
      room.id,
      room.creatorIp,
      caps?.maxRooms ?? -1,
      caps?.maxPerIp ?? -1,
    );
    return r === 1 ? 'inserted' : r === 0 ? 'id_taken' : 'too_many_rooms';
  }

  async update<R>(roomId: string, change: ChangeFn<R>): Promise<UpdateResult<R>> {
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const current = await this.read(roomId);
      if (!current) return fail('room_not_found');
      const result = change(current.room);
      if (!result?.ok) return result;
      const json = result.room ? JSON.stringify(result.room) : '';
      const written = await this.redis.wrsWrite(
        this.roomKey(roomId),
        this.roomsKey,
        this.ipKey,
        current.version,
        json,
        roomId,
        current.room.creatorIp,
      );
      if (written === 1) return result;
      if (written === -1) return fail('room_not_found');
      // Someone else wrote first: run the change again on the fresh record, after a short jitter.
      if (attempt > 2) await new Promise((r) => setTimeout(r, randomInt(5 * attempt)));
    }
    throw new Error(`room ${roomId}: too much contention (${MAX_TRIES} tries)`);
  }

  count(): Promise<number> {
    return this.redis.scard(this.roomsKey);
  }

  async countByCreatorIp(ip: string): Promise<number> {
    return Number((await this.redis.hget(this.ipKey, ip)) ?? 0);
  }

  async ready(): Promise<boolean> {
    // Answer at once while the client knows it is disconnected (load balancers time out quickly).
    if (this.redis.status !== 'ready') return false;
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit().catch(() => undefined);
  }
}
