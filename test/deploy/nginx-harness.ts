/**
 * Running the shipped nginx configuration in tests (test/deploy/nginx.test.ts): finding nginx,
 * pointing deploy/nginx/watch-room.conf at test ports, starting nginx as its own process with every
 * path in a temporary directory, and clients that leave from a chosen 127.0.0.x source address.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { emitAck, type Client, type JoinReply } from '../helpers/client.ts';
import { freePort } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';
import { TEST_KEY } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SITE = join(ROOT, 'deploy/nginx/watch-room.conf');
export const COMPOSE_SITE = join(ROOT, 'deploy/nginx/compose.conf');

// --- finding nginx -----------------------------------------------------------------------------

function findNginx(): string | null {
  const candidates = process.env.NGINX_BIN
    ? [process.env.NGINX_BIN]
    : [
        ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'nginx')),
        '/usr/sbin/nginx',
        '/usr/local/sbin/nginx',
        '/usr/local/nginx/sbin/nginx',
      ];
  for (const c of candidates) {
    if (spawnSync(c, ['-v'], { stdio: 'ignore' }).status === 0) return c;
  }
  return null;
}

const NGINX = findNginx();
const NO_NGINX = 'nginx not installed (apt-get install -y nginx); set REQUIRE_NGINX=1 to fail instead';

/** `describe` that needs nginx (and, with `redis`, Redis too). */
export function nginxDescribe(name: string, opts: { redis: boolean }, fn: () => void): void {
  if (NGINX !== null) {
    if (opts.redis) redisDescribe(name, fn);
    else describe(name, fn);
  } else if (process.env.REQUIRE_NGINX === '1') {
    describe(name, () => {
      it('finds nginx', () => {
        const looked = process.env.NGINX_BIN ? `NGINX_BIN=${process.env.NGINX_BIN}` : 'PATH, /usr/sbin, /usr/local/sbin, /usr/local/nginx/sbin';
        assert.fail(`REQUIRE_NGINX=1 but no nginx runs (looked in ${looked}); apt-get install -y nginx`);
      });
    });
  } else {
    describe(name, () => {
      it('needs nginx', { skip: NO_NGINX }, () => undefined);
    });
  }
}

// --- running nginx -------------------------------------------------------------------------------

/** The shipped site file, for a test: one listen line on a loopback port, the upstream on `ports`. */
export function siteForTest(listenPort: number, ports: readonly [number, number]): string {
  let listens = 0;
  let servers = 0;
  const lines = readFileSync(SITE, 'utf8')
    .split('\n')
    .map((line) => {
      const code = line.replace(/#.*/, '');
      if (/^\s*listen\s/.test(code)) return listens++ === 0 ? `    listen 127.0.0.1:${listenPort};` : '';
      const m = /^(\s*server\s+)127\.0\.0\.1:(3001|3002)(\s.*)$/.exec(code);
      if (m) {
        servers++;
        return `${m[1]}127.0.0.1:${m[2] === '3001' ? ports[0] : ports[1]}${m[3]}`;
      }
      return line;
    });
  assert.equal(servers, 2, `${SITE}: expected the upstream servers 127.0.0.1:3001 and 127.0.0.1:3002`);
  assert.ok(listens > 0, `${SITE}: no listen line`);
  return lines.join('\n');
}

/** A main nginx.conf around a site file, with every path in `dir` (no root-owned paths needed). */
function mainConf(dir: string, site: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${site};
}
`;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wrs-nginx-'));
  chmodSync(dir, 0o755); // nginx's workers drop to `nobody` when the tests run as root
  return dir;
}

/** `nginx -t` on a site file; resolves with nginx's output, throws when the test fails. */
export function nginxTest(siteText: string): string {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'site.conf'), siteText);
    writeFileSync(join(dir, 'nginx.conf'), mainConf(dir, join(dir, 'site.conf')));
    const r = spawnSync(NGINX as string, ['-t', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      encoding: 'utf8',
    });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, `nginx -t failed:\n${out}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Nginx {
  url: string;
  child: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

export async function startNginx(site: (port: number) => string): Promise<Nginx> {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'site.conf'), site(port));
  writeFileSync(join(dir, 'nginx.conf'), mainConf(dir, join(dir, 'site.conf')));
  const child = spawn(NGINX as string, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => {
    try {
      return `${out}${readFileSync(join(dir, 'error.log'), 'utf8')}`;
    } catch {
      return out;
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${log()}`);
    const ok = await httpGet(`${url}/health`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`nginx did not answer /health within 10 s:\n${log()}`);
    await sleep(50);
  }
  return {
    url,
    child,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- HTTP and sockets from a chosen source address -------------------------------------------------

export function httpGet(
  url: string,
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, localAddress: opts.localAddress, headers: opts.headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export type Opts = Partial<ManagerOptions & SocketOptions>;
const agents: Agent[] = [];

/** Destroys the agents `from` made (call in `after`). */
export function destroyAgents(): void {
  for (const a of agents.splice(0)) a.destroy();
}

/** Socket options whose every connection (polling requests, WebSocket) leaves from `addr`. */
export function from(addr: string, extra: Opts = {}): Opts {
  const agent = new Agent({ localAddress: addr });
  agents.push(agent);
  // engine.io-client hands `agent` to ws and to its Node XMLHttpRequest alike; its type says string.
  return { ...extra, agent } as unknown as Opts;
}

export const WS: Opts = { transports: ['websocket'] };

export type StatsRoom = { id: string; memberCount: number };
export type Stats = { totalRooms: number; rooms: StatsRoom[]; connections: number; instance: string };

export async function stats(url: string, localAddress?: string): Promise<Stats> {
  const r = await httpGet(`${url}/stats`, { localAddress, headers: { Authorization: `Bearer ${TEST_KEY}` } });
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Stats;
}

export type CreateReply = { success: boolean; code?: string; room?: { id: string } };
export const tryCreate = (s: Client) =>
  emitAck<CreateReply>(s, 'room:create', { name: 'n', description: '', isPublic: true, userName: 'u' });

/**
 * What MoonTVPlus's page does around its socket (PROTOCOL §1.6): it remembers the room it created
 * or joined and, on every `connect` (reconnects included), waits 300 ms and sends
 * `room:join { roomId, password, userName, ownerToken }` again.
 */
export class MoonTvPage {
  remembered: { roomId: string; password?: string; userName: string; ownerToken?: string } | null = null;
  readonly disconnects: string[] = [];
  private waiters: ((r: JoinReply) => void)[] = [];

  constructor(
    readonly socket: Client,
    readonly addr: string,
  ) {
    socket.on('disconnect', (reason) => this.disconnects.push(reason));
    socket.on('connect', () => {
      setTimeout(() => {
        if (!this.remembered || !socket.connected) return;
        socket.emit('room:join', this.remembered, (r: JoinReply) => {
          for (const w of this.waiters.splice(0)) w(r);
        });
      }, 300);
    });
  }

  /** Resolves with the ack of the next automatic rejoin. */
  nextRejoin(ms = 10_000): Promise<JoinReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no automatic rejoin within ${ms} ms (disconnects: ${this.disconnects.join(', ')})`)), ms);
      this.waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }
}
