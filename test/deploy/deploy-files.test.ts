/**
 * The deployment files (issue 6) checked without Docker, Fly, Railway, PM2 or systemd: each names
 * only settings the server reads (.env.example), starts what the build produces (dist/main.js, per
 * package.json and tsconfig.build.json), checks /health, gives the server more time to stop than
 * its SHUTDOWN_TIMEOUT_MS, and agrees with the other files (ports, service names, the two nginx
 * configurations). The Dockerfile's health check command runs for real against a server.
 * The compose files and fly.toml are read by the subset readers in ./readers.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { envSchema } from '../../src/config/config.ts';
import { freePort } from '../helpers/cluster.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import {
  all,
  asList,
  asMap,
  asString,
  dockerIgnored,
  envOf,
  execForm,
  one,
  parseDockerfile,
  parseToml,
  parseYaml,
  seconds,
  stripComment,
  type Stage,
  type Toml,
  type YMap,
} from './readers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

const DEFAULTS = envSchema.parse({});
const SHUTDOWN_S = DEFAULTS.SHUTDOWN_TIMEOUT_MS / 1000;
const PKG = JSON.parse(read('package.json')) as { main: string; scripts: Record<string, string> };

/** Every variable .env.example names (the settings the server reads). */
const ENV_NAMES = new Set(
  read('.env.example')
    .split('\n')
    .map((l) => /^([A-Z_][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined),
);

/** Node's own variables, read by Node rather than by the server's config. */
const NODE_ENV_NAMES = new Set(['NODE_OPTIONS']);

function assertKnownEnv(names: Iterable<string>, where: string): void {
  for (const n of names) {
    assert.ok(ENV_NAMES.has(n) || NODE_ENV_NAMES.has(n), `${where} sets ${n}, which .env.example does not name`);
  }
}

// --- the tests -------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1) as Stage;
  const byName = (n: string) => stages.find((s) => s.name === n);
  const buildStage = stages.find((s) => all(s, 'RUN').some((r) => /\bnpm run build\b/.test(r)));

  it('every stage is Node 24 LTS on bookworm-slim', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    for (const s of stages) assert.equal(s.image, 'node:24-bookworm-slim');
  });

  it('builds with the lockfile and the scripts package.json has', () => {
    assert.ok(buildStage, 'a stage runs `npm run build`');
    const runs = all(buildStage, 'RUN').join('\n');
    assert.match(runs, /\bnpm ci\b/);
    for (const s of stages) {
      for (const r of all(s, 'RUN')) {
        for (const m of r.matchAll(/\bnpm run ([\w:-]+)/g)) assert.ok(PKG.scripts[m[1] as string], `package.json has no script ${m[1]}`);
        assert.doesNotMatch(r, /\bnpm install\b/, 'npm ci, not npm install (the lockfile decides)');
      }
    }
    // What the build script reads is in the build context of that stage.
    const copied = all(buildStage, 'COPY').join(' ');
    const project = /tsc -p (\S+)/.exec(PKG.scripts.build ?? '')?.[1];
    assert.ok(project, 'the build script runs tsc -p <project>');
    for (const f of ['package-lock.json', project, 'src']) assert.match(copied, new RegExp(`(^|\\s)${f.replace('.', '\\.')}(\\s|$)`), `the build stage copies ${f}`);
  });

  it('the runtime stage has production dependencies only, dist/ from the build, and starts dist/main.js as package.json does', () => {
    const copies = all(final, 'COPY');
    const fromStage = (what: string) => {
      const c = copies.find((x) => new RegExp(`/app/${what}\\b`).test(x) && /--from=/.test(x));
      assert.ok(c, `the runtime stage copies ${what} from another stage`);
      const name = /--from=(\S+)/.exec(c)?.[1] as string;
      const s = byName(name);
      assert.ok(s, `no stage ${name}`);
      return s;
    };
    const deps = fromStage('node_modules');
    assert.ok(all(deps, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'node_modules from `npm ci --omit=dev`');
    assert.equal(fromStage('dist'), buildStage);

    // package.json's "type": "module" is what makes node load dist/*.js as ES modules.
    assert.equal((JSON.parse(read('package.json')) as { type?: string }).type, 'module');
    assert.ok(copies.some((c) => /^package\.json\s/.test(c)), 'the runtime stage copies package.json');

    const cmd = execForm(one(final, 'CMD'), 'CMD');
    assert.deepEqual(cmd, (PKG.scripts['start:dist'] ?? '').split(/\s+/), 'CMD is the start:dist script, exec form');
    assert.equal(cmd[1], PKG.main);
    // dist/main.js is what tsc makes of src/main.ts with tsconfig.build.json.
    const tsb = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    const source = PKG.main.replace(new RegExp(`^${tsb.compilerOptions.outDir}/`), `${tsb.compilerOptions.rootDir}/`).replace(/\.js$/, '.ts');
    assert.ok(existsSync(join(ROOT, source)), `${PKG.main} is built from ${source}, which does not exist`);
  });

  it('runs as the unprivileged node user, in production, on the default port', () => {
    const user = one(final, 'USER');
    assert.ok(!/^(root|0)(:|$)/.test(user), `USER ${user}`);
    assert.equal(user, 'node');
    const env = envOf(final);
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(Number(one(final, 'EXPOSE')), DEFAULTS.PORT);
    if (env.PORT !== undefined) assert.equal(Number(env.PORT), DEFAULTS.PORT);
    const stop = all(final, 'STOPSIGNAL');
    if (stop.length) assert.equal(stop.at(-1), 'SIGTERM');
  });

  describe('HEALTHCHECK', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer();
    });
    after(() => server?.close());

    const health = () => {
      const hc = one(final, 'HEALTHCHECK');
      return { hc, cmd: execForm(hc.replace(/^(--\S+\s+)*CMD\s+/, ''), 'HEALTHCHECK CMD') };
    };
    // Asynchronously: the server answering it runs in this process.
    const run = (port: number) =>
      new Promise<number | null>((done) => {
        const args = health().cmd.slice(1);
        const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: 'ignore', timeout: 10_000 });
        child.once('exit', (code) => done(code));
      });

    it('asks node (the slim image has no curl or wget) for /health', () => {
      const { hc, cmd } = health();
      assert.equal(cmd[0], 'node');
      assert.match(cmd.join(' '), /\/health\b/);
      assert.doesNotMatch(hc, /\b(curl|wget)\b/);
    });

    it('exits 0 against a running server and 1 when nothing listens', async () => {
      assert.equal(await run(server.port), 0);
      assert.equal(await run(await freePort()), 1);
    });
  });

  it('.dockerignore keeps secrets, node_modules and dist out, and what the build needs in', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['.env', '.env.production', '.git/config', 'node_modules/x', 'dist/main.js']) assert.ok(dockerIgnored(patterns, p), `${p} is sent`);
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts'])
      assert.ok(!dockerIgnored(patterns, p), `${p} is ignored but the build needs it`);
  });
});

