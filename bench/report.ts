/**
 * Turns merged counts and process figures into the run's summary (the `--json` shape) and prints
 * it as a table, with the bare relay beside our server when there is a baseline.
 */
import { cpus, totalmem } from 'node:os';
import { Histogram, summarize, type LatencySummary } from './histogram.ts';
import type { BenchEvent, SetupResult } from './ipc.ts';
import type { Merged } from './orchestrate.ts';
import type { ProcWindow } from './proc.ts';
import type { LoopDelay } from './servers.ts';

export interface EventSummary {
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  latencyMs: LatencySummary;
}

export interface Summary {
  target: string;
  rooms: number;
  members: number;
  sockets: number;
  realSockets: number;
  failedConnects: number;
  failedJoins: number;
  instances: number;
  rate: number;
  durationS: number;
  /** Relayed events sent in the window (play:update, chat, seek, pause), audio apart. */
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  deliveredPerSec: number;
  latencyMs: LatencySummary;
  byEvent: Record<Exclude<BenchEvent, 'voice:audio-chunk'>, EventSummary>;
  /** Volatile (PROTOCOL §5.18): drops here are allowed and reported, not counted in `lost`. */
  audio: EventSummary;
  real: { expected: number; delivered: number };
  heartbeats: { sent: number; pongs: number };
  misrouted: number;
  unexpected: Record<string, number>;
  disconnects: number;
  rssMb: number;
  rssTotalMb: number;
  cpuPct: number;
  cpuSeconds: number;
  /** From /stats, worst process; the server's histogram runs since its start, setup phase included. */
  eventLoopP99Ms: number;
  /** Measured in the window alone by the preloaded probe (bench/loop-probe.mjs), worst process. */
  eventLoopWindowMs: LatencySummary;
  /** Server CPU per delivered message (audio included), in µs. */
  cpuPerMessageUs: number;
  perProcess: ProcWindow['perPid'];
  /** The generators' CPU (sum over processes, % of one core) and worst event-loop lateness. */
  generators: { count: number; cpuPct: number; maxProcessCpuPct: number; loopP99Ms: number; loopMaxMs: number };
}

const RELAYED = ['play:update', 'chat:message', 'play:seek', 'play:pause'] as const;
const r2 = (x: number) => Math.round(x * 100) / 100;

export function summarizeRun(a: {
  target: string;
  rooms: number;
  members: number;
  instances: number;
  rate: number;
  durationMs: number;
  setup: SetupResult;
  merged: Merged;
  proc: ProcWindow;
  loopP99: number[];
  loopWindow: LoopDelay[];
  generatorProc: ProcWindow;
}): Summary {
  const ev = (e: BenchEvent): EventSummary => {
    const x = a.merged.events[e];
    return { sent: x.sent, expected: x.expected, delivered: x.delivered, lost: x.expected - x.delivered, latencyMs: summarize(x.latency) };
  };
  const byEvent = Object.fromEntries(RELAYED.map((e) => [e, ev(e)])) as Summary['byEvent'];
  const latency = new Histogram();
  for (const e of RELAYED) latency.merge(a.merged.events[e].latency.toSparse());
  const sum = (k: 'sent' | 'expected' | 'delivered') => RELAYED.reduce((n, e) => n + byEvent[e][k], 0);
  const audio = ev('voice:audio-chunk');
  const delivered = sum('delivered');
  const messages = delivered + audio.delivered;
  return {
    target: a.target,
    rooms: a.rooms,
    members: a.members,
    sockets: a.setup.sockets,
    realSockets: a.setup.realSockets,
    failedConnects: a.setup.failedConnects,
    failedJoins: a.setup.failedJoins,
    instances: a.instances,
    rate: a.rate,
    durationS: a.durationMs / 1000,
    sent: sum('sent'),
    expected: sum('expected'),
    delivered,
    lost: sum('expected') - delivered,
    deliveredPerSec: Math.round(delivered / (a.durationMs / 1000)),
    latencyMs: summarize(latency),
    byEvent,
    audio,
    real: a.merged.real,
    heartbeats: a.merged.heartbeats,
    misrouted: a.merged.misrouted,
    unexpected: a.merged.unexpected,
    disconnects: a.merged.disconnects,
    rssMb: a.proc.rssMb,
    rssTotalMb: a.proc.rssTotalMb,
    cpuPct: a.proc.cpuPct,
    cpuSeconds: r2(a.proc.cpuSeconds),
    eventLoopP99Ms: r2(Math.max(...a.loopP99)),
    eventLoopWindowMs: {
      p50: r2(Math.max(...a.loopWindow.map((l) => l.p50))),
      p99: r2(Math.max(...a.loopWindow.map((l) => l.p99))),
      max: r2(Math.max(...a.loopWindow.map((l) => l.max))),
    },
    cpuPerMessageUs: messages > 0 ? r2((a.proc.cpuSeconds * 1e6) / messages) : 0,
    perProcess: a.proc.perPid,
    generators: {
      count: a.generatorProc.perPid.length,
      cpuPct: a.generatorProc.cpuPct,
      maxProcessCpuPct: Math.max(...a.generatorProc.perPid.map((p) => p.cpuPct)),
      loopP99Ms: a.merged.generatorLoop.p99,
      loopMaxMs: a.merged.generatorLoop.max,
    },
  };
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model ?? 'unknown', totalMemMb: Math.round(totalmem() / 1048576), node: process.version };
}

