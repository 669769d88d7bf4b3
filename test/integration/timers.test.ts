/**
 * PROTOCOL §8 timers, run by the real sweeper with short configured timers: an absent owner first
 * loses the room's state (once per absence), then the room; an owner who comes back in time resets
 * both; a connected owner who sends no heartbeat is not absent. And §1.5: every heartbeat is answered.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Client, closeAll, connect, createRoom, emitAck, expectNone, joinRoom, Recorder, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type ListedRoom = { id: string; ownerId: string; currentState: { url?: string } | null; lastOwnerHeartbeat: number };

const SWEEP = 50;
const STATE_TIMEOUT = 300;
const ROOM_TIMEOUT = 900;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const play = (url: string) => ({
  type: 'play', url, currentTime: 12, isPlaying: true, videoId: 'v', videoName: 'Video', source: 's',
});

async function listed(s: Client, roomId: string): Promise<ListedRoom | undefined> {
  return (await emitAck<ListedRoom[]>(s, 'room:list')).find((r) => r.id === roomId);
}

describe('owner timers (PROTOCOL §8)', () => {
  let srv: TestServer;
  before(
    async () =>
      (srv = await startServer({
        MAX_ROOMS_PER_IP: '1000',
        SWEEP_INTERVAL_MS: String(SWEEP),
        OWNER_STATE_TIMEOUT_MS: String(STATE_TIMEOUT),
        OWNER_ROOM_TIMEOUT_MS: String(ROOM_TIMEOUT),
      })),
  );
  after(() => srv.close());
  afterEach(closeAll);

  /** An owner playing a video, with one member who has received the state. */
  async function playingRoom() {
    const owner = await connect(srv.url);
    const member = await connect(srv.url);
    const room = await createRoom(owner, { userName: 'olga' });
    assert.equal((await joinRoom(member, { roomId: room.id, userName: 'mike' })).success, true);
    const got = waitFor(member, 'play:update');
    owner.emit('play:update', play('https://example.test/one.mp4'));
    await got;
    return { owner, member, room };
  }

  /** Drops the owner's connection; resolves with the time just before, once the member saw it go. */
  async function dropOwner(owner: Client, member: Client): Promise<number> {
    const ownerId = owner.id;
    const left = waitFor<string>(member, 'room:member-left', (id) => id === ownerId);
    const t0 = Date.now();
    owner.disconnect();
    await left;
    return t0;
  }

  it('owner offline: state:cleared once after OWNER_STATE_TIMEOUT_MS, room:deleted owner_timeout after OWNER_ROOM_TIMEOUT_MS', async () => {
    const { owner, member, room } = await playingRoom();
    const ownerId = owner.id;
    const rec = new Recorder(member);
    const cleared = waitFor(member, 'state:cleared');
    const deleted = waitFor<unknown>(member, 'room:deleted', () => true, ROOM_TIMEOUT + 3000);
    const t0 = await dropOwner(owner, member);

    await cleared;
    const tCleared = Date.now() - t0;
    assert.ok(tCleared >= STATE_TIMEOUT, `state:cleared after ${tCleared} ms`);
    const mid = await listed(member, room.id);
    assert.equal(mid?.currentState, null, 'the stored state is gone too');
    assert.equal(mid?.ownerId, ownerId, 'the absent owner still owns the room');

    // The sweeper's next event (the deletion) is the marker: state:cleared came exactly once.
    assert.deepEqual(await deleted, { reason: 'owner_timeout' });
    const tDeleted = Date.now() - t0;
    assert.ok(tDeleted >= ROOM_TIMEOUT, `room:deleted after ${tDeleted} ms`);
    assert.equal(rec.count('state:cleared'), 1);
    const order = rec.events.map((e) => e.event).filter((e) => e === 'state:cleared' || e === 'room:deleted');
    assert.deepEqual(order, ['state:cleared', 'room:deleted']);
    rec.stop();

    assert.equal(await listed(member, room.id), undefined);
    assert.equal((await joinRoom(member, { roomId: room.id, ownerToken: room.ownerToken })).code, 'room_not_found');
  });

  it('an owner back before the timeout (new socket, ownerToken) resets it: no state:cleared, no deletion', async () => {
    const { owner, member, room } = await playingRoom();
    const back = await connect(srv.url); // the reloaded page, ready to rejoin at once
    const t0 = await dropOwner(owner, member);
    const r = await joinRoom(back, { roomId: room.id, userName: 'olga', ownerToken: room.ownerToken });
    assert.equal(r.room.ownerId, back.id);
    assert.ok(Date.now() - t0 < STATE_TIMEOUT, 'the reclaim came too late for this test to mean anything');

    await expectNone(
      member,
      'state:cleared',
      async () => {
        await sleep(ROOM_TIMEOUT + 4 * SWEEP - (Date.now() - t0)); // past both deadlines of the first absence
        const view = await listed(member, room.id);
        assert.equal(view?.currentState?.url, 'https://example.test/one.mp4');
      },
      { trigger: () => void back.emit('chat:message', { content: 'marker', type: 'text' }), event: 'chat:message' },
    );
  });

  it('state:cleared is sent once per absence: a returning owner that leaves again triggers it again', async () => {
    const { owner, member, room } = await playingRoom();
    const cleared1 = waitFor(member, 'state:cleared');
    await dropOwner(owner, member);
    await cleared1;

    const back = await connect(srv.url);
    assert.equal((await joinRoom(back, { roomId: room.id, ownerToken: room.ownerToken })).success, true);
    const got = waitFor(member, 'play:update');
    back.emit('play:update', play('https://example.test/two.mp4'));
    await got;

    const cleared2 = waitFor(member, 'state:cleared');
    const t1 = await dropOwner(back, member);
    await cleared2;
    assert.ok(Date.now() - t1 >= STATE_TIMEOUT, 'the second absence has its own full timeout');
    assert.equal((await listed(member, room.id))?.currentState, null);
  });

  it('a connected owner that sends no heartbeat is not offline: the state stays (§8)', async () => {
    const { owner, member, room } = await playingRoom();
    // The test sockets never emit `heartbeat`; the Engine.IO connection alone keeps the owner present.
    await expectNone(member, 'state:cleared', () => sleep(STATE_TIMEOUT + 4 * SWEEP), {
      trigger: () => void owner.emit('chat:message', { content: 'marker', type: 'text' }),
      event: 'chat:message',
    });
    const view = await listed(member, room.id);
    assert.equal(view?.currentState?.url, 'https://example.test/one.mp4');
    assert.equal(view?.ownerId, owner.id);
  });
});

