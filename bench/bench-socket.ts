/**
 * What the traffic model needs from a client socket, whichever client is behind it: the cheap
 * Engine.IO client (eio-client.ts) for the bulk, or a real socket.io-client (real-client.ts) as a
 * check that the cheap one sees what a browser would.
 */

/** A relayed frame too big to be worth parsing (audio): its event name and first bytes only. */
export class Skim {
  constructor(readonly head: string) {}
}

/** `data` is the event's first argument, or a Skim for big frames of the cheap client. */
export type EventHandler = (event: string, data: unknown) => void;

export interface BenchSocket {
  readonly kind: 'eio' | 'real';
  /** The client-visible socket id (PROTOCOL §2.1). */
  readonly id: string;
  readonly connected: boolean;
  emit(event: string, payload?: unknown): void;
  /** Emits a payload that is already JSON (prebuilt audio chunks are not serialised per send). */
  emitJson(event: string, json: string): void;
  /** Emits with an ack and resolves with its first argument; rejects after `timeoutMs`. */
  request(event: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  onEvent: EventHandler;
  /** Called once when the connection ends for any reason but our own close(). */
  onClose: () => void;
  close(): void;
}

export interface ConnectOptions {
  /** http://host:port of the server. */
  url: string;
  token: string;
  /** Source address (127.0.0.x): one address has only ~28,000 ports toward one server port. */
  localAddress?: string;
  timeoutMs: number;
}
