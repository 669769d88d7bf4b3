/**
 * Configuration: the only module that reads the environment. It is parsed once, with zod, into a
 * typed and frozen object shaped for the code (`config.timers.ownerStateTimeoutMs`), and fails fast
 * with a message that names every bad variable. Defaults are documented here and in README.md.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { z } from 'zod';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** Rate spec "perSecond:burst", e.g. "2:10". */
const rate = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v, ctx) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+)\s*$/.exec(v);
      if (!m || Number(m[1]) <= 0 || Number(m[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: `expected "perSecond:burst" like "2:10", got "${v}"` });
        return z.NEVER;
      }
      return { perSecond: Number(m[1]), burst: Number(m[2]) };
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** The environment variables we read, with their defaults (see README "Configuration"). */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(3001, 0, 65535),
  AUTH_KEY: optionalString,
  STATS_KEY: optionalString,
  ALLOWED_ORIGINS: z.string().default('*'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.string().default('false'),
  INSTANCE_ID: optionalString,
  REDIS_URL: optionalString,
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only').default('wrs:'),
  REDIS_STREAM_MAXLEN: int(10_000, 100),
  REDIS_STREAM_READ_DELAY_MS: int(5, 0, 1000),
  INSTANCE_HEARTBEAT_MS: int(5_000, 100),
  INSTANCE_TTL_MS: int(15_000, 300),

  PLAYBACK_CONTROL: z.enum(['shared', 'owner']).default('shared'),

  SWEEP_INTERVAL_MS: int(10_000, 50),
  OWNER_STATE_TIMEOUT_MS: int(30_000, 0),
  OWNER_ROOM_TIMEOUT_MS: int(300_000, 0),
  EMPTY_ROOM_GRACE_MS: int(60_000, 0),
  MEMBER_DISCONNECT_GRACE_MS: int(0, 0),
  RECOVERY_WINDOW_MS: int(60_000, 0),
  HEARTBEAT_REFRESH_MS: int(60_000, 0),
  PING_INTERVAL_MS: int(25_000, 1_000),
  PING_TIMEOUT_MS: int(20_000, 1_000),
  SHUTDOWN_TIMEOUT_MS: int(8_000, 100, 60_000),
  SHUTDOWN_DRAIN_MS: int(0, 0, 55_000),

  MAX_MEMBERS_PER_ROOM: int(50, 1, 10_000),
  MAX_ROOMS: int(20_000, 1),
  MAX_ROOMS_PER_IP: int(20, 1),
  MAX_LISTED_ROOMS: int(500, 1, 100_000),
  MAX_CHAT_LENGTH: int(500, 200, 10_000),
  MAX_AUDIO_CHUNK_BYTES: int(16_384, 2, 60_000),
  MAX_STATE_BYTES: int(8_192, 1_024, 60_000),
  MAX_SIGNAL_BYTES: int(32_768, 1_024, 60_000),
  MAX_HTTP_BUFFER_SIZE: int(65_536, 16_384, 1_048_576),
  MAX_PENDING_EVENTS: int(64, 4, 10_000),

  RATE_HEARTBEAT: rate('1:10'),
  RATE_ROOM: rate('2:12'),
  RATE_CHAT: rate('3:12'),
  RATE_PLAYBACK: rate('20:60'),
  RATE_SIGNAL: rate('40:400'),
  RATE_SIGNAL_BYTES: rate('65536:262144'),
  RATE_FANOUT_BYTES_PER_IP: rate('33554432:100663296'),
  RATE_AUDIO: rate('16:48'),
  PASSWORD_ATTEMPTS: rate('0.02:5'),
  PASSWORD_ATTEMPTS_PER_IP: rate('0.1:30'),

  MAX_CONNECTIONS_PER_IP: int(200, 1),
  RATE_CONNECT_PER_IP: rate('5:100'),
  RATE_ROOM_PER_IP: rate('10:100'),
  FLOOD_CUT: rate('20:300'),
  FLOOD_BAN_MS: int(30_000, 0),
  BAN_HOLD_MS: int(5_000, 0, 60_000),
  RATE_INBOUND_BYTES: rate('1048576:2097152'),
  MAX_BUFFERED_BYTES: int(1_048_576, 65_536),
  REFUSAL_LOG_INTERVAL_MS: int(60_000, 1_000),
});


export type RateSpec = { perSecond: number; burst: number };

