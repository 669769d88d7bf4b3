/**
 * An instance dies without handling its disconnects (SIGKILL) or stalls (SIGSTOP) while it holds
 * room members (PROTOCOL §5.21, issue 3). The others notice its missing heartbeat after
 * INSTANCE_TTL_MS and remove its members as disconnects: `room:member-left` for each, within a
 * bounded time, no ghosts. Its clients come back through a small TCP load balancer (written here)
 * on another instance, rejoin (the owner with its token, §2.3, §5.2) and find the room as it was.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, Recorder, waitFor, type Client } from '../helpers/client.ts';
import { clusterEnv, spawnInstance, type Instance } from '../helpers/cluster.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { dropPrefix, freshPrefix, redisDescribe } from '../helpers/redis.ts';


/** The next (re)connect of a socket; register it before the drop. */
const nextConnect = (s: Client) => new Promise<void>((resolve) => s.once('connect', () => resolve()));

type RoomView = { id: string; memberCount: number; ownerId: string; currentState: { url?: string } | null; ownerToken?: string };
type MemberView = { id: string; isOwner: boolean; name: string };

const PLAY = { type: 'play', url: 'https://v.example/1.m3u8', currentTime: 12, isPlaying: false, videoId: 'v1', videoName: 'Film', source: 's' };

