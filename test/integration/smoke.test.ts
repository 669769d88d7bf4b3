import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, joinRoom, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('smoke', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer()));
  after(() => srv.close());
  afterEach(closeAll);

  it('create, join, chat', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const room = await createRoom(a);
    assert.equal(room.ownerId, a.id);
    assert.ok(room.ownerToken);
    const joined = waitFor(a, 'room:member-joined');
    const r = await joinRoom(b, { roomId: room.id.toLowerCase() });
    assert.equal(r.success, true);
    assert.equal(r.members.length, 2);
    assert.equal(r.room.ownerToken, undefined);
    assert.equal(((await joined) as { id: string }).id, b.id);
    const got = waitFor<{ content: string; userId: string }>(a, 'chat:message');
    const echo = waitFor<{ content: string }>(b, 'chat:message');
    b.emit('chat:message', { content: 'hi', type: 'text' });
    assert.equal((await got).userId, b.id);
    assert.equal((await echo).content, 'hi');
  });
});
