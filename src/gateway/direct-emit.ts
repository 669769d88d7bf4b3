/**
 * An event for one socket of this process, written straight to its Engine.IO connection
 * (`socket.conn`, public API) as the Socket.IO v5 EVENT packet for the main namespace: `2` and the
 * JSON array `[event, payload]`, the exact text `socket.emit` would produce. For JSON payloads only.
 *
 * Why (issue 4): a heartbeat pong goes to every socket every 5 s (3,600 a second at 18,000
 * sockets). Through `socket.nsp.local.to(id).emit` each one built two broadcast operators, five
 * Sets, a WebSocket frame buffer and the adapter's bookkeeping; here it is one string and one
 * Engine.IO packet. Like any local emit it is not kept for connection-state recovery
 * (session-adapter.ts).
 */
import type { IoSocket } from './types.ts';

export function emitDirect(socket: IoSocket, event: string, payload: unknown): void {
  if (!socket.connected) return;
  socket.conn.write(`2${JSON.stringify([event, payload])}`);
}
