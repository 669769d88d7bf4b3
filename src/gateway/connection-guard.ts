/**
 * What a client may open (issue 5): the handshake check (`allowRequest`: origin, open connections
 * per IP, handshakes per IP) and the count of open connections per IP behind it. Refused
 * handshakes are answered 403 by Engine.IO before any Socket.IO state exists, so a connection
 * flood costs a request parse each.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/config.ts';
import { originAllowed } from '../http/cors.ts';
import type { RefusalKind, Refusals } from '../observability/refusals.ts';
import { clientIp, type TrustFn } from './client-ip.ts';
import type { SharedRateLimiter } from './rate-limit.ts';
import type { IoServer } from './types.ts';

/** Refused handshakes from one IP within a second past which it is locked out (no client retries so fast). */
export const HANDSHAKE_FLOOD = 200;
/** Locked-out connections held open at once (BAN_HOLD_MS); past this, closed at once. */
export const MAX_HELD = 1_000;

/**
 * What Engine.IO closes a connection for when the peer sent what no client sends (engine.io 6:
 * the `ws` receiver's errors, as the WebSocket transport passes them on; the polling transport's
 * own messages; a packet of no known type). A network failure (`transport close`, a poll closed
 * prematurely, a timeout) is not among them.
 */
const BAD_FRAME = /^(?:(?:RangeError|Error): )?(?:Invalid WebSocket frame|Max payload size exceeded)|^payload too large$|^too many chunks$|^invalid content$|^invalid heartbeat direction$/;

/** The refusal's description when Engine.IO closed for a bad frame, else undefined. */
export function badFrame(reason: string, desc: unknown): string | undefined {
  if (reason === 'parse error') return 'parse error';
  if (reason !== 'transport error' || !(desc instanceof Error)) return undefined;
  return BAD_FRAME.test(desc.message) ? desc.message.slice(0, 100) : undefined;
}

type ClientHandle = { getpeername?: (out: { address?: string }) => number; close?: () => void };

