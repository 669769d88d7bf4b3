/**
 * The processes under test: our server (`node dist/main.js`, production mode, built first when
 * dist is older than src) as one or several instances on one Redis, or the bare relay. Each is
 * its own process so that /proc figures are its own and the generators never share its core time
 * accounting. Limits are opened wide: the bench measures capacity, not the rate limiter.
 */
import { createWriteStream } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LOOP_PROBE_ARGS } from './loop-probe.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEALTH_TIMEOUT_MS = 30_000;
const WIDE_RATE = '100000:100000';

export type TargetKind = 'server' | 'relay' | 'relay-lossy';

export interface TargetOptions {
  kind: TargetKind;
  instances: number;
  portBase: number;
  key: string;
  rooms: number;
  members: number;
  redisUrl: string;
  /** KEY=VALUE overrides for the server's environment (ping settings, limits...). */
  env: Record<string, string>;
  /** Extra node options for each process (--cpu-prof, --heapsnapshot-signal=SIGUSR2...). */
  nodeArgs: string[];
  /** The server's heap cap in MB (--max-old-space-size), 0 for V8's default; not the relay's. */
  heapMb: number;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export interface Target {
  kind: TargetKind;
  urls: string[];
  pids: number[];
  /** Event-loop delay p99 (ms) of each process, from its /stats (since the process started). */
  eventLoopP99(): Promise<number[]>;
  /** Restarts the loop probe's histogram in every process (start of a window). */
  resetLoop(): void;
  /** The loop probe's reading in every process since the last reset (ms). */
  readLoop(): Promise<LoopDelay[]>;
  stop(): Promise<void>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** `npm run build` when dist/main.js is missing or older than any file of src/. */
export function ensureBuilt(log: (s: string) => void): void {
  const main = join(ROOT, 'dist', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  log('building (dist is missing or older than src)...');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

function serverEnv(o: TargetOptions, port: number, i: number, prefix: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    AUTH_KEY: o.key,
    LOG_LEVEL: 'warn',
    MAX_ROOMS: String(Math.max(20_000, o.rooms * 2)),
    MAX_ROOMS_PER_IP: '100000000',
    MAX_MEMBERS_PER_ROOM: String(Math.max(50, o.members)),
    RATE_HEARTBEAT: WIDE_RATE,
    RATE_ROOM: WIDE_RATE,
    RATE_CHAT: WIDE_RATE,
    RATE_PLAYBACK: WIDE_RATE,
    RATE_SIGNAL: WIDE_RATE,
    RATE_AUDIO: WIDE_RATE,
    // The generators stand for thousands of users behind a few loopback addresses.
    MAX_CONNECTIONS_PER_IP: '1000000',
    RATE_CONNECT_PER_IP: WIDE_RATE,
    RATE_ROOM_PER_IP: WIDE_RATE,
    RATE_FANOUT_BYTES_PER_IP: '1000000000000:1000000000000',
    ...(prefix ? { REDIS_URL: o.redisUrl, REDIS_PREFIX: prefix, INSTANCE_ID: `bench-${i}` } : {}),
    ...o.env,
  };
}

/** Starts the target's processes and resolves once every one answers /health. */
export async function startTarget(o: TargetOptions): Promise<Target> {
  const relay = o.kind !== 'server';
  const n = relay ? 1 : o.instances;
  const prefix = !relay && n > 1 ? `wrs-bench-${randomBytes(4).toString('hex')}:` : undefined;
  if (prefix) await pingRedis(o.redisUrl);
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  const output: string[] = [];
  // A port already taken would let another process answer our /health checks and be measured.
  for (let i = 0; i < n; i++) await assertPortFree(o.portBase + i);
  for (let i = 0; i < n; i++) {
    const port = o.portBase + i;
    const args = relay
      ? [...o.nodeArgs, '--import', 'tsx', ...LOOP_PROBE_ARGS, 'bench/relay.ts', '--port', String(port), ...(o.kind === 'relay-lossy' ? ['--lossy'] : [])]
      : [...(o.heapMb > 0 ? [`--max-old-space-size=${o.heapMb}`] : []), ...o.nodeArgs, ...LOOP_PROBE_ARGS, 'dist/main.js'];
    const env = relay ? { ...process.env, BENCH_KEY: o.key } : serverEnv(o, port, i, prefix);
    // The IPC channel serves the loop probe (loop-probe.ts), preloaded into both kinds alike.
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    output[i] = '';
    const keep = (d: Buffer) => (output[i] = (output[i]! + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    if (process.env.BENCH_SERVER_LOG) child.stdout?.pipe(createWriteStream(`${process.env.BENCH_SERVER_LOG}.${i}`));
    child.stderr?.on('data', (d: Buffer) => {
      keep(d);
      process.stderr.write(`[${relay ? 'relay' : `server ${i}`}] ${d.toString()}`);
    });
    children.push(child);
    urls.push(`http://127.0.0.1:${port}`);
  }
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    if (prefix) await dropPrefix(o.redisUrl, prefix).catch(() => undefined);
  };
  try {
    await Promise.all(urls.map((u, i) => waitHealthy(u, children[i]!, () => output[i]!)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    kind: o.kind,
    urls,
    pids: children.map((c) => c.pid!),
    eventLoopP99: () => Promise.all(urls.map((u) => loopP99(u, o.key))),
    resetLoop: () => children.forEach((c) => c.connected && c.send('loop:reset')),
    readLoop: () => Promise.all(children.map(readLoop)),
    stop,
  };
}

export function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err) => reject(new Error(`port ${port} is not free (${err.message}); choose another --port-base`, { cause: err })));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

async function waitHealthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: process exited:\n${output()}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}: no /health within ${HEALTH_TIMEOUT_MS} ms:\n${output()}`);
}

async function loopP99(url: string, key: string): Promise<number> {
  try {
    const r = await fetch(`${url}/stats`, { headers: { authorization: `Bearer ${key}` } });
    const body = (await r.json()) as { eventLoopDelayMs?: { p99?: number } };
    return body.eventLoopDelayMs?.p99 ?? Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function readLoop(c: ChildProcess): Promise<LoopDelay> {
  const none = { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  if (!c.connected) return Promise.resolve(none);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(none), 5_000);
    const onMessage = (m: { loop?: LoopDelay }) => m.loop && done(m.loop);
    const done = (v: LoopDelay) => {
      clearTimeout(timer);
      c.off('message', onMessage);
      resolve(v);
    };
    c.on('message', onMessage);
    c.send('loop:read');
  });
}

/** SIGTERM (graceful shutdown), SIGKILL after 10 s. */
export function stopChild(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

async function pingRedis(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new Error(`--instances needs Redis at ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    r.disconnect();
  }
}

/** Deletes what the run left under its fresh prefix, so runs never pile up keys in Redis. */
async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await r.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
