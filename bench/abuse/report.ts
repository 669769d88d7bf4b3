/** The table of `npm run bench:abuse`, its targets, and the detail lines under it. */
import type { Summary } from '../report.ts';
import type { AttackResult } from './ipc.ts';

export interface PhaseResult {
  attack: string;
  port: number;
  normal: Summary;
  /** Server RSS (MB) over the phase: [ms since the attack's start, MB], every 250 ms. */
  rssSeries: [number, number][];
  /** Peak RSS from the attack's start to the window's end (the no-attack phase: the same span). */
  rssPeakMb: number;
  /** RSS after the drain, once the attacker has stopped. */
  rssAfterMb: number;
  /** Growth over the last half of the attack, MB/s: still climbing at the end or not. */
  rssSlopeMbPerS: number;
  serverCpuPct: number;
  /** Server event-loop lateness in the window, from the preloaded probe. */
  serverLoopMs: { p50: number; p99: number; max: number };
  attacker: AttackResult | null;
  alive: boolean;
  healthAfter: { status: number; ms: number; error?: string };
  /** GET /health once a second during the attack. */
  healthDuring: { ok: number; failed: number; maxMs: number };
  rooms: { normalBefore: number; lost: number; totalBefore: number; totalAfter: number };
  connections: { before: number; after: number };
  /** `abuse` from /stats: after, and what changed during the phase (numbers only). */
  abuse: { after: unknown; delta: Record<string, number> } | null;
  serverLogs: { levels: Record<string, number>; samples: string[] };
}

export interface Targets {
  p99Factor: number;
  rssMarginMb: number;
  throttleMs: number;
}

export function checks(p: PhaseResult, base: PhaseResult, t: Targets): { p99: boolean; rss: boolean; throttle: boolean } {
  const baseP99 = base.normal.latencyMs.p99;
  return {
    p99: p.normal.latencyMs.p99 <= Math.max(baseP99 * t.p99Factor, 1) && p.normal.lost === 0,
    rss: p.rssPeakMb <= base.rssPeakMb + t.rssMarginMb,
    throttle:
      p.attacker?.throttleApplies === false ||
      (p.attacker?.throttledAfterMs !== null && p.attacker?.throttledAfterMs !== undefined && p.attacker.throttledAfterMs <= t.throttleMs),
  };
}

const fmt = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '-');

function rate(r: AttackResult): string {
  const main = r.rate.unit === 'B/s' ? `${fmt(r.rate.value / 1048576)} MB/s` : `${fmt(r.rate.value)} ${r.rate.unit}`;
  return r.rate.also ? `${main} (${r.rate.also})` : main;
}

function throttled(r: AttackResult): string {
  if (r.throttledAfterMs === null) return 'never';
  const bound = r.details.upperBound === true ? '<=' : '';
  return `${bound}${fmt(r.throttledAfterMs)} ms`;
}

export function table(phases: PhaseResult[], t: Targets): string {
  const base = phases[0]!;
  const head = [
    'attack',
    'rate reached',
    'p99 ms none / with',
    'p50 ms',
    'lost / drops',
    'RSS MB peak',
    'throttled after',
    'alive',
    'rooms lost',
    `p99<=${t.p99Factor}x`,
    `RSS<=+${t.rssMarginMb}`,
    `thr<=${t.throttleMs / 1000}s`,
  ];
  const rows = phases.map((p) => {
    const a = p.attacker;
    const ratio = base.normal.latencyMs.p99 > 0 ? `x${(p.normal.latencyMs.p99 / base.normal.latencyMs.p99).toFixed(2)}` : '-';
    const c = a ? checks(p, base, t) : undefined;
    const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'ok' : 'FAIL');
    return [
      a ? p.attack : 'none (baseline)',
      a ? rate(a) : '-',
      a ? `${fmt(base.normal.latencyMs.p99)} / ${fmt(p.normal.latencyMs.p99)} (${ratio})` : fmt(p.normal.latencyMs.p99),
      fmt(p.normal.latencyMs.p50),
      `${p.normal.lost} / ${p.normal.disconnects}`,
      a ? `${fmt(p.rssPeakMb)} (+${fmt(Math.max(0, p.rssPeakMb - base.rssPeakMb))})` : fmt(p.rssPeakMb),
      a ? throttled(a) : '-',
      p.alive ? 'yes' : 'NO',
      `${p.rooms.lost}/${p.rooms.normalBefore}`,
      mark(c?.p99),
      mark(c?.rss),
      a?.throttleApplies === false ? '-' : mark(c?.throttle),
    ];
  });
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export function details(phases: PhaseResult[]): string {
  const out: string[] = [];
  for (const p of phases) {
    const a = p.attacker;
    out.push(`${a ? p.attack : 'none (baseline)'}:`);
    if (a) {
      out.push(`  throttle: ${a.throttledAfterMs === null ? 'never' : `${a.throttledAfterMs} ms`}: ${a.throttleSignal}`);
      for (const n of a.notes) out.push(`  ${n}`);
      out.push(`  attacker CPU ${a.attackerCpuPct} % of a core${a.attackerCpuPct > 90 ? ' (saturated: the rate is the attacker\'s limit as much as the server\'s)' : ''}`);
    }
    const series = p.rssSeries.filter((_, i) => i % 8 === 0).map(([ms, mb]) => `${Math.max(0, Math.round(ms / 1000))}s:${Math.round(mb)}`);
    out.push(
      `  server: CPU ${p.serverCpuPct} %, loop p99 ${p.serverLoopMs.p99.toFixed(1)} ms (max ${p.serverLoopMs.max.toFixed(0)}), ` +
        `RSS MB ${series.join(' ')}, slope at the end ${p.rssSlopeMbPerS} MB/s, after ${fmt(p.rssAfterMb)}; ` +
        `/health during ${p.healthDuring.ok} ok ${p.healthDuring.failed} failed (max ${p.healthDuring.maxMs} ms), after ${p.healthAfter.status || p.healthAfter.error}`,
    );
    out.push(
      `  rooms ${p.rooms.totalBefore} -> ${p.rooms.totalAfter} (normal lost ${p.rooms.lost}), connections ${p.connections.before} -> ${p.connections.after}, ` +
        `normal deliveries ${p.normal.delivered}/${p.normal.expected}, heartbeats ${p.normal.heartbeats.pongs}/${p.normal.heartbeats.sent} answered`,
    );
    const logs = Object.entries(p.serverLogs.levels).map(([k, v]) => `${k} ${v}`).join(', ');
    out.push(`  server log lines: ${logs || 'none'}${p.serverLogs.samples.length ? `; e.g. ${p.serverLogs.samples.map((s) => JSON.stringify(s)).join(', ')}` : ''}`);
    if (p.abuse) out.push(`  abuse counters (change in the phase): ${Object.keys(p.abuse.delta).length ? JSON.stringify(p.abuse.delta) : 'none'}`);
    else out.push('  abuse counters: not in /stats');
  }
  return out.join('\n');
}

/** Numeric leaves of `after` minus the same leaves of `before`, keyed by path ("refused.rate"). */
export function numericDelta(before: unknown, after: unknown): Record<string, number> {
  const flat = (v: unknown, prefix: string, out: Record<string, number>) => {
    if (typeof v === 'number') out[prefix] = v;
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k, out);
    return out;
  };
  const b = flat(before, '', {});
  const a = flat(after, '', {});
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) if (v - (b[k] ?? 0) !== 0) d[k] = v - (b[k] ?? 0);
  return d;
}
