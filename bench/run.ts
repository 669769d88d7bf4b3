/**
 * `npm run bench -- [options]`: the capacity benchmark of issue 4. Starts the target (our server
 * in production mode, several instances on one Redis, or the bare relay), drives it from forked
 * generator processes with MoonTVPlus's traffic, reads the target's CPU and RSS from /proc and its
 * event-loop delay from /stats, and prints a table (optionally writes JSON). Everything it starts
 * it stops, also on Ctrl-C and when its own deadline passes.
 */
import { bailOnSignals } from './bail.ts';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Load, type LoadOptions } from './orchestrate.ts';
import { machine, ratio, summarizeRun, table, type Summary } from './report.ts';
import { parseCli } from './cli.ts';
import { ensureBuilt, startTarget, type Target, type TargetKind } from './servers.ts';

const opt = parseCli(process.argv.slice(2));
const { target, sockets, env } = opt;
const key = randomBytes(24).toString('base64url');
const round2 = (x: number) => Math.round(x * 100) / 100;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Whatever is running, stopped on the way out, Ctrl-C or the deadline. */
const running = new Set<() => Promise<void>>();
async function cleanup(): Promise<void> {
  await Promise.all([...running].map((stop) => stop().catch(() => undefined)));
}
const bail = bailOnSignals('bench', cleanup, 15_000);

// The run must end by itself whatever happens: setup, every step and the baseline, with room to spare.
const stepMs = opt.warmupMs + opt.durationMs + opt.drainMs + 5_000;
const perTargetMs = 120_000 + sockets * 20 + stepMs * (opt.ramp ? opt.rampSteps + opt.rampRefine : 1);
setTimeout(() => bail('deadline passed'), perTargetMs * (opt.baseline ? 2 : 1) + 60_000).unref();

interface TargetRun {
  summary: Summary;
  ramp?: { steps: Summary[]; held: Summary | undefined };
}

async function step(load: Load, t: Target, rate: number): Promise<Summary> {
  const { merged, proc, generatorProc, loopWindow } = await load.measureWithProbes(
    { rate, warmupMs: opt.warmupMs, durationMs: opt.durationMs, drainMs: opt.drainMs },
    t,
  );
  const loopP99 = await t.eventLoopP99();
  return summarizeRun({
    target: t.kind,
    rooms: opt.rooms,
    members: opt.members,
    instances: t.urls.length,
    rate,
    durationMs: opt.durationMs,
    setup: load.setup,
    merged,
    proc,
    loopP99,
    loopWindow,
    generatorProc,
  });
}

const held = (s: Summary) =>
  s.latencyMs.p99 < opt.targetP99 && s.lost === 0 && s.failedConnects === 0 && s.failedJoins === 0 && s.disconnects === 0 && s.misrouted === 0;

async function runTarget(kind: TargetKind, portBase: number): Promise<TargetRun> {
  if (kind === 'server') ensureBuilt(log);
  log(`starting ${kind}${kind === 'server' && opt.instances > 1 ? ` x${opt.instances} on Redis` : ''} on port ${portBase}...`);
  const t = await startTarget({ kind, instances: opt.instances, portBase, key, rooms: opt.rooms, members: opt.members, redisUrl: opt.redisUrl, env, nodeArgs: opt.nodeArgs, heapMb: opt.heapMb });
  const stopTarget = () => t.stop();
  running.add(stopTarget);
  try {
    const loadOptions: LoadOptions = {
      targets: t.urls,
      token: key,
      rooms: opt.rooms,
      members: opt.members,
      generators: opt.generators,
      real: opt.real,
      voiceSpeakers: opt.voiceSpeakers,
      seed: opt.seed,
      connectConcurrency: opt.connectConcurrency,
      connectTimeoutMs: 20_000,
      generatorNice: opt.generatorNice,
    };
    log(`connecting ${sockets} sockets from ${Math.min(opt.generators, opt.rooms)} generator(s)...`);
    const load = await Load.start(loadOptions);
    const stopLoad = () => load.stop();
    running.add(stopLoad);
    try {
      const s = load.setup;
      log(`  ${s.sockets} sockets, ${s.rooms} rooms in ${s.connectMs} ms; failed connects ${s.failedConnects}, joins ${s.failedJoins}`);
      for (const e of s.errors) log(`  error: ${e}`);
      if (!opt.ramp) {
        log(`measuring: warmup ${opt.warmupMs / 1000} s, window ${opt.durationMs / 1000} s, drain ${opt.drainMs / 1000} s, rate ${opt.rate}`);
        return { summary: await step(load, t, opt.rate) };
      }
      const steps: Summary[] = [];
      let last: Summary | undefined;
      let broke: Summary | undefined;
      let rate = opt.rate;
      const run = async (at: number) => {
        const r = await step(load, t, at);
        steps.push(r);
        const ok = held(r);
        log(
          `  ramp step ${steps.length}: rate ${r.rate}: ${r.deliveredPerSec} delivered/s, p99 ${r.latencyMs.p99} ms, lost ${r.lost}, ` +
            `cpu ${r.cpuPct} %, generators max ${r.generators.maxProcessCpuPct} % -> ${ok ? 'held' : 'broke'}`,
        );
        return ok;
      };
      for (let i = 0; i < opt.rampSteps; i++) {
        if (!(await run(rate))) {
          broke = steps.at(-1);
          break;
        }
        last = steps.at(-1);
        rate = round2(rate * opt.rampFactor);
      }
      // Bisect (geometrically) between the last rate that held and the one that broke, unless
      // sockets dropped: with fewer sockets a later step would hold for the wrong reason.
      let lo = last?.rate;
      let hi = broke?.rate;
      for (let i = 0; i < opt.rampRefine && lo !== undefined && hi !== undefined && steps.at(-1)!.disconnects === 0; i++) {
        const mid = round2(Math.sqrt(lo * hi));
        if (mid <= lo || mid >= hi) break;
        if (await run(mid)) {
          last = steps.at(-1);
          lo = mid;
        } else hi = mid;
      }
      return { summary: last ?? steps[0]!, ramp: { steps, held: last } };
    } finally {
      await load.stop();
      running.delete(stopLoad);
    }
  } finally {
    await t.stop();
    running.delete(stopTarget);
  }
}

