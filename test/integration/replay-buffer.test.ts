/**
 * What connection state recovery keeps (issues 4 and 5). With recovery on, Socket.IO keeps every
 * broadcast, and even `socket.emit`, for the whole window. Heartbeat pongs (one per socket every
 * 5 s) and one-to-one WebRTC signals are sent as local emits and not kept: at 18,000 sockets the
 * pongs alone were 3,600 kept packets a second, and a signal pump within every limit grew memory
 * by 20 MB/s. Room events still are kept, and replayed (recovery.test.ts).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, ownerAndMember, waitFor } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('the recovery buffer keeps room events, not pongs or signals', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer()));
  after(() => srv.close());
  afterEach(closeAll);

  interface Kept {
    id: string;
    data: unknown[];
    opts: { rooms: Set<string> };
  }
  /** The in-memory adapter's buffer (socket.io-adapter keeps it in a plain field). */
  const buffer = () => (srv.app.io.of('/').adapter as unknown as { packets: Kept[]; sharedOpts: Map<string, unknown> });
  const kept = () => buffer().packets.length;

  it("a new socket's anchor pong is kept as an id only: no payload, no per-socket room sets", async () => {
    const before = kept();
    const socket = await connect(srv.url); // the server sent the anchor before the client saw its connect
    const added = buffer().packets.slice(before);
    assert.equal(added.length, 1, 'one packet: the anchor');
    const [anchor] = added;
    assert.deepEqual(anchor!.data, [], 'its payload is not kept');
    assert.ok(![...anchor!.opts.rooms].includes(socket.id!), 'it is replayed to nobody');
    assert.ok(![...buffer().sharedOpts.keys()].some((k) => k.startsWith(socket.id!)), 'no room sets are kept for the socket');
  });

  it('heartbeats and offers add nothing; one chat message adds one packet', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const before = kept();
    let pongs = 0;
    let offers = 0;
    owner.on('heartbeat:pong', () => pongs++);
    member.on('voice:offer', () => offers++);
    // Within the heartbeat bucket's burst (10) and MAX_PENDING_EVENTS (64): nothing refused.
    for (let i = 0; i < 10; i++) owner.emit('heartbeat');
    for (let i = 0; i < 40; i++) owner.emit('voice:offer', { targetUserId: member.id, offer: { type: 'offer', sdp: `v=0 ${i}` } });
    const chat = waitFor(member, 'chat:message');
    owner.emit('chat:message', { content: 'kept', type: 'text' });
    await chat;
    assert.equal(pongs, 10);
    assert.equal(offers, 40);
    assert.equal(kept() - before, 1, 'only the chat message was kept');
  });
});
