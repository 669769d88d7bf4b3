/**
 * Secrets at rest and their comparisons (PROTOCOL §1.3, §6, §10.11): salted password hashes, owner
 * token hashes, the auth-key check with rotation, and ids from a cryptographic source.
 */
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { cryptoIds } from '../../src/security/random.ts';
import { hashesWaiting, hashPassword, hashToken, keyMatches, tokenMatches, verifyPassword } from '../../src/security/secrets.ts';

describe('hashPassword / verifyPassword (PROTOCOL §6)', () => {
  let h1: string;
  let h2: string;
  before(async () => {
    [h1, h2] = await Promise.all([hashPassword('secret-1'), hashPassword('secret-1')]);
  });

  it('is salted: the same password hashes differently, and the hash holds no plain text', () => {
    assert.notEqual(h1, h2);
    assert.ok(!h1.includes('secret-1'));
    assert.match(h1, /^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
  });

  it('verifies the right password against either hash, and refuses a wrong one', async () => {
    assert.equal(await verifyPassword('secret-1', h1), true);
    assert.equal(await verifyPassword('secret-1', h2), true);
    assert.equal(await verifyPassword('secret-2', h1), false);
    assert.equal(await verifyPassword('', h1), false);
    assert.equal(await verifyPassword('Secret-1', h1), false);
  });

  it('handles passwords as people type them (CJK, up to 20 characters, §3)', async () => {
    const h = await hashPassword('密码密码密码密码密码密码密码密码密码密码');
    assert.equal(await verifyPassword('密码密码密码密码密码密码密码密码密码密码', h), true);
    assert.equal(await verifyPassword('密码', h), false);
  });

  it('hashes with N=16384, r=16 (32 MB: over glibc\'s largest kept size, issue 5), and still verifies r=8 hashes', async () => {
    assert.match(h1, /^scrypt\$16384\$16\$1\$/);
    const salt = Buffer.from('an older salt');
    const key = scryptSync('secret-1'.normalize('NFKC'), salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const older = ['scrypt', 16384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    assert.equal(await verifyPassword('secret-1', older), true);
    assert.equal(await verifyPassword('secret-2', older), false);
  });

  it('a malformed stored hash verifies nothing', async () => {
    const [, n, r, p, salt] = h1.split('$') as [string, string, string, string, string, string];
    const malformed = [
      '',
      'secret-1',
      'scrypt$1$2$3',
      `bcrypt$${n}$${r}$${p}$${salt}$AAAA`,
      `scrypt$${n}$${r}$${p}$${salt}$`,
      `scrypt$${n}$${r}$${p}$${salt}$AAAA`,
      `${h1}$extra`,
    ];
    for (const stored of malformed) assert.equal(await verifyPassword('secret-1', stored), false, stored);
  });

  it('hashes run one at a time, in order, and each still verifies (issue 5: a room flood ran four at once)', async () => {
    const started = ['a', 'b', 'c', 'd'].map((pw) => hashPassword(`pw-${pw}`));
    assert.equal(hashesWaiting(), 3, 'one running, three waiting their turn');
    const check = verifyPassword('pw-a', h1);
    assert.equal(hashesWaiting(), 4);
    const hashes = await Promise.all(started);
    assert.equal(await check, false);
    assert.equal(hashesWaiting(), 0);
    for (const [i, pw] of ['a', 'b', 'c', 'd'].entries()) assert.equal(await verifyPassword(`pw-${pw}`, hashes[i]!), true, pw);
  });

  it('a stored hash with corrupt parameters is refused, not thrown', async () => {
    const parts = h1.split('$');
    for (const n of ['abc', '1', '-5']) {
      const stored = ['scrypt', n, ...parts.slice(2)].join('$');
      assert.equal(await verifyPassword('secret-1', stored).catch((e: Error) => `threw: ${e.message}`), false, stored);
    }
  });
});

describe('owner tokens (PROTOCOL §6)', () => {
  it('tokenMatches the right token only', () => {
    const token = cryptoIds.ownerToken();
    const stored = hashToken(token);
    assert.match(stored, /^[0-9a-f]{64}$/);
    assert.ok(!stored.includes(token));
    assert.equal(tokenMatches(token, stored), true);
    assert.equal(tokenMatches(`${token}x`, stored), false);
    assert.equal(tokenMatches(token.slice(0, -1), stored), false);
    assert.equal(tokenMatches(cryptoIds.ownerToken(), stored), false);
  });

  it('an absent or empty token, or a malformed stored hash, never matches', () => {
    const stored = hashToken('t');
    assert.equal(tokenMatches(undefined, stored), false);
    assert.equal(tokenMatches('', stored), false);
    assert.equal(tokenMatches('t', ''), false);
    assert.equal(tokenMatches('t', 'not-hex'), false);
    assert.equal(tokenMatches('t', stored.slice(0, 10)), false);
  });
});

describe('keyMatches (PROTOCOL §1.3)', () => {
  const keys = ['first-key-0123456789', 'second-key-0123456789'];

  it('accepts any of several keys (rotation) and nothing else', () => {
    assert.equal(keyMatches(keys[0], keys), true);
    assert.equal(keyMatches(keys[1], keys), true);
    assert.equal(keyMatches('first-key-012345678', keys), false);
    assert.equal(keyMatches('first-key-0123456789 ', keys), false);
    assert.equal(keyMatches(keys[0], []), false);
  });

  it('refuses an absent, empty, non-string or over-long key', () => {
    const long = 'k'.repeat(1025);
    assert.equal(keyMatches(undefined, keys), false);
    assert.equal(keyMatches('', keys), false);
    assert.equal(keyMatches('', ['']), false, 'an empty key never opens the door');
    assert.equal(keyMatches(12345 as unknown as string, ['12345']), false);
    assert.equal(keyMatches(long, [long]), false);
    assert.equal(keyMatches('k'.repeat(1024), ['k'.repeat(1024)]), true);
  });
});

describe('cryptoIds (PROTOCOL §3, §6, §10.11)', () => {
  it('room ids are 6 characters of [0-9A-Z], spread over the whole alphabet', () => {
    const seen = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const id = cryptoIds.roomId();
      assert.match(id, /^[0-9A-Z]{6}$/);
      ids.add(id);
      for (const ch of id) seen.add(ch);
    }
    assert.equal(seen.size, 36);
    assert.ok(ids.size >= 1_995, `ids repeat too often: ${ids.size} distinct of 2000`);
  });

  it('owner tokens carry 256 bits and are distinct; message ids are distinct', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => cryptoIds.ownerToken()));
    assert.equal(tokens.size, 200);
    for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]{43}$/);
    const msgs = new Set(Array.from({ length: 200 }, () => cryptoIds.messageId()));
    assert.equal(msgs.size, 200);
  });
});
