/**
 * Chat (PROTOCOL §5.16): the server builds the ChatMessage (its own id, the sender's socket id, the
 * stored member name, server time) and sends it to the whole room, the sender included.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, joinRoom, Recorder, waitFor, type Client } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

interface ChatMessage {
  id: string;
  userId: string;
  userName: string;
  content: string;
  type: string;
  timestamp: number;
}

async function ownerAndMember(url: string) {
  const owner = await connect(url);
  const member = await connect(url);
  const room = await createRoom(owner, { userName: 'alice' });
  const joined = waitFor(owner, 'room:member-joined');
  assert.equal((await joinRoom(member, { roomId: room.id, userName: 'bob' })).success, true);
  await joined;
  return { owner, member, room };
}

const withContent = (content: string) => (p: unknown) => (p as ChatMessage).content === content;

/** Sends `bad` payloads from `from`, then a good one; both sockets must see only the good one. */
async function onlyGoodArrives(from: Client, to: Client, bad: unknown[]): Promise<void> {
  const recs = [new Recorder(from), new Recorder(to)];
  for (const p of bad) from.emit('chat:message', p);
  const marks = [from, to].map((s) => waitFor(s, 'chat:message', withContent('good')));
  from.emit('chat:message', { content: 'good', type: 'text' });
  await Promise.all(marks);
  for (const r of recs) {
    r.stop();
    assert.deepEqual(r.payloads<ChatMessage>('chat:message').map((m) => m.content), ['good']);
  }
}

describe('chat:message (PROTOCOL §5.16)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('the server builds the message and sends it to-room, the sender included', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const t0 = Date.now();
    const echo = waitFor<ChatMessage>(member, 'chat:message');
    const got = waitFor<ChatMessage>(owner, 'chat:message');
    // Claimed identity and time are ignored: userName is display text of the stored member (§2.2).
    member.emit('chat:message', { content: 'hello 你好', type: 'text', userName: 'mallory', userId: owner.id, timestamp: 1, id: 'x' });
    const [a, b] = await Promise.all([echo, got]);
    const t1 = Date.now();
    assert.deepEqual(a, b);
    assert.deepEqual(Object.keys(a).sort(), ['content', 'id', 'timestamp', 'type', 'userId', 'userName']);
    assert.equal(a.userId, member.id);
    assert.equal(a.userName, 'bob');
    assert.equal(a.content, 'hello 你好');
    assert.equal(a.type, 'text');
    assert.equal(typeof a.id, 'string');
    assert.ok(a.id.length > 0 && a.id !== 'x');
    assert.ok(a.timestamp >= t0 && a.timestamp <= t1, `timestamp ${a.timestamp} not in [${t0}, ${t1}]`);
  });

  it('every message gets its own id', async () => {
    const { owner } = await ownerAndMember(srv.url);
    const first = waitFor<ChatMessage>(owner, 'chat:message', withContent('one'));
    const second = waitFor<ChatMessage>(owner, 'chat:message', withContent('two'));
    owner.emit('chat:message', { content: 'one', type: 'text' });
    owner.emit('chat:message', { content: 'two', type: 'text' });
    const [a, b] = await Promise.all([first, second]);
    assert.notEqual(a.id, b.id);
    assert.equal(a.userName, 'alice');
  });

  it('the stored name follows a repeat join with a new userName (§5.2)', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    assert.equal((await joinRoom(member, { roomId: room.id, userName: 'robert' })).success, true);
    const got = waitFor<ChatMessage>(owner, 'chat:message');
    member.emit('chat:message', { content: 'renamed', type: 'text' });
    assert.equal((await got).userName, 'robert');
  });

  it("type 'emoji' is kept", async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const got = waitFor<ChatMessage>(owner, 'chat:message');
    member.emit('chat:message', { content: '😂', type: 'emoji' });
    const m = await got;
    assert.equal(m.type, 'emoji');
    assert.equal(m.content, '😂');
  });

  it('a 200-character message (the client maximum, §3) is accepted unchanged', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const content = '好'.repeat(100) + 'a'.repeat(100);
    assert.equal(content.length, 200);
    const got = waitFor<ChatMessage>(owner, 'chat:message');
    member.emit('chat:message', { content, type: 'text' });
    assert.equal((await got).content, content);
  });

  it('over MAX_CHAT_LENGTH (default 500) is dropped, exactly 500 passes', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const max = 'x'.repeat(500);
    const got = [owner, member].map((s) => waitFor<ChatMessage>(s, 'chat:message', withContent(max)));
    member.emit('chat:message', { content: max, type: 'text' });
    await Promise.all(got);
    await onlyGoodArrives(member, owner, [{ content: 'x'.repeat(501), type: 'text' }]);
  });

  it('empty, blank, non-string and missing content, or an unknown type, are dropped', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    await onlyGoodArrives(member, owner, [
      { content: '', type: 'text' },
      { content: '   ', type: 'text' },
      { content: 42, type: 'text' },
      { type: 'text' },
      { content: 'img', type: 'image' },
      null,
      'bare string',
    ]);
  });

  it('from a socket in no room: dropped, nothing reaches anyone', async () => {
    const { owner, room } = await ownerAndMember(srv.url);
    const stranger = await connect(srv.url);
    const recs = [new Recorder(owner), new Recorder(stranger)];
    stranger.emit('chat:message', { content: 'lost', type: 'text' });
    // Marker by the same path: once the stranger has joined, its message reaches both.
    assert.equal((await joinRoom(stranger, { roomId: room.id, userName: 'carol' })).success, true);
    const marks = [owner, stranger].map((s) => waitFor(s, 'chat:message', withContent('found')));
    stranger.emit('chat:message', { content: 'found', type: 'text' });
    await Promise.all(marks);
    for (const r of recs) assert.deepEqual(r.payloads<ChatMessage>('chat:message').map((m) => m.content), ['found']);
  });

  it('after leaving the room a socket can no longer chat there', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const left = waitFor(owner, 'room:member-left');
    member.emit('room:leave');
    assert.equal(await left, member.id);
    const rec = new Recorder(owner);
    member.emit('chat:message', { content: 'ghost', type: 'text' });
    // The member's pong comes after its chat was handled (one queue per socket).
    const pong = waitFor(member, 'heartbeat:pong');
    member.emit('heartbeat');
    await pong;
    const mark = waitFor(owner, 'chat:message', withContent('still here'));
    owner.emit('chat:message', { content: 'still here', type: 'text' });
    await mark;
    assert.deepEqual(rec.payloads<ChatMessage>('chat:message').map((m) => m.content), ['still here']);
  });
});

describe('chat:message with MAX_CHAT_LENGTH=200 (PROTOCOL §5.16, config)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_CHAT_LENGTH: '200' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('201 characters are dropped, 200 pass', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    await onlyGoodArrives(member, owner, [{ content: 'y'.repeat(201), type: 'text' }]);
    const got = waitFor<ChatMessage>(owner, 'chat:message', withContent('y'.repeat(200)));
    member.emit('chat:message', { content: 'y'.repeat(200), type: 'text' });
    await got;
  });
});
