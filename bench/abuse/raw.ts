/**
 * The attacker's socket: raw `ws` speaking the Engine.IO v4 / Socket.IO v5 text protocol, like
 * bench/eio-client.ts, but with every byte under the attacker's control (any frame, text or
 * binary, valid or not), honest counting (a frame counts once `ws` has handed it to the kernel,
 * from its send callback), and the TCP socket at hand (a slow reader pauses it).
 *
 * Packets: '0{open}', '2' ping -> '3' pong, '40{auth}' connect -> '40{"sid"}' or '44{error}',
 * '42[...]' event, '42<id>[...]' event with ack -> '43<id>[...]' ack, '41' disconnect.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';

const noop = () => undefined;
/** Frames above this size are handed to onFrame as their first bytes only (audio relays). */
const HEAD_ABOVE = 4096;
const HEAD_BYTES = 256;

export interface RawConnectOptions {
  /** http://host:port */
  url: string;
  /** Completes the Socket.IO connect with `auth: { token }`; undefined: stop after the Engine.IO open. */
  token?: string;
  localAddress?: string;
  timeoutMs: number;
}

/** A connection attempt the server (or the network) refused; `reason` is short and stable enough to count. */
export class ConnectRefused extends Error {
  constructor(
    readonly reason: string,
    /** True when the limit was the attacker's own (ports, file descriptors), not the server's. */
    readonly local = false,
  ) {
    super(`connect refused: ${reason}`);
  }
}

const LOCAL_ERRORS = new Set(['EADDRNOTAVAIL', 'EMFILE', 'ENFILE', 'ENOBUFS', 'EADDRINUSE']);

export class RawSocket {
  sid = '';
  /** Frames and bytes handed to the kernel (counted in ws's send callback). */
  written = 0;
  writtenBytes = 0;
  /** Set when the connection ended: when (performance.now()), how, and whether we ended it. */
  closedAt: number | undefined;
  closeCode = 0;
  closeReason = '';
  closedByUs = false;
  /** The server sent a Socket.IO disconnect ('41'). */
  serverDisconnect = false;
  /** Every frame but pings and acks; big frames arrive as their head only (`size` is the whole). */
  onFrame: (text: string, size: number) => void = noop;
  /** Once, when the connection ends for any reason. */
  onClose: () => void = noop;
  private readonly acks = new Map<number, (args: string | undefined) => void>();
  private nextAck = 1;

  constructor(readonly ws: WebSocket) {}

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes accepted by `ws` and not yet handed to the kernel. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  get pendingAcks(): number {
    return this.acks.size;
  }

  /** The TCP socket under the WebSocket (ws keeps it as `_socket`). */
  get tcp(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  /** Sends one frame as is; `onWritten(ok)` once it is written (or failed). */
  send(frame: string | Buffer, binary = false, onWritten?: (ok: boolean) => void): void {
    if (!this.open) {
      onWritten?.(false);
      return;
    }
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    this.ws.send(frame, { binary }, (err) => {
      if (!err) {
        this.written++;
        this.writtenBytes += bytes;
      }
      onWritten?.(!err);
    });
  }

  /** `42["event",payload]`; `json` is the payload already serialised (or undefined for none). */
  emitJson(event: string, json: string | undefined, onWritten?: (ok: boolean) => void): void {
    this.send(json === undefined ? `42[${JSON.stringify(event)}]` : `42[${JSON.stringify(event)},${json}]`, false, onWritten);
  }

  emit(event: string, payload?: unknown, onWritten?: (ok: boolean) => void): void {
    this.emitJson(event, payload === undefined ? undefined : JSON.stringify(payload), onWritten);
  }

  /**
   * `42<id>["event",payload]`; `onAck` gets the ack's arguments as JSON text (`[...]`), or
   * undefined when the connection ends first.
   */
  request(event: string, payload: unknown, onAck: (args: string | undefined) => void, onWritten?: (ok: boolean) => void): number {
    const id = this.nextAck++;
    this.acks.set(id, onAck);
    const args = payload === undefined ? `[${JSON.stringify(event)}]` : `[${JSON.stringify(event)},${JSON.stringify(payload)}]`;
    this.send(`42${id}${args}`, false, (ok) => {
      if (!ok && this.acks.delete(id)) onAck(undefined);
      onWritten?.(ok);
    });
    return id;
  }

  /** Promise form of request(), with a timeout; resolves with the first ack argument (parsed). */
  ask(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.request(event, payload, (args) => {
        clearTimeout(timer);
        resolve(args === undefined ? undefined : (JSON.parse(args) as unknown[])[0]);
      });
    });
  }

  /**
   * Stops reading from the TCP socket: the server's writes pile up in its buffers. Through ws's
   * own pause(), so that ws never resumes the socket by itself (its receiver's drain does).
   */
  pauseReading(): void {
    this.ws.pause();
    this.tcp.pause();
  }

  close(): void {
    if (this.closedAt === undefined) this.closedByUs = true;
    this.ws.terminate();
  }

  /** One frame after the handshake. */
  handle(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.onFrame('', data.length);
    const b0 = data[0];
    if (b0 === 0x32 /* '2' ping */ && data.length === 1) {
      if (this.open) this.ws.send('3');
      return;
    }
    if (b0 === 0x34 /* '4' */) {
      const b1 = data[1];
      if (b1 === 0x33 /* '3' ack */) {
        const text = data.toString('utf8');
        const open = text.indexOf('[');
        const id = Number(text.slice(2, open));
        const done = this.acks.get(id);
        if (done) {
          this.acks.delete(id);
          done(text.slice(open));
        }
        return;
      }
      if (b1 === 0x31 /* '1' disconnect */) this.serverDisconnect = true;
    }
    if (data.length > HEAD_ABOVE) this.onFrame(data.toString('latin1', 0, HEAD_BYTES), data.length);
    else this.onFrame(data.toString('utf8'), data.length);
  }

  ended(code: number, reason: string): void {
    if (this.closedAt !== undefined) return;
    this.closedAt = performance.now();
    this.closeCode = code;
    this.closeReason = reason;
    for (const done of this.acks.values()) done(undefined);
    this.acks.clear();
    this.onClose();
  }
}