redisDescribe('instances that crash or stall with members (PROTOCOL §5.21, §8)', () => {
  const prefix = freshPrefix('crash');
  const TTL = 1000;
  const env = (id: string) => ({ ...clusterEnv(prefix, { SWEEP_INTERVAL_MS: '200', INSTANCE_HEARTBEAT_MS: '200', INSTANCE_TTL_MS: String(TTL) }), INSTANCE_ID: id });
  const spawned: Instance[] = [];
  let a: Instance, b: Instance, c: Instance;
  let proxy: TcpProxy | undefined;

  before(async () => {
    const started = await Promise.allSettled(['crash-a', 'crash-b', 'crash-c'].map((id) => spawnInstance(env(id))));
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    [a, b, c] = spawned as [Instance, Instance, Instance];
    proxy = await TcpProxy.start(a.port);
  });
  afterEach(closeAll);
  after(async () => {
    closeAll();
    await proxy?.close();
    for (const i of spawned) {
      if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
      await i.exited;
    }
    await dropPrefix(prefix);
  });

  it('SIGKILL: members elsewhere get room:member-left for each of its members within TTL + sweeps; its clients rejoin on another instance and nothing is lost (§5.21, §5.2)', async () => {
    const lb = proxy as TcpProxy;
    const owner = await connect(lb.url); // through the balancer, on A
    const m1 = await connect(lb.url); // on A
    const m2 = await connect(b.url);
    const m3 = await connect(c.url);
    const room = await createRoom(owner, { userName: 'owner' });
    const token = room.ownerToken as string;
    owner.emit('play:update', PLAY);
    await emitAck(owner, 'room:list'); // same serial queue: the update is stored once this answers
    await joinRoom(m1, { roomId: room.id, userName: 'm1' });
    const j2 = await joinRoom(m2, { roomId: room.id, userName: 'm2' });
    assert.equal((j2.room.currentState as { url: string } | null)?.url, PLAY.url);
    const j3 = await joinRoom(m3, { roomId: room.id, userName: 'm3' });
    assert.equal(j3.room.memberCount, 4);
    assert.deepEqual(lb.routed, [a.port, a.port]);

    const dead = [owner.id as string, m1.id as string];
    const rec2 = new Recorder(m2);
    const leftAt = (s: Client) => dead.map((id) => waitFor<string>(s, 'room:member-left', (p) => p === id, 5000));
    const left2 = leftAt(m2);
    const left3 = leftAt(m3);
    const ownerBack = nextConnect(owner);
    const m1Back = nextConnect(m1);
    lb.route(b.port); // the balancer takes A out before it dies
    const t0 = Date.now();
    a.child.kill('SIGKILL');
    assert.equal(await a.exited, 'SIGKILL');

    // Upper bound: TTL + a few sweeps (the waits themselves fail after 5 s).
    await Promise.all([...left2, ...left3]);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 5000, `ghosts removed after ${elapsed} ms`);
    // Lower bound: not before A has been silent for a TTL (its last beat is at most 200 ms old).
    assert.ok(elapsed >= TTL - 400, `ghosts removed after ${elapsed} ms, before A's heartbeat expired`);

    const listed = (await emitAck<RoomView[]>(m3, 'room:list')).find((r) => r.id === room.id);
    assert.equal(listed?.memberCount, 2, 'memberCount counts the survivors only');
    assert.equal(listed?.ownerId, dead[0], 'the dead owner keeps ownerId until its token reclaims (§5.21)');

    // The dead instance's clients came back through the balancer on B, with new ids (A could not
    // save their sessions), and rejoin as MoonTVPlus does after `connect` (§1.6).
    await Promise.all([ownerBack, m1Back]);
    assert.deepEqual(lb.routed.slice(2), [b.port, b.port]);
    assert.equal(owner.recovered, false);
    assert.notEqual(owner.id, dead[0]);
    const ownerSeen = waitFor<MemberView>(m3, 'room:member-joined', (p) => p.id === owner.id);
    const back = await joinRoom(owner, { roomId: room.id, ownerToken: token, userName: 'owner' });
    assert.equal(back.success, true);
    assert.equal(back.room.ownerId, owner.id, 'the token reclaims ownership (§2.3)');
    assert.equal(back.room.ownerToken, token);
    assert.equal((back.room.currentState as { url: string } | null)?.url, PLAY.url);
    const announced = await ownerSeen;
    assert.equal(announced.isOwner, true);
    assert.equal(announced.name, 'owner');
    const again = await joinRoom(m1, { roomId: room.id, userName: 'm1' });
    assert.equal(again.success, true);
    assert.equal(again.room.ownerId, owner.id);

    // A newcomer sees the state and exactly the live members: no ghost of A remains.
    const fresh = await connect(c.url);
    const seen = await joinRoom(fresh, { roomId: room.id, userName: 'fresh' });
    assert.equal((seen.room.currentState as { url: string } | null)?.url, PLAY.url);
    assert.deepEqual(
      seen.members.map((m) => m.id).sort(),
      [owner.id, m1.id, m2.id, m3.id, fresh.id].map(String).sort(),
    );
    assert.equal(seen.members.filter((m) => m.isOwner).map((m) => m.id).join(), owner.id);

    // Owner rights work again (§5.5): the owner's play:update reaches a member on C.
    const relayed = waitFor<{ url: string }>(m3, 'play:update', (p) => p.url === 'u2');
    owner.emit('play:update', { ...PLAY, url: 'u2' });
    await relayed;
    // Each ghost was announced once, even though B and C both sweep.
    const gone = rec2.payloads<string>('room:member-left');
    assert.deepEqual(dead.map((id) => gone.filter((g) => g === id).length), [1, 1], JSON.stringify(gone));
  });

  it('SIGSTOP longer than the TTL: its members are dropped as ghosts, and put back when it resumes with their connections intact (§5.21)', async () => {
    // B and C are left (A died above). X is on B, the owner on C.
    const owner = await connect(c.url);
    const x = await connect(b.url);
    const room = await createRoom(owner, { userName: 'owner' });
    await joinRoom(x, { roomId: room.id, userName: 'x' });
    const xId = x.id as string;
    const dropped = waitFor<string>(owner, 'room:member-left', (p) => p === xId, 5000);
    b.child.kill('SIGSTOP');
    try {
      await dropped;
    } finally {
      const restored = waitFor<MemberView>(owner, 'room:member-joined', (p) => p.id === xId, 5000);
      b.child.kill('SIGCONT');
      // B's sockets are still connected (no ping timeout yet): B reconciles and restores X.
      const m = await restored;
      assert.equal(m.isOwner, false);
      assert.equal(m.name, 'x');
    }
    assert.equal(x.id, xId);
    const chat = waitFor<{ userId: string; content: string }>(owner, 'chat:message', (p) => p.content === 'still here');
    x.emit('chat:message', { content: 'still here', type: 'text' });
    assert.equal((await chat).userId, xId);
    const listed = (await emitAck<RoomView[]>(owner, 'room:list')).find((r) => r.id === room.id);
    assert.equal(listed?.memberCount, 2);
  });
});
