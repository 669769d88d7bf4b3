/**
 * Configuration (PROTOCOL §1.3, §5, §8, §9, §10.6; STYLE "config is parsed once"): defaults, the
 * auth key rules, origins, rate specs, fail-fast errors that name the variable, and a frozen result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from '../../src/config/config.ts';

const KEY = 'a-production-key-0123456789';

/** Asserts loadConfig throws a ConfigError whose message names `variable`; returns the message. */
function refused(env: Record<string, string>, variable: string): string {
  let message = '';
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.name, 'ConfigError');
      message = err.message;
      assert.ok(message.includes(variable), `message should name ${variable}: ${message}`);
      return true;
    },
  );
  return message;
}

describe('loadConfig: defaults', () => {
  it('an empty environment gives the documented defaults (§8 timers, shared control)', () => {
    const c = loadConfig({});
    assert.equal(c.env, 'development');
    assert.equal(c.http.port, 3001);
    assert.equal(c.http.host, '0.0.0.0');
    assert.equal(c.http.allowedOrigins, true);
    assert.equal(c.http.trustProxy, false);
    assert.equal(c.rooms.defaultPlaybackControl, 'shared');
    assert.deepEqual({ ...c.timers }, {
      sweepIntervalMs: 10_000,
      ownerStateTimeoutMs: 30_000,
      ownerRoomTimeoutMs: 300_000,
      emptyRoomGraceMs: 60_000,
      memberGraceMs: 0,
      recoveryWindowMs: 60_000,
      heartbeatRefreshMs: 60_000,
    });
    assert.ok(c.limits.maxChatLength >= 200, 'the client sends up to 200 characters (§3)');
    assert.deepEqual({ ...c.rates.chat }, { perSecond: 3, burst: 12 });
  });

  it('numbers are read from strings', () => {
    const c = loadConfig({ PORT: '8080', OWNER_STATE_TIMEOUT_MS: '1500', MAX_MEMBERS_PER_ROOM: '7', SWEEP_INTERVAL_MS: '50' });
    assert.equal(c.http.port, 8080);
    assert.equal(c.timers.ownerStateTimeoutMs, 1500);
    assert.equal(c.rooms.maxMembers, 7);
    assert.equal(c.timers.sweepIntervalMs, 50);
  });
});

describe('loadConfig: AUTH_KEY (PROTOCOL §1.3)', () => {
  it('is required in production, with a readable ConfigError', () => {
    const msg = refused({ NODE_ENV: 'production' }, 'AUTH_KEY');
    assert.match(msg, /required/);
    refused({ NODE_ENV: 'production', AUTH_KEY: '  ' }, 'AUTH_KEY');
    refused({ NODE_ENV: 'production', AUTH_KEY: ' , ,' }, 'AUTH_KEY');
  });

  it('a short production key is refused without echoing it', () => {
    const msg = refused({ NODE_ENV: 'production', AUTH_KEY: `${KEY},tinykey` }, 'AUTH_KEY');
    assert.ok(!msg.includes('tinykey') && !msg.includes(KEY));
  });

  it('a comma list gives several keys (rotation), trimmed, empties dropped', () => {
    const c = loadConfig({ NODE_ENV: 'production', AUTH_KEY: ` ${KEY} ,, second-key-0123456789 ,` });
    assert.deepEqual([...c.auth.keys], [KEY, 'second-key-0123456789']);
    assert.equal(c.auth.generated, false);
  });

  it('in development a key is generated when none is set, and flagged generated', () => {
    const a = loadConfig({});
    const b = loadConfig({ NODE_ENV: 'development', AUTH_KEY: '' });
    assert.equal(a.auth.generated, true);
    assert.equal(a.auth.keys.length, 1);
    assert.ok(a.auth.keys[0]!.length >= 16);
    assert.notEqual(a.auth.keys[0], b.auth.keys[0]);
    const set = loadConfig({ AUTH_KEY: 'dev' });
    assert.deepEqual([...set.auth.keys], ['dev']);
    assert.equal(set.auth.generated, false);
  });
});

describe('loadConfig: ALLOWED_ORIGINS (PROTOCOL §9, §10.6)', () => {
  it("'*' means any origin (true), also inside a list", () => {
    assert.equal(loadConfig({ ALLOWED_ORIGINS: '*' }).http.allowedOrigins, true);
    assert.equal(loadConfig({ ALLOWED_ORIGINS: 'https://a.example, *' }).http.allowedOrigins, true);
    assert.equal(loadConfig({ ALLOWED_ORIGINS: ' , ' }).http.allowedOrigins, true);
  });

  it('a list is split, trimmed, and trailing slashes removed', () => {
    const c = loadConfig({ ALLOWED_ORIGINS: ' https://a.example ,https://b.example/ ,, http://localhost:3000' });
    assert.deepEqual(c.http.allowedOrigins, ['https://a.example', 'https://b.example', 'http://localhost:3000']);
  });
});

