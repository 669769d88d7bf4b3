/**
 * `createApp(config)`: the whole server, used by `main.ts` and by the tests alike. Express and
 * Socket.IO share one HTTP server; the room store, the sweeper and the gateway are wired here.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { Config } from './config/config.ts';
import { systemClock, type Clock } from './domain/types.ts';
import { attachGateway, type Gateway } from './gateway/gateway.ts';
import type { IoServer } from './gateway/types.ts';
import { corsOptions } from './http/cors.ts';
import { compileTrust } from './gateway/client-ip.ts';
import { ConnectionGuard } from './gateway/connection-guard.ts';
import { watchSlowReaders } from './gateway/write-guard.ts';
import { preventNepotism } from './gateway/gc-nepotism.ts';
import { Refusals } from './observability/refusals.ts';
import { guardedParser } from './wire/parser.ts';
import { createHttpApp } from './http/http-app.ts';
import { createLogger } from './observability/logger.ts';
import { LoopDelayMonitor } from './observability/loop-delay.ts';
import { cryptoIds, type IdSource } from './security/random.ts';
import { RoomService } from './service/room-service.ts';
import { Sweeper } from './service/sweeper.ts';
import { createBackend, type Backend } from './cluster/backend.ts';
import type { RoomStore } from './store/room-store.ts';

export interface AppOptions {
  clock?: Clock;
  ids?: IdSource;
  logger?: Logger;
  store?: RoomStore;
}

export interface App {
  config: Config;
  log: Logger;
  io: IoServer;
  httpServer: HttpServer;
  store: RoomStore;
  backend: Backend;
  service: RoomService;
  sweeper: Sweeper;
  gateway: Gateway;
  /** Listens on config's host and port (port 0: any free port); resolves with the bound port. */
  listen(): Promise<number>;
  /** Graceful shutdown (§1.7): transport-level close, so clients reconnect by themselves. */
  close(): Promise<void>;
}

function memoryFigures() {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 1048576);
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external) };
}

export function createApp(config: Config, opts: AppOptions = {}): App {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? createLogger(config);
  preventNepotism(log); // ws's and Engine.IO's per-message arrays (issue 4): once per process
  const backend = createBackend(config, log, clock, opts.store);
  const { store, registry } = backend;
  const startedAt = Date.now();
  const loopDelay = new LoopDelayMonitor();
  const refusals = new Refusals(log, clock, config.abuse.refusalLogIntervalMs);
  const connections = new ConnectionGuard(config, compileTrust(config.http.trustProxy), backend.limiters.connectPerIp, refusals);
  let shuttingDown = false;

  // Express must be the server's request listener before Socket.IO attaches: Engine.IO wraps the
  // listeners present at that moment and serves /socket.io/ ahead of them (polling, §1.2).
  const app = createHttpApp({
    config,
    store,
    log,
    startedAt,
    isShuttingDown: () => shuttingDown,
    runtimeStats: () => ({
      connections: io.engine.clientsCount, // called only once `io` exists
      instance: config.instanceId,
      store: store.kind,
      eventLoopDelayMs: loopDelay.snapshot(),
      memory: memoryFigures(),
      abuse: refusals.snapshot(),
    }),
  });
  const httpServer = createServer(app);
  const io: IoServer = new Server(httpServer, {
    transports: ['websocket', 'polling'],
    perMessageDeflate: false,
    httpCompression: false,
    maxHttpBufferSize: config.http.maxHttpBufferSize,
    pingInterval: config.http.pingIntervalMs,
    pingTimeout: config.http.pingTimeoutMs,
    cors: corsOptions(config.http.allowedOrigins),
    // Origin (for every transport: cross-site WebSocket hijacking), connections per IP.
    allowRequest: connections.allowRequest,
    adapter: backend.adapter,
    // A byte budget per connection, spent before a frame is parsed (issue 5).
    parser: guardedParser(config.rates.inboundBytes, config.limits.maxAudioChunkBytes),
    connectionStateRecovery: {
      maxDisconnectionDuration: config.timers.recoveryWindowMs,
      skipMiddlewares: true,
    },
  });

  const service = new RoomService(store, config, clock, opts.ids ?? cryptoIds, log, { perRoomIp: backend.limiters.guessPerRoomIp, perIp: backend.limiters.guessPerIp });
  const gateway = attachGateway(io, service, config, clock, log, {
    refusals,
    roomPerIp: backend.limiters.roomPerIp,
    ban: (ip) => connections.ban(ip),
  });
  connections.track(io);
  connections.watchAccepts(httpServer);
  const stopSlowReaderWatch = watchSlowReaders(io, config.abuse.maxBufferedBytes, refusals, log);
  const sweeper = new Sweeper(store, config, clock, (e) => gateway.apply(e), log, {
    // §5.21: a member whose socket exists nowhere any more (its instance died, or its disconnect
    // could not be written) is handled as disconnected. Another instance's members are judged
    // only while this instance's own view of Redis is sound (see instance-registry.ts).
    async gonePredicate() {
      const judge = await registry.refresh();
      return (m) =>
        m.instanceId === config.instanceId
          ? !io.sockets.sockets.has(m.id)
          : judge && m.instanceId !== undefined && !registry.isLive(m.instanceId);
    },
    afterSweep: (rooms) => gateway.reconcile(rooms),
  });


  return {
    config,
    log,
    io,
    httpServer,
    store,
    backend,
    service,
    sweeper,
    gateway,
    async listen() {
      await backend.connect();
      await registry.start();
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => {
          httpServer.off('error', reject);
          sweeper.start();
          resolve((httpServer.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      if (shuttingDown) return;
      shuttingDown = true; // /ready answers 503 from now on
      connections.closed = true;
      connections.release();
      // Give load balancers that poll /ready time to stop sending clients here (SHUTDOWN_DRAIN_MS).
      if (config.http.shutdownDrainMs > 0) await new Promise((r) => setTimeout(r, config.http.shutdownDrainMs));
      gateway.shutdown();
      stopSlowReaderWatch();
      await sweeper.stop();
      await registry.stop();
      // io.close() ends every socket without a Socket.IO disconnect packet and closes the
      // transports (a WebSocket close frame), so clients see "transport close" and reconnect.
      const closing = io.close();
      httpServer.closeIdleConnections();
      const force = setTimeout(() => httpServer.closeAllConnections(), 2000);
      force.unref();
      await closing;
      clearTimeout(force);
      loopDelay.stop();
      await backend.close();
    },
  };
}
