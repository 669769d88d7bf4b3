/**
 * Garbage over raw WebSocket (attack 4): one connection per kind at 127.0.0.1, each writing its
 * kind as fast as the connection takes it and reconnecting (at once) whenever the server cuts it:
 *
 * - oversize: a 200 KB `chat:message` frame (over MAX_HTTP_BUFFER_SIZE, 64 KB);
 * - deep-array / deep-object: `play:update` with 30,000 nested arrays / 10,000 nested objects (~60 KB);
 * - huge-array: `voice:audio-chunk` with 31,000 numbers (~62 KB);
 * - many-keys: `play:update` with ~6,000 keys (~60 KB);
 * - invalid-utf8: a text frame with bytes that are not UTF-8;
 * - eio-junk: malformed Engine.IO / Socket.IO packets (bad types, broken JSON, other namespaces,
 *   a binary event whose attachment never comes, random binary frames), half of the connections
 *   without the Socket.IO connect.
 *
 * Rate: bytes written per second (all kinds). Throttled: the first connection the server cut, or
 * the first reconnect it refused. Per kind: frames, bytes, cuts and the time from connect to cut.
 */
import { randomBytes } from 'node:crypto';
import type { AttackPlan, GARBAGE_KINDS } from './ipc.ts';
import { ATTACKER_ADDRESS } from './ipc.ts';
import { Clock, Counts, First, refusalReason, round, type Attack, type AttackOutcome } from './common.ts';
import { CONNECT_TIMEOUT_MS } from './common.ts';
import { connectRaw, sleep, type RawSocket } from './raw.ts';

interface Kind {
  name: string;
  /** Complete the Socket.IO connect first (some garbage only reaches the handlers once connected). */
  auth: (conn: number) => boolean;
  /** The i-th frame of this connection. */
  frame: (i: number) => { data: string | Buffer; binary: boolean };
}

const text = (data: string | Buffer) => ({ data, binary: false });

const OVERSIZE = `42["chat:message",{"content":"${'a'.repeat(200_000)}","type":"text"}]`;
const DEEP_ARRAY = `42["play:update",${'['.repeat(30_000)}${']'.repeat(30_000)}]`;
const DEEP_OBJECT = `42["play:update",${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}]`;
const HUGE_ARRAY = `42["voice:audio-chunk",{"roomId":"x","audioData":[${'1,'.repeat(31_000)}1]}]`;
const MANY_KEYS = `42["play:update",{${Array.from({ length: 6_000 }, (_, i) => `"k${i}":0`).join(',')}}]`;
const INVALID_UTF8 = Buffer.concat([
  Buffer.from('42["chat:message",{"content":"'),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from('","type":"text"}]'),
]);
const JUNK = [
  '',
  'x',
  '9',
  '4',
  '42',
  '42[',
  '42[]',
  '42[1]',
  '42{}',
  '42null',
  '42["constructor"]',
  '42["__proto__",{"a":1}]',
  '42["toString"]',
  '43',
  '43abc[',
  '4399999999999999999999[1]',
  '40/admin,{"token":"x"}',
  '41/admin,',
  '44{"message":"x"}',
  '45',
  '451-["chat:message",{"_placeholder":true,"num":0}]',
  '46',
  '5',
  '6',
  '3',
  '2probe',
  '1',
];

const KINDS: (Kind & { name: (typeof GARBAGE_KINDS)[number] })[] = [
  { name: 'oversize', auth: () => true, frame: () => text(OVERSIZE) },
  { name: 'deep-array', auth: () => true, frame: () => text(DEEP_ARRAY) },
  { name: 'deep-object', auth: () => true, frame: () => text(DEEP_OBJECT) },
  { name: 'huge-array', auth: () => true, frame: () => text(HUGE_ARRAY) },
  { name: 'many-keys', auth: () => true, frame: () => text(MANY_KEYS) },
  { name: 'invalid-utf8', auth: () => true, frame: () => text(INVALID_UTF8) },
  {
    name: 'eio-junk',
    auth: (conn) => conn % 2 === 0,
    frame: (i) => (i % 8 === 7 ? { data: randomBytes(64 + (i % 512)), binary: true } : text(JUNK[i % JUNK.length]!)),
  },
];

const HIGH_WATER = 1 << 20;

interface KindStats {
  connects: number;
  refused: Counts;
  frames: number;
  bytes: number;
  cuts: number;
  closeCodes: Counts;
  /** ms from connect to the server's close, per cut connection. */
  cutAfter: number[];
  /** Frames written on a connection before it was cut. */
  framesBeforeCut: number[];
}

