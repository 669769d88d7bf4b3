/**
 * PROTOCOL §1.7 and §3: over a rate limit, events are dropped and acks answered `rate_limited`
 * (`room:list`: an empty array); every ack is answered; the socket is never disconnected, and it
 * works again once its bucket refills. Heartbeats at the client's cadence are never limited.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, joinRoom, Recorder, waitFor, type Client } from '../helpers/client.ts';
import { eventually } from '../helpers/poll.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const LIMITED = { success: false, error: '操作过于频繁，请稍后再试', code: 'rate_limited' };

/** Records `disconnect` on a socket, to prove the server never dropped it. */
function watchDisconnect(s: Client): string[] {
  const reasons: string[] = [];
  s.on('disconnect', (reason) => reasons.push(reason));
  return reasons;
}

describe('rate limits (§1.7, §3)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ RATE_ROOM: '5:5', RATE_CHAT: '5:5' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('a burst of 200 room:list: every ack answered, the excess with [], socket kept, works after refill', async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const s = await connect(srv.url);
    const drops = watchDisconnect(s);
    const replies = await Promise.all(Array.from({ length: 200 }, () => emitAck<unknown[]>(s, 'room:list')));
    assert.equal(replies.length, 200);
    assert.ok(replies.every((r) => Array.isArray(r)), 'room:list always answers an array');
    const served = replies.filter((r) => r.length > 0).length;
    assert.ok(served >= 5 && served <= 15, `served ${served} of 200 with a burst of 5`);
    assert.equal(replies.filter((r) => r.length === 0).length, 200 - served);

    assert.equal(s.connected, true);
    await eventually(
      async () => {
        const list = await emitAck<{ id: string }[]>(s, 'room:list');
        return list.some((r) => r.id === room.id);
      },
      { ms: 4000, what: 'room:list to list the room once the bucket refills' },
    );
    assert.deepEqual(drops, []);
    assert.equal(s.connected, true);
  });

  it('a burst of 200 room:join: every ack answered, the excess rate_limited, socket kept', async () => {
    const owner = await connect(srv.url);
    const room = await createRoom(owner);
    const s = await connect(srv.url);
    const drops = watchDisconnect(s);
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => emitAck<Record<string, unknown>>(s, 'room:join', { roomId: 'NOROOM', userName: 'm' })),
    );
    const limited = replies.filter((r) => r.code === 'rate_limited');
    const notFound = replies.filter((r) => r.code === 'room_not_found');
    assert.equal(limited.length + notFound.length, 200, JSON.stringify(replies.find((r) => !['rate_limited', 'room_not_found'].includes(r.code as string))));
    for (const r of limited) assert.deepEqual(r, LIMITED);
    for (const r of notFound) assert.deepEqual(r, { success: false, error: '房间不存在', code: 'room_not_found' });
    assert.ok(notFound.length >= 5 && notFound.length <= 15, `processed ${notFound.length}`);

    assert.equal(s.connected, true);
    let joined = false;
    await eventually(
      async () => {
        const r = await joinRoom(s, { roomId: room.id });
        if (r.success) joined = true;
        else assert.deepEqual(r, LIMITED);
        return joined;
      },
      { ms: 4000, what: 'room:join to succeed once the bucket refills' },
    );
    assert.deepEqual(drops, []);
  });

  it('room:create and room:join share the room bucket; a limited create is answered, not dropped', async () => {
    const s = await connect(srv.url);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_v, i) =>
        emitAck<Record<string, unknown>>(s, 'room:create', { name: `R${i}`, description: '', isPublic: false, userName: 'u' }),
      ),
    );
    const ok = replies.filter((r) => r.success === true).length;
    assert.ok(ok >= 5 && ok <= 15, `created ${ok}`);
    for (const r of replies.filter((x) => x.success !== true)) assert.deepEqual(r, LIMITED);
    assert.equal(s.connected, true);
  });

  it('a chat flood: the excess is dropped silently, the sender stays connected and can chat later', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    const drops = watchDisconnect(a);
    const rec = new Recorder(b);
    for (let i = 0; i < 60; i++) a.emit('chat:message', { content: `flood ${i}`, type: 'text' });
    // Marker by the same path, in another rate class: A's events run in order.
    const marker = waitFor<number>(b, 'play:seek', (t) => t === 7);
    a.emit('play:seek', 7);
    await marker;
    rec.stop();
    const got = rec.payloads<{ content: string }>('chat:message').map((m) => m.content);
    assert.ok(got.length >= 5 && got.length <= 15, `relayed ${got.length} of 60 with a burst of 5`);
    assert.deepEqual(got, got.map((_c, i) => `flood ${i}`), 'the first ones go through, in order');

    // After a refill, chat works again.
    const later = waitFor<{ content: string }>(b, 'chat:message', (m) => m.content === 'later', 5000);
    const timer = setInterval(() => a.emit('chat:message', { content: 'later', type: 'text' }), 150);
    try {
      await later;
    } finally {
      clearInterval(timer);
    }
    assert.deepEqual(drops, []);
    assert.equal(a.connected, true);
  });

  it('other classes keep working while the room bucket is empty (heartbeat, chat)', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(a);
    assert.equal((await joinRoom(b, { roomId: room.id })).success, true);
    const replies = await Promise.all(Array.from({ length: 30 }, () => emitAck<unknown[]>(a, 'room:list')));
    assert.ok(replies.some((r) => r.length === 0), 'the room bucket is empty');
    const pong = waitFor<{ timestamp: number }>(a, 'heartbeat:pong');
    a.emit('heartbeat');
    assert.equal(typeof (await pong).timestamp, 'number');
    const chat = waitFor<{ content: string }>(b, 'chat:message');
    a.emit('chat:message', { content: 'still here', type: 'text' });
    assert.equal((await chat).content, 'still here');
  });
});

describe('heartbeat limits (§1.5, §1.6)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer()));
  after(() => srv.close());
  afterEach(closeAll);

  it('heartbeats flushed together after a reconnect (up to 10) all get a pong', async () => {
    const s = await connect(srv.url);
    const room = await createRoom(s);
    assert.ok(room.id);
    const rec = new Recorder(s);
    for (let i = 0; i < 10; i++) s.emit('heartbeat');
    // Ordered marker: the room:list ack is sent after every earlier handler of this socket ran.
    await emitAck(s, 'room:list');
    rec.stop();
    assert.equal(rec.count('heartbeat:pong'), 10);
  });

  it('a heartbeat flood is trimmed, never answered with a disconnect', async () => {
    const s = await connect(srv.url);
    const drops = watchDisconnect(s);
    const rec = new Recorder(s);
    for (let i = 0; i < 100; i++) s.emit('heartbeat');
    await emitAck(s, 'room:list');
    rec.stop();
    const pongs = rec.count('heartbeat:pong');
    assert.ok(pongs >= 10 && pongs <= 20, `${pongs} pongs for 100 heartbeats`);
    assert.equal(s.connected, true);
    assert.deepEqual(drops, []);
  });
});
