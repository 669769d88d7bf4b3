/**
 * Every instance stops, then starts again on the same Redis prefix (a deploy, a host reboot;
 * issue 3). Rooms, owner tokens and state live in Redis and survive (PROTOCOL §2.3, §5.2); time
 * when no instance ran does not count toward the §8 timers; after a crash of every instance the
 * dead instances' members are removed as ghosts once the new ones run, and the room is kept for
 * the reconnect grace so that its owner reclaims it (§5.21, §8).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, waitFor, type Client } from '../helpers/client.ts';
import { clusterEnv, spawnInstance, type Instance } from '../helpers/cluster.ts';
import { until } from '../helpers/poll.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { dropPrefix, freshPrefix, redisDescribe } from '../helpers/redis.ts';
import { TEST_KEY } from '../helpers/server.ts';


const nextConnect = (s: Client) => new Promise<void>((resolve) => s.once('connect', () => resolve()));

type StatsRoom = { id: string; memberCount: number };
async function stats(i: Instance): Promise<{ totalMembers: number; rooms: StatsRoom[] }> {
  const res = await fetch(`${i.url}/stats`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
  return (await res.json()) as { totalMembers: number; rooms: StatsRoom[] };
}

type State = { url?: string } | null;
const PLAY = { type: 'play', url: 'https://v.example/1.m3u8', currentTime: 40, isPlaying: false, videoId: 'v1', videoName: 'Film', source: 's' };

redisDescribe('every instance stops and starts again (PROTOCOL §8, §5.21, §2.3)', () => {
  const prefixes: string[] = [];
  const spawned: Instance[] = [];
  const proxies: TcpProxy[] = [];

  const newPrefix = () => {
    const p = freshPrefix('crash-restart');
    prefixes.push(p);
    return p;
  };
  const env = (prefix: string, extra: Record<string, string> = {}) =>
    clusterEnv(prefix, { SWEEP_INTERVAL_MS: '200', INSTANCE_HEARTBEAT_MS: '200', INSTANCE_TTL_MS: '1000', ...extra });
  /** Starts instances in parallel; `upAt` gets the time each one reported listening. */
  async function spawnAll(prefix: string, ids: string[], extra: Record<string, string> = {}, upAt: number[] = []) {
    const started = await Promise.allSettled(
      ids.map((id) => spawnInstance({ ...env(prefix, extra), INSTANCE_ID: id }).then((i) => (upAt.push(Date.now()), i))),
    );
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    return started.map((s) => (s as PromiseFulfilledResult<Instance>).value);
  }
  async function stopAll(list: Instance[], signal: NodeJS.Signals) {
    for (const i of list) i.child.kill(signal);
    return Promise.all(list.map((i) => i.exited));
  }
  const proxyTo = async (port: number) => {
    const p = await TcpProxy.start(port);
    proxies.push(p);
    return p;
  };

  afterEach(closeAll);
  after(async () => {
    closeAll();
    await Promise.all(proxies.map((p) => p.close()));
    for (const i of spawned) {
      if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
      await i.exited;
    }
    for (const p of prefixes) await dropPrefix(p);
  });

  it('SIGTERM all, start all: room, password, owner token and state survive; clients that rejoin carry on (§5.2, §2.3, §1.6)', async () => {
    const prefix = newPrefix();
    const ids = ['crash-ta', 'crash-tb'];
    let [a, b] = (await spawnAll(prefix, ids)) as [Instance, Instance];
    const pa = await proxyTo(a.port);
    const pb = await proxyTo(b.port);
    const owner = await connect(pa.url);
    const member = await connect(pb.url);
    const room = await createRoom(owner, { userName: 'owner', password: 'pw' });
    const token = room.ownerToken as string;
    owner.emit('play:update', PLAY);
    await emitAck(owner, 'room:list'); // same serial queue: the update is stored once this answers
    const j = await joinRoom(member, { roomId: room.id, password: 'pw', userName: 'member' });
    assert.equal((j.room.currentState as State)?.url, PLAY.url);

    const ownerBack = nextConnect(owner);
    const memberBack = nextConnect(member);
    pa.route(null);
    pb.route(null);
    assert.deepEqual(await stopAll([a, b], 'SIGTERM'), [0, 0]);
    [a, b] = (await spawnAll(prefix, ids)) as [Instance, Instance];
    pa.route(a.port);
    pb.route(b.port);
    await Promise.all([ownerBack, memberBack]);

    // The automatic rejoin of §1.6: the owner with its token, the member with the password.
    const r = await joinRoom(owner, { roomId: room.id, ownerToken: token, userName: 'owner' });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.equal(r.room.ownerId, owner.id, 'the token still reclaims (§2.3)');
    assert.equal(r.room.ownerToken, token);
    assert.equal((r.room.currentState as State)?.url, PLAY.url);
    assert.equal(r.room.hasPassword, true);
    const wrong = await joinRoom(await connect(b.url), { roomId: room.id, password: 'nope' });
    assert.equal(wrong.code, 'wrong_password', 'the password survives too');
    const m = await joinRoom(member, { roomId: room.id, password: 'pw', userName: 'member' });
    assert.equal(m.success, true, JSON.stringify(m));

    // They carry on: chat crosses instances, the owner's play:update relays (§5.16, §5.5).
    const chat = waitFor<{ content: string }>(owner, 'chat:message', (p) => p.content === 'after restart');
    member.emit('chat:message', { content: 'after restart', type: 'text' });
    await chat;
    const relayed = waitFor<{ url: string }>(member, 'play:update', (p) => p.url === 'u2');
    owner.emit('play:update', { ...PLAY, url: 'u2' });
    await relayed;

    // No ghost of the old connections: exactly the two of them, plus a newcomer.
    await until(() => stats(a), (s) => s.rooms.find((x) => x.id === room.id)?.memberCount === 2, { ms: 5000, what: 'two members' });
    const fresh = await connect(a.url);
    const seen = await joinRoom(fresh, { roomId: room.id, password: 'pw', userName: 'fresh' });
    assert.deepEqual(seen.members.map((x) => x.id).sort(), [owner.id, member.id, fresh.id].map(String).sort());
  });

  /**
   * The owner leaves, every instance stops soon after, all stay down for longer than
   * OWNER_STATE_TIMEOUT_MS, then they start again one after the other, B first. With
   * `memberStays`, a member is still connected to B when it stops: restarted B (same
   * INSTANCE_ID) drops it as its own ghost at its first sweep, the sweep that also sees the gap.
   */
  async function downtime(memberStays: boolean) {
    const STATE_MS = 1500;
    const prefix = newPrefix();
    const extra = { OWNER_STATE_TIMEOUT_MS: String(STATE_MS) };
    let [a, b] = (await spawnAll(prefix, ['crash-ua', 'crash-ub'], extra)) as [Instance, Instance];
    const owner = await connect(a.url, { reconnection: false });
    const member = await connect(b.url, { reconnection: false });
    const room = await createRoom(owner, { userName: 'owner' });
    owner.emit('play:update', PLAY);
    await emitAck(owner, 'room:list'); // same serial queue: the update is stored once this answers
    await joinRoom(member, { roomId: room.id, userName: 'member' });

    const ownerId = owner.id as string; // the client forgets its id on disconnect
    const gone = waitFor<string>(member, 'room:member-left', (p) => p === ownerId);
    owner.close(); // the owner is away from now on (§8)
    await gone;
    const t0 = Date.now();
    if (!memberStays) {
      member.close();
      await until(() => stats(b), (s) => s.totalMembers === 0, { ms: 2000, what: 'member disconnect handled' });
    }
    assert.deepEqual(await stopAll([a, b], 'SIGTERM'), [0, 0]);
    const ran = Date.now() - t0;
    assert.ok(ran < STATE_MS - 700, `premise: the instances stopped ${ran} ms after the owner left`);
    await sleep(STATE_MS + 500); // every instance down for longer than the timeout (plus start-up)

    const upAt: number[] = [];
    [b] = (await spawnAll(prefix, ['crash-ub'], extra, upAt)) as [Instance];
    const watcher = await connect(b.url, { reconnection: false });
    const cleared = waitFor(watcher, 'state:cleared', () => true, 5000).then(() => Date.now());
    const w = await joinRoom(watcher, { roomId: room.id, userName: 'watcher' });
    assert.equal(w.success, true);
    assert.equal((w.room.currentState as State)?.url, PLAY.url, 'the state is still there right after the restart');
    [a] = (await spawnAll(prefix, ['crash-ua'], extra, upAt)) as [Instance];
    // The rest of the timeout (less sweep granularity) runs after the restart, not at the first sweep.
    const afterUp = (await cleared) - (upAt[0] as number);
    const rest = STATE_MS - ran - 3 * 200;
    assert.ok(afterUp >= rest, `state cleared ${afterUp} ms after the restart; expected >= ${rest} (ran ${ran} ms before the stop)`);
    assert.ok(afterUp <= STATE_MS + 1000, `state cleared only ${afterUp} ms after the restart`);

    // The room is still there and the token reclaims it from a new socket (a page reload); no ghost.
    const seen = waitFor<{ id: string; isOwner: boolean }>(watcher, 'room:member-joined', (p) => p.isOwner);
    const again = await connect(a.url, { reconnection: false });
    const r = await joinRoom(again, { roomId: room.id, ownerToken: room.ownerToken, userName: 'owner' });
    assert.equal(r.success, true);
    assert.equal(r.room.ownerId, again.id);
    assert.equal(r.room.currentState, null);
    assert.equal((await seen).id, again.id);
    assert.deepEqual(r.members.map((x) => x.id).sort(), [watcher.id, again.id].map(String).sort());
  }

  it('time with no instance running does not count toward §8 timers: the owner-away state timeout resumes where it stopped', () =>
    downtime(false));

  it('…also when the restarted instance first drops its own former members as ghosts (§8, §5.21)', () => downtime(true));

  it('SIGKILL all, start new instances: ghosts of the dead ones go within TTL + sweeps, the empty room waits for its owner (§5.21, §8)', async () => {
    const prefix = newPrefix();
    const extra = { EMPTY_ROOM_GRACE_MS: '2500' };
    const [a, b] = (await spawnAll(prefix, ['crash-ka1', 'crash-kb1'], extra)) as [Instance, Instance];
    const owner = await connect(a.url, { reconnection: false });
    const m1 = await connect(a.url, { reconnection: false });
    const m2 = await connect(b.url, { reconnection: false });
    const room = await createRoom(owner, { userName: 'owner' });
    const token = room.ownerToken as string;
    owner.emit('play:update', PLAY);
    await emitAck(owner, 'room:list');
    await joinRoom(m1, { roomId: room.id, userName: 'm1' });
    const j = await joinRoom(m2, { roomId: room.id, userName: 'm2' });
    assert.equal(j.room.memberCount, 3);
    assert.deepEqual(await stopAll([a, b], 'SIGKILL'), ['SIGKILL', 'SIGKILL']);
    closeAll();

    // New instances (new ids, as after a redeploy) find three members whose instances are dead.
    const upAt: number[] = [];
    const [a2, b2] = (await spawnAll(prefix, ['crash-ka2', 'crash-kb2'], extra, upAt)) as [Instance, Instance];
    const first = await stats(a2);
    assert.equal(first.rooms.find((x) => x.id === room.id)?.memberCount, 3, 'new instances wait one TTL before judging');
    const emptied = await until(() => stats(a2), (s) => s.rooms.find((x) => x.id === room.id)?.memberCount === 0, { ms: 5000, what: 'ghosts removed' });
    assert.ok(Date.now() - Math.max(...upAt) < 5000);
    assert.equal(emptied.totalMembers, 0);

    // The room was emptied by disconnects, not leaves: kept for the reconnect grace (§8, §10.7).
    const reload = await connect(b2.url);
    const r = await joinRoom(reload, { roomId: room.id, ownerToken: token, userName: 'owner' });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.equal(r.room.ownerId, reload.id);
    assert.equal((r.room.currentState as State)?.url, PLAY.url);
    assert.deepEqual(r.members.map((x) => x.id), [reload.id]);
    const joined = waitFor<{ id: string }>(reload, 'room:member-joined');
    const back = await connect(a2.url);
    const m = await joinRoom(back, { roomId: room.id, userName: 'm1' });
    assert.equal(m.success, true);
    assert.equal((await joined).id, back.id);
    const chat = waitFor<{ content: string }>(reload, 'chat:message', (p) => p.content === 'hi');
    back.emit('chat:message', { content: 'hi', type: 'text' });
    await chat;
    assert.equal((await stats(b2)).totalMembers, 2);
  });
});
