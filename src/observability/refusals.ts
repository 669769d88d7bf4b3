/**
 * Every refusal the server makes to protect itself (issue 5), counted by kind for `/stats`, and
 * logged at most once per kind and offender (an IP or a socket) per interval, so that a flood of
 * tens of thousands of refusals a second costs a counter increment each and a handful of log lines.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/types.ts';

export const REFUSAL_KINDS = [
  /** An event over its class's per-socket rate (dropped, acks answered `rate_limited`, §1.7). */
  'rate_limited',
  /** An event over the per-IP rate of `room:*` events. */
  'rate_limited_ip',
  /** An event while the socket already had `MAX_PENDING_EVENTS` waiting. */
  'queue_full',
  /** An event name the protocol does not have. */
  'unknown_event',
  /** A payload that failed its schema or size cap. */
  'invalid_payload',
  /** A join refused for too many wrong passwords (§10.11). */
  'too_many_attempts',
  /** A room refused for the per-IP or server-wide room cap. */
  'too_many_rooms',
  /** A handshake from an origin outside `ALLOWED_ORIGINS`. */
  'origin',
  /** A handshake without the shared key, or with a wrong one. */
  'unauthorized',
  /** A handshake from an IP already holding `MAX_CONNECTIONS_PER_IP` connections. */
  'connections_per_ip',
  /** A handshake over the per-IP connection rate. */
  'connect_rate',
  /** A handshake from an IP whose socket was cut as abusive, during `FLOOD_BAN_MS`. */
  'banned',
  /** Volatile traffic (relayed audio) dropped toward a socket behind in its reading (write-guard.ts). */
  'slow_reader',
  /** A room event over its IP's relay budget (`RATE_FANOUT_BYTES_PER_IP`): what it would make the server send. */
  'fanout',
] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

export const CUT_REASONS = [
  /** Refused events piled up beyond `FLOOD_CUT`: sustained abuse far beyond any real client. */
  'flood',
  /** A socket that stopped reading: past `MAX_BUFFERED_BYTES` held for it, or half of it unconfirmed with a ping unanswered (write-guard.ts). */
  'slow_reader',
  /** Frames past the connection's `RATE_INBOUND_BYTES` budget (cut before parsing). */
  'inbound_bytes',
  /** A frame nested or separated past anything the server accepts (cut before it is parsed). */
  'frame_shape',
  /** A frame the Socket.IO parser could not decode. */
  'malformed',
  /**
   * A frame the transport itself refuses, closed by Engine.IO before any parser sees it: a
   * WebSocket frame past `MAX_HTTP_BUFFER_SIZE` (close 1009) or not UTF-8 (1007) or broken, a
   * polling body past the cap or unreadable, an Engine.IO packet of no known type.
   */
  'bad_frame',
  /** An IP refused more handshakes in a second than any client retries (its IP is locked out). */
  'handshake_flood',
] as const;
export type CutReason = (typeof CUT_REASONS)[number];

export interface AbuseSnapshot {
  refused: Record<RefusalKind, number>;
  disconnected: Record<CutReason, number>;
}

const MAX_REMEMBERED = 10_000;

export class Refusals {
  private readonly refused = Object.fromEntries(REFUSAL_KINDS.map((k) => [k, 0])) as Record<RefusalKind, number>;
  private readonly disconnected = Object.fromEntries(CUT_REASONS.map((k) => [k, 0])) as Record<CutReason, number>;
  /** `kind offender` → when it was last logged. */
  private readonly logged = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  /** Counts one refusal; logs it when this offender has not been logged for this kind lately. */
  refuse(kind: RefusalKind, offender: { ip?: string; socketId?: string }, detail?: Record<string, unknown>, msg = 'refused'): void {
    this.refused[kind]++;
    if (this.due(kind, offender)) this.log.warn({ kind, ...offender, ...detail, total: this.refused[kind] }, msg);
  }

  /** Counts one abusive socket cut off; always logged (rare by construction). */
  cut(reason: CutReason, offender: { ip?: string; socketId?: string }, detail?: Record<string, unknown>): void {
    this.disconnected[reason]++;
    this.log.warn({ reason, ...offender, ...detail }, 'disconnected abusive client');
  }

  snapshot(): AbuseSnapshot {
    return { refused: { ...this.refused }, disconnected: { ...this.disconnected } };
  }

  private due(kind: string, offender: { ip?: string; socketId?: string }): boolean {
    const key = `${kind} ${offender.ip ?? ''} ${offender.socketId ?? ''}`;
    const now = this.clock.now();
    const last = this.logged.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (this.logged.size >= MAX_REMEMBERED) {
      for (const [k, t] of this.logged) if (now - t >= this.intervalMs) this.logged.delete(k);
      // Still full: a flood of distinct offenders; forget the oldest rather than grow.
      if (this.logged.size >= MAX_REMEMBERED) this.logged.delete(this.logged.keys().next().value!);
    }
    this.logged.delete(key); // re-inserted last, so the map stays ordered by time
    this.logged.set(key, now);
    return true;
  }
}
