/**
 * Boots the real server (`createApp`, the same one `main.ts` uses) on 127.0.0.1, port 0, logging
 * off, with any configuration override (short timers for §8 tests).
 */
import { createApp, type App, type AppOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';

export const TEST_KEY = 'test-key-0123456789abcdef';

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
    ...env,
  });
  const app = createApp(config, opts);
  const port = await app.listen();
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
