/**
 * Drives a run's generator processes: forks them (each owns a contiguous block of rooms, its own
 * source addresses and a share of the real sockets and speakers), waits for their rooms, starts
 * every measurement at one shared instant, and merges what they count.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.ts';
import { ProcSampler, type ProcWindow } from './proc.ts';
import { EVENTS, type BenchEvent, type FromGenerator, type GeneratorPlan, type MeasureResult, type SetupResult, type ToGenerator } from './ipc.ts';

const GENERATOR = fileURLToPath(new URL('./generator.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Addresses per generator: ~28,000 ports each toward one server port, far more than we need. */
const ADDRESSES_PER_GENERATOR = 4;
/** Time between the measure command and the shared start, for IPC and timers to settle. */
const START_DELAY_MS = 500;

export interface LoadOptions {
  targets: string[];
  token: string;
  rooms: number;
  members: number;
  generators: number;
  real: number;
  voiceSpeakers: number;
  seed: number;
  connectConcurrency: number;
  connectTimeoutMs: number;
  /**
   * Scheduling niceness of the generator processes (0: as the target). Above 0 the target gets the
   * CPU first, roughly as if the load came from another machine (`--generator-nice`).
   */
  generatorNice?: number;
  /**
   * Source addresses per generator (default 4). More of them spread a run over more client IPs,
   * for servers with their per-IP limits on (bench/abuse).
   */
  addressesPerGenerator?: number;
}

export interface MeasureOptions {
  rate: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
}

export interface Merged {
  events: Record<BenchEvent, { sent: number; expected: number; delivered: number; latency: Histogram }>;
  real: MeasureResult['real'];
  heartbeats: MeasureResult['heartbeats'];
  misrouted: number;
  unexpected: Record<string, number>;
  disconnects: number;
  generatorLoop: MeasureResult['generatorLoop'];
}

/** Splits `total` into `parts` near-equal integers (the first ones get the remainder). */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export class Load {
  private constructor(
    private readonly children: ChildProcess[],
    readonly setup: SetupResult,
  ) {}

  /** The generator processes, for their CPU figures: a saturated generator measures itself. */
  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  static async start(o: LoadOptions): Promise<Load> {
    const n = Math.max(1, Math.min(o.generators, o.rooms));
    const rooms = split(o.rooms, n);
    const real = split(o.real, n);
    const speakers = split(o.voiceSpeakers, n);
    const runEpoch = Date.now();
    const children: ChildProcess[] = [];
    try {
      let first = 0;
      const ready = rooms.map((count, g) => {
        const child = fork(GENERATOR, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        if (o.generatorNice) setPriority(child.pid!, o.generatorNice);
        const plan: GeneratorPlan = {
          index: g,
          targets: o.targets,
          token: o.token,
          firstRoom: first,
          rooms: count,
          members: o.members,
          real: real[g]!,
          voiceSpeakers: speakers[g]!,
          localAddresses: Array.from({ length: o.addressesPerGenerator ?? ADDRESSES_PER_GENERATOR }, (_, k) => `127.0.${g + 1}.${k + 2}`),
          runEpoch,
          seed: o.seed + g,
          connectConcurrency: o.connectConcurrency,
          connectTimeoutMs: o.connectTimeoutMs,
        };
        first += count;
        return request(child, { type: 'setup', plan }, 'ready', 60_000 + count * o.members * 50);
      });
      const setups = (await Promise.all(ready)).map((m) => (m as Extract<FromGenerator, { type: 'ready' }>).setup);
      return new Load(children, mergeSetups(setups));
    } catch (err) {
      for (const c of children) c.kill();
      throw err;
    }
  }

  /**
   * One measurement across all generators, from one shared start instant. The hooks run at the
   * window's edges, for the runner's /proc readings.
   */
  /**
   * `measure`, with the target's and the generators' CPU (from /proc) and the target's event-loop
   * delay taken over the measured window alone.
   */
  async measureWithProbes<L>(
    m: MeasureOptions,
    target: { pids: number[]; resetLoop(): void; readLoop(): Promise<L> },
  ): Promise<{ merged: Merged; proc: ProcWindow; generatorProc: ProcWindow; loopWindow: L }> {
    const sampler = new ProcSampler(target.pids);
    const genSampler = new ProcSampler(this.pids, 2_000);
    let proc: ProcWindow | undefined;
    let generatorProc: ProcWindow | undefined;
    let loopWindow: Promise<L> | undefined;
    const merged = await this.measure(m, {
      windowStart: () => {
        sampler.start();
        genSampler.start();
        target.resetLoop();
      },
      windowEnd: () => {
        proc = sampler.stop();
        generatorProc = genSampler.stop();
        loopWindow = target.readLoop();
      },
    });
    return { merged, proc: proc!, generatorProc: generatorProc!, loopWindow: await loopWindow! };
  }

  async measure(m: MeasureOptions, hooks: { windowStart?: () => void; windowEnd?: () => void } = {}): Promise<Merged> {
    const plan = { ...m, startAt: Date.now() + START_DELAY_MS };
    const windowStart = plan.startAt + m.warmupMs;
    const timers = [
      setTimeout(() => hooks.windowStart?.(), windowStart - Date.now()),
      setTimeout(() => hooks.windowEnd?.(), windowStart + m.durationMs - Date.now()),
    ];
    const total = START_DELAY_MS + m.warmupMs + m.durationMs + m.drainMs + 30_000;
    try {
      const replies = await Promise.all(this.children.map((c) => request(c, { type: 'measure', plan }, 'result', total)));
      return merge(replies.map((r) => (r as Extract<FromGenerator, { type: 'result' }>).result));
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.kill('SIGKILL'), 5_000);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (c.connected) c.send({ type: 'stop' } satisfies ToGenerator);
            else c.kill();
          }),
      ),
    );
  }
}

