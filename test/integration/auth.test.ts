/**
 * PROTOCOL §1.3: the shared key, from `auth.token` or (when absent) from `Authorization: Bearer`;
 * a missing or wrong key is refused with exactly `Unauthorized`; several keys allow rotation; a
 * refusal never bans the address.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';
import { closeAll, connect, createRoom } from '../helpers/client.ts';
import { startServer, TEST_KEY, type TestServer } from '../helpers/server.ts';

/** Connects with the given options and resolves with the connect_error's message (rejects if it connects). */
async function refusal(url: string, opts: Parameters<typeof connect>[1]): Promise<string> {
  try {
    const s = await connect(url, opts);
    s.close();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('connected, but must have been refused');
}

const noKey = { auth: {}, extraHeaders: {} };

describe('auth: one key (§1.3)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer()));
  after(() => srv.close());
  afterEach(closeAll);

  it('accepts the key in auth.token alone (websocket, as browsers send it)', async () => {
    const s = await connect(srv.url, { transports: ['websocket'], auth: { token: TEST_KEY }, extraHeaders: {} });
    assert.equal(s.connected, true);
    // An accepted socket is a working one, not just an open transport.
    const room = await createRoom(s);
    assert.equal(room.ownerId, s.id);
  });

  it('accepts the key in auth.token alone over polling', async () => {
    const s = await connect(srv.url, { transports: ['polling'], auth: { token: TEST_KEY }, extraHeaders: {} });
    assert.equal(s.io.engine.transport.name, 'polling');
    assert.equal(s.connected, true);
  });

  it('accepts the key only as Authorization: Bearer over polling (no auth.token)', async () => {
    const s = await connect(srv.url, {
      transports: ['polling'],
      auth: {},
      extraHeaders: { Authorization: `Bearer ${TEST_KEY}` },
    });
    assert.equal(s.io.engine.transport.name, 'polling');
    const room = await createRoom(s);
    assert.equal(room.ownerId, s.id);
  });

  it('accepts the key only as Authorization: Bearer over a Node websocket (no auth.token)', async () => {
    const s = await connect(srv.url, {
      transports: ['websocket'],
      auth: {},
      extraHeaders: { Authorization: `Bearer ${TEST_KEY}` },
    });
    assert.equal(s.io.engine.transport.name, 'websocket');
    assert.equal(s.connected, true);
  });

  it('refuses a missing key with exactly "Unauthorized" (websocket and polling)', async () => {
    assert.equal(await refusal(srv.url, { ...noKey, transports: ['websocket'] }), 'Unauthorized');
    assert.equal(await refusal(srv.url, { ...noKey, transports: ['polling'] }), 'Unauthorized');
  });

  it('refuses an empty token and a non-string token', async () => {
    assert.equal(await refusal(srv.url, { auth: { token: '' }, extraHeaders: {} }), 'Unauthorized');
    assert.equal(await refusal(srv.url, { auth: { token: 12345 }, extraHeaders: {} }), 'Unauthorized');
  });

  it('refuses a wrong key with exactly "Unauthorized", in the token or in the header', async () => {
    assert.equal(await refusal(srv.url, { auth: { token: 'wrong-key' }, extraHeaders: {} }), 'Unauthorized');
    assert.equal(await refusal(srv.url, { auth: { token: `${TEST_KEY}x` }, extraHeaders: {} }), 'Unauthorized');
    assert.equal(await refusal(srv.url, { auth: { token: TEST_KEY.slice(0, -1) }, extraHeaders: {} }), 'Unauthorized');
    assert.equal(
      await refusal(srv.url, { transports: ['polling'], auth: {}, extraHeaders: { Authorization: 'Bearer wrong-key' } }),
      'Unauthorized',
    );
    // The right key without the Bearer scheme is not a Bearer header.
    assert.equal(
      await refusal(srv.url, { transports: ['polling'], auth: {}, extraHeaders: { Authorization: TEST_KEY } }),
      'Unauthorized',
    );
  });

  it('uses the header only when auth.token is absent: a wrong token is not rescued by a right header', async () => {
    const msg = await refusal(srv.url, {
      transports: ['polling'],
      auth: { token: 'wrong-key' },
      extraHeaders: { Authorization: `Bearer ${TEST_KEY}` },
    });
    assert.equal(msg, 'Unauthorized');
  });

  it('a refused socket does not retry by itself (socket.active is false)', async () => {
    const s = io(srv.url, { ...noKey, transports: ['websocket'], forceNew: true, reconnection: true });
    const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve));
    assert.equal(err.message, 'Unauthorized');
    assert.equal(s.active, false);
    s.close();
  });

  it('never bans the address: the right key connects right after many refusals from it', async () => {
    for (let i = 0; i < 30; i++) {
      const opts = i % 2 === 0 ? noKey : { auth: { token: `wrong-${i}` }, extraHeaders: {} };
      assert.equal(await refusal(srv.url, { ...opts, transports: ['websocket'] }), 'Unauthorized');
    }
    const s = await connect(srv.url);
    const room = await createRoom(s);
    assert.equal(room.ownerId, s.id);
  });
});

describe('auth: key rotation, AUTH_KEY="k1,k2" (§1.3)', () => {
  const K1 = 'k1-rotation-key-aaaaaaaaaaaa';
  const K2 = 'k2-rotation-key-bbbbbbbbbbbb';
  let srv: TestServer;
  before(async () => (srv = await startServer({ AUTH_KEY: `${K1}, ${K2}` })));
  after(() => srv.close());
  afterEach(closeAll);

  it('accepts both keys, as token and as Bearer header', async () => {
    for (const key of [K1, K2]) {
      const byToken = await connect(srv.url, { auth: { token: key }, extraHeaders: {} });
      assert.equal(byToken.connected, true);
      const byHeader = await connect(srv.url, {
        transports: ['polling'],
        auth: {},
        extraHeaders: { Authorization: `Bearer ${key}` },
      });
      assert.equal(byHeader.connected, true);
    }
  });

  it('refuses any other key, including the default test key and the joined list', async () => {
    assert.equal(await refusal(srv.url, { auth: { token: TEST_KEY }, extraHeaders: {} }), 'Unauthorized');
    assert.equal(await refusal(srv.url, { auth: { token: `${K1},${K2}` }, extraHeaders: {} }), 'Unauthorized');
    assert.equal(await refusal(srv.url, { auth: { token: 'k1' }, extraHeaders: {} }), 'Unauthorized');
  });
});