export interface Config {
  env: 'development' | 'production' | 'test';
  instanceId: string;
  http: {
    host: string;
    port: number;
    /** `true` when ALLOWED_ORIGINS is `*`: any origin, for HTTP and Socket.IO polling (PROTOCOL §9, §10.6). */
    allowedOrigins: true | string[];
    /** Express `trust proxy` value; decides which address counts as the client's IP. */
    trustProxy: boolean | number | string;
    maxHttpBufferSize: number;
    pingIntervalMs: number;
    pingTimeoutMs: number;
    shutdownTimeoutMs: number;
    /** On SIGTERM, /ready answers 503 and new handshakes are refused this long before connections close. */
    shutdownDrainMs: number;
  };
  auth: {
    /** Accepted keys (several allow rotation). Never logged. */
    keys: readonly string[];
    /** True when no key was configured and one was generated for this development run (PROTOCOL §1.3). */
    generated: boolean;
    /**
     * Keys that open `/stats`: STATS_KEY when set, else the shared keys (§9). Every logged-in
     * browser holds the shared key, and `/stats` lists private rooms' ids.
     */
    statsKeys: readonly string[];
  };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** Set: rooms live in Redis and Socket.IO fans out through the Redis Streams adapter. */
  redis: {
    /** May carry a password: never logged. */
    url: string | undefined;
    prefix: string;
    streamMaxLen: number;
    /** Stream reads are spaced by at most this (0: read again at once): more entries per XREAD. */
    streamReadDelayMs: number;
  };
  cluster: {
    /** How often an instance says it is alive. */
    heartbeatMs: number;
    /** An instance silent this long is dead: its members are removed from their rooms (§5.21). */
    ttlMs: number;
  };
  rooms: {
    defaultPlaybackControl: 'shared' | 'owner';
    maxMembers: number;
    maxRooms: number;
    maxRoomsPerIp: number;
    /** At most this many public rooms in one `room:list` answer, newest first. */
    maxListed: number;
  };
  timers: {
    sweepIntervalMs: number;
    ownerStateTimeoutMs: number;
    ownerRoomTimeoutMs: number;
    emptyRoomGraceMs: number;
    memberGraceMs: number;
    recoveryWindowMs: number;
    /** A member's `lastHeartbeat` is written at most this often (one store write, not one per 5 s beat). */
    heartbeatRefreshMs: number;
  };
  limits: {
    maxChatLength: number;
    maxAudioChunkBytes: number;
    maxStateBytes: number;
    maxSignalBytes: number;
    maxPendingEvents: number;
  };
  rates: {
    heartbeat: RateSpec;
    room: RateSpec;
    chat: RateSpec;
    playback: RateSpec;
    signal: RateSpec;
    audio: RateSpec;
    passwordPerRoomIp: RateSpec;
    passwordPerIp: RateSpec;
    /** Bytes of WebRTC signalling per socket: offers are a few KB, now and then. */
    signalBytes: RateSpec;
    /** New connections (handshakes) per client IP. */
    connectPerIp: RateSpec;
    /** `room:*` events per client IP, over all its sockets. */
    roomPerIp: RateSpec;
    /**
     * Bytes the server relays on behalf of one IP's sockets (a room event's size, at least
     * FANOUT_MIN_BYTES, times its listeners on this instance), per second: what one IP can make
     * the server send, however many sockets it fills a room with.
     */
    fanoutPerIp: RateSpec;
    /** Refused events a socket may pile up before it is disconnected as abusive. */
    floodCut: RateSpec;
    /** Bytes a connection may send (every frame, before it is parsed); past it, the connection is cut. */
    inboundBytes: RateSpec;
  };
  abuse: {
    /** Open connections per client IP on one instance. */
    maxConnectionsPerIp: number;
    /** After a socket is cut as abusive, new handshakes from its IP are refused this long. */
    floodBanMs: number;
    /** A locked-out IP's new TCP connection is held open this long, unread, before it is closed (0: closed at once). */
    banHoldMs: number;
    /** What one socket may have outstanding: held in the server's memory, or sent and not confirmed read (write-guard.ts). */
    maxBufferedBytes: number;
    /** A refusal is logged once per kind and offender per interval; every one is counted. */
    refusalLogIntervalMs: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseTrustProxy(v: string): boolean | number | string {
  const t = v.trim();
  if (t === '' || t === 'false') return false;
  if (t === 'true') return true;
  if (/^\d+$/.test(t)) return Number(t);
  return t; // e.g. "loopback, 10.0.0.0/8" (express syntax)
}

function parseOrigins(v: string): true | string[] {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.includes('*')) return true;
  return list.map((o) => o.replace(/\/+$/, ''));
}

/** Parse an environment (defaults to `process.env`) into a frozen Config, or throw ConfigError. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable (`PORT=` in a compose file) means "not set", never 0 or "".
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const keys = (e.AUTH_KEY ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  let generated = false;
  if (keys.length === 0) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError('Invalid configuration:\n  AUTH_KEY: required when NODE_ENV=production');
    }
    keys.push(randomBytes(24).toString('base64url'));
    generated = true;
  }
  const statsKeys = e.STATS_KEY ? [e.STATS_KEY] : keys;
  if (e.NODE_ENV === 'production' && e.STATS_KEY !== undefined && e.STATS_KEY.length < 16) {
    throw new ConfigError('Invalid configuration:\n  STATS_KEY: must be at least 16 characters in production');
  }
  if (e.NODE_ENV === 'production' && keys.some((k) => k.length < 16)) {
    throw new ConfigError('Invalid configuration:\n  AUTH_KEY: each key must be at least 16 characters in production');
  }
  if (e.INSTANCE_TTL_MS < 2 * e.INSTANCE_HEARTBEAT_MS) {
    throw new ConfigError('Invalid configuration:\n  INSTANCE_TTL_MS: must be at least twice INSTANCE_HEARTBEAT_MS');
  }
  if (e.SHUTDOWN_DRAIN_MS + 2_000 > e.SHUTDOWN_TIMEOUT_MS && e.SHUTDOWN_DRAIN_MS > 0) {
    throw new ConfigError('Invalid configuration:\n  SHUTDOWN_DRAIN_MS: must leave at least 2000 ms of SHUTDOWN_TIMEOUT_MS for closing');
  }
  if (e.OWNER_ROOM_TIMEOUT_MS < e.OWNER_STATE_TIMEOUT_MS) {
    throw new ConfigError(
      'Invalid configuration:\n  OWNER_ROOM_TIMEOUT_MS: must not be shorter than OWNER_STATE_TIMEOUT_MS',
    );
  }

  const config: Config = {
    env: e.NODE_ENV,
    instanceId: e.INSTANCE_ID ?? randomBytes(4).toString('hex'),
    http: {
      host: e.HOST,
      port: e.PORT,
      allowedOrigins: parseOrigins(e.ALLOWED_ORIGINS),
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      maxHttpBufferSize: e.MAX_HTTP_BUFFER_SIZE,
      pingIntervalMs: e.PING_INTERVAL_MS,
      pingTimeoutMs: e.PING_TIMEOUT_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    },
    auth: { keys, generated, statsKeys },
    log: { level: e.LOG_LEVEL },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, streamMaxLen: e.REDIS_STREAM_MAXLEN, streamReadDelayMs: e.REDIS_STREAM_READ_DELAY_MS },
    cluster: { heartbeatMs: e.INSTANCE_HEARTBEAT_MS, ttlMs: e.INSTANCE_TTL_MS },
    rooms: {
      defaultPlaybackControl: e.PLAYBACK_CONTROL,
      maxMembers: e.MAX_MEMBERS_PER_ROOM,
      maxRooms: e.MAX_ROOMS,
      maxRoomsPerIp: e.MAX_ROOMS_PER_IP,
      maxListed: e.MAX_LISTED_ROOMS,
    },
    timers: {
      sweepIntervalMs: e.SWEEP_INTERVAL_MS,
      ownerStateTimeoutMs: e.OWNER_STATE_TIMEOUT_MS,
      ownerRoomTimeoutMs: e.OWNER_ROOM_TIMEOUT_MS,
      emptyRoomGraceMs: e.EMPTY_ROOM_GRACE_MS,
      memberGraceMs: e.MEMBER_DISCONNECT_GRACE_MS,
      recoveryWindowMs: e.RECOVERY_WINDOW_MS,
      heartbeatRefreshMs: e.HEARTBEAT_REFRESH_MS,
    },
    limits: {
      maxChatLength: e.MAX_CHAT_LENGTH,
      maxAudioChunkBytes: e.MAX_AUDIO_CHUNK_BYTES,
      maxStateBytes: e.MAX_STATE_BYTES,
      maxSignalBytes: e.MAX_SIGNAL_BYTES,
      maxPendingEvents: e.MAX_PENDING_EVENTS,
    },
    rates: {
      heartbeat: e.RATE_HEARTBEAT,
      room: e.RATE_ROOM,
      chat: e.RATE_CHAT,
      playback: e.RATE_PLAYBACK,
      signal: e.RATE_SIGNAL,
      audio: e.RATE_AUDIO,
      passwordPerRoomIp: e.PASSWORD_ATTEMPTS,
      passwordPerIp: e.PASSWORD_ATTEMPTS_PER_IP,
      signalBytes: e.RATE_SIGNAL_BYTES,
      connectPerIp: e.RATE_CONNECT_PER_IP,
      roomPerIp: e.RATE_ROOM_PER_IP,
      fanoutPerIp: e.RATE_FANOUT_BYTES_PER_IP,
      floodCut: e.FLOOD_CUT,
      inboundBytes: e.RATE_INBOUND_BYTES,
    },
    abuse: {
      maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
      floodBanMs: e.FLOOD_BAN_MS,
      banHoldMs: e.BAN_HOLD_MS,
      maxBufferedBytes: e.MAX_BUFFERED_BYTES,
      refusalLogIntervalMs: e.REFUSAL_LOG_INTERVAL_MS,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Loads `.env` from the working directory into the environment, when there is one (variables
 * already set win). Deployments usually pass the environment directly; this serves `npm start`.
 */
export function loadDotEnv(path = '.env'): void {
  if (!existsSync(path)) return;
  try {
    process.loadEnvFile(path);
  } catch (err) {
    // An unreadable file (mode 600 for another user, e.g. under systemd's DynamicUser) is a
    // configuration error with a clear message, not a crash with a stack trace.
    const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    throw new ConfigError(`Invalid configuration:\n  ${path}: cannot be read (${reason})`);
  }
}
