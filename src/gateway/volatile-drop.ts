/**
 * Volatile traffic (relayed audio, §5.18) dropped toward a socket that is behind in its reading
 * (issue 5: "drop volatile traffic, then cut it"; read-confirm.ts judges who is behind).
 *
 * Socket.IO drops a volatile packet only while the Engine.IO transport is still writing the last
 * one, which, with the kernel taking megabytes first, is long after the client stopped reading.
 * Every packet toward a socket, broadcast or not, local or from another instance, passes through
 * its Client's `writeToEngine(packets, opts)`; the wrapper put on that method here returns early
 * for a volatile packet toward a connection marked behind. Everything else is passed on as is.
 *
 * `writeToEngine` is a Socket.IO internal (not exported, not typed): the prototype is taken from a
 * live socket's client, and should the method be missing, nothing is wrapped and that is said once;
 * `test/integration/slow-reader.test.ts` then fails rather than the server.
 */
import type { Refusals } from '../observability/refusals.ts';
import type { IoSocket } from './types.ts';

type ClientProto = Record<string | symbol, unknown>;

/** A socket whose volatile traffic is dropped, with where its drops are counted. */
interface Behind {
  socket: IoSocket;
  refusals: Refusals;
}

/** Engine.IO connection → its socket while it is behind. */
const behind = new WeakMap<object, Behind>();
const WRAPPED = Symbol.for('watch-room.volatile-drop');

/** Wraps the Client prototype of `socket` once per process; false when it has no `writeToEngine`. */
export function wrapClient(socket: IoSocket): boolean {
  const proto = Object.getPrototypeOf(socket.client) as ClientProto | null;
  if (!proto) return false;
  if (proto[WRAPPED]) return true;
  const original = proto.writeToEngine;
  if (typeof original !== 'function') return false;
  const pass = original as (this: unknown, packets: unknown, opts?: object) => void;
  proto.writeToEngine = function (this: { conn: object }, packets: unknown, opts?: { volatile?: boolean }): void {
    if (opts?.volatile === true) {
      const b = behind.get(this.conn);
      if (b) {
        b.refusals.refuse('slow_reader', { ip: b.socket.data.ip, socketId: b.socket.id }, undefined, 'volatile traffic dropped: the client is behind in reading');
        return;
      }
    }
    pass.call(this, packets, opts);
  };
  proto[WRAPPED] = true;
  return true;
}

/** Marks a socket behind (its volatile traffic dropped) or not. */
export function setBehind(socket: IoSocket, refusals: Refusals, on: boolean): void {
  const conn: object = socket.conn;
  if (!on) behind.delete(conn);
  else if (!behind.has(conn)) behind.set(conn, { socket, refusals });
}

export function isBehind(socket: IoSocket): boolean {
  return behind.has(socket.conn);
}
