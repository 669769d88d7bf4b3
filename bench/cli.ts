/**
 * The command line of `npm run bench`: options, their defaults and their checks (node:util
 * parseArgs). Everything the run needs comes out of parseCli as one plain object.
 */
import { parseArgs } from 'node:util';
import type { TargetKind } from './servers.ts';

export const USAGE = `npm run bench -- [options]

Load:
  --rooms N             rooms (default 100)
  --members N           sockets per room, owner included (default 4)
  --duration S          measured window in seconds (default 20)
  --warmup S            traffic before the window, not counted (default 5)
  --drain S             wait after the window for late deliveries (default 3)
  --rate X              multiplies every event rate (default 1)
  --voice-speakers N    sockets sending 8192-byte voice:audio-chunk every 256 ms (default 0)
  --real N              real socket.io-client sockets among the cheap ones (default 2)
  --generators N        generator processes (default: one per 5,000 sockets)
  --seed N              seed of the traffic schedule (default 1)
  --connect-concurrency N  handshakes in flight per generator (default 200)
  --generator-nice N    run the generators at this niceness (0-19; default 0): the target gets the
                        CPU first, roughly as if the load came from another machine

Target:
  --target T            server | relay | relay-lossy (default server)
  --instances N         server processes on one Redis, sockets spread over them (default 1)
  --redis-url URL       Redis for --instances > 1 (default redis://127.0.0.1:6379; a fresh REDIS_PREFIX per run)
  --port-base P         first port (default 3100; the baseline relay uses P + 20)
  --env KEY=VALUE       extra server environment, repeatable (e.g. --env PING_INTERVAL_MS=50000)
  --heap-mb N           the server's V8 heap cap (node --max-old-space-size=N), as deployed on a
                        512 MB box (fly.toml, README "Deploy"); 0: V8's own default, which
                        on this 24 GB machine lets the heap grow far past 512 MB (default 384)
  --node-arg ARG        extra node option for each target process, repeatable
                        (e.g. --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=prof)
                        BENCH_SERVER_LOG=PREFIX in the environment copies each target's stdout to
                        PREFIX.<i> (e.g. with --node-arg=--trace-gc)

Measurement:
  --baseline            then run the same traffic against the bare ws relay and report the ratio
  --ramp                raise --rate step by step until delivery p99 >= --target-p99 or losses appear;
                        report the last step that held
  --target-p99 MS       ramp target (default 50)
  --ramp-factor X       rate multiplier per step (default 1.5)
  --ramp-steps N        at most this many steps (default 10)
  --ramp-refine N       then bisect between the last rate that held and the first that broke, N steps (default 2)
  --json FILE           write the summary as JSON
  --help                this text

Example: npm run bench -- --rooms 4500 --members 4 --duration 60
`;

const parse = (args: string[]) =>
  parseArgs({
    args,
    options: {
      rooms: { type: 'string', default: '100' },
      members: { type: 'string', default: '4' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      drain: { type: 'string', default: '3' },
      rate: { type: 'string', default: '1' },
      'voice-speakers': { type: 'string', default: '0' },
      real: { type: 'string', default: '2' },
      generators: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'connect-concurrency': { type: 'string', default: '200' },
      'generator-nice': { type: 'string', default: '0' },
      target: { type: 'string', default: 'server' },
      instances: { type: 'string', default: '1' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
      'port-base': { type: 'string', default: '3100' },
      env: { type: 'string', multiple: true, default: [] },
      'node-arg': { type: 'string', multiple: true, default: [] },
      'heap-mb': { type: 'string', default: '384' },
      baseline: { type: 'boolean', default: false },
      ramp: { type: 'boolean', default: false },
      'target-p99': { type: 'string', default: '50' },
      'ramp-factor': { type: 'string', default: '1.5' },
      'ramp-steps': { type: 'string', default: '10' },
      'ramp-refine': { type: 'string', default: '2' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });

/** Parses the command line; prints usage and exits on --help or a bad value. */
export function parseCli(args: string[]) {
  let parsed;
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  const v = parsed.values;

  if (v.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }

  function num(name: string, raw: string | undefined, min: number): number {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      process.stderr.write(`--${name}: expected a number >= ${min}, got ${raw}\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  }

  const target = v.target as TargetKind;
  if (!['server', 'relay', 'relay-lossy'].includes(target)) {
    process.stderr.write(`--target: server, relay or relay-lossy\n`);
    process.exit(2);
  }
  const rooms = Math.floor(num('rooms', v.rooms, 1));
  const members = Math.floor(num('members', v.members, 1));
  const sockets = rooms * members;
  const opt = {
    rooms,
    members,
    durationMs: num('duration', v.duration, 1) * 1000,
    warmupMs: num('warmup', v.warmup, 0) * 1000,
    drainMs: num('drain', v.drain, 0.5) * 1000,
    rate: num('rate', v.rate, 0.01),
    voiceSpeakers: Math.floor(num('voice-speakers', v['voice-speakers'], 0)),
    real: Math.min(rooms, Math.floor(num('real', v.real, 0))),
    generators: Math.floor(num('generators', v.generators ?? String(Math.ceil(sockets / 5000)), 1)),
    seed: Math.floor(num('seed', v.seed, 0)),
    connectConcurrency: Math.floor(num('connect-concurrency', v['connect-concurrency'], 1)),
    generatorNice: Math.min(19, Math.floor(num('generator-nice', v['generator-nice'], 0))),
    instances: target === 'server' ? Math.floor(num('instances', v.instances, 1)) : 1,
    portBase: Math.floor(num('port-base', v['port-base'], 1024)),
    targetP99: num('target-p99', v['target-p99'], 0.1),
    rampFactor: num('ramp-factor', v['ramp-factor'], 1.01),
    rampSteps: Math.floor(num('ramp-steps', v['ramp-steps'], 1)),
    rampRefine: Math.floor(num('ramp-refine', v['ramp-refine'], 0)),
    heapMb: Math.floor(num('heap-mb', v['heap-mb'], 0)),
  };
  const env = Object.fromEntries(
    v.env.map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) {
        process.stderr.write(`--env: expected KEY=VALUE, got ${kv}\n`);
        process.exit(2);
      }
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  return {
    ...opt,
    target,
    sockets,
    env,
    nodeArgs: v['node-arg'],
    redisUrl: v['redis-url'],
    baseline: v.baseline,
    ramp: v.ramp,
    json: v.json,
  };
}
