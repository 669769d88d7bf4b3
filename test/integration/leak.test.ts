/**
 * No secret reaches the logs (PROTOCOL §1.3: "a key set by the operator is never logged, not even
 * partly"; §6; §10.3). The real entry point runs as a separate process at LOG_LEVEL=trace, is shown
 * every secret the server ever handles, and is stopped with SIGTERM; then everything it printed is
 * searched for each secret.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clientOptions, closeAll, connect, createRoom, emitAck, joinRoom } from '../helpers/client.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = 'K7fQ2vX9pL4mZ8rT1wB6nC3yDh5Gj0Ws'; // 32 characters, no dictionary words
const NEAR_MISS = `${KEY.slice(0, -3)}zzz`; // a typo of the key: printing it would print most of the key
const PASSWORD = 'Pw#Leak-Q7u3Z9';
const PRIVATE_PASSWORD = 'Pv#Leak-R2k8M4';
const WRONG_PASSWORD = 'Wr0ng-Leak-P4ss';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

/** Every window of `n` characters of `s`. */
const windows = (s: string, n: number) => Array.from({ length: s.length - n + 1 }, (_, i) => s.slice(i, i + n));

describe('secrets never reach the logs (PROTOCOL §1.3, §6, §10.3)', () => {
  let out = '';
  let exitCode: number | null = null;
  const tokens: string[] = [];

  before(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: process.env.TMPDIR ?? '/tmp',
        NODE_ENV: 'production', AUTH_KEY: KEY, LOG_LEVEL: 'trace', HOST: '127.0.0.1', PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit');
    try {
      for (let i = 0; !out.includes('watch room server listening'); i++) {
        assert.ok(i < 1000 && child.exitCode === null, `server did not start: ${out}`);
        await sleep(20);
      }
      // §1.3: the key by handshake auth, by Bearer header only, over polling; wrong, near-miss and missing keys.
      const owner = await connect(url, clientOptions(KEY));
      const member = await connect(url, { ...clientOptions(KEY), auth: {} });
      const other = await connect(url, { ...clientOptions(KEY), transports: ['polling'] });
      await assert.rejects(connect(url, clientOptions(NEAR_MISS)), /Unauthorized/);
      await assert.rejects(connect(url, { ...clientOptions(NEAR_MISS), auth: {} }), /Unauthorized/);
      await assert.rejects(connect(url, clientOptions(undefined)), /Unauthorized/);

      // §6: passwords (right, wrong, inside an invalid payload) and owner tokens (create, reclaim, helper).
      const room = await createRoom(owner, { password: PASSWORD });
      const hidden = await createRoom(other, { password: PRIVATE_PASSWORD, isPublic: false });
      tokens.push(room.ownerToken!, hidden.ownerToken!);
      assert.equal((await joinRoom(member, { roomId: room.id, password: WRONG_PASSWORD })).code, 'wrong_password');
      assert.equal((await joinRoom(member, { roomId: room.id, password: PASSWORD })).success, true);
      const invalid = await emitAck<{ code: string }>(member, 'room:create', { password: PASSWORD, userName: 'u', name: 7 });
      assert.equal(invalid.code, 'invalid_payload');
      const reclaimer = await connect(url, clientOptions(KEY));
      const back = await joinRoom(reclaimer, { roomId: room.id, ownerToken: room.ownerToken, userName: 'owner' });
      assert.equal(back.room.ownerId, reclaimer.id);
      const forged = `${room.ownerToken!.slice(0, -4)}AAAA`;
      tokens.push(forged);
      const plain = await joinRoom(await connect(url, clientOptions(KEY)), { roomId: room.id, password: PASSWORD, ownerToken: forged });
      assert.equal(plain.room.ownerId, reclaimer.id, 'a forged token joins as a plain member');
      const helper = await connect(url, clientOptions(KEY));
      assert.deepEqual(await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: room.ownerToken }), { success: true });
      assert.equal((await emitAck<{ code: string }>(helper, 'screen:helper-register', { roomId: room.id, ownerToken: forged })).code, 'owner_check_failed');

      // §9: /stats with the key, with a near miss.
      const stats = (key: string) => fetch(`${url}/stats`, { headers: { Authorization: `Bearer ${key}` } });
      assert.equal((await stats(KEY)).status, 200);
      assert.equal((await stats(NEAR_MISS)).status, 401);
      closeAll();
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      [exitCode] = (await exited) as [number | null];
    }
  });

  it('captured real output (so that the checks below cannot pass on nothing)', () => {
    assert.equal(exitCode, 0, 'SIGTERM is a clean exit');
    for (const line of ['watch room server listening', '"msg":"connected"', 'room created', 'connection refused: unauthorized', 'shut down cleanly']) {
      assert.ok(out.includes(line), `expected "${line}" in the output:\n${out.slice(0, 2000)}`);
    }
    assert.ok(out.split('\n').length > 15, 'trace logging printed many lines');
  });

  it('the auth key is not printed, whole or in any 8-character part', () => {
    assert.ok(!out.includes(KEY), 'the key was printed');
    for (const part of windows(KEY, 8)) assert.ok(!out.includes(part), `a part of the key was printed: "${part}"`);
  });

  it('no password, right or wrong, is printed', () => {
    for (const pw of [PASSWORD, PRIVATE_PASSWORD, WRONG_PASSWORD]) assert.ok(!out.includes(pw), `password "${pw}" was printed`);
  });

  it('no owner token is printed, whole or in any 16-character part', () => {
    assert.equal(tokens.length, 3);
    for (const token of tokens) {
      assert.ok(token.length >= 32 && !out.includes(token), 'an owner token was printed');
      for (const part of windows(token, 16)) assert.ok(!out.includes(part), `a part of an owner token was printed: "${part}"`);
    }
  });
});