export class ConnectionGuard {
  private readonly open = new Map<string, number>();
  /** IP → refused handshakes in the current second, and in the one before (sliding window). */
  private refusedNow = new Map<string, number>();
  private refusedBefore = new Map<string, number>();
  private refusedSecond = 0;
  private readonly floodedThisSecond = new Set<string>();
  /** IP → until when its handshakes are refused (after one of its sockets was cut as abusive). */
  private readonly bans = new Map<string, number>();
  /** Locked-out connections held open, oldest first, with when each is to be closed. */
  private readonly held: { client: ClientHandle; until: number }[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  /** Set on shutdown: new handshakes go to another instance (rolling deploys). */
  closed = false;

  constructor(
    private readonly config: Config,
    private readonly trust: TrustFn,
    private readonly connectPerIp: SharedRateLimiter,
    private readonly refusals: Refusals,
  ) {}

  /**
   * Without a trusted proxy the peer address is the client's: a locked-out IP's new TCP
   * connections are closed on accept, before any HTTP parsing (a connection flood of thousands of
   * handshakes a second cost the normal rooms ×7 in p99 when each was answered with a 403).
   * Behind a proxy every connection comes from the proxy, so nothing is done here.
   *
   * Two places, the first that applies:
   * - Node's accept callback on the listening handle (`_handle.onconnection(err, clientHandle)`,
   *   the same for years, and the one cluster workers are called with): the connection is closed
   *   before Node builds a net.Socket for it. Under the connection flood of `bench:abuse`, server
   *   CPU 30 → 20 % and RSS +63-69 → +1-4 MB against the check below alone.
   * - The server's `emit` for `connection`, in front of its own listeners (Node's HTTP one would
   *   otherwise have given the socket a parser, listeners and a place in its connection list):
   *   it holds wherever that internal is missing.
   */
  watchAccepts(server: { emit: (this: unknown, event: string, ...args: never[]) => boolean }): void {
    if (this.config.http.trustProxy !== false) return;
    const emit = server.emit;
    const refuseOnHandle = (srv: unknown) => this.refuseOnHandle(srv);
    const refuseSocket = (sock: Socket) => {
      if (!this.refusedAtAccept(sock.remoteAddress)) return false;
      sock.destroy();
      return true;
    };
    server.emit = function (this: unknown, event: string, ...args: never[]): boolean {
      if (event === 'listening') refuseOnHandle(this);
      if (event === 'connection' && refuseSocket(args[0] as unknown as Socket)) return true;
      return emit.call(this, event, ...args);
    };
  }

  /** True (and counted) when a new connection from this address is to be closed at once. */
  private refusedAtAccept(ip: string | undefined): boolean {
    if (ip === undefined || !this.banned(ip)) return false;
    this.refusals.refuse('banned', { ip }, { at: 'accept' });
    return true;
  }

  private refuseOnHandle(server: unknown): void {
    const handle = (server as { _handle?: { onconnection?: (err: number, client?: ClientHandle) => void } })._handle;
    const accept = handle?.onconnection;
    if (!handle || typeof accept !== 'function') return;
    const refused = (ip: string | undefined) => this.refusedAtAccept(ip);
    const hold = (client: ClientHandle) => this.hold(client);
    handle.onconnection = function (this: unknown, err: number, client?: ClientHandle): void {
      if (!err && typeof client?.getpeername === 'function' && typeof client.close === 'function') {
        const peer: { address?: string } = {};
        client.getpeername(peer);
        if (refused(peer.address)) {
          hold(client);
          return;
        }
      }
      accept.call(this, err, client);
    };
  }

  /**
   * A locked-out IP's connection is held open, never read, for BAN_HOLD_MS, then closed (a
   * tarpit): an attacker that waits on each connection, as reconnect loops and most scripts do,
   * then opens a few a second instead of thousands, each of which cost a kernel handshake and an
   * accept however early it was closed. A connection holds a file descriptor and a libuv handle,
   * no socket object: at most MAX_HELD at once, past which they are closed at once as before.
   */
  private hold(client: ClientHandle): void {
    const ms = this.config.abuse.banHoldMs;
    if (ms <= 0 || this.closed || this.held.length >= MAX_HELD) {
      client.close!();
      return;
    }
    this.held.push({ client, until: Date.now() + ms });
    this.holdTimer ??= setInterval(() => this.release(false), 250);
    this.holdTimer.unref();
  }

  /** Closes the held connections that are due, or all of them (shutdown). */
  release(all = true): void {
    const now = Date.now();
    while (this.held.length > 0 && (all || this.held[0]!.until <= now)) this.held.shift()!.client.close!();
    if (this.held.length === 0 && this.holdTimer) {
      clearInterval(this.holdTimer);
      this.holdTimer = undefined;
    }
  }

  /** Engine.IO's `allowRequest`, called for handshakes (not for requests of an open session). */
  allowRequest = (req: IncomingMessage, cb: (err: string | null | undefined, ok: boolean) => void): void => {
    if (this.closed) return cb('shutting down', false);
    const ip = clientIp(req, this.trust);
    // Cross-site WebSocket hijacking: browsers send Origin on upgrades too, and CORS does not
    // apply to WebSockets, so the allow-list is enforced here for every transport.
    if (!originAllowed(this.config.http.allowedOrigins, req.headers.origin)) {
      return this.refuse(cb, 'origin', ip, { origin: req.headers.origin });
    }
    if (this.banned(ip)) return this.refuse(cb, 'banned', ip);
    if ((this.open.get(ip) ?? 0) >= this.config.abuse.maxConnectionsPerIp) return this.refuse(cb, 'connections_per_ip', ip);
    this.connectPerIp.take(ip).then(
      (ok) => (ok ? cb(null, true) : this.refuse(cb, 'connect_rate', ip)),
      // The shared bucket lives in Redis: while Redis is away, connections are let in (fail open)
      // rather than every client being locked out.
      () => cb(null, true),
    );
  };

  /**
   * Counts each Engine.IO connection against its IP until it closes; one closed by Engine.IO for a
   * frame no client sends (badFrame) is counted, and its IP locked out as for any abusive cut.
   */
  track(io: IoServer): void {
    io.engine.on('connection', (conn: { request: IncomingMessage; once(e: 'close', f: (reason: string, desc?: unknown) => void): void }) => {
      const ip = clientIp(conn.request, this.trust);
      this.open.set(ip, (this.open.get(ip) ?? 0) + 1);
      conn.once('close', (reason, desc) => {
        const n = (this.open.get(ip) ?? 1) - 1;
        if (n <= 0) this.open.delete(ip);
        else this.open.set(ip, n);
        const bad = badFrame(reason, desc);
        if (bad === undefined) return;
        this.refusals.cut('bad_frame', { ip }, { error: bad });
        this.ban(ip);
      });
    });
  }

  /**
   * Refuses the IP's handshakes for `FLOOD_BAN_MS` (a lock-out that expires): an abuser cut off
   * would otherwise reconnect at once and start again. Its other open connections are kept.
   */
  ban(ip: string): void {
    const ms = this.config.abuse.floodBanMs;
    if (ms <= 0) return;
    const now = Date.now();
    if (this.bans.size >= 10_000) for (const [k, until] of this.bans) if (until <= now) this.bans.delete(k);
    if (this.bans.size < 10_000) this.bans.set(ip, now + ms);
  }

  private banned(ip: string): boolean {
    const until = this.bans.get(ip);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.bans.delete(ip);
    return false;
  }

  private refuse(cb: (err: string, ok: boolean) => void, kind: RefusalKind, ip: string, detail?: Record<string, unknown>): void {
    this.refusals.refuse(kind, { ip }, detail);
    cb(kind, false);
    if (kind === 'connect_rate' || kind === 'connections_per_ip') this.countRefused(ip);
  }

  /**
   * An IP refused more than HANDSHAKE_FLOOD times within a second is locked out (FLOOD_BAN_MS).
   * Sliding-window estimate over the current and previous calendar second, so a burst that
   * straddles a second boundary still counts as one burst.
   */
  private countRefused(ip: string): void {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.refusedSecond) {
      this.refusedBefore = second === this.refusedSecond + 1 ? this.refusedNow : new Map<string, number>();
      this.refusedNow = new Map<string, number>();
      this.refusedSecond = second;
      this.floodedThisSecond.clear();
    }
    const n = (this.refusedNow.get(ip) ?? 0) + 1;
    this.refusedNow.set(ip, n);
    const carried = (this.refusedBefore.get(ip) ?? 0) * (1 - (now % 1000) / 1000);
    if (n + carried >= HANDSHAKE_FLOOD && !this.floodedThisSecond.has(ip)) {
      this.floodedThisSecond.add(ip);
      this.refusals.cut('handshake_flood', { ip });
      this.ban(ip);
    }
  }
}
