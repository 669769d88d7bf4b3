/**
 * Slow readers (issue 5): a client that stops reading while its room is busy would make the server
 * buffer its traffic without bound. Volatile traffic (audio, §5.18) is already dropped while a
 * socket's transport is busy; every second this guard measures what is still queued toward each
 * socket (Engine.IO's write buffer, plus the bytes `ws` and the TCP socket hold in memory) and
 * cuts a socket past `MAX_BUFFERED_BYTES` at the transport level, freeing all of it at once.
 */
import type { Refusals } from '../observability/refusals.ts';
import type { IoServer, IoSocket } from './types.ts';

const CHECK_EVERY_MS = 250;

interface EnginePacket {
  data?: unknown;
}

/** The Engine.IO connection fields read here (not in its public types). */
interface EngineConn {
  writeBuffer?: EnginePacket[];
  transport?: { name?: string; writable?: boolean; socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

function size(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/** Bytes queued toward a socket and not yet taken by the kernel. */
export function queuedBytes(socket: IoSocket): number {
  const conn = socket.conn as unknown as EngineConn;
  let n = 0;
  const buffer = conn.writeBuffer;
  if (buffer) for (const p of buffer) n += size(p.data);
  const ws = conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
  if (typeof ws?.bufferedAmount === 'number') n += ws.bufferedAmount;
  return n;
}

/** Closes a socket's transport at once, whatever is still queued toward it. */
export function cutTransport(socket: IoSocket): void {
  const conn = socket.conn as unknown as EngineConn;
  const ws = conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
  if (ws?.terminate) ws.terminate();
  conn.close(true);
}

export function watchSlowReaders(io: IoServer, maxBytes: number, refusals: Refusals): () => void {
  const timer = setInterval(() => {
    for (const socket of io.sockets.sockets.values()) {
      // A transport that is writable with nothing waiting has nothing queued: two property reads
      // for the healthy majority (at 18,000 sockets the full measure cost 1.7 % of the CPU).
      const conn = socket.conn as unknown as EngineConn;
      if (conn.transport?.writable !== false && !conn.writeBuffer?.length) continue;
      const queued = queuedBytes(socket);
      if (queued <= maxBytes) continue;
      refusals.cut('slow_reader', { ip: socket.data.ip, socketId: socket.id }, { queuedBytes: queued });
      cutTransport(socket);
    }
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
