/**
 * The token bucket of rate-limit.ts kept in Redis, so that every instance spends from the same
 * bucket (a password guess on instance B counts against the allowance used up on A, §10.11).
 * One Lua script per call, on Redis server time; a bucket expires once it would be full again.
 */
import type { Redis } from 'ioredis';
import type { RateSpec } from '../config/config.ts';
import type { SharedRateLimiter } from '../gateway/rate-limit.ts';

/** KEYS[1] bucket; ARGV: perSecond, burst, cost (1: take one; -1: give one back). Returns remaining whole tokens, or -1. */
const BUCKET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if not tokens then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) / 1000 * rate); ts = now end
if cost < 0 then
  tokens = math.min(burst, tokens - cost)
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ts)
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
  return math.floor(tokens)
end
if tokens < 1 then return -1 end
if cost > 0 then
  tokens = tokens - cost
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ts)
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
end
return math.floor(tokens)`;

type Scripted = Redis & { wrsBucket(key: string, rate: number, burst: number, cost: number): Promise<number> };

export class RedisSharedLimiter implements SharedRateLimiter {
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly spec: RateSpec,
  ) {
    redis.defineCommand('wrsBucket', { numberOfKeys: 1, lua: BUCKET });
    this.redis = redis as Scripted;
  }

  async take(key: string): Promise<boolean> {
    return (await this.redis.wrsBucket(this.keyPrefix + key, this.spec.perSecond, this.spec.burst, 1)) >= 0;
  }

  async give(key: string): Promise<void> {
    await this.redis.wrsBucket(this.keyPrefix + key, this.spec.perSecond, this.spec.burst, -1);
  }
}
