/**
 * Secrets at rest and comparisons (PROTOCOL §1.3, §6). Passwords: salted scrypt, computed on libuv's
 * thread pool (node's async `scrypt`), never on the event loop. Owner tokens: sha256 (they carry 256
 * random bits, so a slow hash adds nothing). Every comparison is constant-time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * N = 16384, r = 16: 32 MB a hash, about 60 ms of a core. The size is deliberate (issue 5): glibc
 * serves an allocation below 32 MB from the thread's arena once a first one of that size was
 * freed, and keeps it, so with r = 8 (16 MB) every thread of libuv's pool ended up holding 16 MB
 * for good (+64 MB RSS after a few password rooms). Over 32 MB, malloc always maps and unmaps
 * it, and RSS comes back down after each hash. Hashes made with r = 8 still verify.
 */
const SCRYPT = { N: 16384, r: 16, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;
const KEY_LEN = 32;

/**
 * Hashes run one at a time, in arrival order: each takes 32 MB and tens of milliseconds of a core,
 * and libuv's pool would run four at once, taking both cores of a small box from the event loop
 * under a flood of password creates or joins (issue 5). One at a time still makes about fifteen
 * a second, far more than people create or join password rooms.
 */
let hashing = false;
const waiting: (() => void)[] = [];

async function oneAtATime<T>(job: () => Promise<T>): Promise<T> {
  if (hashing) await new Promise<void>((resume) => waiting.push(resume));
  else hashing = true;
  try {
    return await job();
  } finally {
    // The slot passes straight to the next in line, so a newcomer cannot slip in between.
    const next = waiting.shift();
    if (next) next();
    else hashing = false;
  }
}

/** Hashes waiting for their turn (for tests and diagnostics). */
export const hashesWaiting = (): number => waiting.length;

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return oneAtATime(
    () =>
      new Promise((resolve, reject) => {
        scrypt(password.normalize('NFKC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const params = { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem };
  // A corrupt record is a refusal, not an exception (and never a costlier hash than we make).
  const sane =
    Number.isInteger(params.N) && params.N >= 2 && params.N <= SCRYPT.N && (params.N & (params.N - 1)) === 0 &&
    Number.isInteger(params.r) && params.r >= 1 && params.r <= SCRYPT.r &&
    Number.isInteger(params.p) && params.p >= 1 && params.p <= SCRYPT.p;
  if (!sane) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length !== KEY_LEN) return false;
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), params);
  return timingSafeEqual(key, expected);
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export const hashToken = (token: string): string => sha256(token).toString('hex');

/** Constant-time: compares fixed-length digests, so neither content nor length leaks by timing. */
export function tokenMatches(token: string | undefined, storedHash: string): boolean {
  if (!token) return false;
  const expected = Buffer.from(storedHash, 'hex');
  const actual = sha256(token);
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** Constant-time check of a presented key against every configured key (rotation, §1.3). */
export function keyMatches(presented: string | undefined, keys: readonly string[]): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 1024) return false;
  const actual = sha256(presented);
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(actual, sha256(k)) || ok;
  return ok;
}
