/**
 * Issue 5, attack 5: slow readers, judged by what they confirm reading (write-guard.ts,
 * read-confirm.ts, volatile-drop.ts). Real sockets against a real server with its production
 * limits (MAX_BUFFERED_BYTES 1 MB); the reader is a raw WebSocket whose TCP socket stops being read,
 * so that the server's writes pile up in the kernels as they would for a real client.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, createRoom, joinRoom, waitFor, type Client } from '../helpers/client.ts';
import { until } from '../helpers/poll.ts';
import { rawConnect, reading, stats, type Raw } from '../helpers/raw.ts';
import { PRODUCTION_LIMITS, startServer, type TestServer } from '../helpers/server.ts';

const pcm = (n: number) => Array.from({ length: n }, (_, i) => i % 256);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A room of an owner and `senders` more members, and a raw member whose reading the test controls. */
async function busyRoom(url: string, senders: number): Promise<{ owner: Client; members: Client[]; raw: Raw; roomId: string }> {
  const owner = await connect(url);
  const room = await createRoom(owner, { name: 'busy' });
  const raw = await rawConnect(url);
  const joined = waitFor(owner, 'room:member-joined');
  raw.ws.send(`421${JSON.stringify(['room:join', { roomId: room.id, userName: 'raw' }])}`);
  await joined;
  const members: Client[] = [];
  for (let i = 0; i < senders; i++) {
    const m = await connect(url);
    await joinRoom(m, { roomId: room.id });
    members.push(m);
  }
  return { owner, members, raw, roomId: room.id };
}

/**
 * 30 KB offers toward the raw member from every sender, inside RATE_SIGNAL_BYTES (a 256 KB burst,
 * then 64 KB/s a sender): 1.4 MB at once from six senders, then 0.36 MB/s. Returns the stop.
 */
function pumpOffers(senders: Client[], target: string): () => void {
  const offer = { type: 'offer', sdp: 'v=0 '.padEnd(30_000, 'x') };
  for (const s of senders) for (let i = 0; i < 8; i++) s.emit('voice:offer', { targetUserId: target, offer });
  const timer = setInterval(() => {
    for (const s of senders) s.emit('voice:offer', { targetUserId: target, offer });
  }, 500);
  return () => clearInterval(timer);
}

const offersIn = (raw: Raw) => raw.frames.filter((f) => f.startsWith('42["voice:offer"')).length;
const pingsIn = (raw: Raw) => raw.frames.filter((f) => f === '2').length;

describe('slow readers: cut by what they confirm reading (issue 5)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ ...PRODUCTION_LIMITS })));
  after(() => srv.close());
  afterEach(closeAll);

  it('a reader that stops is cut while everything sent to it still fits in the kernels\' buffers', async () => {
    const { owner, members, raw } = await busyRoom(srv.url, 5);
    const before = await stats(srv.url);
    reading(raw, false);
    const left = waitFor<string>(owner, 'room:member-left', (id) => id === raw.sid, 5000);
    const stop = pumpOffers([owner, ...members], raw.sid);
    try {
      // Within the 5 s of the wait at most 1.4 MB + 0.36 MB/s is sent: a loopback connection's
      // kernel buffers take 4 MB before the server holds a byte of it, which is all a guard of
      // the server's memory alone would see (it never cut within the wait).
      await left;
    } finally {
      stop();
    }
    const after = await stats(srv.url);
    assert.equal(after.abuse.disconnected.slow_reader - before.abuse.disconnected.slow_reader, 1);
    raw.ws.terminate();
  });

  it('a reader that reads the same traffic is probed with early pings, answers them, and stays', async () => {
    const { members, owner, raw } = await busyRoom(srv.url, 5);
    const before = await stats(srv.url);
    const stop = pumpOffers([owner, ...members], raw.sid);
    await sleep(3000);
    stop();
    // 48 in the bursts, then one per sender every half second: all of them arrive.
    await until(() => offersIn(raw), (n) => n >= 48 + 5 * 5, { ms: 3000, what: 'the offers at the reader' });
    // Engine.IO's own ping comes every 25 s: these are the guard's probes, each answered.
    assert.ok(pingsIn(raw) >= 3, `${pingsIn(raw)} pings`);
    const after = await stats(srv.url);
    assert.equal(after.abuse.disconnected.slow_reader, before.abuse.disconnected.slow_reader, 'not cut');
    assert.equal(after.abuse.refused.slow_reader, before.abuse.refused.slow_reader, 'nothing dropped');
    assert.equal(raw.ws.readyState, raw.ws.OPEN);
    raw.ws.terminate();
  });

  it('audio toward a listener that stopped is dropped past a quarter MB, counted; it stays, and hears again once it reads', async () => {
    const { owner, raw } = await busyRoom(srv.url, 0);
    const before = await stats(srv.url);
    reading(raw, false);
    // §5.18: three streams' worth, 12 chunks (28 KB each) a second for 2.5 s: 0.85 MB.
    const chunk = { roomId: 'x', audioData: pcm(8192), sampleRate: 16000 };
    for (let i = 0; i < 30; i++) {
      owner.emit('voice:audio-chunk', chunk);
      await sleep(83);
    }
    await sleep(300);
    const during = await stats(srv.url);
    const dropped = during.abuse.refused.slow_reader - before.abuse.refused.slow_reader;
    assert.ok(dropped >= 10, `${dropped} chunks dropped`);
    assert.equal(during.abuse.disconnected.slow_reader, before.abuse.disconnected.slow_reader, 'not cut');

    reading(raw, true);
    // It reads what was sent before the drops, answers the probe behind them, and hears again.
    const marker = { roomId: 'x', audioData: pcm(64), sampleRate: 22050 };
    const heard = () => raw.frames.some((f) => f.startsWith('42["voice:audio-chunk"') && f.includes('"sampleRate":22050'));
    await until(
      () => {
        if (!heard()) owner.emit('voice:audio-chunk', marker);
        return heard();
      },
      (ok) => ok,
      { ms: 5000, everyMs: 250, what: 'audio at the listener after it reads again' },
    );
    const big = raw.frames.filter((f) => f.startsWith('42["voice:audio-chunk"') && f.includes('"sampleRate":16000')).length;
    assert.equal(big + dropped, 30, `${big} chunks heard, ${dropped} dropped`);
    const after = await stats(srv.url);
    assert.equal(after.abuse.disconnected.slow_reader, before.abuse.disconnected.slow_reader, 'not cut');
    raw.ws.terminate();
  });
});