export function isGarbage(a: string): boolean {
  return a === 'garbage' || a.startsWith('garbage-');
}

export function garbage(plan: AttackPlan): Attack {
  const kinds = plan.attack === 'garbage' ? KINDS : KINDS.filter((k) => `garbage-${k.name}` === plan.attack);
  if (kinds.length === 0) throw new Error(`no garbage kind for ${plan.attack}`);
  const clock = new Clock();
  const stats = new Map<string, KindStats>();
  const open = new Set<RawSocket>();
  const firstCut = new First();
  let running = false;
  let stopped = false;

  async function worker(kind: Kind): Promise<void> {
    const st: KindStats = { connects: 0, refused: new Counts(), frames: 0, bytes: 0, cuts: 0, closeCodes: new Counts(), cutAfter: [], framesBeforeCut: [] };
    stats.set(kind.name, st);
    let conn = 0;
    while (running) {
      const t = clock.now();
      let s: RawSocket;
      try {
        const auth = kind.auth(conn++);
        s = await connectRaw({ url: plan.url, localAddress: ATTACKER_ADDRESS, timeoutMs: CONNECT_TIMEOUT_MS, ...(auth ? { token: plan.token } : {}) });
      } catch (err) {
        const r = refusalReason(err);
        if (running && !r.local) {
          st.refused.add(r.reason);
          firstCut.mark(t, `${kind.name}: reconnect refused (${r.reason})`);
        }
        await sleep(r.local ? 20 : 1);
        continue;
      }
      st.connects++;
      open.add(s);
      const connectedAt = clock.now();
      let frames = 0;
      await new Promise<void>((resolve) => {
        s.onClose = () => {
          open.delete(s);
          if (!s.closedByUs && !stopped && running) {
            const at = clock.of(s.closedAt!);
            st.cuts++;
            const how = s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`;
            st.closeCodes.add(how);
            st.cutAfter.push(at - connectedAt);
            st.framesBeforeCut.push(frames);
            firstCut.mark(at, `${kind.name} cut (${how})`);
          }
          resolve();
        };
        const pump = () => {
          if (!running || !s.open) {
            if (!running) s.close();
            return;
          }
          let n = 0;
          while (n < 64 && s.buffered < HIGH_WATER) {
            const f = kind.frame(frames + n);
            const len = typeof f.data === 'string' ? Buffer.byteLength(f.data) : f.data.length;
            s.send(f.data, f.binary, (ok) => {
              if (ok && running) {
                st.frames++;
                st.bytes += len;
              }
            });
            n++;
          }
          frames += n;
          if (n > 0) setImmediate(pump);
          else setTimeout(pump, 1);
        };
        pump();
      });
    }
  }

  return {
    async prepare() {},

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      running = true;
      const workers = kinds.map(worker);
      await sleep(durationMs);
      running = false;
      for (const s of open) s.close();
      await Promise.race([Promise.all(workers), sleep(CONNECT_TIMEOUT_MS)]);
      stopped = true;
      await sleep(drainMs);
      const seconds = durationMs / 1000;
      let bytes = 0;
      let cuts = 0;
      const byKind: Record<string, unknown> = {};
      const notes: string[] = [];
      const median = (a: number[]) => (a.length ? [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]! : null);
      for (const [name, st] of stats) {
        bytes += st.bytes;
        cuts += st.cuts;
        const medCut = median(st.cutAfter);
        const medFrames = median(st.framesBeforeCut);
        byKind[name] = {
          connects: st.connects,
          frames: st.frames,
          MBps: round(st.bytes / seconds / 1048576, 2),
          cuts: st.cuts,
          closeCodes: st.closeCodes.by,
          refused: st.refused.by,
          medianCutAfterMs: medCut === null ? null : round(medCut, 1),
          medianFramesBeforeCut: medFrames,
        };
        notes.push(
          `${name}: ${st.frames} frames (${round(st.bytes / seconds / 1048576, 2)} MB/s) over ${st.connects} connections, ` +
            (st.cuts
              ? `${st.cuts} cut ${JSON.stringify(st.closeCodes.by)}, median ${round(medCut ?? 0, 1)} ms / ${medFrames} frames after connect`
              : 'never cut') +
            (st.refused.total ? `, reconnects refused ${JSON.stringify(st.refused.by)}` : ''),
        );
      }
      return {
        rate: { value: round(bytes / seconds), unit: 'B/s' },
        throttledAfterMs: firstCut.at === undefined ? null : round(firstCut.at, 1),
        throttleSignal: firstCut.at === undefined ? 'never cut' : firstCut.what,
        cuts,
        details: { byKind },
        notes,
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const s of open) s.close();
    },
  };
}
