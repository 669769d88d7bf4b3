/**
 * Smoke run of the benchmark's generator (issue 4; the benchmark itself is not part of `npm test`):
 * a few rooms against the real server must deliver everything they expect, and the control run
 * against the relay that drops one event in a hundred must report losses, which proves the count.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Load, type LoadOptions } from '../../bench/orchestrate.ts';
import { startRelay } from '../../bench/relay.ts';
import { startServer, TEST_KEY } from '../helpers/server.ts';

const WIDE = '100000:100000';

function loadOptions(url: string, extra: Partial<LoadOptions> = {}): LoadOptions {
  return {
    targets: [url],
    token: TEST_KEY,
    rooms: 3,
    members: 3,
    generators: 1,
    real: 1,
    voiceSpeakers: 0,
    seed: 7,
    connectConcurrency: 20,
    connectTimeoutMs: 5_000,
    ...extra,
  };
}

async function withLoad<T>(o: LoadOptions, fn: (load: Load) => Promise<T>): Promise<T> {
  const load = await Load.start(o);
  try {
    return await fn(load);
  } finally {
    await load.stop();
  }
}

describe('bench generator smoke', { timeout: 20_000 }, () => {
  it('delivers every relayed event of a few rooms through the real server, cheap and real sockets alike', async () => {
    const server = await startServer({
      MAX_ROOMS_PER_IP: '1000',
      RATE_HEARTBEAT: WIDE,
      RATE_CHAT: WIDE,
      RATE_PLAYBACK: WIDE,
      RATE_AUDIO: WIDE,
    });
    try {
      await withLoad(loadOptions(server.url, { voiceSpeakers: 1 }), async (load) => {
        assert.equal(load.setup.sockets, 9);
        assert.equal(load.setup.realSockets, 1);
        assert.equal(load.setup.failedConnects, 0);
        assert.equal(load.setup.failedJoins, 0);
        const r = await load.measure({ rate: 5, warmupMs: 500, durationMs: 2_500, drainMs: 1_000 });
        const relayed = (['play:update', 'chat:message', 'play:seek', 'play:pause'] as const).map((e) => r.events[e]);
        const sent = relayed.reduce((n, e) => n + e.sent, 0);
        const expected = relayed.reduce((n, e) => n + e.expected, 0);
        const delivered = relayed.reduce((n, e) => n + e.delivered, 0);
        assert.ok(sent > 0, 'something was sent');
        assert.ok(r.events['play:update'].sent > 0, 'owners sent play:update');
        assert.equal(delivered, expected, 'lost = expected - delivered = 0');
        assert.ok(r.real.expected > 0);
        assert.equal(r.real.delivered, r.real.expected, 'the real socket.io-client socket got its share');
        assert.equal(r.misrouted, 0);
        assert.equal(r.disconnects, 0);
        assert.deepEqual(r.unexpected, {});
        assert.ok(r.events['voice:audio-chunk'].delivered > 0, 'audio is relayed (volatile: not counted as lost)');
        assert.ok(r.heartbeats.pongs > 0, 'heartbeats are answered');
        assert.ok(r.events['play:update'].latency.count > 0);
      });
    } finally {
      await server.close();
    }
  });

  it('reports losses against a relay that drops one event in a hundred', async () => {
    const relay = await startRelay({ host: '127.0.0.1', port: 0, key: TEST_KEY, lossy: true });
    try {
      await withLoad(loadOptions(`http://127.0.0.1:${relay.port}`), async (load) => {
        // ~80 relayed events per second at rate 100: over 100 in the window, so at least one drop.
        const r = await load.measure({ rate: 100, warmupMs: 300, durationMs: 2_000, drainMs: 700 });
        const relayed = (['play:update', 'chat:message', 'play:seek', 'play:pause'] as const).map((e) => r.events[e]);
        const sent = relayed.reduce((n, e) => n + e.sent, 0);
        const expected = relayed.reduce((n, e) => n + e.expected, 0);
        const lost = expected - relayed.reduce((n, e) => n + e.delivered, 0);
        assert.ok(sent >= 100, `enough events to see a drop (sent ${sent})`);
        assert.ok(lost > 0, 'the dropped events are counted as lost');
        assert.ok(lost < expected * 0.05, `about 1 % lost, not more (lost ${lost} of ${expected})`);
      });
    } finally {
      await relay.close();
    }
  });
});
