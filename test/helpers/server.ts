/**
 * Boots the real server (`createApp`, the same one `main.ts` uses) on 127.0.0.1, port 0, logging
 * off, with any configuration override (short timers for §8 tests).
 */
import { createApp, type App, type AppOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';

export const TEST_KEY = 'test-key-0123456789abcdef';

/**
 * The whole suite connects from 127.0.0.1, so the per-IP limits (issue 5) are opened wide (and
 * the lock-out after an abusive socket is cut is off) for
 * tests by default. A test of those limits passes `PRODUCTION_LIMITS` to get the documented
 * defaults back (an empty value means "not set").
 */
export const LOOSE_IP_LIMITS = {
  MAX_CONNECTIONS_PER_IP: '1000000',
  RATE_CONNECT_PER_IP: '100000:100000',
  RATE_ROOM_PER_IP: '100000:100000',
  RATE_FANOUT_BYTES_PER_IP: '1000000000000:1000000000000',
  FLOOD_BAN_MS: '0',
} as const;
export const PRODUCTION_LIMITS: Record<keyof typeof LOOSE_IP_LIMITS, string> = {
  MAX_CONNECTIONS_PER_IP: '',
  RATE_CONNECT_PER_IP: '',
  RATE_ROOM_PER_IP: '',
  RATE_FANOUT_BYTES_PER_IP: '',
  FLOOD_BAN_MS: '',
};

export interface TestServer {
  app: App;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}, opts: AppOptions = {}): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    AUTH_KEY: TEST_KEY,
    LOG_LEVEL: 'silent',
    ...LOOSE_IP_LIMITS,
    ...env,
  });
  const app = createApp(config, opts);
  const port = await app.listen();
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
