/** The command line of `npm run bench:abuse`: options, defaults, checks. */
import { parseArgs } from 'node:util';
import { ATTACKS, ATTACK_GROUPS, type AttackName } from './ipc.ts';

export const USAGE = `npm run bench:abuse -- [options]

Runs MoonTVPlus traffic (as npm run bench: rooms x members sockets, heartbeats, play:update, chat,
seeks, pauses) against our server in production mode with its default limits, first alone, then
during each attack in turn (a fresh server per attack), and prints a table: the attack rate the
attacker reached, the normal traffic's delivery p99 without / with the attack, the server's peak
RSS, when the attacker was throttled or cut, whether the server is alive after, and rooms lost.

Attacks (each from its own process, at 127.0.0.1; normal traffic comes from 127.0.1.x):
  flood-heartbeat flood-list flood-chat flood-play flood-audio   one socket, one event type, flat out
  conn-flood      connections opened and held, as fast as they complete
  room-flood      sockets each creating (and holding) a room
  join-spam       room:join with wrong passwords against one password room
  room-fanout     50 sockets of one IP fill one room, each sending full-size audio within its own
                  limits: the server is asked to relay 49 times what they send
  garbage         oversized frames, deep nesting, huge arrays, invalid UTF-8, broken packets, all at once
  slow-reader     a member that stops reading while its room is pushed at full allowed rate
  signal-pump     the same pushing, the member reading: traffic within every limit (what the server
                  keeps for connection state recovery); nothing to throttle
  garbage-<kind>  one kind of garbage alone: oversize deep-array deep-object huge-array many-keys
                  invalid-utf8 eio-junk (not in 'all')
  groups: all (default: the twelve above but garbage-<kind>), event-flood (the five floods),
          garbage-each (the seven garbage-<kind>)

Options:
  --attacks a,b,c       attacks or groups to run (default all)
  --duration S          measured window per phase, seconds; the attack runs through it (default 10)
  --warmup S            normal traffic before the window, not counted (default 2); the attack starts
                        with the window, so its first burst counts
  --drain S             after the window, for late deliveries and answers (default 2)
  --rooms N             normal rooms (default 100)
  --members N           sockets per normal room (default 4)
  --port-base P         the server of phase i listens on P + i (default 3400)
  --env KEY=VALUE       server environment on top of the production defaults, repeatable
                        (e.g. --env MAX_PENDING_EVENTS=16 to try a defence)
  --conn-max N          conn-flood: most connections held at once (default 15000: file descriptors)
  --room-max N          room-flood: most rooms to create (default 5000)
  --join-sockets N      join-spam: attacker sockets (default 20)
  --slow-pushers N      slow-reader: pushing sockets besides the owner (default 8)
  --rss-margin MB       target: peak RSS during an attack at most this above the no-attack peak (default 100)
  --attacker-nice N     run the attacker at this niceness (0-19; default 0). On this box the attacker
                        takes up to a core from the server and the normal clients alike; a real one
                        spends its own machine's CPU. Niced, it still gets every idle cycle, and the
                        table shows the rate it reached
  --json FILE           write everything measured as JSON
  --help                this text

Example: npm run bench:abuse -- --duration 5 --attacks event-flood,slow-reader --json abuse.json
`;

const parse = (args: string[]) =>
  parseArgs({
    args,
    options: {
      attacks: { type: 'string', default: 'all' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      drain: { type: 'string', default: '2' },
      rooms: { type: 'string', default: '100' },
      members: { type: 'string', default: '4' },
      'port-base': { type: 'string', default: '3400' },
      env: { type: 'string', multiple: true, default: [] },
      'conn-max': { type: 'string', default: '15000' },
      'room-max': { type: 'string', default: '5000' },
      'join-sockets': { type: 'string', default: '20' },
      'slow-pushers': { type: 'string', default: '8' },
      'rss-margin': { type: 'string', default: '100' },
      'attacker-nice': { type: 'string', default: '0' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });

function die(msg: string): never {
  process.stderr.write(`${msg}\n\n${USAGE}`);
  process.exit(2);
}

export function parseCli(args: string[]) {
  let parsed;
  try {
    parsed = parse(args);
  } catch (err) {
    die(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) die(`--${name}: expected a number from ${min} to ${max}, got ${raw}`);
    return n;
  };
  const attacks: AttackName[] = [];
  for (const name of v.attacks.split(',').map((s) => s.trim()).filter(Boolean)) {
    const group = ATTACK_GROUPS[name] ?? ((ATTACKS as readonly string[]).includes(name) ? [name as AttackName] : undefined);
    if (!group) die(`--attacks: unknown attack '${name}' (known: ${ATTACKS.join(', ')}; groups: ${Object.keys(ATTACK_GROUPS).join(', ')})`);
    for (const a of group) if (!attacks.includes(a)) attacks.push(a);
  }
  const env = Object.fromEntries(
    v.env.map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) die(`--env: expected KEY=VALUE, got ${kv}`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  return {
    attacks,
    durationMs: num('duration', v.duration, 1) * 1000,
    warmupMs: num('warmup', v.warmup, 0) * 1000,
    drainMs: num('drain', v.drain, 0.5) * 1000,
    rooms: Math.floor(num('rooms', v.rooms, 1, 5000)),
    members: Math.floor(num('members', v.members, 1, 50)),
    portBase: Math.floor(num('port-base', v['port-base'], 1024, 65000)),
    env,
    connMax: Math.floor(num('conn-max', v['conn-max'], 1)),
    roomMax: Math.floor(num('room-max', v['room-max'], 1)),
    joinSockets: Math.floor(num('join-sockets', v['join-sockets'], 1, 1000)),
    slowPushers: Math.floor(num('slow-pushers', v['slow-pushers'], 1, 48)),
    rssMarginMb: num('rss-margin', v['rss-margin'], 0),
    attackerNice: Math.floor(num('attacker-nice', v['attacker-nice'], 0, 19)),
    json: v.json,
  };
}

export type AbuseOptions = ReturnType<typeof parseCli>;
