/**
 * The application layer between the gateway and the pure room domain: it loads rooms from the
 * store, checks secrets (async scrypt, constant-time token checks), applies one domain change per
 * store operation, and hands back the ack and the effects for the gateway to carry out.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { fail, type Failure } from '../domain/errors.ts';
import { findMember, isConnectedMember, type Relay } from '../domain/outcome.ts';
import { createRoom, disconnectMember, heartbeat, joinRoom, leaveRoom, registerHelper } from '../domain/room-lifecycle.ts';
import type { Clock, Effect, RoomRecord } from '../domain/types.ts';
import { memberViews, roomView } from '../domain/views.ts';
import { MemorySharedLimiter, type SharedRateLimiter } from '../gateway/rate-limit.ts';
import type { IdSource } from '../security/random.ts';
import { hashPassword, hashToken, tokenMatches, verifyPassword } from '../security/secrets.ts';
import type { ChangeFn, RoomStore } from '../store/room-store.ts';
import { CreatesInFlight, type InFlight } from './creates-in-flight.ts';
import type { RoomCreatePayload, RoomJoinPayload, HelperRegisterPayload } from '../wire/schemas.ts';

/** What the gateway knows about the socket a command comes from. */
export interface Actor {
  socketId: string;
  ip: string;
  /** The room this socket joined last (a hint: the store's member list is the truth). */
  roomId: string | undefined;
  /** The room this socket is the screen-share helper of. */
  helperRoomId: string | undefined;
  /** The owner token this socket holds (from its create or reclaim), to answer repeat joins (§5.2). */
  ownerToken: string | undefined;
  userName: string | undefined;
}

export type ServiceResult =
  | { ok: true; effects: Effect[]; ack?: unknown; ownerToken?: string; userName?: string }
  | Failure;

const MAX_ID_TRIES = 8;

export class RoomService {
  private readonly guessesPerRoomIp: SharedRateLimiter;
  private readonly guessesPerIp: SharedRateLimiter;
  private readonly creating = new CreatesInFlight();

  constructor(
    readonly store: RoomStore,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly log: Logger,
    guessLimiters?: { perRoomIp: SharedRateLimiter; perIp: SharedRateLimiter },
  ) {
    this.guessesPerRoomIp = guessLimiters?.perRoomIp ?? new MemorySharedLimiter(config.rates.passwordPerRoomIp, clock);
    this.guessesPerIp = guessLimiters?.perIp ?? new MemorySharedLimiter(config.rates.passwordPerIp, clock);
  }

  /** §5.1: caps first, then the new room; a socket already in a room leaves it (§5.3 rules). */
  async create(actor: Actor, p: RoomCreatePayload): Promise<ServiceResult> {
    const flight = this.creating.begin(actor.ip);
    try {
      return await this.createRoom(actor, p, flight);
    } finally {
      flight.done();
    }
  }

  /** `flight` is done as soon as the insert has answered: the room is then counted by the store. */
  private async createRoom(actor: Actor, p: RoomCreatePayload, flight: InFlight): Promise<ServiceResult> {
    const { rooms } = this.config;
    // Checked early, counting the creates on their way ahead of this one, to spare the password
    // hash; and again atomically by the insert. Each store count is read before the in-flight
    // figure, and a create stops being in flight as soon as its insert answers: one that lands in
    // between is counted once or not at all (the insert then decides), never twice.
    const stored = await this.store.count();
    if (stored + flight.ahead() >= rooms.maxRooms) return fail('too_many_rooms');
    const storedFromIp = await this.store.countByCreatorIp(actor.ip);
    if (storedFromIp + flight.aheadFromIp() >= rooms.maxRoomsPerIp) return fail('too_many_rooms');
    const caps = { maxRooms: rooms.maxRooms, maxPerIp: rooms.maxRoomsPerIp };

    const passwordHash = p.password ? await hashPassword(p.password) : null;
    const ownerToken = this.ids.ownerToken();
    const now = this.clock.now();
    for (let i = 0; i < MAX_ID_TRIES; i++) {
      const room = createRoom(
        {
          id: this.ids.roomId(),
          name: p.name,
          description: p.description,
          isPublic: p.isPublic,
          roomType: p.roomType,
          playbackControl: p.playbackControl ?? rooms.defaultPlaybackControl,
          passwordHash,
          ownerTokenHash: hashToken(ownerToken),
          ownerId: actor.socketId,
          ownerName: p.userName,
          creatorIp: actor.ip,
          instanceId: this.config.instanceId,
        },
        now,
      );
      const inserted = await this.store.insert(room, caps);
      if (inserted === 'id_taken') continue; // id collision (§6): draw again
      flight.done(); // the store counts it now (or refused it)
      if (inserted === 'too_many_rooms') return fail('too_many_rooms');
      this.log.info({ roomId: room.id, socketId: actor.socketId, roomType: room.roomType }, 'room created');
      const effects: Effect[] = [{ type: 'subscribe', socketId: actor.socketId, roomId: room.id, role: 'member' }];
      if (actor.roomId && actor.roomId !== room.id) effects.unshift(...(await this.leaveEffects(actor, actor.roomId)));
      return {
        ok: true,
        effects,
        ack: { success: true, room: roomView(room, now, ownerToken) },
        ownerToken,
        userName: p.userName,
      };
    }
    this.log.error({ tries: MAX_ID_TRIES }, 'could not draw a free room id');
    return fail('internal');
  }

