/**
 * The Socket.IO gateway: authentication, one handler per event through the shared wrapper, and the
 * connection lifecycle (disconnect is not a leave, recovery restores the member, §5.21).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { isConnectedMember } from '../domain/outcome.ts';
import type { Clock, Effect, RoomRecord } from '../domain/types.ts';
import type { RoomService } from '../service/room-service.ts';
import { authMiddleware } from './auth.ts';
import { clientIp, compileTrust } from './client-ip.ts';
import { actorOf, Connection, type ConnectionShared } from './connection.ts';
import { applyEffects } from './effects.ts';
import { buildEventTable } from './events.ts';
import { handleEvent } from './handler.ts';
import type { Refusals } from '../observability/refusals.ts';
import { WireError } from '../wire/parser.ts';
import { KeyedRateLimiter, type SharedRateLimiter } from './rate-limit.ts';
import type { SerialQueue } from './serial-queue.ts';
import type { IoServer, IoSocket } from './types.ts';

export interface Gateway {
  apply(effects: readonly Effect[]): void;
  /** Stop processing disconnects as leaves (graceful shutdown keeps rooms as they are). */
  shutdown(): void;
  /** Resolves when every socket's queued handlers have run. */
  idle(): Promise<void>;
  /**
   * Puts back local sockets that the rooms no longer list as members although they still hold a
   * connection (a disconnect judged during a Redis outage, another instance's sweep): they are
   * restored as on recovery (§5.21). `rooms` is a snapshot taken before the call.
   */
  reconcile(rooms: readonly RoomRecord[]): void;
}

export interface GatewayGuards {
  refusals: Refusals;
  /** Refuses an IP's handshakes for a while once one of its sockets was cut as abusive. */
  ban(ip: string): void;
  /** `room:*` events per IP over all its sockets (RATE_ROOM_PER_IP). */
  roomPerIp: SharedRateLimiter;
}

export function attachGateway(
  io: IoServer,
  service: RoomService,
  config: Config,
  clock: Clock,
  log: Logger,
  guards: GatewayGuards,
): Gateway {
  const trust = compileTrust(config.http.trustProxy);
  const table = new Map(Object.entries(buildEventTable(service, config)));
  const queues = new Map<string, SerialQueue>();
  let shuttingDown = false;
  const apply = (effects: readonly Effect[]) => applyEffects(io, effects, log);

  io.use(authMiddleware(config.auth.keys, log, guards.refusals));

  const shared: ConnectionShared = {
    config,
    clock,
    log,
    refusals: guards.refusals,
    ban: (ip) => guards.ban(ip),
    roomPerIp: guards.roomPerIp,
    fanoutPerIp: new KeyedRateLimiter(config.rates.fanoutPerIp, clock),
    apply,
  };

  /** §5.21: make a connected socket a member of its room again (recovery, reconciliation). */
  function restore(socket: IoSocket, queue: SerialQueue): void {
    queue.push(async () => {
      try {
        if (socket.connected) apply(await service.recover(actorOf(socket)));
      } catch (err) {
        log.error({ err, socketId: socket.id }, 'restoring membership failed');
      }
    });
  }

  io.on('connection', (socket: IoSocket) => {
    if (!socket.recovered) socket.data = { ip: clientIp(socket.request, trust) };
    releaseRequest(socket);
    const conn = new Connection(socket, shared);
    const { queue } = conn;
    queues.set(socket.id, queue);
    socket.onAny((event: string, ...args: unknown[]) => {
      const spec = table.get(event); // a Map: an event named "constructor" finds nothing
      if (spec) handleEvent(socket, event, spec, conn, args);
      else conn.refuse('unknown_event', String(event).slice(0, 64));
    });

    // A frame the guarded parser refused, or one it could not decode: Socket.IO has already
    // closed the connection (wire/parser.ts); count it, and lock out an abuser's IP for a while.
    socket.on('error', (err: Error) => {
      if (err instanceof WireError) conn.cut(err.violation);
      else conn.cut('malformed', { error: err.message.slice(0, 100) });
    });

    log.info({ socketId: socket.id, recovered: socket.recovered, transport: socket.conn.transport.name }, 'connected');
    if (!socket.recovered) {
      // Connection state recovery can only restore a client that has received at least one
      // broadcast (that is what gives it an offset). One pong sent as a broadcast to the socket's
      // own room gives every client one at once, so a drop before its first room event recovers too.
      // The adapter keeps it as that offset only, never to replay (session-adapter.ts, ANCHORS).
      io.to(socket.id).emit('heartbeat:pong', { timestamp: Date.now() });
    }

    if (socket.recovered) restore(socket, queue);

    socket.on('disconnect', (reason) => {
      log.info({ socketId: socket.id, reason, roomId: socket.data.roomId }, 'disconnected');
      if (shuttingDown) return;
      queue.push(async () => {
        try {
          apply(await service.disconnect(actorOf(socket)));
        } catch (err) {
          log.error({ err, socketId: socket.id }, 'disconnect handling failed');
        } finally {
          if (queues.get(socket.id) === queue) queues.delete(socket.id);
        }
      });
    });
  });

  return {
    apply,
    shutdown() {
      shuttingDown = true;
    },
    async idle() {
      await Promise.all([...queues.values()].map((q) => q.drain()));
    },
    reconcile(rooms) {
      if (shuttingDown) return;
      const byId = new Map(rooms.map((r) => [r.id, r]));
      for (const [id, queue] of queues) {
        const socket = io.sockets.sockets.get(id);
        const roomId = socket?.data.roomId;
        if (!socket || !roomId) continue;
        const room = byId.get(roomId);
        // A room missing from the snapshot may be newer than it: leave that to the dissolve.
        if (room && !isConnectedMember(room, id)) restore(socket, queue);
      }
    },
  };
}

