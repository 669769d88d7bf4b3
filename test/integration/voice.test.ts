/**
 * Voice (PROTOCOL §5.17, §5.18, §10.4, §10.12): WebRTC signalling goes to one target inside the
 * sender's room; server-relay audio goes to-others (volatile) as {userId, audioData, sampleRate}.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, expectNone, joinRoom, Recorder, waitFor, type Client, chatMarker } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

interface Chunk {
  userId: string;
  audioData: number[];
  sampleRate: number;
}

const offer = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const answer = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const candidate = {
  candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 54400 typ srflx raddr 0.0.0.0 rport 0',
  sdpMid: '0',
  sdpMLineIndex: 0,
  usernameFragment: 'a1b2',
};

/** Little-endian PCM16 as bytes, 8192 of them as the client sends (§5.18). */
const pcm = (n = 8192, seed = 0) => Array.from({ length: n }, (_, i) => (i * 7 + seed) % 256);

/** A room with `n` sockets, the first the owner; returns once every join was announced to all. */
async function roomOf(url: string, n: number): Promise<{ roomId: string; s: Client[] }> {
  const s: Client[] = [await connect(url)];
  const room = await createRoom(s[0] as Client);
  for (let i = 1; i < n; i++) {
    const c = await connect(url);
    const announced = s.map((o) => waitFor(o, 'room:member-joined', (m) => (m as { id: string }).id === c.id));
    assert.equal((await joinRoom(c, { roomId: room.id, userName: `user${i}` })).success, true);
    await Promise.all(announced);
    s.push(c);
  }
  return { roomId: room.id, s };
}

const voiceEvents = (r: Recorder) => r.events.filter((e) => e.event.startsWith('voice:')).map((e) => [e.event, e.args[0]]);

describe('voice signalling (PROTOCOL §5.17)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('offer / answer / ice reach the target only, as {userId: sender, ...}', async () => {
    const { s } = await roomOf(srv.url, 3);
    const [a, b, c] = s as [Client, Client, Client];
    const cRec = new Recorder(c);
    const gotOffer = waitFor(b, 'voice:offer');
    a.emit('voice:offer', { targetUserId: b.id, offer });
    assert.deepEqual(await gotOffer, { userId: a.id, offer });
    const gotAnswer = waitFor(a, 'voice:answer');
    b.emit('voice:answer', { targetUserId: a.id, answer });
    assert.deepEqual(await gotAnswer, { userId: b.id, answer });
    const gotIce = waitFor(b, 'voice:ice');
    a.emit('voice:ice', { targetUserId: b.id, candidate });
    assert.deepEqual(await gotIce, { userId: a.id, candidate });
    // Marker by the same path (a's queue, to c): c got nothing before it.
    const marker = waitFor(c, 'voice:ice');
    a.emit('voice:ice', { targetUserId: c.id, candidate });
    await marker;
    cRec.stop();
    assert.deepEqual(voiceEvents(cRec), [['voice:ice', { userId: a.id, candidate }]]);
  });

  it('never reaches a socket in another room (§10.4)', async () => {
    const one = await roomOf(srv.url, 2);
    const two = await roomOf(srv.url, 2);
    const sender = one.s[1] as Client;
    const outsider = two.s[1] as Client;
    const rec = new Recorder(outsider);
    sender.emit('voice:offer', { targetUserId: outsider.id, offer });
    sender.emit('voice:answer', { targetUserId: outsider.id, answer });
    sender.emit('voice:ice', { targetUserId: outsider.id, candidate });
    // Once the sender is in the outsider's room its signal gets through (same queue, same path).
    assert.equal((await joinRoom(sender, { roomId: two.roomId, userName: 'mover' })).success, true);
    const marker = { type: 'offer', sdp: 'marker' };
    const got = waitFor(outsider, 'voice:offer');
    sender.emit('voice:offer', { targetUserId: outsider.id, offer: marker });
    await got;
    rec.stop();
    assert.deepEqual(voiceEvents(rec), [['voice:offer', { userId: sender.id, offer: marker }]]);
  });

  it('from a socket in no room: dropped', async () => {
    const { s } = await roomOf(srv.url, 2);
    const target = s[1] as Client;
    const stranger = await connect(srv.url);
    await expectNone(
      target,
      'voice:offer',
      async () => {
        stranger.emit('voice:offer', { targetUserId: target.id, offer });
        const pong = waitFor(stranger, 'heartbeat:pong');
        stranger.emit('heartbeat');
        await pong; // the stranger's offer was handled before its pong
      },
      chatMarker(s[0] as Client, 'm'),
    );
  });
});

