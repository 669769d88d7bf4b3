/**
 * Several real server instances on one Redis (issue 3). In-process instances (each its own
 * createApp, Socket.IO server, adapter and Redis clients) for the cross-instance rows of §5, and
 * separate processes (`spawnInstance`) where a process must die (SIGKILL) or restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { LOOSE_IP_LIMITS, startServer, TEST_KEY, type TestServer } from './server.ts';
import { dropPrefix, freshPrefix, REDIS_URL } from './redis.ts';

export interface Cluster {
  prefix: string;
  nodes: TestServer[];
  close(): Promise<void>;
}

export function clusterEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    INSTANCE_HEARTBEAT_MS: '200',
    INSTANCE_TTL_MS: '1000',
    MAX_ROOMS_PER_IP: '1000',
    ...extra,
  };
}

export async function startCluster(n: number, tag: string, extra: Record<string, string> = {}): Promise<Cluster> {
  const prefix = freshPrefix(tag);
  const nodes: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(await startServer({ ...clusterEnv(prefix, extra), INSTANCE_ID: `${tag}-${i}` }));
  }
  return {
    prefix,
    nodes,
    async close() {
      await Promise.all(nodes.map((s) => s.close()));
      await dropPrefix(prefix);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface Instance {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** `node --import tsx src/main.ts` as its own process, resolved once it listens. */
export async function spawnInstance(env: Record<string, string>, port?: number): Promise<Instance> {
  const p = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'production', AUTH_KEY: TEST_KEY, HOST: '127.0.0.1', PORT: String(p), LOG_LEVEL: 'info', ...LOOSE_IP_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${out}`)), 20_000);
    const check = () => {
      if (out.includes('watch room server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => reject(new Error(`instance exited early:\n${out}`)));
  });
  return { child, port: p, url: `http://127.0.0.1:${p}`, output: () => out, exited };
}
