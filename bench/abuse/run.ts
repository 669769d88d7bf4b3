/**
 * `npm run bench:abuse -- [options]` (issue 5): the capacity benchmark's load generator (normal
 * MoonTVPlus rooms and traffic, bench/orchestrate.ts) against our server in production mode with
 * its default limits, first with no attacker, then during each attack in turn. Every phase gets a
 * fresh server: limits, lock-outs, the attacker's rooms and leaked memory would otherwise carry
 * over from one attack into the next and blur which attack did what. Each attack runs in its own
 * process (attacker.ts) at 127.0.0.1; the normal sockets come from 127.0.1.x and the runner's own
 * HTTP requests from 127.0.250.1, so per-IP limits hit the attacker only. Everything it starts it
 * stops, also on Ctrl-C and when its own deadline passes.
 */
import { bailOnSignals } from '../bail.ts';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Load } from '../orchestrate.ts';
import { rssMb } from '../proc.ts';
import { machine, summarizeRun } from '../report.ts';
import { ensureBuilt } from '../servers.ts';
import { parseCli, type AbuseOptions } from './cli.ts';
import type { AttackName, AttackPlan, AttackResult, FromAttacker, ToAttacker } from './ipc.ts';
import { details, numericDelta, table, checks, type PhaseResult, type Targets } from './report.ts';
import { httpGet, readStats, startAbuseTarget, type AbuseTarget } from './target.ts';

const ATTACKER = fileURLToPath(new URL('./attacker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Load.measure starts its traffic this long after the call (START_DELAY_MS in orchestrate.ts). */
const MEASURE_START_DELAY_MS = 500;
const RSS_EVERY_MS = 250;
const TARGETS: Targets = { p99Factor: 2, rssMarginMb: 100, throttleMs: 1000 };

const opt = parseCli(process.argv.slice(2));
TARGETS.rssMarginMb = opt.rssMarginMb;
const key = randomBytes(24).toString('base64url');
const log = (s: string) => process.stderr.write(`${s}\n`);
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Whatever is running, stopped on the way out, Ctrl-C or the deadline. */
const running = new Set<() => Promise<void>>();
async function cleanup(): Promise<void> {
  for (const stop of [...running].reverse()) await stop().catch(() => undefined);
}
const bail = bailOnSignals('bench:abuse', cleanup, 20_000);

const phaseMs = opt.warmupMs + opt.durationMs + opt.drainMs;
setTimeout(() => bail('deadline passed'), (opt.attacks.length + 1) * (phaseMs + 120_000) + 60_000).unref();

/**
 * Source addresses for the normal sockets: about 16 sockets per address, and a count prime to the
 * room size so that owners (slot r x members) spread over all of them: MAX_ROOMS_PER_IP (20) must
 * not refuse the normal rooms.
 */
function normalAddresses(o: AbuseOptions): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let n = Math.max(4, Math.ceil((o.rooms * o.members) / 16));
  while (gcd(n, o.members) !== 1) n++;
  return Math.min(n, 250);
}

/** The attacker process: forked, prepared, told when to go, asked for its result. */
class AttackerProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(plan: AttackPlan, nice: number): Promise<AttackerProcess> {
    const child = fork(ATTACKER, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (nice) setPriority(child.pid!, nice);
    const a = new AttackerProcess(child);
    try {
      await a.request({ type: 'prepare', plan }, 'ready', 60_000);
    } catch (err) {
      await a.stop();
      throw err;
    }
    return a;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async go(startAt: number, durationMs: number, drainMs: number): Promise<AttackResult> {
    const reply = await this.request({ type: 'go', startAt, durationMs, drainMs }, 'result', startAt - Date.now() + durationMs + drainMs + 60_000);
    return (reply as Extract<FromAttacker, { type: 'result' }>).result;
  }

  stop(): Promise<void> {
    const c = this.child;
    return new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const kill = setTimeout(() => c.kill('SIGKILL'), 5_000);
      c.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (c.connected) c.send({ type: 'stop' } satisfies ToAttacker);
      else c.kill();
    });
  }

  private request(msg: ToAttacker, want: FromAttacker['type'], timeoutMs: number): Promise<FromAttacker> {
    const c = this.child;
    return new Promise((resolve, reject) => {
      const done = (err?: Error, reply?: FromAttacker) => {
        clearTimeout(timer);
        c.off('message', onMessage);
        c.off('exit', onExit);
        if (err) reject(err);
        else resolve(reply!);
      };
      const onMessage = (reply: FromAttacker) => {
        if (reply.type === 'error') done(new Error(`attacker: ${reply.message}`));
        else if (reply.type === want) done(undefined, reply);
      };
      const onExit = (code: number | null) => done(new Error(`attacker exited (${code}) while waiting for '${want}'`));
      const timer = setTimeout(() => done(new Error(`attacker: no '${want}' within ${timeoutMs} ms`)), timeoutMs);
      c.on('message', onMessage);
      c.once('exit', onExit);
      c.send(msg);
    });
  }
}

