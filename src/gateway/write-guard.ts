/**
 * Slow readers (issue 5): a client that stops reading while its room is busy would make the server
 * buffer its traffic without bound. The guard caps what is buffered per socket, drops volatile
 * traffic, then cuts it:
 *
 * - every client: what is queued toward the socket in the server's memory (Engine.IO's write
 *   buffer, plus the bytes `ws` and the TCP socket hold) is capped at MAX_BUFFERED_BYTES, past
 *   which it is cut. Alone, this reaches a WebSocket reader that stopped only once the kernels'
 *   buffers are full: several MB, five seconds at the rates a room can push;
 * - WebSocket clients (all MoonTVPlus clients once connected) are also judged by what they confirm
 *   reading: Engine.IO pings, sent early once a client has been sent enough, confirm everything
 *   sent before them. Half of MAX_BUFFERED_BYTES sent and not confirmed (in the server's memory,
 *   in the kernels' buffers or on the network) with a probe unanswered for half a second, and it
 *   is cut; its volatile traffic is dropped well before that (read-confirm.ts has the thresholds
 *   and why, volatile-drop.ts the dropping).
 *
 * Every socket is looked at four times a second; one with a probe outstanding twenty times a second.
 */
import type { Logger } from 'pino';
import type { Refusals } from '../observability/refusals.ts';
import { judgeReads, ReadState, type ReadLimits } from './read-confirm.ts';
import type { IoServer, IoSocket } from './types.ts';
import { isBehind, setBehind, wrapClient } from './volatile-drop.ts';

const TICK_MS = 50;
/** Every socket every this many ticks (250 ms); suspects every tick. */
const SCAN_EVERY_TICKS = 5;
/** How long a probe may go unanswered before half of MAX_BUFFERED_BYTES unconfirmed cut a client. */
const PROBE_GRACE_MS = 500;

interface EnginePacket {
  data?: unknown;
}

/** The ws WebSocket under Engine.IO's WebSocket transport, and the TCP socket under that. */
interface WsLike {
  bufferedAmount?: number;
  terminate?: () => void;
  _socket?: { _bytesDispatched?: number };
}

/** The Engine.IO connection fields read here (not in its public types). */
interface EngineConn {
  protocol?: number;
  writeBuffer?: EnginePacket[];
  transport?: { name?: string; writable?: boolean; socket?: WsLike };
  /** Set while a ping awaits its pong; null once answered (Engine.IO 6). */
  pingTimeoutTimer?: unknown;
  hasRefreshedPingTimeout?: boolean;
  sendPacket?: (type: string) => void;
  resetPingTimeout?: () => void;
  close(discard?: boolean): void;
}

function size(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

function websocketOf(conn: EngineConn): WsLike | undefined {
  return conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
}

/** Bytes queued toward a socket in the server's memory, not yet taken by the kernel. */
export function queuedBytes(socket: IoSocket): number {
  const conn = socket.conn as unknown as EngineConn;
  let n = 0;
  const buffer = conn.writeBuffer;
  if (buffer) for (const p of buffer) n += size(p.data);
  const ws = websocketOf(conn);
  if (typeof ws?.bufferedAmount === 'number') n += ws.bufferedAmount;
  return n;
}

/** Closes a socket's transport at once, whatever is still queued toward it. */
export function cutTransport(socket: IoSocket): void {
  const conn = socket.conn as unknown as EngineConn;
  const ws = websocketOf(conn);
  if (ws?.terminate) ws.terminate();
  conn.close(true);
}

/** Whether this connection can be probed: Engine.IO 6's ping machinery, protocol 4. */
function probeable(conn: EngineConn): boolean {
  return conn.protocol === 4 && typeof conn.sendPacket === 'function' && typeof conn.resetPingTimeout === 'function' && 'pingTimeoutTimer' in conn;
}

/** Engine.IO's scheduled ping, sent now: the same packet, the same timeout. */
function sendProbe(conn: EngineConn): void {
  conn.hasRefreshedPingTimeout = false;
  conn.sendPacket!('ping');
  conn.resetPingTimeout!();
}

export function watchSlowReaders(io: IoServer, maxBytes: number, refusals: Refusals, log: Logger): () => void {
  const limits: ReadLimits = { max: maxBytes, graceMs: PROBE_GRACE_MS };
  /** Keyed by the ws WebSocket: an upgraded session starts afresh on its new connection. */
  const states = new WeakMap<object, ReadState>();
  /** Sockets with a probe outstanding: looked at every tick. */
  const suspects = new Set<IoSocket>();
  let warned = false;
  let wrapped = false;

  function cut(socket: IoSocket, detail: Record<string, unknown>): void {
    refusals.cut('slow_reader', { ip: socket.data.ip, socketId: socket.id }, detail);
    setBehind(socket, refusals, false);
    cutTransport(socket);
  }

  /** The server's memory only (polling, or Engine.IO internals changed). */
  function checkQueued(socket: IoSocket, conn: EngineConn): void {
    // A transport that is writable with nothing waiting has nothing queued: two property reads
    // for the healthy majority (at 18,000 sockets the full measure cost 1.7 % of the CPU).
    if (conn.transport?.writable !== false && !conn.writeBuffer?.length) return;
    const queued = queuedBytes(socket);
    if (queued > maxBytes) cut(socket, { queuedBytes: queued });
  }

  /** Looks at one socket; true while it has a probe outstanding. */
  function check(socket: IoSocket, now: number): boolean {
    const conn = socket.conn as unknown as EngineConn;
    const dispatched = websocketOf(conn)?._socket?._bytesDispatched;
    if (typeof dispatched !== 'number' || !probeable(conn)) {
      if (!warned && websocketOf(conn)) {
        warned = true;
        log.warn('Engine.IO or ws changed shape: slow WebSocket readers are measured by what the server holds only');
      }
      checkQueued(socket, conn);
      return false;
    }
    const ws = websocketOf(conn)!;
    const queued = queuedBytes(socket);
    if (queued > maxBytes) {
      cut(socket, { queuedBytes: queued });
      return false;
    }
    const sent = dispatched + queued;
    let state = states.get(ws);
    if (!state) {
      // Nothing to confirm yet: most sockets, most of the time.
      if (sent <= maxBytes / 8) return false;
      state = new ReadState();
      states.set(ws, state);
    }
    const judged = judgeReads(state, sent, conn.pingTimeoutTimer != null, now, limits);
    if (judged.verdict === 'cut') {
      cut(socket, { unconfirmedBytes: judged.unconfirmed, queuedBytes: queued });
      return false;
    }
    if (judged.verdict === 'probe') sendProbe(conn);
    if (judged.dropVolatile !== isBehind(socket)) setBehind(socket, refusals, judged.dropVolatile);
    return state.probeAt >= 0;
  }

  let tick = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    if (tick++ % SCAN_EVERY_TICKS === 0) {
      for (const socket of io.sockets.sockets.values()) {
        if (!wrapped) {
          wrapped = true;
          if (!wrapClient(socket)) log.warn('Socket.IO changed shape: volatile traffic toward a slow reader is not dropped before it is cut');
        }
        if (check(socket, now)) suspects.add(socket);
      }
      return;
    }
    for (const socket of suspects) {
      if (!socket.connected || !check(socket, now)) suspects.delete(socket);
    }
  }, TICK_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    suspects.clear();
  };
}
