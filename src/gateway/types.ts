import type { Server, Socket } from 'socket.io';

/** What a socket carries between events (restored by connection state recovery, §5.21). */
export interface SocketData {
  ip: string;
  roomId?: string;
  helperRoomId?: string;
  ownerToken?: string;
  userName?: string;
  /** When this socket's heartbeat was last written to its room (see HEARTBEAT_REFRESH_MS). */
  heartbeatAt?: number;
}

// Event maps stay open: names and payloads are checked by the wire module at the edge.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyEvents = Record<string, (...args: any[]) => void>;

export type IoServer = Server<AnyEvents, AnyEvents, AnyEvents, SocketData>;
export type IoSocket = Socket<AnyEvents, AnyEvents, AnyEvents, SocketData>;