const rampJson = (r: TargetRun['ramp']) =>
  r && {
    targetP99Ms: opt.targetP99,
    factor: opt.rampFactor,
    heldRate: r.held?.rate ?? null,
    heldDeliveredPerSec: r.held?.deliveredPerSec ?? null,
    /** The lowest rate that broke; null when every step held (the ramp ended at --ramp-steps). */
    brokeAtRate: r.steps.filter((s) => !held(s)).reduce<number | null>((m, s) => (m === null || s.rate < m ? s.rate : m), null),
    steps: r.steps.map((s) => ({ rate: s.rate, deliveredPerSec: s.deliveredPerSec, p99: s.latencyMs.p99, lost: s.lost, cpuPct: s.cpuPct, held: held(s) })),
  };

try {
  const main = await runTarget(target, opt.portBase);
  const base = opt.baseline && target === 'server' ? await runTarget('relay', opt.portBase + 20) : undefined;
  const head = `watch-room bench: target ${target}${opt.instances > 1 ? ` x${opt.instances}` : ''}, ${opt.rooms} rooms x ${opt.members}, window ${opt.durationMs / 1000} s, server heap cap ${opt.heapMb ? `${opt.heapMb} MB` : 'V8 default'}${opt.generatorNice ? `, generators at nice ${opt.generatorNice}` : ''}, ${JSON.stringify(machine())}`;
  process.stdout.write(`\n${head}\n${table(main.summary, base?.summary)}\n`);
  if (main.ramp) {
    const r = main.ramp;
    process.stdout.write(`ramp (p99 < ${opt.targetP99} ms, nothing lost): held at rate ${r.held?.rate ?? '-'}, ${r.held?.deliveredPerSec ?? 0} delivered/s`);
    if (r.held && r.steps.every(held)) process.stdout.write(` (never broke in ${r.steps.length} steps: raise --ramp-steps or --rate)`);
    if (base?.ramp) process.stdout.write(`; relay ${base.ramp.held?.deliveredPerSec ?? 0} delivered/s (${ratio(main.ramp.held?.deliveredPerSec ?? 0, base.ramp.held?.deliveredPerSec ?? 0)})`);
    process.stdout.write('\n');
  }
  if (opt.json) {
    const out = {
      ...main.summary,
      machine: machine(),
      serverHeapCapMb: opt.heapMb || null,
      ...(main.ramp ? { ramp: rampJson(main.ramp) } : {}),
      ...(base
        ? {
            baseline: {
              ...base.summary,
              ...(base.ramp ? { ramp: rampJson(base.ramp) } : {}),
              ratio: {
                cpuPerMessage: base.summary.cpuPerMessageUs > 0 ? main.summary.cpuPerMessageUs / base.summary.cpuPerMessageUs : null,
                deliveredPerSec: base.summary.deliveredPerSec > 0 ? main.summary.deliveredPerSec / base.summary.deliveredPerSec : null,
              },
            },
          }
        : {}),
    };
    writeFileSync(opt.json, `${JSON.stringify(out, null, 2)}\n`);
    log(`wrote ${opt.json}`);
  }
  process.exit(0);
} catch (err) {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await cleanup();
  process.exit(1);
}
