/**
 * Spaced stream reads (REDIS_STREAM_READ_DELAY_MS, issue 4) against a real Redis: a read issued
 * right after another waits out the spacing, so that broadcasts added meanwhile arrive together in
 * one XREAD reply instead of one XREAD each.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { Redis } from 'ioredis';
import { spaceStreamReads } from '../../src/cluster/stream-reads.ts';
import { closeAll, connect, createRoom, joinRoom, waitFor, type Client } from '../helpers/client.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { dropPrefix, freshPrefix, REDIS_URL, redisDescribe } from '../helpers/redis.ts';

const prefix = freshPrefix('stream-reads');


redisDescribe('spaced stream reads', () => {
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(REDIS_URL);
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) c.disconnect();
    await dropPrefix(prefix);
  });

  /**
   * Reads once (as the adapter's loop does), then reads on while three entries are added: what each
   * read returned, and how many XREADs went to Redis.
   */
  async function readOn(delayMs: number, stream: string): Promise<{ replies: string[][]; sent: number }> {
    const base = client();
    spaceStreamReads(base, delayMs);
    const reader = base.duplicate();
    clients.push(reader);
    let sent = 0;
    const send = reader.sendCommand.bind(reader);
    reader.sendCommand = (cmd, ...rest) => {
      if (cmd.name === 'xread') sent++;
      return send(cmd, ...rest);
    };
    const writer = client();
    const read = async (from: string) => {
      const reply = (await reader.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', stream, from));
      return (reply?.[0]?.[1] ?? []).map(([id, fields]) => [id, fields[1]!] as const);
    };
    await writer.xadd(stream, '*', 'n', '0');
    const first = await read('0'); // a fresh stream: everything in it
    const replies = [first.map(([, n]) => n)];
    let after = first.at(-1)![0];
    const next = read(after);
    for (let i = 1; i <= 3; i++) await writer.xadd(stream, '*', 'n', String(i));
    for (let got = await next; ; got = await read(after)) {
      replies.push(got.map(([, n]) => n));
      after = got.at(-1)![0];
      if (after === undefined || replies.flat().length >= 4) break;
    }
    return { replies, sent };
  }

  it('a read right after another waits the spacing out: one XREAD takes what came meanwhile, handed over one entry a turn', async () => {
    const { replies, sent } = await readOn(400, `${prefix}spaced`);
    assert.deepEqual(replies, [['0'], ['1'], ['2'], ['3']]);
    assert.equal(sent, 2, 'the three entries came in one XREAD');
  });

  it('control, spacing off (0): the same reads lose and reorder nothing, and take more XREADs', async () => {
    const { replies, sent } = await readOn(0, `${prefix}unspaced`);
    assert.deepEqual(replies.flat(), ['0', '1', '2', '3']);
    assert.ok(sent >= 3, `${sent} XREADs: the first new entry came alone`);
  });
});

/**
 * What one spaced read brings is several broadcasts at once. Socket.IO drops a volatile packet
 * (audio, §5.18) toward a socket whose previous write has not completed, and the adapter used to
 * hand a reply's entries over in one synchronous loop: two speakers' chunks in one read reached a
 * listener as one.
 */
redisDescribe('several broadcasts in one spaced read', () => {
  let c: Cluster;
  before(async () => (c = await startCluster(2, 'stream-batch', { REDIS_STREAM_READ_DELAY_MS: '300' })));
  after(() => c.close());
  afterEach(closeAll);

  it('two speakers on B, one listener on A: both audio chunks of one read arrive (§5.18)', async () => {
    const [A, B] = c.nodes;
    const owner = await connect(A!.url);
    const room = await createRoom(owner, { userName: 'olga' });
    const speakers: Client[] = [];
    for (const name of ['bob', 'cleo']) {
      const s = await connect(B!.url);
      const seen = waitFor(owner, 'room:member-joined', (m: { id: string }) => m.id === s.id);
      assert.equal((await joinRoom(s, { roomId: room.id, userName: name })).success, true);
      await seen;
      speakers.push(s);
    }
    const from = new Set<string>();
    const both = new Promise<void>((resolve) =>
      owner.on('voice:audio-chunk', (p: { userId: string }) => {
        from.add(p.userId);
        if (from.size === 2) resolve();
      }),
    );
    const audioData = Array.from({ length: 2048 }, (_, i) => i % 256);
    for (const s of speakers) s.emit('voice:audio-chunk', { roomId: room.id, audioData });
    await Promise.race([both, new Promise((r) => setTimeout(r, 3000))]);
    assert.deepEqual([...from].sort(), speakers.map((s) => s.id!).sort());
  });
});