/**
 * Opens a WebSocket, waits for the Engine.IO open and (with a token) completes the Socket.IO
 * connect. Rejects with ConnectRefused: an HTTP answer instead of the upgrade, a reset, a
 * connect_error, a close during the handshake, or the timeout.
 */
export function connectRaw(o: RawConnectOptions): Promise<RawSocket> {
  const url = `${o.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: o.timeoutMs,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
  } catch (err) {
    return Promise.reject(new ConnectRefused(err instanceof Error ? err.message : String(err)));
  }
  const sock = new RawSocket(ws);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (reason: string, local = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(new ConnectRefused(reason, local));
    };
    const timer = setTimeout(() => fail('timeout'), o.timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      fail(`http ${res.statusCode}`);
      res.resume();
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled) fail(err.code ?? err.message, err.code !== undefined && LOCAL_ERRORS.has(err.code));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (settled) sock.ended(code, reason.toString());
      else fail(`closed ${code}`);
    });
    const done = () => {
      settled = true;
      clearTimeout(timer);
      resolve(sock);
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (settled) return sock.handle(data, isBinary);
      const text = data.toString('utf8');
      if (text.startsWith('0')) {
        if (o.token === undefined) done();
        else ws.send(`40${JSON.stringify({ token: o.token })}`);
      } else if (text.startsWith('40')) {
        try {
          sock.sid = (JSON.parse(text.slice(2)) as { sid: string }).sid;
        } catch {
          // no sid: still connected
        }
        done();
      } else if (text.startsWith('44')) {
        fail('connect_error');
      } else if (text === '2') {
        ws.send('3');
      }
    });
  });
}

/** Sub-millisecond wall-clock time, comparable with Date.now() (as bench/meter.ts). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A growable Float64Array: the send time of each frame, by sequence number. */
export class TimeLog {
  private a = new Float64Array(1 << 14);
  length = 0;

  push(t: number): number {
    if (this.length === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length] = t;
    return this.length++;
  }

  at(i: number): number {
    return i < this.length ? this.a[i]! : Number.NaN;
  }
}

/** A growable bit set of sequence numbers seen. */
export class SeenSet {
  private a = new Uint8Array(1 << 14);

  add(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i > 1e8) return;
    while (i >= this.a.length) {
      const b = new Uint8Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = 1;
  }

  has(i: number): boolean {
    return i < this.a.length && this.a[i] === 1;
  }
}

/**
 * The first sequence number (below `count`) the server dropped: the first one never answered
 * while a later one was ("gap"), else the first of an unanswered tail ("tail": dropped, or still
 * queued at the server when the drain ended). Undefined when all were answered.
 */
export function firstMissing(seen: SeenSet, count: number): { seq: number; kind: 'gap' | 'tail' } | undefined {
  let first = -1;
  for (let i = 0; i < count; i++) {
    if (seen.has(i)) {
      if (first >= 0) return { seq: first, kind: 'gap' };
    } else if (first < 0) first = i;
  }
  return first >= 0 ? { seq: first, kind: 'tail' } : undefined;
}
