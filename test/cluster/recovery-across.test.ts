/**
 * Socket.IO connection state recovery across instances (PROTOCOL §1.6, §5.21, issue 3): a client
 * behind a TCP load balancer (written here) loses its connection to instance A and comes back on
 * instance B. Through the Redis Streams adapter it keeps its socket id, receives what was sent to
 * its room while it was away, and is restored as the same member with its role.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, waitFor, type Client } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { redisDescribe } from '../helpers/redis.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import type { TestServer } from '../helpers/server.ts';


const nextConnect = (s: Client) => new Promise<void>((resolve) => s.once('connect', () => resolve()));
const hasSocket = (n: TestServer, id: string) => n.app.io.sockets.sockets.has(id);

type MemberView = { id: string; name: string; isOwner: boolean };
type Chat = { userId: string; userName: string; content: string };

const PLAY = { type: 'play', url: 'https://v.example/1.m3u8', currentTime: 3, isPlaying: true, videoId: 'v1', videoName: 'Film', source: 's' };

redisDescribe('connection state recovery across instances (PROTOCOL §1.6, §5.21)', () => {
  let c: Cluster;
  let a: TestServer, b: TestServer;
  let lb: TcpProxy;

  before(async () => {
    c = await startCluster(2, 'crash-rec');
    [a, b] = c.nodes as [TestServer, TestServer];
  });
  afterEach(async () => {
    closeAll();
    await lb?.close();
  });
  after(() => c?.close());

  /** Moves the balancer to B and cuts the client's connection to A; resolves once A has seen it go. */
  async function dropToB(who: Client, observer: Client): Promise<{ back: Promise<void> }> {
    const id = who.id as string;
    const back = nextConnect(who);
    const left = waitFor<string>(observer, 'room:member-left', (p) => p === id);
    lb.route(b.port);
    lb.dropAll();
    await left; // A handled the transport close as a disconnect (§5.21)
    assert.equal(who.connected, false, 'still away: the reconnect waits for the backoff delay');
    return { back };
  }

  it('a member comes back on B with recovered === true, the same id, the chat sent while away, and as the same member (§5.21)', async () => {
    lb = await TcpProxy.start(a.port);
    const owner = await connect(b.url);
    const x = await connect(lb.url);
    const xId = x.id as string;
    assert.ok(hasSocket(a, xId));
    const room = await createRoom(owner, { userName: 'owner' });
    await joinRoom(x, { roomId: room.id, userName: 'x' });

    const { back } = await dropToB(x, owner);
    const missed = waitFor<Chat>(x, 'chat:message', (p) => p.content === 'while you were away');
    const echo = waitFor<Chat>(owner, 'chat:message', (p) => p.content === 'while you were away');
    const rejoined = waitFor<MemberView>(owner, 'room:member-joined', (p) => p.id === xId);
    owner.emit('chat:message', { content: 'while you were away', type: 'text' });
    await echo;
    assert.equal(x.connected, false, 'the chat went out while x was away');
    await back;

    assert.equal(x.recovered, true);
    assert.equal(x.id, xId);
    assert.deepEqual(lb.routed, [a.port, b.port]);
    assert.ok(hasSocket(b, xId) && !hasSocket(a, xId), 'now served by B');
    assert.equal((await missed).userName, 'owner');
    const m = await rejoined;
    assert.equal(m.name, 'x');
    assert.equal(m.isOwner, false);

    // It is a member again (on B): its chat reaches the room, and it is listed once.
    const heard = waitFor<Chat>(owner, 'chat:message', (p) => p.content === 'back');
    x.emit('chat:message', { content: 'back', type: 'text' });
    assert.equal((await heard).userId, xId);
    const fresh = await connect(a.url);
    const seen = await joinRoom(fresh, { roomId: room.id, userName: 'fresh' });
    assert.deepEqual(seen.members.map((mm) => mm.id).sort(), [owner.id, xId, fresh.id].map(String).sort());
  });

  it('the owner comes back on B recovered, still the owner: its play:update relays again and its token rejoin keeps it (§5.21, §5.2, §5.5)', async () => {
    lb = await TcpProxy.start(a.port);
    const owner = await connect(lb.url);
    const ownerId = owner.id as string;
    const w = await connect(b.url);
    const room = await createRoom(owner, { userName: 'owner' });
    const token = room.ownerToken as string;
    owner.emit('play:update', PLAY);
    await emitAck(owner, 'room:list'); // same serial queue: the update is stored once this answers
    const j = await joinRoom(w, { roomId: room.id, userName: 'w' });
    assert.equal((j.room.currentState as { url: string } | null)?.url, PLAY.url);

    const { back } = await dropToB(owner, w);
    const missed = waitFor<Chat>(owner, 'chat:message', (p) => p.content === 'owner away');
    const echo = waitFor<Chat>(w, 'chat:message', (p) => p.content === 'owner away');
    const rejoined = waitFor<MemberView>(w, 'room:member-joined', (p) => p.id === ownerId);
    w.emit('chat:message', { content: 'owner away', type: 'text' });
    await echo;
    assert.equal(owner.connected, false, 'the chat went out while the owner was away');
    await back;

    assert.equal(owner.recovered, true);
    assert.equal(owner.id, ownerId);
    assert.ok(hasSocket(b, ownerId));
    assert.equal((await missed).userId, w.id);
    const m = await rejoined;
    assert.equal(m.isOwner, true, 'restored with its role (§5.21)');

    const relayed = waitFor<{ url: string }>(w, 'play:update', (p) => p.url === 'u2');
    owner.emit('play:update', { ...PLAY, url: 'u2' });
    await relayed;

    // MoonTVPlus still sends its automatic rejoin with the token 300 ms after connect (§1.6).
    const again = await joinRoom(owner, { roomId: room.id, ownerToken: token, userName: 'owner' });
    assert.equal(again.success, true);
    assert.equal(again.room.ownerId, ownerId);
    assert.equal(again.room.ownerToken, token);
    assert.deepEqual(again.members.map((mm) => mm.id).sort(), [ownerId, w.id].map(String).sort());
    const listed = (await emitAck<{ id: string; memberCount: number }[]>(w, 'room:list')).find((r) => r.id === room.id);
    assert.equal(listed?.memberCount, 2);
  });
});
