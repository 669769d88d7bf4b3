/**
 * What every attack shares: its interface toward attacker.ts, the clock of an attack (ms from its
 * start), counters by reason, and the few socket set-ups several attacks need (a room of one's
 * own, a join).
 */
import type { AttackPlan, AttackResult } from './ipc.ts';
import { connectRaw, ConnectRefused, sleep, type RawSocket } from './raw.ts';

export const CONNECT_TIMEOUT_MS = 10_000;
export const ACK_TIMEOUT_MS = 10_000;

export type AttackOutcome = Omit<AttackResult, 'attack' | 'attackerCpuPct'>;

export interface Attack {
  /** Connections and rooms the attack needs, before the measured traffic starts. */
  prepare(): Promise<void>;
  /** Attacks from `startAt` (ms epoch) for `durationMs`, waits `drainMs` for late answers, reports. */
  run(startAt: number, durationMs: number, drainMs: number): Promise<AttackOutcome>;
  /** Closes everything (also after a failure). */
  close(): void;
}

export type AttackFactory = (plan: AttackPlan) => Attack;

/** ms since the attack's start, from performance.now(). */
export class Clock {
  private t0 = performance.now();

  /** Sleeps until `startAt` (ms epoch), then starts the clock. */
  async startAt(epochMs: number): Promise<void> {
    await sleep(epochMs - Date.now());
    this.t0 = performance.now();
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** A performance.now() reading on this clock. */
  of(perfNow: number): number {
    return perfNow - this.t0;
  }
}

export class Counts {
  readonly by: Record<string, number> = {};

  add(key: string, n = 1): void {
    this.by[key] = (this.by[key] ?? 0) + n;
  }

  get total(): number {
    return Object.values(this.by).reduce((a, b) => a + b, 0);
  }
}

/** The first time something happened (ms on the attack clock), with what it was. */
export class First {
  at: number | undefined;
  what = '';

  mark(at: number, what: string): void {
    if (this.at === undefined || at < this.at) {
      this.at = at;
      this.what = what;
    }
  }
}

export const round = (x: number, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function connectAs(plan: AttackPlan, localAddress: string): Promise<RawSocket> {
  return connectRaw({ url: plan.url, token: plan.token, localAddress, timeoutMs: CONNECT_TIMEOUT_MS });
}

export function refusalReason(err: unknown): { reason: string; local: boolean } {
  if (err instanceof ConnectRefused) return { reason: err.reason, local: err.local };
  return { reason: err instanceof Error ? err.message : String(err), local: false };
}

interface Ack {
  success?: boolean;
  code?: string;
  error?: string;
  room?: { id?: string; ownerToken?: string };
}

/** room:create; resolves with the room's id and owner token, or throws with the refusal. */
export async function createRoom(s: RawSocket, payload: Record<string, unknown>): Promise<{ roomId: string; ownerToken: string }> {
  const ack = (await s.ask('room:create', payload, ACK_TIMEOUT_MS)) as Ack | undefined;
  if (!ack?.success || !ack.room?.id) throw new Error(`room:create refused: ${JSON.stringify(ack ?? 'no ack')}`);
  return { roomId: ack.room.id, ownerToken: ack.room.ownerToken ?? '' };
}

/** room:join; resolves with the ack (success or not), undefined without one. */
export async function joinRoom(s: RawSocket, payload: Record<string, unknown>): Promise<Ack | undefined> {
  return (await s.ask('room:join', payload, ACK_TIMEOUT_MS)) as Ack | undefined;
}

/** Code of a failed ack's first argument (`[{"success":false,...,"code":"x"}]`), '' for success. */
export function ackCode(args: string | undefined): string {
  if (args === undefined) return 'no ack';
  try {
    const a = (JSON.parse(args) as Ack[])[0];
    if (a?.success) return '';
    return a?.code ?? a?.error ?? 'failed';
  } catch {
    return 'unparsable ack';
  }
}

/** Process CPU % of one core over a span, from process.cpuUsage(). */
export class CpuMeter {
  private start = process.cpuUsage();
  private wall = performance.now();

  reset(): void {
    this.start = process.cpuUsage();
    this.wall = performance.now();
  }

  pct(): number {
    const u = process.cpuUsage(this.start);
    const wall = performance.now() - this.wall;
    return wall > 0 ? round((100 * (u.user + u.system)) / 1000 / wall, 1) : 0;
  }
}
