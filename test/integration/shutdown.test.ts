/**
 * PROTOCOL §1.7: graceful shutdown. The real entry point (`src/main.ts`) runs as a child process;
 * on SIGTERM or SIGINT it exits 0 promptly, and its clients see a transport close (not the final
 * `io server disconnect`), so they reconnect by themselves. §1.3: the operator's key never shows
 * up in what the process prints.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { closeAll, connect, createRoom, joinRoom, waitFor } from '../helpers/client.ts';
import { TEST_KEY } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface Child {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** Starts `node --import tsx src/main.ts` and resolves once it logs that it listens. */
async function startMain(extra: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH_KEY: TEST_KEY,
      LOG_LEVEL: 'debug',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 15 s:\n${out}`)), 15_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const listening = out.split('\n').some((line) => {
        try {
          return (JSON.parse(line) as { msg?: string }).msg === 'watch room server listening';
        } catch {
          return false;
        }
      });
      if (listening) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { proc, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('graceful shutdown of the real process (§1.7)', () => {
  afterEach(() => {
    closeAll();
    for (const c of children) c.kill('SIGKILL'); // only our own children, by handle
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: exits 0 within 10 s; clients see "transport close" and reconnect by themselves`, async () => {
      const child = await startMain();
      const owner = await connect(child.url);
      const member = await connect(child.url);
      const room = await createRoom(owner);
      assert.equal((await joinRoom(member, { roomId: room.id })).success, true);
      const refused = await connect(child.url, { auth: { token: 'wrong-key' }, extraHeaders: {} }).catch((e: Error) => e);
      assert.equal((refused as Error).message, 'Unauthorized');

      const reasons = [owner, member].map((s) => waitFor<string>(s, 'disconnect', () => true, 10_000));
      const retried = within(new Promise<void>((r) => owner.io.once('reconnect_attempt', () => r())), 10_000, 'reconnect_attempt');
      const started = Date.now();
      assert.equal(child.proc.kill(signal), true);

      const { code, signal: killedBy } = await within(child.exited, 10_000, 'exit');
      assert.equal(killedBy, null, child.output());
      assert.equal(code, 0, child.output());
      assert.ok(Date.now() - started < 10_000);

      assert.deepEqual(await Promise.all(reasons), ['transport close', 'transport close']);
      // Not `io server disconnect`: the client keeps trying (§1.7), as a real page would.
      assert.equal(owner.active, true);
      assert.equal(member.active, true);
      await retried;

      // §1.3, §10.3: the operator's key is never printed, not even in debug logs.
      const printed = child.output();
      assert.ok(printed.includes('watch room server listening'));
      assert.ok(!printed.includes(TEST_KEY), 'the auth key was printed');
      assert.ok(!printed.includes(TEST_KEY.slice(0, 8)), 'part of the auth key was printed');
    });
  }

  it('SHUTDOWN_DRAIN_MS: /ready says 503 and new handshakes are refused at once; open sockets stay for the drain', async () => {
    const child = await startMain({ SHUTDOWN_DRAIN_MS: '1500' });
    const owner = await connect(child.url);
    assert.equal((await fetch(`${child.url}/ready`)).status, 200);
    const reason = waitFor<string>(owner, 'disconnect', () => true, 10_000);
    const started = Date.now();
    child.proc.kill('SIGTERM');
    await within(
      (async () => {
        while ((await fetch(`${child.url}/ready`)).status !== 503) await new Promise((r) => setTimeout(r, 20));
      })(),
      1000,
      '/ready 503',
    );
    const handshake = await fetch(`${child.url}/socket.io/?EIO=4&transport=polling`);
    await handshake.text();
    assert.equal(handshake.status, 403, 'a new handshake goes elsewhere');
    assert.equal(owner.connected, true, 'open sockets are kept during the drain');
    assert.equal(await reason, 'transport close');
    assert.ok(Date.now() - started >= 1400, `closed after ${Date.now() - started} ms, before the drain ended`);
    assert.equal((await within(child.exited, 10_000, 'exit')).code, 0);
  });
});
