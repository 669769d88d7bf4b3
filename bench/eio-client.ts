/**
 * A minimal Socket.IO v5 / Engine.IO v4 client over plain `ws`, text protocol only, for the bulk
 * of the load: one WebSocket and a few closures per socket, where socket.io-client carries a
 * Manager, an Engine.IO Socket, a transport and their timers. Packets (EIO type, then SIO type):
 * '0{open}', '2' ping -> '3' pong, '40{auth}' connect -> '40{"sid"}' or '44{error}', '42[...]'
 * event, '42<id>[...]' event with ack -> '43<id>[...]' ack. Binary packets never occur here.
 */
import WebSocket from 'ws';
import { Skim, type BenchSocket, type ConnectOptions, type EventHandler } from './bench-socket.ts';

/** Frames above this size are skimmed, not parsed (an 8192-byte audio chunk is ~28 KB of JSON). */
const SKIM_ABOVE = 4096;
const SKIM_HEAD = 200;
const noop = () => undefined;

class EioSocket implements BenchSocket {
  readonly kind = 'eio';
  id = '';
  onEvent: EventHandler = noop;
  onClose: () => void = noop;
  private nextAck = 1;
  private readonly acks = new Map<number, (v: unknown) => void>();
  private closedByUs = false;

  constructor(private readonly ws: WebSocket) {}

  get connected(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  emit(event: string, payload?: unknown): void {
    const args = payload === undefined ? [event] : [event, payload];
    this.send(`42${JSON.stringify(args)}`);
  }

  emitJson(event: string, json: string): void {
    this.send(`42[${JSON.stringify(event)},${json}]`);
  }

  request(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`${event}: no ack within ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(id, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
      this.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  close(): void {
    this.closedByUs = true;
    this.ws.terminate();
  }

  private send(frame: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  /** One Engine.IO frame after the handshake. */
  handle(buf: Buffer): void {
    const type = buf[0];
    if (type === 0x32 /* '2' ping */) {
      this.ws.send('3');
      return;
    }
    if (type !== 0x34 /* '4' message */) return;
    const sio = buf[1];
    if (sio === 0x32 /* '2' event */) {
      if (buf.length > SKIM_ABOVE) {
        const head = buf.toString('latin1', 2, SKIM_HEAD);
        const m = /^\d*\["([^"]+)"/.exec(head);
        if (m) this.onEvent(m[1]!, new Skim(head));
        return;
      }
      const text = buf.toString('utf8', 2);
      const arr = JSON.parse(text.slice(text.indexOf('['))) as unknown[];
      this.onEvent(arr[0] as string, arr[1]);
    } else if (sio === 0x33 /* '3' ack */) {
      const text = buf.toString('utf8', 2);
      const open = text.indexOf('[');
      const id = Number(text.slice(0, open));
      const args = JSON.parse(text.slice(open)) as unknown[];
      const done = this.acks.get(id);
      this.acks.delete(id);
      done?.(args[0]);
    } else if (sio === 0x31 /* '1' disconnect by the server */) {
      this.ws.terminate();
    }
  }

  closed(): void {
    for (const done of this.acks.values()) done(undefined);
    this.acks.clear();
    if (!this.closedByUs) this.onClose();
  }
}

/** Opens a socket and completes the Socket.IO connect; rejects on refusal, close or timeout. */
export function connectEio(o: ConnectOptions): Promise<BenchSocket> {
  const wsUrl = `${o.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(wsUrl, {
    perMessageDeflate: false,
    handshakeTimeout: o.timeoutMs,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  const sock = new EioSocket(ws);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('connect timeout')), o.timeoutMs);
    ws.on('error', (err) => fail(err));
    ws.on('close', () => {
      if (settled) sock.closed();
      else fail(new Error('closed during handshake'));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      if (settled) {
        sock.handle(data);
        return;
      }
      const text = data.toString('utf8');
      if (text.startsWith('0')) {
        ws.send(`40${JSON.stringify({ token: o.token })}`);
      } else if (text.startsWith('40')) {
        sock.id = (JSON.parse(text.slice(2)) as { sid: string }).sid;
        settled = true;
        clearTimeout(timer);
        resolve(sock);
      } else if (text.startsWith('44')) {
        fail(new Error(`connect refused: ${text.slice(2)}`));
      } else if (text === '2') {
        ws.send('3');
      }
    });
  });
}
