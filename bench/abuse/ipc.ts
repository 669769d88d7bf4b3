/**
 * The attacks of `npm run bench:abuse`, and the messages between the runner (run.ts) and an
 * attacker process (attacker.ts). Every attack runs in its own process, so that its CPU is not the
 * runner's nor the load generator's, and reports what it measured itself.
 */

/** What `--attacks all` (the default) runs. */
export const DEFAULT_ATTACKS = [
  'flood-heartbeat',
  'flood-list',
  'flood-chat',
  'flood-play',
  'flood-audio',
  'conn-flood',
  'room-flood',
  'join-spam',
  'room-fanout',
  'garbage',
  'slow-reader',
  'signal-pump',
] as const;

/** `garbage` runs every kind at once; `garbage-<kind>` one alone, to tell which kind costs what. */
export const GARBAGE_KINDS = ['oversize', 'deep-array', 'deep-object', 'huge-array', 'many-keys', 'invalid-utf8', 'eio-junk'] as const;
const GARBAGE_EACH = [
  'garbage-oversize',
  'garbage-deep-array',
  'garbage-deep-object',
  'garbage-huge-array',
  'garbage-many-keys',
  'garbage-invalid-utf8',
  'garbage-eio-junk',
] as const satisfies readonly `garbage-${(typeof GARBAGE_KINDS)[number]}`[];

export const ATTACKS = [...DEFAULT_ATTACKS, ...GARBAGE_EACH] as const;
export type AttackName = (typeof ATTACKS)[number];

/** Names that stand for several attacks on the command line. */
export const ATTACK_GROUPS: Record<string, readonly AttackName[]> = {
  all: DEFAULT_ATTACKS,
  'event-flood': ['flood-heartbeat', 'flood-list', 'flood-chat', 'flood-play', 'flood-audio'],
  'garbage-each': GARBAGE_EACH,
};

/** Source addresses: the attacker has one IP; helpers (victims, bystanders) others. */
export const ATTACKER_ADDRESS = '127.0.0.1';
/** 127.0.200.<n>: sockets of the attack's setup that are not the attacker (a victim room's owner...). */
export const helperAddress = (n: number): string => `127.0.200.${n}`;
/** The runner's own HTTP requests (/health, /stats) come from here. */
export const RUNNER_ADDRESS = '127.0.250.1';

export interface AttackPlan {
  attack: AttackName;
  /** http://127.0.0.1:<port> */
  url: string;
  token: string;
  /** conn-flood: stop opening connections past this many held at once (ports, file descriptors). */
  connMax: number;
  /** room-flood: stop at this many rooms held. */
  roomMax: number;
  /** join-spam: attacker sockets. */
  joinSockets: number;
  /** slow-reader: sockets pushing into the room at the default rate limits. */
  slowPushers: number;
}

export type ToAttacker =
  | { type: 'prepare'; plan: AttackPlan }
  /** Attack from `startAt` (ms epoch) for `durationMs`, then drain `drainMs` and report. */
  | { type: 'go'; startAt: number; durationMs: number; drainMs: number }
  | { type: 'stop' };

export type FromAttacker =
  | { type: 'ready' }
  | { type: 'result'; result: AttackResult }
  | { type: 'error'; message: string };

export interface AttackResult {
  attack: AttackName;
  /** What the attacker actually got written to its sockets (send callbacks), per second of attack. */
  rate: { value: number; unit: string; /** A second figure beside it (attempts per second...). */ also?: string };
  /**
   * ms from the attack's start to the first sign of throttling (see `throttleSignal`), or null
   * when none came during the attack.
   */
  throttledAfterMs: number | null;
  /** What counted as throttled for this attack, and what was seen first. */
  throttleSignal: string;
  /** Connections of the attacker that the server closed during the attack. */
  cuts: number;
  /** Attack-specific counts, for the JSON and the detail lines. */
  details: Record<string, unknown>;
  /** One-line findings worth printing under the table. */
  notes: string[];
  /** CPU % of one core the attacker process used during the attack (a saturated attacker measures itself). */
  attackerCpuPct: number;
  /** False for traffic within every limit (signal-pump): there is nothing to throttle, the 1 s target does not apply. */
  throttleApplies?: boolean;
}
