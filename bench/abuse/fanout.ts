/**
 * Room fan-out (one IP, many sockets, one room): 50 sockets at 127.0.0.1 (a room's member cap)
 * fill one room and every one of them sends full-size `voice:audio-chunk`s at 15 a second, under
 * its own per-socket limit (RATE_AUDIO 16/s) and byte budget (RATE_INBOUND_BYTES). Each chunk the
 * server takes in is relayed to the 49 others: within every per-socket limit, one IP asks the
 * server to send 49 times what it sends. Every socket reads what it is sent.
 *
 * Each chunk carries its sender's seq in its first three byte values. Rate: chunks written per
 * second, and deliveries received per second. Throttled: the send time of the first chunk some
 * listener never received (a gap), or the server closing a socket, whichever came first.
 */
import type { AttackPlan } from './ipc.ts';
import { ATTACKER_ADDRESS } from './ipc.ts';
import { Clock, First, connectAs, createRoom, joinRoom, round, type Attack, type AttackOutcome } from './common.ts';
import { TimeLog, sleep, type RawSocket } from './raw.ts';

const MEMBERS = 50;
const PER_SECOND = 15;
const AUDIO_BYTES = 8192;
const AUDIO_TAIL = Array.from({ length: AUDIO_BYTES - 3 }, (_, i) => (i * 7919) % 256).join(',');
const CHUNK = /^42\["voice:audio-chunk",\{"userId":"([^"]+)","audioData":\[(\d+),(\d+),(\d+)/;

interface Sender {
  s: RawSocket;
  sent: TimeLog;
  /** seq → listeners that received it. */
  got: Uint8Array;
  seq: number;
}

export function roomFanout(plan: AttackPlan): Attack {
  const clock = new Clock();
  const senders: Sender[] = [];
  const bySid = new Map<string, Sender>();
  const firstCut = new First();
  let running = false;
  let stopped = false;
  let cuts = 0;
  let received = 0;
  let receivedBytes = 0;
  let written = 0;

  function listen(s: RawSocket): void {
    s.onFrame = (text, size) => {
      const m = CHUNK.exec(text);
      if (!m) return;
      const from = bySid.get(m[1]!);
      const seq = Number(m[2]) * 65536 + Number(m[3]) * 256 + Number(m[4]);
      if (!from || seq >= from.got.length) return;
      from.got[seq]!++;
      received++;
      receivedBytes += size;
    };
    s.onClose = () => {
      if (s.closedByUs || stopped) return;
      cuts++;
      if (running) firstCut.mark(clock.of(s.closedAt!), `member cut (${s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`})`);
    };
  }

  function send(x: Sender): void {
    if (!running || !x.s.open || x.seq >= x.got.length) return;
    const seq = x.seq++;
    x.sent.push(clock.now());
    const json = `{"roomId":"x","audioData":[${seq >> 16},${(seq >> 8) & 255},${seq & 255},${AUDIO_TAIL}],"sampleRate":16000}`;
    x.s.emitJson('voice:audio-chunk', json, (ok) => {
      if (ok && running) written++;
    });
  }

  return {
    async prepare() {
      let roomId = '';
      for (let i = 0; i < MEMBERS; i++) {
        const s = await connectAs(plan, ATTACKER_ADDRESS);
        if (i === 0) roomId = (await createRoom(s, { name: 'abuse: fan-out', description: '', isPublic: false, userName: 'm0' })).roomId;
        else {
          const ack = await joinRoom(s, { roomId, userName: `m${i}` });
          if (!ack?.success) throw new Error(`join ${i} refused: ${JSON.stringify(ack)}`);
        }
        listen(s);
        // Room for 120 s of chunks; the seq fits in three byte values.
        const x: Sender = { s, sent: new TimeLog(), got: new Uint8Array(PER_SECOND * 120), seq: 0 };
        senders.push(x);
        bySid.set(s.sid, x);
      }
    },

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      running = true;
      // Senders spread over the period, each on its own steady timer.
      const timers = senders.map((x, i) => {
        const start = setTimeout(() => {
          send(x);
          timers[i] = setInterval(() => send(x), 1000 / PER_SECOND);
        }, (i * 1000) / PER_SECOND / senders.length);
        return start;
      });
      await sleep(durationMs);
      running = false;
      for (const t of timers) clearInterval(t);
      const receivedInWindow = received;
      const bytesInWindow = receivedBytes;
      await sleep(drainMs);
      stopped = true;
      const listeners = senders.length - 1;
      const firstDrop = new First();
      for (const x of senders) {
        for (let seq = 0; seq < x.seq; seq++) {
          if (x.got[seq]! < listeners) {
            firstDrop.mark(x.sent.at(seq), 'a chunk some listener never got (dropped)');
            break;
          }
        }
      }
      const t = [firstDrop, firstCut].filter((f) => f.at !== undefined).sort((a, b) => a.at! - b.at!)[0];
      const seconds = durationMs / 1000;
      return {
        rate: { value: round(written / seconds), unit: 'chunks/s', also: `${round(receivedInWindow / seconds)} deliveries/s, ${round(bytesInWindow / seconds / 1048576, 1)} MB/s out` },
        throttledAfterMs: t ? round(t.at!, 1) : null,
        throttleSignal: t ? t.what : 'never (every chunk reached every listener)',
        cuts,
        details: { members: senders.length, written, received, receivedBytes },
        notes: [
          `${senders.length} sockets of one IP in one room wrote ${written} audio chunks (${round(written / seconds)}/s); ` +
            `the server delivered ${received} of the ${senders.reduce((n, x) => n + x.seq, 0) * listeners} their fan-out asks for ` +
            `(${round(receivedInWindow / seconds)}/s, ${round(bytesInWindow / seconds / 1048576, 1)} MB/s)` +
            (cuts ? `; ${cuts} members cut (the first at ${round(firstCut.at ?? Number.NaN, 1)} ms)` : ''),
        ],
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const x of senders) x.s.close();
    },
  };
}
