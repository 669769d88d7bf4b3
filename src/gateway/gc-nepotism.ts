/**
 * Two containers that `ws` and Engine.IO throw away while they still point at the message they
 * held, emptied as they are thrown away (issue 4).
 *
 * Why: V8's young-generation collector (the scavenger) treats every pointer from an old object
 * into the young generation as a root, whether or not the old object is still alive; only a full
 * collection finds out. Both libraries replace a per-connection array on every message:
 *
 * - `ws`'s Receiver collects a message's fragments in `_fragments`, then sets `_fragments = []`
 *   and decodes the old array's contents;
 * - Engine.IO's Socket queues packets in `writeBuffer`, then `flush()` sets `writeBuffer = []` and
 *   hands the old array to the transport.
 *
 * The fresh array lives until the connection's next message, seconds later, so it is promoted to
 * the old generation. The next message is then pushed into an old array, and when that array is
 * thrown away it keeps the message (the read chunk, its ArrayBuffer, the Engine.IO packet and its
 * text) alive through every scavenge until the next full collection: it is promoted in turn.
 * At 18,000 sockets this was most of what the old generation took in (3.4 of 3.4 MB/s with
 * heartbeats alone, about 7 of 9 MB/s with MoonTVPlus's traffic), and with it came a full
 * collection about every 9 s once the heap was capped at 384 MB (README "Performance").
 *
 * Emptying the thrown-away array once the library is done with it drops those pointers; putting it
 * back in place of the fresh one (when nothing was queued in that yet) means no array per message
 * is promoted either. Both libraries use the old array synchronously (ws decodes it before
 * `dataMessage` returns; Engine.IO's WebSocket transport encodes and writes every packet before
 * `send` returns), so nothing reads it afterwards. Not touched: ws's `binaryType: 'fragments'`
 * (the array itself is the message) and Engine.IO's polling transport (it may hold the packets
 * until the next poll).
 *
 * These are library internals: where a method is missing the patch is skipped and said once, and
 * `test/integration/gc-nepotism.test.ts` fails, rather than the server.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

const require = createRequire(import.meta.url);
/** Engine.IO as Socket.IO loads it, wherever the package manager put it. */
const requireFromSocketIo = createRequire(require.resolve('socket.io'));

type Proto = Record<string | symbol, unknown>;
type Holder = Record<string, unknown>;

const PATCHED = Symbol.for('watch-room.gc-nepotism');

/**
 * Wraps `proto[method]` so that the array in `this[field]` before the call, once the method has
 * replaced it, is emptied and put back in place of the (still empty) replacement.
 */
function emptyReplaced(proto: Proto | undefined, method: string, field: string, applies: (self: Holder) => boolean): boolean {
  const original = proto?.[method];
  if (!proto || typeof original !== 'function') return false;
  if (proto[PATCHED]) return true;
  // Both methods take at most one argument (ws: a callback; Engine.IO: none): no rest array per call.
  proto[method] = function (this: Holder, arg?: unknown): unknown {
    const held = this[field];
    const result: unknown = original.call(this, arg);
    const fresh = this[field];
    if (Array.isArray(held) && held !== fresh && applies(this)) {
      held.length = 0;
      // The old array back in place, the fresh one dropped while still young: otherwise every
      // message would also promote an empty array (32 bytes; 15,000 a second at 18,000 sockets).
      if (Array.isArray(fresh) && fresh.length === 0) this[field] = held;
    }
    return result;
  };
  proto[PATCHED] = true;
  return true;
}

let applied: { ws: boolean; engine: boolean } | undefined;

/** Applies both patches once per process; says once which could not be applied. */
export function preventNepotism(log: Logger): { ws: boolean; engine: boolean } {
  if (applied) return applied;
  const ws = require('ws') as { Receiver?: { prototype: Proto } };
  const engine = requireFromSocketIo('engine.io') as { Socket?: { prototype: Proto } };
  applied = {
    ws: emptyReplaced(ws.Receiver?.prototype, 'dataMessage', '_fragments', (r) => r._binaryType !== 'fragments'),
    engine: emptyReplaced(engine.Socket?.prototype, 'flush', 'writeBuffer', (s) => (s.transport as { name?: string } | undefined)?.name === 'websocket'),
  };
  if (!applied.ws || !applied.engine) {
    log.warn({ patched: applied }, 'a library changed shape: its per-message arrays are not emptied (more old-generation garbage, nothing else)');
  }
  return applied;
}
