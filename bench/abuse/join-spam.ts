/**
 * Join spam and password guessing (attack 3): a bystander (another IP) holds a public room with a
 * password; `joinSockets` attacker sockets at 127.0.0.1 send `room:join` with wrong passwords,
 * each keeping 32 requests in flight. Every ack is counted by code: `wrong_password` is a guess the
 * server actually checked (a scrypt), `too_many_attempts` the password lock-out (PROTOCOL §3,
 * §10.11), `rate_limited` the per-socket limit. Rate: room:join written per second. Throttled: the
 * send time of the first join not answered `wrong_password`.
 *
 * Afterwards: the correct password from the attacker's IP (locked out: `too_many_attempts`
 * expected), and from two other IPs, the correct one (must get in) and a wrong one (must be
 * answered `wrong_password`: the lock-out is per IP).
 */
import type { AttackPlan } from './ipc.ts';
import { ATTACKER_ADDRESS, helperAddress } from './ipc.ts';
import { Clock, Counts, First, ackCode, connectAs, createRoom, joinRoom, round, type Attack, type AttackOutcome } from './common.ts';
import { sleep, type RawSocket } from './raw.ts';

const WINDOW = 32;
const SECRET = 'correct-horse-42';

export function joinSpam(plan: AttackPlan): Attack {
  const clock = new Clock();
  const sockets: RawSocket[] = [];
  const codes = new Counts();
  const first = new Map<string, number>();
  const firstThrottle = new First();
  const firstCut = new First();
  let victim: RawSocket | undefined;
  let roomId = '';
  let written = 0;
  let running = false;
  let stopped = false;
  let cuts = 0;
  let guess = 0;

  function pump(s: RawSocket): void {
    while (running && s.open && s.pendingAcks < WINDOW) {
      const sentAt = clock.now();
      s.request(
        'room:join',
        { roomId, password: `guess-${guess++}`, userName: 'guesser' },
        (args) => {
          const code = ackCode(args);
          if (args !== undefined) codes.add(code || 'joined');
          if (!first.has(code)) first.set(code, sentAt);
          if (code !== 'wrong_password' && args !== undefined) firstThrottle.mark(sentAt, `${code || 'joined'} ack`);
          setImmediate(() => pump(s));
        },
        (ok) => {
          if (ok && running) written++;
        },
      );
    }
  }

  async function probe(address: string, password: string): Promise<string> {
    try {
      const s = await connectAs(plan, address);
      const ack = await joinRoom(s, { roomId, password, userName: 'probe' });
      s.close();
      return ack ? (ack.success ? 'joined' : (ack.code ?? 'failed')) : 'no ack';
    } catch (err) {
      return `connect failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  return {
    async prepare() {
      victim = await connectAs(plan, helperAddress(2));
      roomId = (await createRoom(victim, { name: 'abuse: password room', description: '', isPublic: true, password: SECRET, userName: 'victim' })).roomId;
      for (let i = 0; i < plan.joinSockets; i++) {
        const s = await connectAs(plan, ATTACKER_ADDRESS);
        s.onClose = () => {
          if (s.closedByUs || stopped) return;
          cuts++;
          if (running) firstCut.mark(clock.of(s.closedAt!), `guesser cut (${s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`})`);
        };
        sockets.push(s);
      }
    },

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      running = true;
      for (const s of sockets) pump(s);
      await sleep(durationMs);
      running = false;
      await sleep(drainMs);
      stopped = true;
      const afterwards = {
        attackerCorrectPassword: await probe(ATTACKER_ADDRESS, SECRET),
        otherIpCorrectPassword: await probe(helperAddress(3), SECRET),
        otherIpWrongPassword: await probe(helperAddress(4), 'not-it'),
      };
      const t = [firstThrottle, firstCut].filter((f) => f.at !== undefined).sort((a, b) => a.at! - b.at!)[0];
      const evaluated = codes.by.wrong_password ?? 0;
      return {
        rate: { value: round(written / (durationMs / 1000)), unit: 'join/s' },
        throttledAfterMs: t ? round(t.at!, 1) : null,
        throttleSignal: t ? t.what : 'never (every guess answered wrong_password)',
        cuts,
        details: {
          written,
          acks: codes.by,
          guessesEvaluated: evaluated,
          firstAckMs: Object.fromEntries([...first].map(([k, v]) => [k || 'joined', round(v, 1)])),
          afterwards,
        },
        notes: [
          `${written} joins written from ${sockets.length} sockets; acks ${JSON.stringify(codes.by)}: ${evaluated} wrong passwords were checked (a scrypt each)` +
            (cuts ? `; ${cuts} guessers cut (the first at ${round(firstCut.at ?? Number.NaN, 1)} ms)` : ''),
          `afterwards: attacker IP with the right password -> ${afterwards.attackerCorrectPassword}; ` +
            `another IP, right password -> ${afterwards.otherIpCorrectPassword}; another IP, wrong password -> ${afterwards.otherIpWrongPassword}`,
        ],
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const s of [...sockets, victim]) s?.close();
    },
  };
}
