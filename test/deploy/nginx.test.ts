/**
 * deploy/nginx/watch-room.conf in front of two real server processes on one Redis (issue 6):
 * the shipped file, changed only where a test must (its listen line and the two upstream ports),
 * runs in a real nginx, and real socket.io-client 4.8 sockets go through it.
 *
 * Clients pick their source address in 127.0.0.0/8 (an http.Agent with `localAddress`), so nginx
 * sees several client addresses: its `hash $remote_addr consistent` spreads them over both
 * instances, and the server's per-IP room cap (MAX_ROOMS_PER_IP=1) shows which address the server
 * took for the client. The instances trust exactly nginx's address (TRUST_PROXY=127.0.0.1, the
 * address nginx connects from); `loopback` would trust the test clients' own 127.0.0.x addresses
 * too, and then a forged X-Forwarded-For would win.
 *
 * Needs nginx (`/usr/sbin/nginx`, PATH, or NGINX_BIN): skipped, saying why, when it is missing,
 * unless REQUIRE_NGINX=1, when it fails instead. Needs Redis like test/cluster.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, it } from 'node:test';
import { clientOptions, closeAll, connect, createRoom, joinRoom, waitFor, type JoinReply } from '../helpers/client.ts';
import { clusterEnv, spawnInstance, type Instance } from '../helpers/cluster.ts';
import { until } from '../helpers/poll.ts';
import { dropPrefix, freshPrefix } from '../helpers/redis.ts';
import {
  COMPOSE_SITE,
  destroyAgents,
  from,
  MoonTvPage,
  nginxDescribe,
  nginxTest,
  SITE,
  siteForTest,
  startNginx,
  stats,
  tryCreate,
  WS,
  type Nginx,
} from './nginx-harness.ts';

nginxDescribe('the shipped nginx configurations', { redis: false }, () => {
  it('deploy/nginx/watch-room.conf passes nginx -t as shipped', () => {
    nginxTest(readFileSync(SITE, 'utf8'));
  });

  it('deploy/nginx/compose.conf passes nginx -t (with its upstream names pointed at 127.0.0.1)', () => {
    const text = readFileSync(COMPOSE_SITE, 'utf8');
    const names = [...text.matchAll(/^\s*server\s+(watch-room-\d):3001\b/gm)].map((m) => m[1]);
    assert.deepEqual(names, ['watch-room-1', 'watch-room-2']);
    nginxTest(text.replace(/\bwatch-room-(\d):3001\b/g, '127.0.0.1:300$1'));
  });
});

nginxDescribe('nginx (deploy/nginx/watch-room.conf) in front of two instances on Redis', { redis: true }, () => {
  const prefix = freshPrefix('nginx');
  const env = clusterEnv(prefix, { TRUST_PROXY: '127.0.0.1', MAX_ROOMS_PER_IP: '1', SWEEP_INTERVAL_MS: '200' });
  const ID_A = 'nginx-a';
  const ID_B = 'nginx-b';
  const spawned: Instance[] = [];
  let a: Instance;
  let b: Instance;
  let nginx: Nginx;
  /** Unused source addresses, by the instance nginx sends them to. */
  const pool = new Map<string, string[]>([
    [ID_A, []],
    [ID_B, []],
  ]);
  const take = (id: string): string => {
    const addr = pool.get(id)?.shift();
    assert.ok(addr, `no more source addresses routed to ${id}`);
    return addr;
  };

  before(async () => {
    [a, b] = await Promise.all([spawnInstance({ ...env, INSTANCE_ID: ID_A }), spawnInstance({ ...env, INSTANCE_ID: ID_B })]);
    spawned.push(a, b);
    nginx = await startNginx((port) => siteForTest(port, [a.port, b.port]));
    // Which instance nginx picks for each client address (/stats names the instance that answers).
    for (let i = 2; i < 200 && [...pool.values()].some((l) => l.length < 10); i++) {
      const addr = `127.0.0.${i}`;
      const { instance } = await stats(nginx.url, addr);
      pool.get(instance)?.push(addr);
    }
    for (const [id, list] of pool) assert.ok(list.length >= 10, `nginx sent fewer than 10 of 127.0.0.2-199 to ${id}`);
  }, { timeout: 60_000 });

  afterEach(closeAll);

  after(async () => {
    closeAll();
    destroyAgents();
    await nginx?.stop();
    for (const i of spawned) {
      if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
      await i.exited;
    }
    await dropPrefix(prefix);
  }, { timeout: 30_000 });

  it('a WebSocket-only client, a polling client that upgrades and a polling-only client create and join a room through it', { timeout: 20_000 }, async () => {
    const owner = await connect(nginx.url, from(take(ID_A), WS));
    assert.equal(owner.io.engine.transport.name, 'websocket');
    const room = await createRoom(owner, { userName: 'owner' });

    // Socket.IO's default: long-polling first, then the upgrade to WebSocket. Every request of the
    // session (polls, posts, the upgrade) must reach the instance that holds it: the sticky hash.
    const upgrader = await connect(nginx.url, from(take(ID_B), { transports: ['polling', 'websocket'] }));
    const engine = upgrader.io.engine;
    const upgraded =
      engine.transport.name === 'websocket' ? Promise.resolve() : new Promise<void>((resolve) => engine.once('upgrade', () => resolve()));
    let joined = waitFor<{ name: string }>(owner, 'room:member-joined', (m) => m.name === 'upgrader');
    const j1 = await joinRoom(upgrader, { roomId: room.id, userName: 'upgrader' });
    assert.equal(j1.success, true, JSON.stringify(j1));
    await joined;
    await upgraded;
    assert.equal(upgrader.io.engine.transport.name, 'websocket');

    // Long-polling only, on the other instance than the owner: many requests, one session.
    const poller = await connect(nginx.url, from(take(ID_B), { transports: ['polling'] }));
    joined = waitFor<{ name: string }>(owner, 'room:member-joined', (m) => m.name === 'poller');
    const j2 = await joinRoom(poller, { roomId: room.id, userName: 'poller' });
    assert.equal(j2.success, true, JSON.stringify(j2));
    await joined;
    for (let i = 0; i < 3; i++) {
      const toPoller = waitFor<{ content: string }>(poller, 'chat:message', (m) => m.content === `to poller ${i}`);
      owner.emit('chat:message', { content: `to poller ${i}`, type: 'text' });
      await toPoller;
      const toOwner = waitFor<{ content: string }>(owner, 'chat:message', (m) => m.content === `from poller ${i}`);
      poller.emit('chat:message', { content: `from poller ${i}`, type: 'text' });
      await toOwner;
    }
    assert.equal(poller.io.engine.transport.name, 'polling');
  });

  it('traffic reaches both instances', { timeout: 20_000 }, async () => {
    const counts = async () => ({ a: (await stats(a.url)).connections, b: (await stats(b.url)).connections });
    await until(counts, (c) => c.a === 0 && c.b === 0, { ms: 5000, what: 'no connection left from the previous test' });
    const clients = await Promise.all(
      [take(ID_A), take(ID_A), take(ID_B), take(ID_B), take(ID_B)].map((addr) => connect(nginx.url, from(addr, WS))),
    );
    // Each instance counts only its own connections.
    await until(counts, (c) => c.a === 2 && c.b === 3, { ms: 5000, what: 'two connections on A, three on B' });
    for (const c of clients) c.close();
    await until(counts, (c) => c.a === 0 && c.b === 0, { ms: 5000, what: 'connections closed' });
  });

  it('the server sees the client address nginx forwards, not nginx, and not a forged X-Forwarded-For (TRUST_PROXY)', { timeout: 20_000 }, async () => {
    // Every connection reaches the instances from nginx, 127.0.0.1; MAX_ROOMS_PER_IP=1 tells which
    // address the server took for the client.
    const x = take(ID_A);
    const y = take(ID_A);
    const x1 = await connect(nginx.url, from(x, WS));
    assert.equal((await tryCreate(x1)).success, true);
    const x2 = await connect(nginx.url, from(x, WS));
    assert.equal((await tryCreate(x2)).code, 'too_many_rooms', 'a second room from the same client address');

    // A client that claims to be x: nginx appends its real address, which the server takes.
    const auth = clientOptions().extraHeaders as Record<string, string>;
    const y1 = await connect(nginx.url, from(y, { ...WS, extraHeaders: { ...auth, 'X-Forwarded-For': x } }));
    const r = await tryCreate(y1);
    assert.equal(r.success, true, `y is a different client from x: ${JSON.stringify(r)}`);
    const y2 = await connect(nginx.url, from(y, WS));
    assert.equal((await tryCreate(y2)).code, 'too_many_rooms', 'and y has its room now');
  });

  it('rolling restart: each instance in turn gets SIGTERM; clients reconnect through nginx to the other, rejoin, and no room is lost (§1.6, §1.7)', { timeout: 60_000 }, async () => {
    const page = async (addr: string) => new MoonTvPage(await connect(nginx.url, from(addr)), addr);
    // Two rooms, each with its owner on one instance and a member on the other.
    const ownerA = await page(take(ID_A));
    const memberB = await page(take(ID_B));
    const ownerB = await page(take(ID_B));
    const memberA = await page(take(ID_A));
    const pages = [ownerA, memberB, ownerB, memberA];
    const on = async (i: Instance) => (await stats(i.url)).connections;
    assert.deepEqual([await on(a), await on(b)], [2, 2], 'two clients on each instance');

    const r1 = await createRoom(ownerA.socket, { userName: 'ownerA', password: 'pw1' });
    const r2 = await createRoom(ownerB.socket, { userName: 'ownerB', password: 'pw2' });
    ownerA.remembered = { roomId: r1.id, password: 'pw1', userName: 'ownerA', ownerToken: r1.ownerToken as string };
    ownerB.remembered = { roomId: r2.id, password: 'pw2', userName: 'ownerB', ownerToken: r2.ownerToken as string };
    memberB.remembered = { roomId: r1.id, password: 'pw1', userName: 'memberB' };
    memberA.remembered = { roomId: r2.id, password: 'pw2', userName: 'memberA' };
    for (const m of [memberB, memberA]) {
      const j = await joinRoom(m.socket, m.remembered as Record<string, unknown>);
      assert.equal(j.success, true, JSON.stringify(j));
    }

    /** The automatic rejoins of `who` succeed, in the remembered room; owners are owners again. */
    function checkRejoins(replies: JoinReply[], who: MoonTvPage[]) {
      who.forEach((p, i) => {
        const r = replies[i] as JoinReply;
        assert.equal(r.success, true, JSON.stringify(r));
        const room = p.remembered as { roomId: string; ownerToken?: string };
        assert.equal(r.room.id, room.roomId);
        if (room.ownerToken) assert.equal(r.room.ownerId, p.socket.id, 'the owner is the owner again (§2.3)');
      });
    }
    /** No room lost: both exist, each with its two members (and no ghost of an old connection). */
    const checkRooms = (via: Instance) =>
      until(
        () => stats(via.url),
        (v) => [r1.id, r2.id].every((id) => v.rooms.find((x) => x.id === id)?.memberCount === 2),
        { ms: 5000, what: 'both rooms with both members' },
      );

    // 1. Instance A stops (a deploy): its clients see a transport close (not the final
    // `io server disconnect`), reconnect through nginx, which sends them to B, and rejoin.
    let rejoins: Promise<JoinReply[]> = Promise.all([ownerA.nextRejoin(), memberA.nextRejoin()]);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    checkRejoins(await rejoins, [ownerA, memberA]);
    assert.deepEqual(ownerA.disconnects, ['transport close']);
    assert.deepEqual(memberA.disconnects, ['transport close']);
    assert.deepEqual([memberB.disconnects, ownerB.disconnects], [[], []], "B's clients stayed connected");
    await checkRooms(b);
    assert.equal(await on(b), 4);

    // 2. A starts again (the new version) on the same port; nginx takes it back after fail_timeout.
    a = await spawnInstance({ ...env, INSTANCE_ID: ID_A }, a.port);
    spawned.push(a);
    await until(() => stats(a.url), (s) => s.rooms.some((x) => x.id === r1.id), { ms: 5000, what: 'A sees the rooms in Redis' });
    await until(() => stats(nginx.url, ownerA.addr), (s) => s.instance === ID_A, { ms: 10_000, what: 'nginx routes to A again' });

    // 3. Instance B stops: everyone is on B now, and everyone ends up on A.
    rejoins = Promise.all(pages.map((p) => p.nextRejoin()));
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.output());
    checkRejoins(await rejoins, pages);
    for (const p of pages) assert.equal(p.disconnects.at(-1), 'transport close');
    await checkRooms(a);
    assert.equal(await on(a), 4);

    // They carry on: chat crosses the room, the owner's password-protected room still refuses a wrong password.
    const chat = waitFor<{ content: string }>(ownerA.socket, 'chat:message', (m) => m.content === 'after the deploy');
    memberB.socket.emit('chat:message', { content: 'after the deploy', type: 'text' });
    await chat;
    const stranger = await connect(nginx.url, from(take(ID_B), WS));
    assert.equal((await joinRoom(stranger, { roomId: r1.id, password: 'nope' })).code, 'wrong_password');
  });
});
