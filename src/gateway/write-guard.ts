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
 * What is held in memory is looked at four times a second for every socket; a WebSocket client
 * sent more than an eighth of MAX_BUFFERED_BYTES since its last confirmation, twenty times a second.
 */
import type { Logger } from 'pino';
import type { Refusals } from '../observability/refusals.ts';
import { byteLength } from '../wire/parser.ts';
import { judgeReads, probeBytes, ReadState, type ReadLimits } from './read-confirm.ts';
import type { IoServer, IoSocket } from './types.ts';
import { isBehind, setBehind, wrapClient } from './volatile-drop.ts';

const TICK_MS = 50;
/** Every socket's memory every this many ticks (250 ms); watched sockets every tick. */
const SCAN_EVERY_TICKS = 5;
/** How long a probe may go unanswered before half of MAX_BUFFERED_BYTES unconfirmed cut a client. */
const PROBE_GRACE_MS = 500;

interface EnginePacket {
  data?: unknown;
}

/** The ws WebSocket under Engine.IO's WebSocket transport. */
interface WsLike {
  bufferedAmount?: number;
  terminate?: () => void;
}

/** The Engine.IO connection fields read here (not in its public types). */
interface EngineConn {
  /** Engine.IO protocol version of the client (4: the server pings). */
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

/** About the bytes a run of Engine.IO packets takes on the wire (their data, a type byte each). */
function packetBytes(packets: readonly EnginePacket[] | undefined): number {
  let n = 0;
  if (packets) for (const p of packets) n += byteLength(p.data) + 1;
  return n;
}

function websocketOf(conn: EngineConn): WsLike | undefined {
  return conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
}

/** Bytes queued toward a socket in the server's memory, not yet taken by the kernel. */
export function queuedBytes(socket: IoSocket): number {
  const conn = socket.conn as unknown as EngineConn;
  let n = packetBytes(conn.writeBuffer);
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

/** Whether Engine.IO has the ping machinery probes use (Engine.IO 6); checked on the first connection. */
function probeable(conn: EngineConn): boolean {
  return typeof conn.sendPacket === 'function' && typeof conn.resetPingTimeout === 'function' && 'pingTimeoutTimer' in conn;
}

/** Engine.IO's scheduled ping, sent now: the same packet, the same timeout. */
function sendProbe(conn: EngineConn): void {
  conn.hasRefreshedPingTimeout = false;
  conn.sendPacket!('ping');
  conn.resetPingTimeout!();
}

/** One socket's reading: bytes Engine.IO handed its WebSocket transport, and what was confirmed. */
class Tracked extends ReadState {
  sent = 0;
  watched = false;
  constructor(readonly socket: IoSocket) {
    super();
  }
}

export function watchSlowReaders(io: IoServer, maxBytes: number, refusals: Refusals, log: Logger): () => void {
  const limits: ReadLimits = { max: maxBytes, graceMs: PROBE_GRACE_MS };
  /** Engine.IO connection → its socket's reading. */
  const reads = new WeakMap<object, Tracked>();
  /** Sockets with more than max / 8 unconfirmed, a probe outstanding, or audio dropped: looked at every tick. */
  const watched = new Set<Tracked>();
  let probing: boolean | undefined;
  let wrapped = false;

  function cut(socket: IoSocket, detail: Record<string, unknown>): void {
    refusals.cut('slow_reader', { ip: socket.data.ip, socketId: socket.id }, detail);
    setBehind(socket, refusals, false);
    cutTransport(socket);
  }

  const onConnection = (socket: IoSocket): void => {
    if (!wrapped) {
      wrapped = true;
      if (!wrapClient(socket)) log.warn('Socket.IO changed shape: volatile traffic toward a slow reader is not dropped before it is cut');
    }
    const conn = socket.conn as unknown as EngineConn;
    if (probing === undefined) {
      probing = probeable(conn);
      if (!probing) log.warn('Engine.IO changed shape: slow WebSocket readers are measured by what the server holds only');
    }
    if (probing && conn.protocol === 4) reads.set(conn, new Tracked(socket));
  };

  // Every packet toward a socket passes through one flush (engine.io's server-wide event): counting
  // there costs a WeakMap lookup per flush, where reading each TCP socket's counter four times a
  // second cost 3 % of the CPU at 18,000 sockets.
  const onFlush = (conn: EngineConn, packets: EnginePacket[]): void => {
    if (conn.transport?.name !== 'websocket') return;
    const t = reads.get(conn);
    if (!t) return;
    t.sent += packetBytes(packets);
    if (!t.watched && t.sent - t.confirmed > probeBytes(limits)) {
      t.watched = true;
      watched.add(t);
    }
  };

  /** The server's memory only: every transport. */
  function checkQueued(socket: IoSocket): void {
    const conn = socket.conn as unknown as EngineConn;
    // A transport that is writable with nothing waiting has nothing queued: two property reads
    // for the healthy majority (at 18,000 sockets the full measure cost 1.7 % of the CPU).
    if (conn.transport?.writable !== false && !conn.writeBuffer?.length) return;
    const queued = queuedBytes(socket);
    if (queued > maxBytes) cut(socket, { queuedBytes: queued });
  }

  /** Judges a watched socket; false once there is nothing to watch. */
  function judge(t: Tracked, now: number): boolean {
    const { socket } = t;
    if (!socket.connected) {
      setBehind(socket, refusals, false);
      return false;
    }
    const conn = socket.conn as unknown as EngineConn;
    if (websocketOf(conn) === undefined) return false;
    const judged = judgeReads(t, t.sent + packetBytes(conn.writeBuffer), conn.pingTimeoutTimer != null, now, limits);
    if (judged.verdict === 'cut') {
      cut(socket, { unconfirmedBytes: judged.unconfirmed, queuedBytes: queuedBytes(socket) });
      return false;
    }
    if (judged.verdict === 'probe') sendProbe(conn);
    if (judged.dropVolatile !== isBehind(socket)) setBehind(socket, refusals, judged.dropVolatile);
    // Dropping audio implies more than probeBytes unconfirmed: watched until confirmed again.
    return t.probeAt >= 0 || judged.unconfirmed > probeBytes(limits);
  }

  io.on('connection', onConnection);
  io.engine.on('flush', onFlush);
  let tick = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    for (const t of watched) {
      if (judge(t, now)) continue;
      t.watched = false;
      watched.delete(t);
    }
    if (tick++ % SCAN_EVERY_TICKS === 0) for (const socket of io.sockets.sockets.values()) checkQueued(socket);
  }, TICK_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    io.off('connection', onConnection);
    io.engine.off('flush', onFlush);
    watched.clear();
  };
}
