/**
 * `state:clear` (PROTOCOL §5.19): the owner clears `currentState`; `state:cleared` goes to-others;
 * failures keep the English strings of the servers in use; the optional ack may be absent.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, expectNone, joinRoom, waitFor, chatMarker, joinerState } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const playState = {
  type: 'play',
  url: 'https://cdn.example.com/v/ep2.m3u8',
  currentTime: 61,
  isPlaying: false,
  videoId: 'v42',
  videoName: '流浪地球',
  videoYear: '2019',
  searchTitle: '流浪地球',
  episode: 2,
  source: 'heimuer',
};

interface SimpleAck {
  success: boolean;
  error?: string;
  code?: string;
}

/** Owner + member in a room whose state is set (the member saw the play:change). */
async function roomWithState(url: string) {
  const owner = await connect(url);
  const member = await connect(url);
  const room = await createRoom(owner);
  const joined = waitFor(owner, 'room:member-joined');
  assert.equal((await joinRoom(member, { roomId: room.id })).success, true);
  await joined;
  const changed = waitFor(member, 'play:change');
  owner.emit('play:change', playState);
  await changed;
  return { owner, member, room };
}

describe('state:clear (PROTOCOL §5.19)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('owner with ack: {success:true}, state:cleared to-others (not the owner), currentState null', async () => {
    const { owner, member, room } = await roomWithState(srv.url);
    const cleared = waitFor(member, 'state:cleared');
    await expectNone(
      owner,
      'state:cleared',
      async () => assert.deepEqual(await emitAck<SimpleAck>(owner, 'state:clear'), { success: true }),
      chatMarker(owner, 'm'),
    );
    await cleared;
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it("a non-owner gets {success:false, error:'Not owner'} and nothing changes", async () => {
    const { owner, member, room } = await roomWithState(srv.url);
    await expectNone(
      owner,
      'state:cleared',
      async () => {
        const ack = await emitAck<SimpleAck>(member, 'state:clear');
        assert.equal(ack.success, false);
        assert.equal(ack.error, 'Not owner');
      },
      chatMarker(member, 'm'),
    );
    assert.deepEqual(await joinerState(srv.url, room.id), playState);
  });

  it("a socket in no room gets {success:false, error:'Not in a room'}", async () => {
    const s = await connect(srv.url);
    const ack = await emitAck<SimpleAck>(s, 'state:clear');
    assert.equal(ack.success, false);
    assert.equal(ack.error, 'Not in a room');
  });

  it('after leaving, the former member is not in a room any more', async () => {
    const { member, owner } = await roomWithState(srv.url);
    const left = waitFor(owner, 'room:member-left');
    member.emit('room:leave');
    await left;
    const ack = await emitAck<SimpleAck>(member, 'state:clear');
    assert.deepEqual([ack.success, ack.error], [false, 'Not in a room']);
  });

  it('without an ack callback it is still handled (the client sends it that way)', async () => {
    const { owner, member, room } = await roomWithState(srv.url);
    const cleared = waitFor(member, 'state:cleared');
    owner.emit('state:clear');
    await cleared;
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('with a stray payload before the ack it is still handled and answered', async () => {
    const { owner, member } = await roomWithState(srv.url);
    const cleared = waitFor(member, 'state:cleared');
    assert.deepEqual(await emitAck<SimpleAck>(owner, 'state:clear', { roomId: 'ignored' }), { success: true });
    await cleared;
  });

  it('a new state after the clear is stored again', async () => {
    const { owner, member, room } = await roomWithState(srv.url);
    assert.deepEqual(await emitAck<SimpleAck>(owner, 'state:clear'), { success: true });
    const changed = waitFor(member, 'play:change');
    owner.emit('play:change', { ...playState, episode: 3 });
    await changed;
    assert.deepEqual(await joinerState(srv.url, room.id), { ...playState, episode: 3 });
  });
});
