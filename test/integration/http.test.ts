/**
 * PROTOCOL §9 (HTTP endpoints) and §10.6 (ALLOWED_ORIGINS=* really allows any origin, for HTTP
 * and Socket.IO polling alike; an allow-list is enforced for every transport).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, joinRoom } from '../helpers/client.ts';
import { startServer, TEST_KEY, type TestServer } from '../helpers/server.ts';

const POLL = '/socket.io/?EIO=4&transport=polling';

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const type = res.headers.get('content-type') ?? '';
  const body = (await res.json()) as Record<string, unknown>;
  return { res, type, body };
}

describe('HTTP endpoints (§9)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer()));
  after(() => srv.close());
  afterEach(closeAll);

  it('GET /health: 200 { status: "ok", timestamp: ISO-8601, uptime: seconds }', async () => {
    const before = Date.now();
    const { res, type, body } = await getJson(`${srv.url}/health`);
    assert.equal(res.status, 200);
    assert.match(type, /^application\/json/);
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.timestamp, 'string');
    const ts = body.timestamp as string;
    assert.equal(new Date(ts).toISOString(), ts, 'timestamp is ISO-8601');
    assert.ok(Math.abs(Date.parse(ts) - before) < 5000);
    assert.equal(typeof body.uptime, 'number');
    assert.ok(Number.isFinite(body.uptime) && (body.uptime as number) >= 0);
  });

  it('GET /ready: 200 while the memory store can serve', async () => {
    const res = await fetch(`${srv.url}/ready`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });

  it('GET /stats without a key, with a wrong one or another scheme: 401 { error: "Unauthorized" }', async () => {
    const cases: Record<string, string>[] = [{}, { Authorization: 'Bearer wrong-key' }, { Authorization: TEST_KEY }, { Authorization: `Basic ${TEST_KEY}` }];
    for (const headers of cases) {
      const { res, body } = await getJson(`${srv.url}/stats`, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.deepEqual(body, { error: 'Unauthorized' });
    }
  });

  it('GET /stats with the key agrees with rooms made over sockets and leaks no secret (§6)', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const c = await connect(srv.url);
    const open = await createRoom(a, { name: 'Open room', isPublic: true });
    const locked = await createRoom(b, { name: 'Locked room', isPublic: false, password: 'pw-secret-42' });
    const joined = await joinRoom(c, { roomId: locked.id, password: 'pw-secret-42' });
    assert.equal(joined.success, true);

    const res = await fetch(`${srv.url}/stats`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const secret of ['pw-secret-42', open.ownerToken, locked.ownerToken]) {
      assert.ok(secret && !text.includes(secret), 'a secret leaked into /stats');
    }
    assert.ok(!/"password"|"ownerToken"|"passwordHash"|"ownerTokenHash"/.test(text), text);

    const body = JSON.parse(text) as {
      totalRooms: number;
      totalMembers: number;
      rooms: Record<string, unknown>[];
    };
    assert.equal(body.totalRooms, 2);
    assert.equal(body.totalMembers, 3);
    assert.equal(body.rooms.length, 2);
    const pick = (r: Record<string, unknown>) => ({
      id: r.id,
      name: r.name,
      memberCount: r.memberCount,
      isPublic: r.isPublic,
      hasPassword: r.hasPassword,
      createdAt: r.createdAt,
    });
    const byId = new Map(body.rooms.map((r) => [r.id, pick(r)]));
    assert.deepEqual(byId.get(open.id), {
      id: open.id,
      name: 'Open room',
      memberCount: 1,
      isPublic: true,
      hasPassword: false,
      createdAt: open.createdAt,
    });
    assert.deepEqual(byId.get(locked.id), {
      id: locked.id,
      name: 'Locked room',
      memberCount: 2,
      isPublic: false,
      hasPassword: true,
      createdAt: locked.createdAt,
    });
  });

  it('GET /: a JSON description of the service and its endpoints', async () => {
    const { res, type, body } = await getJson(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.match(type, /^application\/json/);
    const text = JSON.stringify(body);
    for (const path of ['/health', '/ready', '/stats', '/socket.io/']) assert.ok(text.includes(path), `mentions ${path}`);
  });

  it('unknown path: 404 with a JSON body', async () => {
    const { res, type, body } = await getJson(`${srv.url}/no/such/path`);
    assert.equal(res.status, 404);
    assert.match(type, /^application\/json/);
    assert.equal(typeof body, 'object');
  });

  it('security headers (helmet) and no x-powered-by', async () => {
    for (const path of ['/health', '/stats', '/nope']) {
      const res = await fetch(`${srv.url}${path}`);
      await res.body?.cancel();
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.ok(res.headers.get('x-frame-options'), path);
      assert.ok(res.headers.get('content-security-policy'), path);
      assert.equal(res.headers.get('x-powered-by'), null, path);
    }
  });
});

describe('CORS with ALLOWED_ORIGINS="*" (§9, §10.6)', () => {
  let srv: TestServer;
  const origin = 'https://site.example';
  before(async () => (srv = await startServer({ ALLOWED_ORIGINS: '*' })));
  after(() => srv.close());

  const allows = (h: Headers) => [origin, '*'].includes(h.get('access-control-allow-origin') ?? '');

  it('an HTTP GET from any origin gets an Access-Control-Allow-Origin that allows it', async () => {
    const res = await fetch(`${srv.url}/health`, { headers: { Origin: origin } });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.ok(allows(res.headers), `ACAO: ${res.headers.get('access-control-allow-origin')}`);
  });

  it('a Socket.IO polling handshake from any origin succeeds and carries the CORS header', async () => {
    const res = await fetch(`${srv.url}${POLL}`, { headers: { Origin: origin } });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.ok(allows(res.headers), `ACAO: ${res.headers.get('access-control-allow-origin')}`);
    // Engine.IO v4 open packet: "0" + JSON with the session id.
    assert.match(body, /^0\{.*"sid":"[^"]+"/);
  });

  it('preflight OPTIONS allows the Authorization header (HTTP and Socket.IO polling)', async () => {
    for (const path of ['/stats', POLL]) {
      const res = await fetch(`${srv.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization',
        },
      });
      await res.body?.cancel();
      assert.ok(res.status === 204 || res.status === 200, `${path}: ${res.status}`);
      assert.ok(allows(res.headers), `${path} ACAO: ${res.headers.get('access-control-allow-origin')}`);
      const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      assert.ok(allowed.split(/\s*,\s*/).includes('authorization'), `${path}: ${allowed}`);
    }
  });
});

