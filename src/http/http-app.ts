/**
 * HTTP endpoints (PROTOCOL §9): `/health` (liveness), `/ready` (readiness), `/stats` (Bearer key),
 * and `/`, behind helmet's security headers and the shared CORS policy.
 */
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { connectedMembers } from '../domain/views.ts';
import { bearerToken } from '../gateway/auth.ts';
import { keyMatches } from '../security/secrets.ts';
import type { RoomStore } from '../store/room-store.ts';
import { corsOptions } from './cors.ts';

export interface HttpDeps {
  config: Config;
  store: RoomStore;
  log: Logger;
  startedAt: number;
  isShuttingDown(): boolean;
  /** Extra figures for /stats (connections, event loop). */
  runtimeStats(): Record<string, unknown>;
}

export const SERVICE_NAME = 'watch-room-server';
export const VERSION = '0.1.0';

export function createHttpApp(deps: HttpDeps): Express {
  const { config, store, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.use(helmet());
  app.use(cors(corsOptions(config.http.allowedOrigins)));

  app.get('/', (_req, res) => {
    res.json({
      name: SERVICE_NAME,
      version: VERSION,
      description: 'Real-time watch room server (Socket.IO 4), compatible with MoonTVPlus',
      endpoints: {
        socketio: '/socket.io/',
        health: '/health',
        ready: '/ready',
        stats: '/stats (Authorization: Bearer <AUTH_KEY>)',
      },
    });
  });

  app.get('/health', (_req, res) => {
    res.json({
      status: 'ok',
      timestamp: new Date().toISOString(),
      uptime: Math.round((Date.now() - deps.startedAt) / 1000),
    });
  });

  app.get('/ready', async (_req, res) => {
    const ok = !deps.isShuttingDown() && (await store.ready().catch(() => false));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', store: store.kind });
  });

  app.get('/stats', async (req, res) => {
    if (!keyMatches(bearerToken(req.headers.authorization), config.auth.statsKeys)) {
      res.status(401).json({ error: 'Unauthorized' });
      return;
    }
    const rooms = await store.list();
    const list = rooms.map((r) => ({
      id: r.id,
      name: r.name,
      memberCount: connectedMembers(r).length,
      isPublic: r.isPublic,
      hasPassword: r.passwordHash !== null,
      createdAt: r.createdAt,
      roomType: r.roomType,
      ownerConnected: r.ownerAwaySince === null,
    }));
    res.json({
      totalRooms: list.length,
      totalMembers: list.reduce((n, r) => n + r.memberCount, 0),
      rooms: list,
      ...deps.runtimeStats(),
    });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log.error({ err }, 'http handler failed');
    if (!res.headersSent) res.status(500).json({ error: 'Internal error' });
  });

  return app;
}
