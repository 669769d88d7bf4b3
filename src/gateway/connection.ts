/**
 * One socket's side of the gateway: what the handler wrapper needs (HandlerDeps) as one object
 * whose methods live on the prototype. It used to be a closure per need (the actor, the refusal,
 * the commit, the per-IP spend, the cut) plus an object holding them: about 0.4 KB a socket more,
 * which at 18,000 sockets is heap the collector marks on every full GC (issue 4).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Clock, Effect } from '../domain/types.ts';
import type { CutReason, Refusals, RefusalKind } from '../observability/refusals.ts';
import type { Actor } from '../service/room-service.ts';
import type { HandlerDeps } from './handler.ts';
import { SocketRateLimiter, TokenBucket, type KeyedRateLimiter, type SharedRateLimiter } from './rate-limit.ts';
import { SerialQueue } from './serial-queue.ts';
import type { IoSocket } from './types.ts';

/** What every connection of one gateway shares. */
export interface ConnectionShared {
  config: Config;
  clock: Clock;
  log: Logger;
  refusals: Refusals;
  /** Locks an IP's handshakes out for a while (FLOOD_BAN_MS). */
  ban(ip: string): void;
  roomPerIp: SharedRateLimiter;
  /** Bytes relayed on behalf of each IP (RATE_FANOUT_BYTES_PER_IP), on this instance. */
  fanoutPerIp: KeyedRateLimiter;
  apply(effects: readonly Effect[]): void;
}

/** What one delivery costs at least, however small the event: its framing and write (issue 5). */
export const FANOUT_MIN_BYTES = 4096;

/** The actor a command acts as: read fresh from the socket each time (§5.2, §5.21). */
export function actorOf(socket: IoSocket): Actor {
  return {
    socketId: socket.id,
    ip: socket.data.ip,
    roomId: socket.data.roomId,
    helperRoomId: socket.data.helperRoomId,
    ownerToken: socket.data.ownerToken,
    userName: socket.data.userName,
  };
}

export class Connection implements HandlerDeps {
  readonly queue = new SerialQueue();
  readonly limiter: SocketRateLimiter;
  /** Refused events a socket may pile up before it is cut: made at the first refusal. */
  private flood: TokenBucket | undefined;

  constructor(
    readonly socket: IoSocket,
    private readonly shared: ConnectionShared,
  ) {
    this.limiter = new SocketRateLimiter(shared.config.rates, shared.clock);
  }

  get maxPending(): number {
    return this.shared.config.limits.maxPendingEvents;
  }

  get log(): Logger {
    return this.shared.log;
  }

  actor(): Actor {
    return actorOf(this.socket);
  }

  roomPerIp(): Promise<boolean> {
    // Redis away: the per-socket limit still holds.
    return this.shared.roomPerIp.take(this.socket.data.ip).catch(() => true);
  }

  fanout(size: number): boolean {
    const { socket } = this;
    // Listeners on this instance (each instance fans out to its own): the room's local sockets
    // but the sender. A socket in no room relays nothing.
    const roomId = socket.data.roomId ?? socket.data.helperRoomId;
    const listeners = roomId === undefined ? 0 : (socket.nsp.adapter.rooms.get(roomId)?.size ?? 1) - 1;
    if (listeners <= 0) return true;
    return this.shared.fanoutPerIp.takeN(socket.data.ip, listeners * Math.max(size, FANOUT_MIN_BYTES));
  }

  refuse(kind: RefusalKind, event: string): void {
    const { socket, shared } = this;
    shared.refusals.refuse(kind, { ip: socket.data.ip, socketId: socket.id }, { event });
    const now = shared.clock.now();
    this.flood ??= new TokenBucket(shared.config.rates.floodCut, now);
    if (this.flood.take(now) || !socket.connected) return;
    this.cut('flood');
    // A Socket.IO disconnect: final for the client (§1.7), which is the point for an abuser.
    socket.disconnect(true);
  }

  /** Counts the cut and locks the IP out a while (FLOOD_BAN_MS): an abuser would reconnect at once. */
  cut(reason: CutReason, detail?: Record<string, unknown>): void {
    this.shared.refusals.cut(reason, { ip: this.socket.data.ip, socketId: this.socket.id }, detail);
    this.shared.ban(this.socket.data.ip);
  }

  commit(result: { effects: Effect[]; ownerToken?: string; userName?: string }): void {
    if (result.ownerToken !== undefined) this.socket.data.ownerToken = result.ownerToken;
    if (result.userName !== undefined) this.socket.data.userName = result.userName;
    this.shared.apply(result.effects);
  }
}
