/**
 * The server under attack: `node dist/main.js` with its production defaults, only the key (and
 * the address to listen on) set, unlike the capacity benchmark's target (bench/servers.ts), which
 * opens every limit wide. Its environment is built from scratch (no inherited server variables)
 * and it runs in a directory without a `.env`, so what is measured is what a deployment gets.
 * Its log lines are counted by level (a flood of warnings is a finding too), and its HTTP
 * endpoints are asked from RUNNER_ADDRESS, never from the attacker's IP.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOP_PROBE_ARGS } from '../loop-probe.ts';
import { assertPortFree, readLoop, ROOT, stopChild, type LoopDelay } from '../servers.ts';
import { RUNNER_ADDRESS } from './ipc.ts';

const HEALTH_TIMEOUT_MS = 30_000;
/** A directory of the repository without a .env: the server reads `.env` from its working directory. */
const CWD = fileURLToPath(new URL('.', import.meta.url));
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export interface AbuseTarget {
  url: string;
  pid: number;
  /** True while the process runs. */
  alive(): boolean;
  /** Log lines by level since the last call, and the first few warn/error messages. */
  takeLogs(): { levels: Record<string, number>; samples: string[] };
  resetLoop(): void;
  readLoop(): Promise<LoopDelay>;
  stop(): Promise<void>;
}

export async function startAbuseTarget(o: { port: number; key: string; env: Record<string, string>; log: (s: string) => void }): Promise<AbuseTarget> {
  await assertPortFree(o.port);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(o.port),
    AUTH_KEY: o.key,
    ...o.env,
  };
  const child = spawn(process.execPath, [...LOOP_PROBE_ARGS, join(ROOT, 'dist', 'main.js')], { cwd: CWD, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let levels: Record<string, number> = {};
  let samples: string[] = [];
  let tail = '';
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    tail = (tail + d).slice(-4000);
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /"level":(\d+)/.exec(line);
      const level = m ? (LEVELS[Number(m[1])] ?? m[1]!) : 'other';
      levels[level] = (levels[level] ?? 0) + 1;
      if ((level === 'warn' || level === 'error' || level === 'fatal') && samples.length < 5) {
        const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 200);
        if (!samples.includes(msg)) samples.push(msg);
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    tail = (tail + d).slice(-4000);
    o.log(`[server] ${d.trimEnd()}`);
  });
  const url = `http://127.0.0.1:${o.port}`;
  const t: AbuseTarget = {
    url,
    pid: child.pid!,
    alive: () => child.exitCode === null && child.signalCode === null,
    takeLogs() {
      const out = { levels, samples };
      levels = {};
      samples = [];
      return out;
    },
    resetLoop: () => {
      if (child.connected) child.send('loop:reset');
    },
    readLoop: () => readLoop(child),
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (!t.alive()) throw new Error(`server exited at start:\n${tail}`);
    if ((await httpGet(`${url}/health`, undefined, 2_000)).status === 200) return t;
    if (Date.now() > deadline) {
      await t.stop();
      throw new Error(`server: no /health within ${HEALTH_TIMEOUT_MS} ms:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface HttpReply {
  /** 0 when there was no HTTP answer (refused, reset, timeout). */
  status: number;
  body: string;
  ms: number;
  error?: string;
}

/** GET from RUNNER_ADDRESS (never the attacker's IP), with a timeout; never throws. */
export function httpGet(url: string, key: string | undefined, timeoutMs: number): Promise<HttpReply> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<HttpReply, 'ms'>) => {
      if (done) return;
      done = true;
      resolve({ ...r, ms: Math.round(performance.now() - started) });
    };
    const req = request(url, { localAddress: RUNNER_ADDRESS, headers: key ? { authorization: `Bearer ${key}` } : {}, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => finish({ status: 0, body, error: err.message }));
    });
    req.on('timeout', () => {
      req.destroy();
      finish({ status: 0, body: '', error: 'timeout' });
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: 0, body: '', error: err.code ?? err.message }));
    req.end();
  });
}

export interface StatsReading {
  ok: boolean;
  totalRooms: number;
  totalMembers: number;
  connections: number;
  roomIds: string[];
  /** The server's abuse counters when it has them (`{ refused: {kind: n}, disconnected: {reason: n} }`). */
  abuse: unknown;
  rssMb: number;
  error?: string;
}

export async function readStats(url: string, key: string, timeoutMs = 10_000): Promise<StatsReading> {
  const r = await httpGet(`${url}/stats`, key, timeoutMs);
  const none: StatsReading = { ok: false, totalRooms: Number.NaN, totalMembers: Number.NaN, connections: Number.NaN, roomIds: [], abuse: undefined, rssMb: Number.NaN };
  if (r.status !== 200) return { ...none, error: r.error ?? `http ${r.status}` };
  try {
    const s = JSON.parse(r.body) as {
      totalRooms?: number;
      totalMembers?: number;
      connections?: number;
      rooms?: { id: string }[];
      abuse?: unknown;
      memory?: { rssMb?: number };
    };
    return {
      ok: true,
      totalRooms: s.totalRooms ?? Number.NaN,
      totalMembers: s.totalMembers ?? Number.NaN,
      connections: s.connections ?? Number.NaN,
      roomIds: (s.rooms ?? []).map((x) => x.id),
      abuse: s.abuse,
      rssMb: s.memory?.rssMb ?? Number.NaN,
    };
  } catch (err) {
    return { ...none, error: err instanceof Error ? err.message : String(err) };
  }
}