describe('CORS with ALLOWED_ORIGINS="https://a.example" (§9)', () => {
  let srv: TestServer;
  const A = 'https://a.example';
  const B = 'https://b.example';
  before(async () => (srv = await startServer({ ALLOWED_ORIGINS: A })));
  after(() => srv.close());
  afterEach(closeAll);

  it('HTTP: origin a gets ACAO a; origin b gets no ACAO', async () => {
    const ok = await fetch(`${srv.url}/health`, { headers: { Origin: A } });
    await ok.body?.cancel();
    assert.equal(ok.headers.get('access-control-allow-origin'), A);
    const no = await fetch(`${srv.url}/health`, { headers: { Origin: B } });
    await no.body?.cancel();
    assert.equal(no.headers.get('access-control-allow-origin'), null);
  });

  it('polling handshake: origin b is refused, origin a works', async () => {
    const no = await fetch(`${srv.url}${POLL}`, { headers: { Origin: B } });
    const noBody = await no.text();
    assert.ok(no.status >= 400 && no.status < 500, `status ${no.status}`);
    assert.ok(!noBody.startsWith('0{'), 'no Engine.IO session for origin b');
    assert.equal(no.headers.get('access-control-allow-origin') ?? null, null);

    const ok = await fetch(`${srv.url}${POLL}`, { headers: { Origin: A } });
    const okBody = await ok.text();
    assert.equal(ok.status, 200, okBody);
    assert.equal(ok.headers.get('access-control-allow-origin'), A);
    assert.match(okBody, /^0\{.*"sid":"[^"]+"/);
  });

  it('WebSocket handshake: origin b is refused, origin a connects', async () => {
    const ws = (o: string) => ({ transports: ['websocket'], reconnection: false, extraHeaders: { Origin: o } });
    await assert.rejects(connect(srv.url, ws(B)));
    const s = await connect(srv.url, ws(A));
    assert.equal(s.connected, true);
    const room = await createRoom(s);
    assert.equal(room.ownerId, s.id);
  });
});

describe('STATS_KEY (issue 5): /stats with a key of its own', () => {
  const STATS = 'stats-key-0123456789abcdef';
  let srv: TestServer;
  before(async () => (srv = await startServer({ STATS_KEY: STATS })));
  after(() => srv.close());

  it('opens /stats; the shared key no longer does (every browser holds it); sockets still use the shared key', async () => {
    const get = (key: string) => fetch(`${srv.url}/stats`, { headers: { Authorization: `Bearer ${key}` } });
    assert.equal((await get(STATS)).status, 200);
    const shared = await get(TEST_KEY);
    assert.equal(shared.status, 401);
    assert.deepEqual(await shared.json(), { error: 'Unauthorized' });
    const s = await connect(srv.url);
    assert.equal(s.connected, true);
    s.close();
  });
});
