/**
 * Screen sharing (PROTOCOL §5.11-§5.15, §10.4): start/stop go to the whole room, viewer-ready goes to
 * the sharer, WebRTC signalling goes to one target inside the sender's room, and a helper socket
 * holding the owner token may act for the owner.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, emitAck, expectNone, joinRoom, Recorder, waitFor, type Client, chatMarker, joinerState } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const screenState = (over: Record<string, unknown> = {}) => ({
  type: 'screen',
  status: 'sharing',
  ownerName: 'owner',
  hasAudio: true,
  startedAt: 1_700_000_000_000,
  ...over,
});
const offer = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const answer = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const candidate = {
  candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 54400 typ srflx raddr 0.0.0.0 rport 0',
  sdpMid: '0',
  sdpMLineIndex: 0,
  usernameFragment: 'a1b2',
};

async function screenRoom(url: string, members = 1) {
  const owner = await connect(url);
  const room = await createRoom(owner, { roomType: 'screen' });
  const others: Client[] = [];
  for (let i = 0; i < members; i++) {
    const m = await connect(url);
    const joined = waitFor(owner, 'room:member-joined');
    assert.equal((await joinRoom(m, { roomId: room.id, userName: `viewer${i}` })).success, true);
    await joined;
    others.push(m);
  }
  return { owner, room, member: others[0] as Client, others };
}

async function startSharing(sharer: Client, watcher: Client): Promise<void> {
  const got = waitFor(watcher, 'screen:start');
  sharer.emit('screen:start', screenState());
  await got;
}

describe('screen sharing (PROTOCOL §5.11-§5.15)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('screen:start from the owner goes to-room, sender included, and is stored (§5.11)', async () => {
    const { owner, member, room } = await screenRoom(srv.url);
    const state = screenState();
    const echo = waitFor(owner, 'screen:start');
    const got = waitFor(member, 'screen:start');
    owner.emit('screen:start', state);
    assert.deepEqual(await echo, state);
    assert.deepEqual(await got, state);
    assert.deepEqual(await joinerState(srv.url, room.id), state);
  });

  it('screen:start / screen:stop from a plain member are dropped (§4)', async () => {
    const { owner, member, room } = await screenRoom(srv.url);
    await expectNone(owner, 'screen:start', () => void member.emit('screen:start', screenState()), chatMarker(member, 'a'));
    assert.equal(await joinerState(srv.url, room.id), null);
    await startSharing(owner, member);
    await expectNone(owner, 'screen:stop', () => void member.emit('screen:stop'), chatMarker(member, 'b'));
    assert.deepEqual(await joinerState(srv.url, room.id), screenState());
  });

  it('screen:stop goes to-room and clears the state (§5.12)', async () => {
    const { owner, member, room } = await screenRoom(srv.url);
    await startSharing(owner, member);
    // No payload; with connection state recovery socket.io appends its offset string as the only
    // argument of a payload-less broadcast, so only "no object payload" is checked.
    const stops = [owner, member].map((s) => waitFor(s, 'screen:stop'));
    owner.emit('screen:stop');
    for (const p of await Promise.all(stops)) assert.notEqual(typeof p, 'object');
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('screen:viewer-ready goes only to the owner as {userId}, and only while sharing (§5.13)', async () => {
    const { owner, member, others } = await screenRoom(srv.url, 2);
    const other = others[1] as Client;
    await expectNone(owner, 'screen:viewer-ready', () => void member.emit('screen:viewer-ready'), chatMarker(member, 'idle'));
    await startSharing(owner, member);
    const otherRec = new Recorder(other);
    const memberRec = new Recorder(member);
    const got = waitFor(owner, 'screen:viewer-ready');
    member.emit('screen:viewer-ready');
    assert.deepEqual(await got, { userId: member.id });
    const marker = waitFor(other, 'chat:message', (p) => (p as { content: string }).content === 'after');
    member.emit('chat:message', { content: 'after', type: 'text' });
    await marker;
    assert.equal(otherRec.count('screen:viewer-ready') + memberRec.count('screen:viewer-ready'), 0);
  });

  it('screen:offer / answer / ice reach the target only, as {userId: sender, ...} (§5.14)', async () => {
    const { owner, member, others } = await screenRoom(srv.url, 2);
    const other = others[1] as Client;
    const otherRec = new Recorder(other);
    const gotOffer = waitFor(member, 'screen:offer');
    owner.emit('screen:offer', { targetUserId: member.id, offer });
    assert.deepEqual(await gotOffer, { userId: owner.id, offer });
    const gotAnswer = waitFor(owner, 'screen:answer');
    member.emit('screen:answer', { targetUserId: owner.id, answer });
    assert.deepEqual(await gotAnswer, { userId: member.id, answer });
    const gotIce = waitFor(member, 'screen:ice');
    owner.emit('screen:ice', { targetUserId: member.id, candidate });
    assert.deepEqual(await gotIce, { userId: owner.id, candidate });
    // The last message to `other` came after these, by the same owner queue.
    const marker = waitFor(other, 'screen:offer');
    owner.emit('screen:offer', { targetUserId: other.id, offer });
    assert.deepEqual(await marker, { userId: owner.id, offer });
    assert.deepEqual(otherRec.events.filter((e) => e.event.startsWith('screen:')).map((e) => e.event), ['screen:offer']);
  });

  it('signalling never reaches a socket in another room (§10.4)', async () => {
    const a = await screenRoom(srv.url);
    const b = await screenRoom(srv.url);
    const sender = a.member;
    const outsider = b.member;
    const rec = new Recorder(outsider);
    sender.emit('screen:offer', { targetUserId: outsider.id, offer });
    sender.emit('screen:answer', { targetUserId: outsider.id, answer });
    sender.emit('screen:ice', { targetUserId: outsider.id, candidate });
    // Marker by the same path: once the sender is in the outsider's room its offer gets through.
    assert.equal((await joinRoom(sender, { roomId: b.room.id, userName: 'mover' })).success, true);
    const marker = { type: 'offer', sdp: 'marker' };
    const got = waitFor(outsider, 'screen:offer');
    sender.emit('screen:offer', { targetUserId: outsider.id, offer: marker });
    assert.deepEqual(await got, { userId: sender.id, offer: marker });
    rec.stop();
    assert.deepEqual(
      rec.events.filter((e) => e.event.startsWith('screen:')).map((e) => e.args[0]),
      [{ userId: sender.id, offer: marker }],
    );
  });

  it('screen:helper-register: right token -> success, wrong token -> owner_check_failed (§5.15)', async () => {
    const { room } = await screenRoom(srv.url, 0);
    const helper = await connect(srv.url);
    const bad = await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: 'not-the-token' });
    assert.deepEqual(bad, { success: false, error: '房主身份验证失败', code: 'owner_check_failed' });
    const ok = await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: room.ownerToken });
    assert.deepEqual(ok, { success: true });
  });

  it('a wrong-token helper gets no sharer rights (§5.15)', async () => {
    const { owner, member, room } = await screenRoom(srv.url);
    const helper = await connect(srv.url);
    await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: 'not-the-token' });
    // The helper's own queue orders its screen:start before its pong; the member's chat follows.
    const action = async () => {
      helper.emit('screen:start', screenState());
      const pong = waitFor(helper, 'heartbeat:pong');
      helper.emit('heartbeat');
      await pong;
    };
    await expectNone(owner, 'screen:start', action, chatMarker(member, 'x'));
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('the helper may start, signal and stop; viewer-ready goes to the helper (§5.13-§5.15)', async () => {
    const { owner, member, room } = await screenRoom(srv.url);
    const helper = await connect(srv.url);
    assert.deepEqual(await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: room.ownerToken }), { success: true });

    const starts = [owner, member].map((s) => waitFor(s, 'screen:start'));
    helper.emit('screen:start', screenState({ ownerName: 'helper' }));
    for (const p of await Promise.all(starts)) assert.deepEqual(p, screenState({ ownerName: 'helper' }));

    const ownerRec = new Recorder(owner);
    const ready = waitFor(helper, 'screen:viewer-ready');
    member.emit('screen:viewer-ready');
    assert.deepEqual(await ready, { userId: member.id });

    const gotOffer = waitFor(member, 'screen:offer');
    helper.emit('screen:offer', { targetUserId: member.id, offer });
    assert.deepEqual(await gotOffer, { userId: helper.id, offer });
    const gotAnswer = waitFor(helper, 'screen:answer');
    member.emit('screen:answer', { targetUserId: helper.id, answer });
    assert.deepEqual(await gotAnswer, { userId: member.id, answer });
    const marker = chatMarker(member, 'after-ready');
    const markerArrived = waitFor(owner, marker.event, marker.pred);
    marker.trigger();
    await markerArrived;
    ownerRec.stop();
    assert.equal(ownerRec.count('screen:viewer-ready'), 0);

    const stops = [owner, member].map((s) => waitFor(s, 'screen:stop'));
    helper.emit('screen:stop');
    await Promise.all(stops);
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('the helper disconnecting while sharing sends screen:stop to-room and clears the state (§5.15)', async () => {
    const { owner, member, room } = await screenRoom(srv.url);
    const helper = await connect(srv.url);
    await emitAck(helper, 'screen:helper-register', { roomId: room.id, ownerToken: room.ownerToken });
    await startSharing(helper, member);
    const stops = [owner, member].map((s) => waitFor(s, 'screen:stop'));
    helper.disconnect();
    await Promise.all(stops);
    assert.equal(await joinerState(srv.url, room.id), null);
  });
});
