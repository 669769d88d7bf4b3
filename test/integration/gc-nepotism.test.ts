/**
 * Old-generation garbage (issue 4, src/gateway/gc-nepotism.ts): the per-connection arrays that ws
 * and Engine.IO throw away on every message are emptied once the message has been handled, so a
 * thrown-away array cannot keep the message alive through young-generation collections. Checked on
 * the server's side of real connections, over real sockets, while the connection keeps working.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, waitFor, type Client } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { preventNepotism } from '../../src/gateway/gc-nepotism.ts';

interface ServerConn {
  writeBuffer: unknown[];
  transport: { name: string; socket?: { _receiver?: { _fragments: unknown[] } } };
}

// A patch that emptied an array too early would lose messages and leave connects hanging: bounded.
describe('thrown-away message arrays are emptied (issue 4)', { timeout: 30_000 }, () => {
  let srv: TestServer;

  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());
  afterEach(() => closeAll());

  function serverConn(c: Client): ServerConn {
    const socket = srv.app.io.sockets.sockets.get(c.id ?? '');
    assert.ok(socket, 'the server holds the socket');
    return socket.conn as unknown as ServerConn;
  }

  async function heartbeat(c: Client): Promise<void> {
    const pong = waitFor(c, 'heartbeat:pong');
    c.emit('heartbeat');
    await pong;
  }

  it('both patches are in place', () => {
    assert.deepEqual(preventNepotism(srv.app.log), { ws: true, engine: true });
  });

  it("ws: the array a message's fragments were collected in holds nothing afterwards", async () => {
    const c = await connect(srv.url, { transports: ['websocket'] });
    const receiver = serverConn(c).transport.socket?._receiver;
    assert.ok(receiver, 'a WebSocket transport has a receiver');
    const held = receiver._fragments; // the next message is collected here
    await heartbeat(c);
    assert.equal(held.length, 0, 'the thrown-away array still points at the message');
    assert.equal(receiver._fragments, held, 'the emptied array is back in use');
  });

  it("Engine.IO: the write buffer a packet was queued in holds nothing once it is written", async () => {
    const c = await connect(srv.url, { transports: ['websocket'] });
    const conn = serverConn(c);
    const held = conn.writeBuffer; // the pong is queued here
    await heartbeat(c);
    assert.equal(held.length, 0, 'the thrown-away write buffer still points at the packet');
    assert.equal(conn.writeBuffer, held, 'the emptied array is back in use');
  });

  it('the connection keeps working both ways, on WebSocket and on polling', async () => {
    for (const transports of [['websocket'], ['polling']]) {
      const a = await connect(srv.url, { transports });
      const b = await connect(srv.url, { transports });
      for (let i = 0; i < 5; i++) await heartbeat(a);
      const room = await createRoom(a, { name: `after ${transports[0]}` });
      const joined = waitFor(a, 'room:member-joined');
      const reply = await new Promise<{ success: boolean }>((resolve) =>
        b.emit('room:join', { roomId: room.id, userName: 'b' }, resolve),
      );
      assert.equal(reply.success, true);
      await joined;
      const text = waitFor<{ content: string }>(b, 'chat:message', (m) => m.content === `hi ${transports[0]}`);
      a.emit('chat:message', { content: `hi ${transports[0]}`, type: 'text' });
      await text;
    }
  });
});
