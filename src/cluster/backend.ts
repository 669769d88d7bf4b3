/**
 * The backend behind one code path: with `REDIS_URL`, rooms in Redis (RedisRoomStore), Socket.IO
 * fanning out through the official Redis Streams adapter (which keeps connection state recovery
 * working across instances), and instance presence in Redis; without it, the memory store, the
 * in-memory adapter, and a single instance.
 */
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerOptions } from 'socket.io';
import type { Config, RateSpec } from '../config/config.ts';
import type { Clock } from '../domain/types.ts';
import { MemorySharedLimiter, type SharedRateLimiter } from '../gateway/rate-limit.ts';
import { MemoryRoomStore } from '../store/memory-store.ts';
import { RedisRoomStore } from '../store/redis-store.ts';
import type { RoomStore } from '../store/room-store.ts';
import { LocalRegistry, RedisRegistry, type InstanceRegistry } from './instance-registry.ts';
import { RedisSharedLimiter } from './redis-rate-limit.ts';
import { PromptPruneSessionAdapter } from './session-adapter.ts';
import { spaceStreamReads } from './stream-reads.ts';

export interface Backend {
  store: RoomStore;
  registry: InstanceRegistry;
  /** Password-guess buckets, shared by all instances (§10.11). */
  /** Per-IP buckets, shared by every instance on Redis (so a limit holds across instances). */
  limiters: IpLimiters;
  /** Socket.IO's adapter option. */
  adapter: ServerOptions['adapter'] | undefined;
  /** Resolves once the backend can serve (Redis answers), or rejects after `timeoutMs`. */
  connect(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface IpLimiters {
  /** Wrong passwords per IP and room (§10.11). */
  guessPerRoomIp: SharedRateLimiter;
  /** Wrong passwords per IP over all rooms. */
  guessPerIp: SharedRateLimiter;
  /** `room:*` events per IP over all its sockets. */
  roomPerIp: SharedRateLimiter;
  /** Handshakes per IP. */
  connectPerIp: SharedRateLimiter;
}

function ipLimiters(config: Config, make: (spec: RateSpec, name: string) => SharedRateLimiter): IpLimiters {
  const r = config.rates;
  return {
    guessPerRoomIp: make(r.passwordPerRoomIp, 'guess:room-ip'),
    guessPerIp: make(r.passwordPerIp, 'guess:ip'),
    roomPerIp: make(r.roomPerIp, 'rate:room-ip'),
    connectPerIp: make(r.connectPerIp, 'rate:connect-ip'),
  };
}

export function memoryBackend(config: Config, clock: Clock, store: RoomStore = new MemoryRoomStore()): Backend {
  return {
    store,
    limiters: ipLimiters(config, (spec) => new MemorySharedLimiter(spec, clock)),
    registry: new LocalRegistry(config.instanceId),
    adapter: PromptPruneSessionAdapter,
    connect: () => Promise.resolve(),
    close: () => store.close(),
  };
}

export function redisBackend(config: Config, url: string, log: Logger): Backend {
  const common = {
    // Fail commands fast while Redis is away (handlers answer `internal`, nothing hangs), and
    // keep reconnecting in the background.
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    commandTimeout: 3000,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
  const storeClient = new Redis(url, { ...common, connectionName: `wrs-${config.instanceId}-store` });
  const adapterClient = new Redis(url, { connectionName: `wrs-${config.instanceId}-adapter` });
  spaceStreamReads(adapterClient, config.redis.streamReadDelayMs);
  let lastError = '';
  for (const [name, client] of [
    ['store', storeClient],
    ['adapter', adapterClient],
  ] as const) {
    client.on('error', (err: Error) => {
      // ioredis retries by itself; log each distinct failure once, never the URL (it may hold a password).
      if (err.message !== lastError) log.warn({ client: name, err: err.message }, 'redis error');
      lastError = err.message;
    });
    client.on('ready', () => {
      if (lastError) log.info({ client: name }, 'redis connection restored');
      lastError = '';
    });
  }
  const { prefix } = config.redis;
  const store = new RedisRoomStore(storeClient, prefix);
  const registry = new RedisRegistry(storeClient, prefix, config.instanceId, config.cluster.heartbeatMs, config.cluster.ttlMs, log);
  const adapter = createAdapter(adapterClient, {
    streamName: `${prefix}stream`,
    maxLen: config.redis.streamMaxLen,
    sessionKeyPrefix: `${prefix}session:`,
    channelPrefix: `${prefix}sio`,
    blockTimeInMs: 2000,
  });

  return {
    store,
    registry,
    adapter,
    limiters: ipLimiters(config, (spec, name) => new RedisSharedLimiter(storeClient, `${prefix}${name}:`, spec)),
    async connect(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await store.ready()) return;
        if (Date.now() > deadline) throw new Error('Redis did not answer in time (REDIS_URL)');
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async close() {
      await store.close();
      await adapterClient.quit().catch(() => undefined);
    },
  };
}

export function createBackend(config: Config, log: Logger, clock: Clock, store?: RoomStore): Backend {
  if (store || !config.redis.url) return memoryBackend(config, clock, store);
  return redisBackend(config, config.redis.url, log);
}
