/**
 * Process entry point: parse the configuration (fail fast), start the server, and shut down
 * gracefully on SIGTERM / SIGINT, exiting 0 within the shutdown timeout.
 */
import { createApp } from './app.ts';
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config/config.ts';

let config: Config;
try {
  loadDotEnv();
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const app = createApp(config);
const { log } = app;

process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  // A bug, but not one worth dropping every room for: log it loudly and keep serving.
  log.error({ err }, 'unhandled rejection');
});

const port = await app.listen();
log.info(
  {
    port,
    host: config.http.host,
    env: config.env,
    store: app.store.kind,
    keys: config.auth.keys.length,
    allowedOrigins: config.http.allowedOrigins === true ? '*' : config.http.allowedOrigins,
    playbackControl: config.rooms.defaultPlaybackControl,
  },
  'watch room server listening',
);
if (config.auth.generated) {
  // §1.3: only a key generated for this development run is ever shown, once, and marked as such.
  process.stdout.write(
    `\n  No AUTH_KEY set: generated a development key for this run only:\n\n    ${config.auth.keys[0]}\n\n` +
      `  Set AUTH_KEY (required with NODE_ENV=production) to choose your own.\n\n`,
  );
}

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const deadline = setTimeout(() => {
    log.warn('shutdown timed out; exiting');
    process.exit(0);
  }, config.http.shutdownTimeoutMs);
  deadline.unref();
  app.close().then(
    () => {
      log.info('shut down cleanly');
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(0);
    },
  );
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
