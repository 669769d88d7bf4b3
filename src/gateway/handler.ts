/**
 * The one wrapper every client event goes through (STYLE: "every handler goes through one
 * wrapper"): rate limit, then (in the socket's serial queue) sanitise and validate, run, carry out
 * the effects, answer the ack; anything unexpected is caught here, logged once, and answered
 * `internal`. No input can throw out of a handler (PROTOCOL §5, §10.2).
 */
import type { Logger } from 'pino';
import type { output, ZodType } from 'zod';
import { failureAck, type ErrorCode } from '../domain/errors.ts';
import type { Effect } from '../domain/types.ts';
import type { RefusalKind } from '../observability/refusals.ts';
import type { Actor, ServiceResult } from '../service/room-service.ts';
import { sanitize } from '../wire/sanitize.ts';
import type { RateClass, SocketRateLimiter } from './rate-limit.ts';
import type { SerialQueue } from './serial-queue.ts';
import type { IoSocket } from './types.ts';

/** `size`: about the payload's JSON length, when the parser measured it. */
export type Parsed<P> = { ok: true; value: P; size?: number } | { ok: false };

export interface EventSpec<P> {
  rate: RateClass;
  parse: (raw: unknown) => Parsed<P>;
  /** The failed ack for this event (§3), or undefined when the event has no ack. */
  failAck?: (code: ErrorCode) => unknown;
  /** Default ack on success when the result carries none. */
  okAck?: unknown;
  run: (actor: Actor, payload: P, socket: IoSocket) => Promise<ServiceResult>;
}

/**
 * Payload = sanitised JSON that fits in `maxBytes` (its JSON length, measured while sanitising
 * rather than by a JSON.stringify per event) and passes the schema.
 */
export function fromSchema<S extends ZodType>(schema: S, maxBytes: number): (raw: unknown) => Parsed<output<S>> {
  return (raw) => {
    const measure = { size: 0 };
    const clean = sanitize(raw, measure);
    if (clean === undefined || measure.size > maxBytes) return { ok: false };
    const r = schema.safeParse(clean);
    if (!r.success) return { ok: false };
    return { ok: true, value: r.data, size: measure.size };
  };
}

/** Events without a payload ignore whatever arrives (`socket.emit('play:play', junk)` is a play). */
export const noPayload = (): Parsed<undefined> => ({ ok: true, value: undefined });

export const simpleFailAck = (code: ErrorCode) => failureAck(code);

/** The events relayed to a room (chat, playback, audio): they spend the IP's relay budget. */
const FANOUT_CLASSES: ReadonlySet<RateClass> = new Set<RateClass>(['chat', 'playback', 'audio']);

/** Refusal codes of the service worth counting as possible abuse (issue 5). */
const COUNTED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['too_many_attempts', 'too_many_rooms']);

export interface HandlerDeps {
  limiter: SocketRateLimiter;
  /** Spends one of the IP's `room:*` tokens (shared by all its sockets); false when none was left. */
  roomPerIp(): Promise<boolean>;
  /**
   * Spends what relaying an event of `size` bytes to the socket's room costs against the IP's
   * budget (RATE_FANOUT_BYTES_PER_IP); false when it does not fit.
   */
  fanout(size: number): boolean;
  /** Counts a refusal against the socket; enough of them in a row cut it (FLOOD_CUT). */
  refuse(kind: RefusalKind, event: string): void;
  queue: SerialQueue;
  maxPending: number;
  log: Logger;
  actor(): Actor;
  /** Carries out effects and remembers what the socket now holds. */
  commit(result: { effects: Effect[]; ownerToken?: string; userName?: string }): void;
}

function answer(ack: ((...a: unknown[]) => void) | undefined, body: unknown, log: Logger): void {
  if (!ack) return;
  try {
    ack(body);
  } catch (err) {
    log.error({ err }, 'ack failed');
  }
}

/**
 * One client event through the wrapper. Called from the socket's single `onAny` listener (one
 * closure per socket rather than one per event: a few KB less per connection).
 */
export function handleEvent<P>(socket: IoSocket, event: string, spec: EventSpec<P>, deps: HandlerDeps, args: unknown[]): void {
  const last = args[args.length - 1];
  // Only events with an ack in the protocol answer one; a callback on another event is ignored.
  const ack = spec.failAck && typeof last === 'function' ? (last as (...a: unknown[]) => void) : undefined;
  const raw = typeof args[0] === 'function' ? undefined : args[0];
  const failAck = spec.failAck;
  const limited = !deps.limiter.take(spec.rate);
  if (limited || deps.queue.size >= deps.maxPending) {
    deps.refuse(limited ? 'rate_limited' : 'queue_full', event);
    if (failAck) answer(ack, failAck('rate_limited'), deps.log);
    return;
  }
  deps.queue.push(async () => {
    try {
      if (spec.rate === 'room' && !(await deps.roomPerIp())) {
        deps.refuse('rate_limited_ip', event);
        if (failAck) answer(ack, failAck('rate_limited'), deps.log);
        return;
      }
      const parsed = spec.parse(raw);
      if (!parsed.ok) {
        deps.refuse('invalid_payload', event);
        if (failAck) answer(ack, failAck('invalid_payload'), deps.log);
        return;
      }
      // A signal pump within RATE_SIGNAL (40 offers of 32 KB a second) would be 1.3 MB/s per socket.
      if (spec.rate === 'signal' && !deps.limiter.takeSignalBytes(parsed.size ?? 0)) {
        deps.refuse('rate_limited', event);
        if (failAck) answer(ack, failAck('rate_limited'), deps.log);
        return;
      }
      // 50 sockets of one IP in one room, each within its own limits, would have the server send
      // 49 times what they send (issue 5, `bench:abuse` room-fanout).
      if (FANOUT_CLASSES.has(spec.rate) && !deps.fanout(parsed.size ?? 0)) {
        deps.refuse('fanout', event);
        if (failAck) answer(ack, failAck('rate_limited'), deps.log);
        return;
      }
      const result = await spec.run(deps.actor(), parsed.value, socket);
      if (!result.ok) {
        deps.log.debug({ event, socketId: socket.id, code: result.code }, 'refused');
        if (COUNTED_CODES.has(result.code)) deps.refuse(result.code as RefusalKind, event);
        if (failAck) answer(ack, failAck(result.code), deps.log);
        return;
      }
      deps.commit(result);
      answer(ack, result.ack ?? spec.okAck, deps.log);
    } catch (err) {
      deps.log.error({ err, event, socketId: socket.id }, 'handler failed');
      if (failAck) answer(ack, failAck('internal'), deps.log);
    }
  });
}
