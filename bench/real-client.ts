/**
 * A real socket.io-client socket behind the BenchSocket interface: a few of them ride along with
 * the cheap clients as a check that what the cheap client counts is what a browser would see.
 * Configured like MoonTVPlus (PROTOCOL §1.2) except that it does not reconnect: a reconnect would
 * be a new socket id outside its room, and the bench counts a drop as a drop.
 */
import { io, type Socket } from 'socket.io-client';
import type { BenchSocket, ConnectOptions, EventHandler } from './bench-socket.ts';

const noop = () => undefined;

class RealSocket implements BenchSocket {
  readonly kind = 'real';
  onEvent: EventHandler = noop;
  onClose: () => void = noop;
  private closedByUs = false;

  constructor(private readonly s: Socket) {
    s.onAny((event: string, data: unknown) => this.onEvent(event, data));
    s.on('disconnect', () => {
      if (!this.closedByUs) this.onClose();
    });
  }

  get id(): string {
    return this.s.id ?? '';
  }

  get connected(): boolean {
    return this.s.connected;
  }

  emit(event: string, payload?: unknown): void {
    if (payload === undefined) this.s.emit(event);
    else this.s.emit(event, payload);
  }

  emitJson(event: string, json: string): void {
    this.s.emit(event, JSON.parse(json));
  }

  request(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return this.s.timeout(timeoutMs).emitWithAck(event, payload);
  }

  close(): void {
    this.closedByUs = true;
    this.s.disconnect();
  }
}

export function connectReal(o: ConnectOptions): Promise<BenchSocket> {
  const s = io(o.url, {
    transports: ['websocket'],
    auth: { token: o.token },
    reconnection: false,
    forceNew: true,
    timeout: o.timeoutMs,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(new RealSocket(s)));
    s.once('connect_error', (err) => {
      s.disconnect();
      reject(err);
    });
  });
}