describe('loadConfig: rate specs', () => {
  it('"perSecond:burst" is parsed, fractions allowed', () => {
    const c = loadConfig({ RATE_CHAT: '5:20', PASSWORD_ATTEMPTS: ' 0.5 : 3 ' });
    assert.deepEqual({ ...c.rates.chat }, { perSecond: 5, burst: 20 });
    assert.deepEqual({ ...c.rates.passwordPerRoomIp }, { perSecond: 0.5, burst: 3 });
  });

  it('a bad spec fails fast and names the variable', () => {
    for (const v of ['abc', '5', '0:10', '2:0', '-1:5', '2:1.5', '2:10:3']) {
      refused({ RATE_SIGNAL: v }, 'RATE_SIGNAL');
    }
    const msg = refused({ RATE_CHAT: 'oops', PORT: 'x' }, 'RATE_CHAT');
    assert.ok(msg.includes('PORT'), 'every bad variable is named');
  });
});

describe('loadConfig: bad values fail fast', () => {
  it('non-numbers, fractions and out-of-range numbers name the variable', () => {
    refused({ PORT: 'abc' }, 'PORT');
    refused({ PORT: '70000' }, 'PORT');
    refused({ PORT: '80.5' }, 'PORT');
    refused({ SWEEP_INTERVAL_MS: '10' }, 'SWEEP_INTERVAL_MS');
    refused({ MAX_MEMBERS_PER_ROOM: '0' }, 'MAX_MEMBERS_PER_ROOM');
    refused({ OWNER_STATE_TIMEOUT_MS: '-1' }, 'OWNER_STATE_TIMEOUT_MS');
    refused({ MAX_CHAT_LENGTH: '100' }, 'MAX_CHAT_LENGTH');
    refused({ NODE_ENV: 'staging' }, 'NODE_ENV');
    refused({ PLAYBACK_CONTROL: 'everyone' }, 'PLAYBACK_CONTROL');
    refused({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
  });

  it('SHUTDOWN_DRAIN_MS must leave 2 s of SHUTDOWN_TIMEOUT_MS for closing', () => {
    refused({ SHUTDOWN_DRAIN_MS: '7000' }, 'SHUTDOWN_DRAIN_MS');
    assert.equal(loadConfig({ SHUTDOWN_DRAIN_MS: '6000' }).http.shutdownDrainMs, 6000);
    assert.equal(loadConfig({ SHUTDOWN_DRAIN_MS: '12000', SHUTDOWN_TIMEOUT_MS: '15000' }).http.shutdownDrainMs, 12000);
  });

  it('STATS_KEY opens /stats alone when set (at least 16 characters in production); unset, the shared keys do', () => {
    assert.deepEqual(loadConfig({ AUTH_KEY: 'a,b' }).auth.statsKeys, ['a', 'b']);
    assert.deepEqual(loadConfig({ AUTH_KEY: 'a', STATS_KEY: 's' }).auth.statsKeys, ['s']);
    refused({ NODE_ENV: 'production', AUTH_KEY: KEY, STATS_KEY: 'short' }, 'STATS_KEY');
  });

  it('a room timeout shorter than the state timeout is refused', () => {
    refused({ OWNER_STATE_TIMEOUT_MS: '60000', OWNER_ROOM_TIMEOUT_MS: '30000' }, 'OWNER_ROOM_TIMEOUT_MS');
  });

  it('an empty numeric variable (`PORT=` in a compose file) is the default or an error, never 0', () => {
    const defaults = loadConfig({});
    const cases: [string, (c: ReturnType<typeof loadConfig>) => number, number][] = [
      ['PORT', (c) => c.http.port, defaults.http.port],
      ['OWNER_STATE_TIMEOUT_MS', (c) => c.timers.ownerStateTimeoutMs, defaults.timers.ownerStateTimeoutMs],
      ['EMPTY_ROOM_GRACE_MS', (c) => c.timers.emptyRoomGraceMs, defaults.timers.emptyRoomGraceMs],
    ];
    for (const [name, read, def] of cases) {
      let got: number | 'error';
      try {
        got = read(loadConfig({ [name]: '' }));
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        got = 'error';
      }
      assert.ok(got === def || got === 'error', `${name}='' gave ${got}`);
    }
  });
});

describe('loadConfig: trust proxy', () => {
  it('reads false, true, a hop count or an express list', () => {
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy, 2);
    assert.equal(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy, 'loopback, 10.0.0.0/8');
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy, false);
  });
});

describe('loadConfig: the result is frozen', () => {
  it('deeply: top level, sections, key list and rate specs', () => {
    const c = loadConfig({ AUTH_KEY: 'k1,k2' });
    for (const o of [c, c.http, c.auth, c.auth.keys, c.timers, c.rooms, c.limits, c.rates, c.rates.chat]) assert.ok(Object.isFrozen(o));
    assert.throws(() => {
      (c.http as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => (c.auth.keys as string[]).push('k3'), TypeError);
    assert.equal(c.http.port, 3001);
  });
});

describe('loadDotEnv', () => {
  it('an unreadable .env is a ConfigError naming the file, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wrs-env-'));
    try {
      // A directory where the file should be: unreadable as a file, even for root.
      assert.throws(() => loadDotEnv(dir), (err: unknown) => err instanceof ConfigError && err.message.includes(dir));
      loadDotEnv(join(dir, 'absent.env')); // no file: nothing to do
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