  /** §5.2: password, reclaim, idempotence; a socket in another room leaves it once this join holds. */
  async join(actor: Actor, p: RoomJoinPayload): Promise<ServiceResult> {
    const room = await this.store.get(p.roomId);
    if (!room) return fail('room_not_found');
    const reclaim = tokenMatches(p.ownerToken, room.ownerTokenHash);
    let passwordOk = !room.passwordHash || isConnectedMember(room, actor.socketId) || room.ownerId === actor.socketId;
    if (!reclaim && !passwordOk && room.passwordHash) {
      const checked = await this.checkPassword(actor.ip, room, p.password);
      if (checked !== true) return checked;
      passwordOk = true;
    }
    const now = this.clock.now();
    const maxMembers = this.config.rooms.maxMembers;
    const res = await this.update(room.id, (r) =>
      joinRoom(r, { socketId: actor.socketId, userName: p.userName, reclaim, passwordOk, instanceId: this.config.instanceId }, now, maxMembers),
    );
    if (!res.ok) return res;
    const next = res.room ?? room;
    const token = res.result.isOwner
      ? reclaim
        ? p.ownerToken
        : tokenMatches(actor.ownerToken, room.ownerTokenHash)
          ? actor.ownerToken
          : undefined
      : undefined;
    const effects = res.effects;
    if (actor.roomId && actor.roomId !== room.id) effects.unshift(...(await this.leaveEffects(actor, actor.roomId)));
    return {
      ok: true,
      effects,
      ack: { success: true, room: roomView(next, now, token), members: memberViews(next) },
      ownerToken: token,
      userName: p.userName,
    };
  }

  private async checkPassword(ip: string, room: RoomRecord, password: string | undefined): Promise<true | Failure> {
    const key = `${ip}\u0000${room.id}`;
    // A token is spent before the (slow, off-thread) check and given back when the password is
    // right: checking first and spending after let parallel guesses all pass the check (issue 5).
    const [perRoom, perIp] = await Promise.all([this.guessesPerRoomIp.take(key), this.guessesPerIp.take(ip)]);
    const refund = () => Promise.all([perRoom && this.guessesPerRoomIp.give(key), perIp && this.guessesPerIp.give(ip)]);
    if (!perRoom || !perIp) {
      await refund();
      return fail('too_many_attempts');
    }
    if (password && room.passwordHash && (await verifyPassword(password, room.passwordHash))) {
      await refund();
      return true;
    }
    return fail('wrong_password');
  }

  /** §5.3. */
  async leave(actor: Actor): Promise<ServiceResult> {
    if (!actor.roomId) return fail('not_in_room');
    return { ok: true, effects: await this.leaveEffects(actor, actor.roomId) };
  }

  private async leaveEffects(actor: Actor, roomId: string): Promise<Effect[]> {
    const res = await this.update(roomId, (r) => leaveRoom(r, actor.socketId));
    return res.ok ? res.effects : [];
  }

