/**
 * Per-connection memory (issue 4): once a socket is connected, the HTTP request that opened it (and,
 * for a session that started on polling, the request of its WebSocket upgrade) is no longer held
 * by the server, although the connection stays open and working. Checked with WeakRefs and a real
 * garbage collection, over real sockets.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { closeAll, connect, createRoom, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collected(refs: WeakRef<object>[]): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r)); // a WeakRef keeps its target until the job ends
    gc();
  }
  return refs.filter((r) => r.deref() === undefined).length;
}

describe('requests are let go once a socket is connected (issue 4)', () => {
  let srv: TestServer;
  const requests: WeakRef<IncomingMessage>[] = [];

  before(async () => {
    srv = await startServer();
    // Every request Engine.IO sees: handshakes, polling requests, WebSocket upgrades.
    srv.app.io.engine.on('headers', (_headers: unknown, req: IncomingMessage) => void requests.push(new WeakRef(req)));
  });
  after(() => srv.close());
  afterEach(() => {
    closeAll();
    requests.length = 0;
  });

  it('a WebSocket connection: its upgrade request is collected, and the socket still works', async () => {
    const a = await connect(srv.url, { transports: ['websocket'] });
    const b = await connect(srv.url, { transports: ['websocket'] });
    assert.ok(requests.length >= 2, `${requests.length} requests seen`);
    assert.equal(await collected(requests), requests.length);
    const room = await createRoom(a, { name: 'after the release' });
    assert.ok(room.id);
    const pong = waitFor(b, 'heartbeat:pong');
    b.emit('heartbeat');
    await pong;
  });

  it('a session that starts on polling and upgrades: every request it made is collected', async () => {
    const c = await connect(srv.url, { transports: ['polling', 'websocket'], upgrade: true });
    await new Promise<void>((resolve) => {
      if (c.io.engine.transport.name === 'websocket') resolve();
      else c.io.engine.once('upgrade', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 100)); // the server's side of the upgrade
    assert.ok(requests.length >= 2, `${requests.length} requests seen`);
    assert.equal(await collected(requests), requests.length);
    const pong = waitFor(c, 'heartbeat:pong');
    c.emit('heartbeat');
    await pong;
  });
});