/** Above this a generator's own delay shows in the latencies. */
const GENERATOR_BUSY_PCT = 85;

type Row = [string, (s: Summary) => string];
const ms = (l: LatencySummary) => `${l.p50} / ${l.p99} / ${l.max}`;
const ROWS: Row[] = [
  ['rooms x members', (s) => `${s.rooms} x ${s.members}`],
  ['sockets (real)', (s) => `${s.sockets} (${s.realSockets})`],
  ['failed connects / joins', (s) => `${s.failedConnects} / ${s.failedJoins}`],
  ['rate', (s) => String(s.rate)],
  ['sent', (s) => String(s.sent)],
  ['delivered / expected', (s) => `${s.delivered} / ${s.expected}`],
  ['lost', (s) => `${s.lost} (${s.expected > 0 ? ((100 * s.lost) / s.expected).toFixed(2) : '0.00'} %)`],
  ['delivered per s', (s) => String(s.deliveredPerSec)],
  ['latency p50/p99/max ms', (s) => ms(s.latencyMs)],
  ['play:update p99 ms', (s) => String(s.byEvent['play:update'].latencyMs.p99)],
  ['chat p99 ms', (s) => String(s.byEvent['chat:message'].latencyMs.p99)],
  ['audio delivered / expected', (s) => `${s.audio.delivered} / ${s.audio.expected}`],
  ['audio p50/p99/max ms', (s) => ms(s.audio.latencyMs)],
  ['real sockets delivered / exp', (s) => `${s.real.delivered} / ${s.real.expected}`],
  ['heartbeats / pongs', (s) => `${s.heartbeats.sent} / ${s.heartbeats.pongs}`],
  ['misrouted / disconnects', (s) => `${s.misrouted} / ${s.disconnects}`],
  ['RSS MB (peak, max process)', (s) => String(s.rssMb)],
  ['CPU % (all processes)', (s) => String(s.cpuPct)],
  ['event loop p99 ms (/stats)', (s) => String(s.eventLoopP99Ms)],
  ['event loop window p50/p99/max', (s) => ms(s.eventLoopWindowMs)],
  ['CPU µs per message', (s) => String(s.cpuPerMessageUs)],
  ['generators: n / CPU % / max one', (s) => `${s.generators.count} / ${s.generators.cpuPct} / ${s.generators.maxProcessCpuPct}`],
  ['generator loop p99 / max ms', (s) => `${s.generators.loopP99Ms} / ${s.generators.loopMaxMs}`],
];

export function table(main: Summary, baseline?: Summary): string {
  const cols = baseline ? [main, baseline] : [main];
  const head = ['', main.target, ...(baseline ? [baseline.target, 'ratio'] : [])];
  const lines = ROWS.map(([label, f]) => {
    const cells = [label, ...cols.map(f)];
    if (baseline && label === 'CPU µs per message') cells.push(ratio(main.cpuPerMessageUs, baseline.cpuPerMessageUs));
    if (baseline && label === 'delivered per s') cells.push(ratio(main.deliveredPerSec, baseline.deliveredPerSec));
    return cells;
  });
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const out = all.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  const notes: string[] = [];
  for (const s of cols) {
    if (Object.keys(s.unexpected).length) notes.push(`${s.target}: unexpected events ${JSON.stringify(s.unexpected)}`);
    if (s.generators.maxProcessCpuPct > GENERATOR_BUSY_PCT || s.generators.loopP99Ms > 20) {
      notes.push(`${s.target}: a generator was busy (CPU ${s.generators.maxProcessCpuPct} %, loop p99 ${s.generators.loopP99Ms} ms): latencies include its delay; use more --generators`);
    }
  }
  return [...out, ...notes].join('\n');
}

export function ratio(a: number, b: number): string {
  return b > 0 ? `x${(a / b).toFixed(2)}` : '-';
}
