/**
 * Redis for tests: a URL (TEST_REDIS_URL, default redis://127.0.0.1:6379/0), a fresh key prefix per
 * test run so that runs never clash, and `redisDescribe`, which skips (saying why) when Redis does
 * not answer, unless REQUIRE_REDIS=1, when it fails instead.
 */
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export function freshPrefix(tag: string): string {
  return `wrs-test-${tag}-${randomBytes(4).toString('hex')}:`;
}

async function ping(url: string): Promise<string | null> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    r.disconnect();
  }
}

const reachable = await ping(REDIS_URL);

/** `describe` that needs Redis. */
export function redisDescribe(name: string, fn: () => void): void {
  if (reachable === null) {
    describe(name, fn);
  } else if (process.env.REQUIRE_REDIS === '1') {
    describe(name, () => {
      throw new Error(`REQUIRE_REDIS=1 but Redis at ${REDIS_URL} does not answer: ${reachable}`);
    });
  } else {
    describe(name, { skip: `Redis at ${REDIS_URL} does not answer (${reachable}); set REQUIRE_REDIS=1 to fail instead` }, fn);
  }
}

/** Deletes every key under a prefix (after a test file). */
export async function dropPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