describe('voice:audio-chunk (PROTOCOL §5.18, §10.12)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('8192 bytes go to-others as {userId, audioData, sampleRate: 16000}, not to the sender', async () => {
    const { roomId, s } = await roomOf(srv.url, 3);
    const [a, b, c] = s as [Client, Client, Client];
    const audioData = pcm();
    const got = [b, c].map((x) => waitFor<Chunk>(x, 'voice:audio-chunk'));
    await expectNone(a, 'voice:audio-chunk', () => void a.emit('voice:audio-chunk', { roomId, audioData }), chatMarker(a, 'm'));
    for (const p of await Promise.all(got)) assert.deepEqual(p, { userId: a.id, audioData, sampleRate: 16000 });
  });

  it('a given sampleRate is kept; null counts as absent', async () => {
    const { roomId, s } = await roomOf(srv.url, 2);
    const [a, b] = s as [Client, Client];
    let got = waitFor<Chunk>(b, 'voice:audio-chunk');
    a.emit('voice:audio-chunk', { roomId, audioData: pcm(), sampleRate: 48000 });
    assert.equal((await got).sampleRate, 48000);
    got = waitFor<Chunk>(b, 'voice:audio-chunk');
    a.emit('voice:audio-chunk', { roomId, audioData: pcm(), sampleRate: null });
    assert.equal((await got).sampleRate, 16000);
  });

  it("the payload's roomId is ignored: the sender's own room is used", async () => {
    const one = await roomOf(srv.url, 2);
    const two = await roomOf(srv.url, 2);
    const [a, b] = one.s as [Client, Client];
    const [d, e] = two.s as [Client, Client];
    const dRec = new Recorder(d);
    const got = waitFor<Chunk>(b, 'voice:audio-chunk');
    a.emit('voice:audio-chunk', { roomId: two.roomId, audioData: pcm() });
    assert.equal((await got).userId, a.id);
    // Marker by the same path into room two.
    const marker = waitFor<Chunk>(d, 'voice:audio-chunk');
    e.emit('voice:audio-chunk', { roomId: two.roomId, audioData: pcm(8192, 1) });
    assert.equal((await marker).userId, e.id);
    dRec.stop();
    assert.deepEqual(dRec.payloads<Chunk>('voice:audio-chunk').map((p) => p.userId), [e.id]);
  });

  it('odd length, values outside 0..255, non-integers, oversize and non-arrays are dropped', async () => {
    const { roomId, s } = await roomOf(srv.url, 2);
    const [a, b] = s as [Client, Client];
    const rec = new Recorder(b);
    const bad: unknown[] = [
      pcm(8191),
      [...pcm(8190), 256, 0],
      [...pcm(8190), -1, 0],
      [...pcm(8190), 1.5, 0],
      new Array<number>(16386).fill(0), // over MAX_AUDIO_CHUNK_BYTES (16384), small on the wire
      [],
      'AAAA',
      { 0: 1, 1: 2 },
    ];
    for (const audioData of bad) a.emit('voice:audio-chunk', { roomId, audioData });
    a.emit('voice:audio-chunk', { roomId, audioData: pcm(), sampleRate: 'fast' });
    const good = pcm(8192, 3);
    const marker = waitFor<Chunk>(b, 'voice:audio-chunk');
    a.emit('voice:audio-chunk', { roomId, audioData: good });
    assert.deepEqual((await marker).audioData, good);
    rec.stop();
    assert.equal(rec.count('voice:audio-chunk'), 1);
  });

  it('a maximum-size chunk (MAX_AUDIO_CHUNK_BYTES) passes', async () => {
    const { roomId, s } = await roomOf(srv.url, 2);
    const [a, b] = s as [Client, Client];
    const audioData = new Array<number>(16384).fill(1);
    const got = waitFor<Chunk>(b, 'voice:audio-chunk');
    a.emit('voice:audio-chunk', { roomId, audioData });
    assert.equal((await got).audioData.length, 16384);
  });
});