/** RSS of one process every RSS_EVERY_MS, on the attack's clock. */
class RssSeries {
  readonly points: [number, number][] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly t0: number,
  ) {}

  start(): void {
    const sample = () => {
      const mb = rssMb(this.pid);
      if (Number.isFinite(mb)) this.points.push([Date.now() - this.t0, round1(mb)]);
    };
    sample();
    this.timer = setInterval(sample, RSS_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  peak(fromMs: number, toMs: number): number {
    return Math.max(0, ...this.points.filter(([t]) => t >= fromMs && t <= toMs).map(([, mb]) => mb));
  }

  /** Least-squares slope (MB/s) over [fromMs, toMs]. */
  slope(fromMs: number, toMs: number): number {
    const pts = this.points.filter(([t]) => t >= fromMs && t <= toMs);
    if (pts.length < 3) return 0;
    const n = pts.length;
    const mx = pts.reduce((s, [t]) => s + t, 0) / n;
    const my = pts.reduce((s, [, v]) => s + v, 0) / n;
    const num = pts.reduce((s, [t, v]) => s + (t - mx) * (v - my), 0);
    const den = pts.reduce((s, [t]) => s + (t - mx) ** 2, 0);
    return den > 0 ? round1((num / den) * 1000) : 0;
  }
}

/** GET /health once a second while the attack runs. */
function pollHealth(url: string): { stop: () => Promise<PhaseResult['healthDuring']> } {
  const r = { ok: 0, failed: 0, maxMs: 0 };
  let on = true;
  const loop = (async () => {
    while (on) {
      const h = await httpGet(`${url}/health`, undefined, 5_000);
      if (h.status === 200) r.ok++;
      else r.failed++;
      r.maxMs = Math.max(r.maxMs, h.ms);
      await new Promise((res) => setTimeout(res, 1_000));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return r;
    },
  };
}

async function runPhase(attack: AttackName | undefined, port: number): Promise<PhaseResult> {
  const name = attack ?? 'none';
  log(`\n[${name}] starting the server on port ${port} (production defaults)...`);
  const t: AbuseTarget = await startAbuseTarget({ port, key, env: opt.env, log });
  const stopTarget = () => t.stop();
  running.add(stopTarget);
  try {
    const load = await Load.start({
      targets: [t.url],
      token: key,
      rooms: opt.rooms,
      members: opt.members,
      generators: 1,
      real: 0,
      voiceSpeakers: 0,
      seed: 1,
      connectConcurrency: 50,
      connectTimeoutMs: 20_000,
      addressesPerGenerator: normalAddresses(opt),
    });
    const stopLoad = () => load.stop();
    running.add(stopLoad);
    try {
      const s = load.setup;
      log(`[${name}] ${s.sockets} normal sockets, ${s.rooms} rooms in ${s.connectMs} ms; failed connects ${s.failedConnects}, joins ${s.failedJoins}`);
      for (const e of s.errors) log(`  error: ${e}`);
      const normal = await readStats(t.url, key);
      const normalIds = new Set(normal.roomIds);

      let attacker: AttackerProcess | undefined;
      let stopAttacker: (() => Promise<void>) | undefined;
      if (attack) {
        const plan: AttackPlan = {
          attack,
          url: t.url,
          token: key,
          connMax: opt.connMax,
          roomMax: opt.roomMax,
          joinSockets: opt.joinSockets,
          slowPushers: opt.slowPushers,
        };
        attacker = await AttackerProcess.start(plan, opt.attackerNice);
        const a = attacker;
        stopAttacker = () => a.stop();
        running.add(stopAttacker);
      }
      try {
        const before = await readStats(t.url, key);
        t.takeLogs();
        // The attack starts with the measured window, after the normal traffic's warmup: its first
        // burst, before any defence has acted, counts in the normal p99 (it used to fall in the warmup).
        const attackStart = Date.now() + MEASURE_START_DELAY_MS + opt.warmupMs;
        const attackMs = opt.durationMs;
        const rss = new RssSeries(t.pid, attackStart);
        rss.start();
        const resultP = attacker?.go(attackStart, attackMs, opt.drainMs);
        // A failed attacker must not leave the measurement hanging: its error is thrown below.
        resultP?.catch(() => undefined);
        const health = pollHealth(t.url);
        log(`[${name}] traffic from +0.5 s: warmup ${opt.warmupMs / 1000} s, then window ${opt.durationMs / 1000} s${attack ? ' with the attack' : ''}, drain ${opt.drainMs / 1000} s`);
        const { merged, proc, generatorProc: genProc, loopWindow } = await load.measureWithProbes(
          { rate: 1, warmupMs: opt.warmupMs, durationMs: opt.durationMs, drainMs: opt.drainMs },
          { pids: [t.pid], resetLoop: () => t.resetLoop(), readLoop: () => t.readLoop() },
        );
        const healthDuring = await health.stop();
        const result = resultP ? await resultP : null;
        const healthAfter = await httpGet(`${t.url}/health`, undefined, 5_000);
        const alive = t.alive() && healthAfter.status === 200;
        const after = await readStats(t.url, key);
        rss.stop();
        const statsLoop = await statsLoopP99(t.url);
        const summary = summarizeRun({
          target: 'server',
          rooms: opt.rooms,
          members: opt.members,
          instances: 1,
          rate: 1,
          durationMs: opt.durationMs,
          setup: load.setup,
          merged,
          proc,
          loopP99: [statsLoop],
          loopWindow: [loopWindow],
          generatorProc: genProc,
        });
        const afterIds = new Set(after.roomIds);
        const lost = after.ok ? [...normalIds].filter((id) => !afterIds.has(id)).length : Number.NaN;
        const phase: PhaseResult = {
          attack: name,
          port,
          normal: summary,
          rssSeries: rss.points,
          rssPeakMb: rss.peak(0, attackMs),
          rssAfterMb: rss.points.at(-1)?.[1] ?? Number.NaN,
          rssSlopeMbPerS: rss.slope(attackMs / 2, attackMs),
          serverCpuPct: proc.cpuPct,
          serverLoopMs: summary.eventLoopWindowMs,
          attacker: result,
          alive,
          healthAfter: { status: healthAfter.status, ms: healthAfter.ms, ...(healthAfter.error ? { error: healthAfter.error } : {}) },
          healthDuring,
          rooms: { normalBefore: normalIds.size, lost, totalBefore: before.totalRooms, totalAfter: after.totalRooms },
          connections: { before: before.connections, after: after.connections },
          abuse: after.abuse === undefined && before.abuse === undefined ? null : { after: after.abuse ?? null, delta: numericDelta(before.abuse, after.abuse) },
          serverLogs: t.takeLogs(),
        };
        if (!after.ok) log(`[${name}] /stats after the attack failed: ${after.error}`);
        log(
          `[${name}] normal p50/p99 ${summary.latencyMs.p50}/${summary.latencyMs.p99} ms, lost ${summary.lost}, RSS peak ${phase.rssPeakMb} MB` +
            (result ? `; attacker ${result.rate.value} ${result.rate.unit}, throttled after ${result.throttledAfterMs ?? 'never'} (${result.throttleSignal})` : ''),
        );
        return phase;
      } finally {
        if (stopAttacker) {
          await stopAttacker();
          running.delete(stopAttacker);
        }
      }
    } finally {
      await load.stop();
      running.delete(stopLoad);
    }
  } finally {
    await t.stop();
    running.delete(stopTarget);
  }
}

async function statsLoopP99(url: string): Promise<number> {
  const r = await httpGet(`${url}/stats`, key, 5_000);
  try {
    return (JSON.parse(r.body) as { eventLoopDelayMs?: { p99?: number } }).eventLoopDelayMs?.p99 ?? Number.NaN;
  } catch {
    return Number.NaN;
  }
}

try {
  ensureBuilt(log);
  const phases: PhaseResult[] = [];
  phases.push(await runPhase(undefined, opt.portBase));
  for (const [i, attack] of opt.attacks.entries()) {
    try {
      phases.push(await runPhase(attack, opt.portBase + 1 + i));
    } catch (err) {
      log(`[${attack}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  const base = phases[0]!;
  const head =
    `watch-room bench:abuse: ${opt.rooms} rooms x ${opt.members} normal sockets, window ${opt.durationMs / 1000} s per phase, ` +
    `fresh server (production defaults${Object.keys(opt.env).length ? ` + ${JSON.stringify(opt.env)}` : ''}) per phase${opt.attackerNice ? `, attacker at nice ${opt.attackerNice}` : ''}, ${JSON.stringify(machine())}`;
  const targets =
    `targets: normal p99 during an attack within ${TARGETS.p99Factor}x of the baseline (and nothing lost), peak RSS at most ` +
    `${TARGETS.rssMarginMb} MB above the baseline's, attacker throttled or cut within ${TARGETS.throttleMs / 1000} s`;
  process.stdout.write(`\n${head}\n${table(phases, TARGETS)}\n${targets}\n\n${details(phases)}\n`);
  if (opt.json) {
    const out = {
      machine: machine(),
      options: { ...opt, env: opt.env },
      targets: TARGETS,
      phases: phases.map((p) => ({ ...p, checks: p === base || !p.attacker ? null : checks(p, base, TARGETS) })),
    };
    writeFileSync(opt.json, `${JSON.stringify(out, null, 2)}\n`);
    log(`wrote ${opt.json}`);
  }
  process.exit(0);
} catch (err) {
  log(`bench:abuse failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await cleanup();
  process.exit(1);
}
