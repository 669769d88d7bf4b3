/**
 * Which server instances are alive, so that the members of an instance that died without handling
 * its disconnects (SIGKILL, a crash, a lost machine) are removed from their rooms within a bounded
 * time (§5.21). Each instance writes a heartbeat; one silent for `ttlMs` is dead.
 *
 * An instance that could not reach Redis itself does not judge others: after its own heartbeats
 * fail, it waits one full TTL of successful heartbeats (everyone has had the chance to beat again)
 * before it calls anyone dead. So a Redis outage never turns live members into "ghosts". Nor does
 * a stall of this process: while its own last good beat is overdue, it does not judge either.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface InstanceRegistry {
  readonly instanceId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reloads the set of live instances; false when this instance must not judge others now. */
  refresh(): Promise<boolean>;
  isLive(instanceId: string): boolean;
}

/** One process: there is no other instance to lose. */
export class LocalRegistry implements InstanceRegistry {
  constructor(readonly instanceId: string) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  refresh(): Promise<boolean> {
    return Promise.resolve(true);
  }
  isLive(): boolean {
    return true;
  }
}

/** Redis server time in ms, so that instances on machines with skewed clocks agree. */
const BEAT = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], ms, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[2]) * 10)
return ms`;

const LIVE = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], ms - tonumber(ARGV[1]), '+inf')`;

type Scripted = Redis & {
  wrsBeat(key: string, id: string, ttlMs: number): Promise<number>;
  wrsLive(key: string, ttlMs: number): Promise<string[]>;
};

export class RedisRegistry implements InstanceRegistry {
  private readonly redis: Scripted;
  private readonly key: string;
  private timer: NodeJS.Timeout | undefined;
  private live = new Set<string>();
  /** Since when our own heartbeats have succeeded without a failure (null: failing now). */
  private healthySince: number | null = null;
  /** When our last heartbeat succeeded. */
  private lastBeatOk = 0;

  constructor(
    redis: Redis,
    prefix: string,
    readonly instanceId: string,
    private readonly heartbeatMs: number,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    redis.defineCommand('wrsBeat', { numberOfKeys: 1, lua: BEAT });
    redis.defineCommand('wrsLive', { numberOfKeys: 1, lua: LIVE });
    this.redis = redis as Scripted;
    this.key = `${prefix}instances`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Graceful stop: leave at once, so others take over this instance's members without waiting. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.zrem(this.key, this.instanceId).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const started = Date.now();
    try {
      await this.redis.wrsBeat(this.key, this.instanceId, this.ttlMs);
      // A beat that took longer than a beat period means Redis stalled: other instances' beats
      // were stuck as well, so their scores say nothing about them yet. Not healthy.
      if (Date.now() - started > this.heartbeatMs) this.unhealthy('instance heartbeat stalled');
      else {
        this.healthySince ??= Date.now();
        this.lastBeatOk = Date.now();
      }
    } catch (err) {
      this.unhealthy('instance heartbeat failed', err);
    }
  }

  private unhealthy(msg: string, err?: unknown): void {
    if (this.healthySince !== null) this.log.warn({ err }, msg);
    this.healthySince = null;
  }

  async refresh(): Promise<boolean> {
    const started = Date.now();
    // Our own beat is overdue: this process stalled (its timers ran late), and another instance's
    // beat may be overdue for the same reason: the same overloaded machine, or in tests the same
    // process. Its score says nothing about it yet; judge once our beats are on time again.
    if (started - this.lastBeatOk > 2 * this.heartbeatMs) return false;
    try {
      this.live = new Set(await this.redis.wrsLive(this.key, this.ttlMs));
    } catch {
      return false;
    }
    if (Date.now() - started > this.heartbeatMs) {
      this.unhealthy('instance list stalled');
      return false;
    }
    this.live.add(this.instanceId);
    // Judge only after a full TTL of good heartbeats since our last failure (see header).
    return this.healthySince !== null && Date.now() - this.healthySince >= this.ttlMs;
  }

  isLive(instanceId: string): boolean {
    return this.live.has(instanceId);
  }
}