/**
 * Engine.IO keeps each session's first HTTP request (and Socket.IO's handshake its headers) for
 * the life of the connection: the IncomingMessage, its headers and raw header strings. Everything
 * we read from it (client IP, key) was read by now, so it is let go, as Socket.IO's "Memory usage"
 * guide suggests (issue 4; with the other per-socket changes, heap at 4,000 sockets 80.1 -> 77.4 MB).
 */
function releaseRequest(socket: IoSocket): void {
  const req = socket.conn.request as IncomingMessage | null;
  if (req) {
    // Should the request stay reachable some other way, at least its header arrays go.
    req.rawHeaders = [];
    req.headers = {};
  }
  (socket.conn as { request: unknown }).request = null;
  socket.handshake.headers = {};
  dropUpgradeResponse(socket);
  // A session that started on polling upgrades later, with a request of its own.
  if (socket.conn.transport.name !== 'websocket') socket.conn.once('upgrade', () => dropUpgradeResponse(socket));
}

/** The `() => this.emit("close")` that Engine.IO's WebSocketResponse puts on the TCP socket. */
const UPGRADE_RESPONSE_CLOSE = /^\(\)\s*=>\s*this\.emit\(["']close["']\)$/;

/**
 * Engine.IO's WebSocket upgrade wraps the upgrade request in a response object for HTTP middlewares
 * (`engine.use`, which this server does not use) and forwards the TCP socket's `close` to it: that
 * one listener kept the request, its state and the response alive until the connection closed
 * (1.2 KB a socket, issue 4: heap at 4,000 sockets 74.9 -> 70.0 MB). It is removed once the
 * connection is established. Should a later Engine.IO word it differently, nothing is removed and
 * nothing else changes (test/integration/request-release.test.ts would then fail).
 */
function dropUpgradeResponse(socket: IoSocket): void {
  const transport = (socket.conn as { transport?: { name?: string; socket?: { _socket?: Socket } } }).transport;
  const tcp = transport?.name === 'websocket' ? transport.socket?._socket : undefined;
  if (!tcp) return;
  for (const l of tcp.rawListeners('close')) {
    const inner = (l as { listener?: unknown }).listener;
    if (typeof inner === 'function' && UPGRADE_RESPONSE_CLOSE.test(inner.toString())) tcp.removeListener('close', l as () => void);
  }
}