describe('heartbeat (PROTOCOL §1.5, §5.20)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  const pong = async (s: Client) => {
    const got = waitFor<{ timestamp: number }>(s, 'heartbeat:pong');
    const sent = Date.now();
    s.emit('heartbeat');
    const p = await got;
    assert.deepEqual(Object.keys(p), ['timestamp']);
    assert.ok(p.timestamp >= sent - 5 && p.timestamp <= Date.now() + 5, `timestamp ${p.timestamp} is not the server's now`);
    return p;
  };

  it('answers heartbeat:pong to a socket in no room', async () => {
    const a = await connect(srv.url);
    await pong(a);
    await pong(a);
  });

  it("answers members and owners, and refreshes the room's lastOwnerHeartbeat from the owner", async () => {
    const owner = await connect(srv.url);
    const m = await connect(srv.url);
    const room = await createRoom(owner);
    assert.equal((await joinRoom(m, { roomId: room.id })).success, true);
    await pong(m);
    const p = await pong(owner);
    const view = await listed(owner, room.id);
    assert.ok(view && view.lastOwnerHeartbeat >= p.timestamp, 'lastOwnerHeartbeat was not refreshed');
  });

  it('answers a heartbeat sent with a junk payload', async () => {
    const a = await connect(srv.url);
    const got = waitFor<{ timestamp: number }>(a, 'heartbeat:pong');
    a.emit('heartbeat', { junk: [1, 2, 3] });
    assert.equal(typeof (await got).timestamp, 'number');
  });
});