  /** §5.4: public rooms, redacted (§6, §10.1), newest first, bounded. */
  async list(): Promise<unknown[]> {
    const now = this.clock.now();
    const rooms = (await this.store.list()).filter((r) => r.isPublic);
    rooms.sort((a, b) => b.createdAt - a.createdAt);
    return rooms.slice(0, this.config.rooms.maxListed).map((r) => roomView(r, now));
  }

  /** §5.21: a dropped connection is not a leave. */
  async disconnect(actor: Actor): Promise<Effect[]> {
    const now = this.clock.now();
    const grace = this.config.timers.memberGraceMs;
    const effects: Effect[] = [];
    for (const roomId of new Set([actor.roomId, actor.helperRoomId])) {
      if (!roomId) continue;
      const res = await this.update(roomId, (r) => disconnectMember(r, actor.socketId, now, grace));
      if (res.ok) effects.push(...res.effects);
    }
    return effects;
  }

  /**
   * §5.21 with connection state recovery: the socket kept its id; if it is no longer a member
   * (it was removed at disconnect) it comes back as the same member with its role.
   */
  async recover(actor: Actor): Promise<Effect[]> {
    if (!actor.roomId || !actor.userName) return [];
    const roomId = actor.roomId;
    const gone: Effect[] = [{ type: 'unsubscribe', socketId: actor.socketId, roomId }];
    const room = await this.store.get(roomId);
    if (!room) return gone;
    const member = findMember(room, actor.socketId);
    // Still a connected member on this very instance: nothing to restore.
    if (member && isConnectedMember(room, actor.socketId) && member.instanceId === this.config.instanceId) return [];
    const now = this.clock.now();
    const reclaim = room.ownerId === actor.socketId;
    const cmd = {
      socketId: actor.socketId,
      userName: member?.name ?? actor.userName,
      reclaim,
      passwordOk: true,
      instanceId: this.config.instanceId,
    };
    const res = await this.update(roomId, (r) => joinRoom(r, cmd, now, this.config.rooms.maxMembers));
    return res.ok ? res.effects : gone;
  }

  /** §5.20: refresh heartbeats; the pong is the gateway's. */
  async heartbeat(actor: Actor): Promise<void> {
    if (!actor.roomId) return;
    const now = this.clock.now();
    await this.update(actor.roomId, (r) => heartbeat(r, actor.socketId, now));
  }

  /** §5.15. */
  async registerHelper(actor: Actor, p: HelperRegisterPayload): Promise<ServiceResult> {
    const res = await this.update(p.roomId, (r) =>
      registerHelper(r, actor.socketId, tokenMatches(p.ownerToken, r.ownerTokenHash), this.config.instanceId),
    );
    if (!res.ok) return res;
    return { ok: true, effects: res.effects, ack: { success: true } };
  }

  /** One domain change on the actor's room. */
  async change(
    actor: Actor,
    fn: (room: RoomRecord, now: number) => ReturnType<ChangeFn<undefined>>,
    helperFirst = false,
  ): Promise<ServiceResult> {
    const roomId = this.actorRoom(actor, helperFirst);
    if (!roomId) return fail('not_in_room');
    const now = this.clock.now();
    const res = await this.store.update(roomId, (r) => fn(r, now));
    if (!res) return { ok: true, effects: [] };
    if (!res.ok) return res;
    return { ok: true, effects: res.effects };
  }

  /** A relay that reads the actor's room and changes nothing. */
  async relay(actor: Actor, fn: (room: RoomRecord, now: number) => Relay, helperFirst = false): Promise<ServiceResult> {
    const roomId = this.actorRoom(actor, helperFirst);
    if (!roomId) return fail('not_in_room');
    const room = await this.store.get(roomId);
    if (!room) return fail('room_not_found');
    return fn(room, this.clock.now());
  }

  /** The room a command acts on: the member room, or for screen-share events the helper room first. */
  private actorRoom(actor: Actor, helperFirst: boolean): string | undefined {
    return helperFirst ? (actor.helperRoomId ?? actor.roomId) : (actor.roomId ?? actor.helperRoomId);
  }

  newMessageId(): string {
    return this.ids.messageId();
  }

  private async update<R>(roomId: string, fn: ChangeFn<R>) {
    const res = await this.store.update(roomId, fn);
    return res ?? fail('not_in_room');
  }
}