describe('docker-compose.yml and docker-compose.cluster.yml', () => {
  const single = () => parseYaml(read('docker-compose.yml'), 'docker-compose.yml');
  const cluster = () => parseYaml(read('docker-compose.cluster.yml'), 'docker-compose.cluster.yml');
  const services = (doc: YMap, f: string) => asMap(doc.services, `${f} services`);

  it('both parse (in the YAML subset above), with a project name and services', () => {
    for (const [doc, f] of [[single(), 'docker-compose.yml'], [cluster(), 'docker-compose.cluster.yml']] as const) {
      assert.equal(typeof doc.name, 'string', `${f}: name`);
      assert.ok(Object.keys(services(doc, f)).length > 0);
    }
  });

  function checkServer(svc: YMap, where: string): YMap {
    assert.equal(svc.build, '.', `${where} builds the Dockerfile here`);
    const env = asMap(svc.environment, `${where} environment`);
    assertKnownEnv(Object.keys(env), where);
    assert.match(asString(env.AUTH_KEY, `${where} AUTH_KEY`), /^\$\{AUTH_KEY:\?.+\}$/, 'AUTH_KEY is required (compose refuses to start without it)');
    assert.ok(seconds(svc.stop_grace_period) > SHUTDOWN_S, `${where}: stop_grace_period must exceed SHUTDOWN_TIMEOUT_MS`);
    return env;
  }

  it('every ${VARIABLE} they interpolate is a server setting', () => {
    for (const f of ['docker-compose.yml', 'docker-compose.cluster.yml']) {
      const text = read(f)
        .split('\n')
        .map((l) => stripComment(l))
        .join('\n');
      const names = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
      assert.ok(names.includes('AUTH_KEY'));
      assertKnownEnv(names, f);
    }
  });

  it('default: one instance on the memory store, published on the server port', () => {
    const svcs = services(single(), 'docker-compose.yml');
    assert.deepEqual(Object.keys(svcs), ['watch-room']);
    const svc = asMap(svcs['watch-room'], 'watch-room');
    const env = checkServer(svc, 'docker-compose.yml watch-room');
    assert.ok(!('REDIS_URL' in env), 'no Redis: rooms in memory');
    const ports = asList(svc.ports, 'ports');
    assert.ok(
      ports.some((p) => Number(p.split(':').at(-1)) === DEFAULTS.PORT),
      `a port mapping to the container port ${DEFAULTS.PORT}`,
    );
  });

  it('cluster: Redis, two instances that share it and trust only nginx, nginx with deploy/nginx/compose.conf', () => {
    const svcs = services(cluster(), 'docker-compose.cluster.yml');
    const redis = asMap(svcs.redis, 'redis');
    assert.match(asString(redis.image, 'redis image'), /^redis:7-alpine$/);
    assert.ok(redis.healthcheck, 'redis has a health check (the instances wait for it)');
    assert.ok(!redis.ports, 'Redis is not published');

    const instances = Object.keys(svcs).filter((n) => n.startsWith('watch-room'));
    assert.deepEqual(instances, ['watch-room-1', 'watch-room-2']);
    const ids = new Set<string>();
    for (const n of instances) {
      const svc = asMap(svcs[n], n);
      const env = checkServer(svc, `docker-compose.cluster.yml ${n}`);
      const url = new URL(asString(env.REDIS_URL, `${n} REDIS_URL`));
      assert.equal(url.protocol, 'redis:');
      assert.ok(url.hostname in svcs, `${n}: REDIS_URL names the compose service ${url.hostname}`);
      assert.equal(asMap(asMap(svc.depends_on, `${n} depends_on`)[url.hostname], 'depends_on redis').condition, 'service_healthy');
      ids.add(asString(env.INSTANCE_ID, `${n} INSTANCE_ID`));
      assert.equal(env.TRUST_PROXY, '1', `${n} trusts one hop (nginx)`);
      assert.ok(!svc.ports, `${n} publishes no port: only nginx reaches it, so trusting one hop is safe`);
    }
    assert.equal(ids.size, 2, 'distinct INSTANCE_IDs');

    const nginx = asMap(svcs.nginx, 'nginx');
    assert.equal(nginx.image, 'nginx:1.27-alpine');
    const mount = asList(nginx.volumes, 'nginx volumes').find((v) => v.includes(':/etc/nginx/conf.d/default.conf'));
    assert.ok(mount, 'nginx gets its configuration as conf.d/default.conf');
    const conf = mount.split(':')[0] as string;
    assert.ok(existsSync(resolve(ROOT, conf)), `${conf} exists`);
    assert.equal(resolve(ROOT, conf), join(ROOT, 'deploy/nginx/compose.conf'));
    // Its upstream is these two services on the server's port.
    const upstream = [...read('deploy/nginx/compose.conf').matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    assert.deepEqual(upstream, instances.map((n) => `${n}:${DEFAULTS.PORT}`));
    const deps = asMap(nginx.depends_on, 'nginx depends_on');
    for (const n of instances) assert.ok(n in deps, `nginx waits for ${n}`);
  });
});

describe('deploy/nginx', () => {
  const vps = read('deploy/nginx/watch-room.conf');
  const compose = read('deploy/nginx/compose.conf');
  /** The directives, without comments and without what legitimately differs. */
  const normal = (text: string) =>
    text
      .split('\n')
      .map((l) => stripComment(l).trim().replace(/\s+/g, ' '))
      .filter((l) => l && !/^(listen|server_name)\s/.test(l) && !/^server\s+[^{\s]+(\s|;)/.test(l))
      .join('\n');
  const directive = (text: string, name: string) =>
    [...normal(text).matchAll(new RegExp(`^${name}\\s+([^;]+);`, 'gm'))].map((m) => (m[1] as string).trim());

  it('compose.conf is watch-room.conf apart from the upstream servers, listen and server_name', () => {
    assert.equal(normal(compose), normal(vps));
  });

  it('WebSocket upgrades, forwarded address and scheme, sticky upstream', () => {
    const text = normal(vps);
    assert.match(text, /map \$http_upgrade \$connection_upgrade \{\s*default upgrade;\s*'' close;\s*\}/);
    assert.deepEqual(directive(vps, 'proxy_http_version'), ['1.1']);
    const headers = directive(vps, 'proxy_set_header');
    for (const h of ['Upgrade $http_upgrade', 'Connection $connection_upgrade', 'X-Forwarded-For $proxy_add_x_forwarded_for', 'X-Forwarded-Proto $scheme', 'Host $host'])
      assert.ok(headers.includes(h), `proxy_set_header ${h}`);
    assert.match(text, /upstream watch_room \{\s*hash \$remote_addr consistent;/);
    assert.deepEqual(directive(vps, 'proxy_pass'), ['http://watch_room']);
  });

  it('proxy timeouts well above the Engine.IO ping interval + timeout; bodies up to MAX_HTTP_BUFFER_SIZE', () => {
    const ping = (DEFAULTS.PING_INTERVAL_MS + DEFAULTS.PING_TIMEOUT_MS) / 1000;
    for (const d of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const [v] = directive(vps, d);
      assert.ok(v, `${d} is set (nginx's default, 60 s, is too close)`);
      assert.ok(seconds(v) >= 2 * ping, `${d} ${v} < 2 × ${ping} s`);
    }
    const [body] = directive(vps, 'client_max_body_size');
    const m = /^(\d+)([km]?)$/i.exec(body ?? '');
    assert.ok(m, `client_max_body_size ${body}`);
    const bytes = Number(m[1]) * ({ k: 1024, m: 1024 * 1024 }[(m[2] ?? '').toLowerCase()] ?? 1);
    assert.ok(bytes >= DEFAULTS.MAX_HTTP_BUFFER_SIZE);
  });

  it('TLS is prepared (commented certificate paths) and TRUST_PROXY is explained', () => {
    assert.match(vps, /^\s*#\s*listen 443 ssl;/m);
    assert.match(vps, /^\s*#\s*ssl_certificate\s+\S+fullchain\.pem;/m);
    assert.match(vps, /TRUST_PROXY/);
  });
});

describe('fly.toml and railway.json', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.close());
  const served = async (path: string) => (await fetch(`${server.url}${path}`)).status;

  it('fly.toml: the Dockerfile, the server port, a /health check, connection concurrency, time to stop', async () => {
    const fly = parseToml(read('fly.toml'), 'fly.toml');
    const build = fly.build as Toml;
    assert.ok(existsSync(join(ROOT, build.dockerfile as string)));
    const env = (fly.env ?? {}) as Record<string, string>;
    assertKnownEnv(Object.keys(env), 'fly.toml [env]');
    assert.ok(!('AUTH_KEY' in env), 'the key is a secret (fly secrets set), not in fly.toml');
    const svc = fly.http_service as Toml;
    assert.equal(svc.internal_port, Number(env.PORT ?? DEFAULTS.PORT));
    assert.equal(svc.auto_stop_machines, 'off', 'rooms live in memory: never stopped for idleness');
    const checks = svc.checks as Toml[];
    assert.ok(checks.length > 0);
    for (const c of checks) {
      assert.equal(c.path, '/health');
      assert.equal(await served(c.path), 200);
    }
    const conc = svc.concurrency as Toml;
    assert.equal(conc.type, 'connections');
    assert.ok((conc.soft_limit as number) > 0 && (conc.soft_limit as number) < (conc.hard_limit as number));
    assert.ok(seconds(fly.kill_timeout) > SHUTDOWN_S);
    assert.ok(['SIGTERM', 'SIGINT'].includes(fly.kill_signal as string));
    // The heap cap fits the VM, with room left for what is not heap (issue 4).
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);
    const vm = (fly.vm as Toml[])[0]!;
    const vmMb = Number(/^(\d+)mb$/.exec(vm.memory as string)?.[1]);
    assert.ok(heapMb > 0 && vmMb > 0 && heapMb <= vmMb * 0.8, `heap cap ${heapMb} MB on a ${vmMb} MB VM`);
  });

  it('railway.json: the Dockerfile, a /health check, restart on failure, time to stop', async () => {
    const rw = JSON.parse(read('railway.json')) as {
      build: { builder: string; dockerfilePath: string };
      deploy: { healthcheckPath: string; restartPolicyType: string; drainingSeconds: number };
    };
    assert.equal(rw.build.builder, 'DOCKERFILE');
    assert.ok(existsSync(join(ROOT, rw.build.dockerfilePath)));
    assert.equal(rw.deploy.healthcheckPath, '/health');
    assert.equal(await served(rw.deploy.healthcheckPath), 200);
    assert.equal(rw.deploy.restartPolicyType, 'ON_FAILURE');
    assert.ok(rw.deploy.drainingSeconds > SHUTDOWN_S, "Railway's default draining time (3 s) is shorter than the shutdown");
  });
});

describe('deploy/pm2 and deploy/systemd', () => {
  it('PM2: fork mode, one port per process (the ports of the nginx upstream), dist/main.js, time to stop', () => {
    const require = createRequire(import.meta.url);
    const eco = require(join(ROOT, 'deploy/pm2/ecosystem.config.cjs')) as {
      apps: {
        name: string;
        cwd: string;
        script: string;
        exec_mode?: string;
        instances?: number;
        kill_timeout: number;
        node_args?: string[];
        max_memory_restart?: string;
        env: Record<string, string>;
      }[];
    };
    assert.ok(eco.apps.length >= 1);
    for (const app of eco.apps) {
      assert.equal(resolve(app.cwd ?? ROOT, app.script), join(ROOT, PKG.main), `${app.name} starts ${PKG.main}`);
      assert.equal(app.exec_mode ?? 'fork', 'fork', 'cluster mode shares one port and breaks polling without sticky sessions');
      assert.ok((app.instances ?? 1) === 1, 'one process per app (per port)');
      assertKnownEnv(Object.keys(app.env), `pm2 ${app.name}`);
      assert.ok(!('AUTH_KEY' in app.env), 'the key stays out of the file');
      assert.equal(app.env.NODE_ENV, 'production');
      assert.ok(app.kill_timeout / 1000 > SHUTDOWN_S, `${app.name}: kill_timeout must exceed SHUTDOWN_TIMEOUT_MS (PM2's default is 1.6 s)`);
      // A memory restart loses the rooms of a memory store: V8 must collect well before it (issue 4).
      if (app.max_memory_restart) {
        const restartMb = Number(/^(\d+)G$/.exec(app.max_memory_restart)?.[1]) * 1024 || Number(/^(\d+)M$/.exec(app.max_memory_restart)?.[1]);
        const heapMb = Number(/^--max-old-space-size=(\d+)$/.exec(app.node_args?.find((a) => a.startsWith('--max-old-space-size=')) ?? '')?.[1]);
        assert.ok(heapMb > 0 && heapMb <= restartMb * 0.8, `${app.name}: heap cap ${heapMb} MB under max_memory_restart ${app.max_memory_restart}`);
      }
    }
    const ports = eco.apps.map((a) => Number(a.env.PORT));
    const upstream = [...read('deploy/nginx/watch-room.conf').matchAll(/^\s*server\s+127\.0\.0\.1:(\d+)/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ports, upstream, 'the PM2 ports are the nginx upstream');
    if (eco.apps.length > 1) {
      for (const a of eco.apps) assert.ok(a.env.REDIS_URL, `${a.name}: several processes share rooms through Redis`);
      assert.equal(new Set(eco.apps.map((a) => a.env.INSTANCE_ID)).size, eco.apps.length, 'distinct INSTANCE_IDs');
    }
  });

  const unitText = read('deploy/systemd/watch-room.service');
  /** [Section] → key → values (a key may repeat). */
  function parseUnit(): Record<string, Record<string, string[]>> {
    const unit: Record<string, Record<string, string[]>> = {};
    let section = '';
    for (const raw of unitText.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const s = /^\[(\w+)\]$/.exec(line);
      if (s?.[1]) {
        section = s[1];
        unit[section] = {};
        continue;
      }
      const kv = /^(\w+)=(.*)$/.exec(line);
      assert.ok(kv?.[1] !== undefined && section, `watch-room.service: bad line ${line}`);
      ((unit[section] as Record<string, string[]>)[kv[1]] ??= []).push(kv[2] ?? '');
    }
    return unit;
  }
  const svc = (k: string) => parseUnit().Service?.[k]?.at(-1);

  it('systemd: starts dist/main.js with /etc/watch-room/env, stops with SIGTERM and time to spare, restarts on failure', () => {
    const exec = svc('ExecStart') ?? '';
    assert.match(exec, /^\/\S*node\s+\/\S+\/dist\/main\.js$/, `ExecStart ${exec}`);
    assert.ok(exec.endsWith(`/${PKG.main}`));
    assert.equal(svc('EnvironmentFile'), '/etc/watch-room/env');
    const unit = parseUnit();
    assert.ok(unit.Service?.Environment?.some((e) => e.split(/\s+/).includes('NODE_ENV=production')));
    assert.equal(svc('KillSignal'), 'SIGTERM');
    assert.ok(seconds(svc('TimeoutStopSec')) > SHUTDOWN_S);
    assert.equal(svc('Restart'), 'on-failure');
    assert.equal(unit.Install?.WantedBy?.[0], 'multi-user.target');
  });

  it('systemd: hardened, never root', () => {
    assert.ok(svc('DynamicUser') === 'yes' || (svc('User') && !['root', '0'].includes(svc('User') as string)), 'DynamicUser=yes or a User=');
    assert.equal(svc('NoNewPrivileges'), 'yes');
    assert.equal(svc('ProtectSystem'), 'strict');
    assert.notEqual(svc('MemoryDenyWriteExecute'), 'yes', "it would break V8's JIT");
  });

  it('systemd-analyze verify finds nothing to say about it (when systemd-analyze is installed)', (t) => {
    if (spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status !== 0) {
      t.skip('systemd-analyze not installed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'wrs-unit-'));
    try {
      const file = join(dir, 'watch-room.service');
      // verify wants ExecStart's program to exist: the node running this test.
      writeFileSync(file, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      const said = `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => l.includes(file));
      assert.deepEqual(said, []);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