/** Sends a command and waits for the reply of type `want`; an error reply, exit or timeout rejects. */
function request(child: ChildProcess, msg: ToGenerator, want: FromGenerator['type'], timeoutMs: number): Promise<FromGenerator> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error, reply?: FromGenerator) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(reply!);
    };
    const onMessage = (reply: FromGenerator) => {
      if (reply.type === 'error') done(new Error(`generator: ${reply.message}`));
      else if (reply.type === want) done(undefined, reply);
    };
    const onExit = (code: number | null) => done(new Error(`generator exited (${code}) while waiting for '${want}'`));
    const timer = setTimeout(() => done(new Error(`generator: no '${want}' within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(msg);
  });
}

function mergeSetups(s: SetupResult[]): SetupResult {
  const sum = (k: 'sockets' | 'realSockets' | 'failedConnects' | 'failedJoins' | 'rooms') => s.reduce((n, x) => n + x[k], 0);
  return {
    sockets: sum('sockets'),
    realSockets: sum('realSockets'),
    failedConnects: sum('failedConnects'),
    failedJoins: sum('failedJoins'),
    rooms: sum('rooms'),
    connectMs: Math.max(...s.map((x) => x.connectMs)),
    errors: s.flatMap((x) => x.errors).slice(0, 10),
  };
}

function merge(results: MeasureResult[]): Merged {
  const events = Object.fromEntries(
    EVENTS.map((e) => [e, { sent: 0, expected: 0, delivered: 0, latency: new Histogram() }]),
  ) as Merged['events'];
  const out: Merged = {
    events,
    real: { expected: 0, delivered: 0 },
    heartbeats: { sent: 0, pongs: 0 },
    misrouted: 0,
    unexpected: {},
    disconnects: 0,
    generatorLoop: { p99: 0, max: 0 },
  };
  for (const r of results) {
    for (const e of EVENTS) {
      const src = r.events[e];
      const dst = events[e];
      dst.sent += src.sent;
      dst.expected += src.expected;
      dst.delivered += src.delivered;
      dst.latency.merge(src.latency);
    }
    out.real.expected += r.real.expected;
    out.real.delivered += r.real.delivered;
    out.heartbeats.sent += r.heartbeats.sent;
    out.heartbeats.pongs += r.heartbeats.pongs;
    out.misrouted += r.misrouted;
    out.disconnects += r.disconnects;
    out.generatorLoop.p99 = Math.max(out.generatorLoop.p99, r.generatorLoop.p99);
    out.generatorLoop.max = Math.max(out.generatorLoop.max, r.generatorLoop.max);
    for (const [k, v] of Object.entries(r.unexpected)) out.unexpected[k] = (out.unexpected[k] ?? 0) + v;
  }
  return out;
}
