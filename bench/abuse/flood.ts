/**
 * Event floods (attack 1): one socket at 127.0.0.1 writes one event type as fast as its TCP
 * connection takes it (ws buffer kept under a high-water mark, frames counted once written):
 *
 * - flood-heartbeat: `heartbeat`; answered by `heartbeat:pong` to the sender;
 * - flood-list: `room:list` with an ack; a helper (another IP) holds one public room, so a served
 *   list is never empty and the refusal (`[]`, the list's `rate_limited`) is told apart;
 * - flood-chat: `chat:message` in the attacker's own room; the echo to the sender carries the seq;
 * - flood-play: `play:update` (a full PlayState) as owner of its own room, relayed to a second
 *   attacker socket in that room;
 * - flood-audio: full-size `voice:audio-chunk` (8192 byte values, sampleRate 16000), relayed
 *   (volatile) to the second socket; the first three bytes carry the seq.
 *
 * Throttled = the send time of the first event the server did not answer (a gap in the answered
 * seqs; the list's refusal ack), or the server closing the socket, whichever came first. Heartbeat
 * pongs carry no seq: with P pongs for W heartbeats (P < W) the first drop was at heartbeat P or
 * earlier, so its send time is an upper bound. A cut socket reconnects (and rejoins its room with
 * its owner token), as an attacker would.
 */
import type { AttackName, AttackPlan } from './ipc.ts';
import { ATTACKER_ADDRESS, helperAddress } from './ipc.ts';
import { Clock, Counts, First, connectAs, createRoom, joinRoom, refusalReason, round, type Attack, type AttackOutcome } from './common.ts';
import { SeenSet, TimeLog, firstMissing, sleep, type RawSocket } from './raw.ts';

type Kind = 'heartbeat' | 'list' | 'chat' | 'play' | 'audio';
const KINDS: Partial<Record<AttackName, Kind>> = {
  'flood-heartbeat': 'heartbeat',
  'flood-list': 'list',
  'flood-chat': 'chat',
  'flood-play': 'play',
  'flood-audio': 'audio',
};

/** Bytes left in ws's buffer before the pump waits: keeps "written" honest and memory flat. */
const HIGH_WATER = { heartbeat: 256 << 10, list: 256 << 10, chat: 256 << 10, play: 512 << 10, audio: 2 << 20 };
/** Outstanding room:list acks before the pump waits for answers. */
const MAX_PENDING_ACKS = 20_000;
const BATCH = 256;

const AUDIO_BYTES = 8192;
/** 8189 random byte values: the chunk's tail after the 3 seq bytes (built once). */
const AUDIO_TAIL = Array.from({ length: AUDIO_BYTES - 3 }, (_, i) => (i * 7919) % 256).join(',');

export function isFlood(a: AttackName): boolean {
  return KINDS[a] !== undefined;
}

export function flood(plan: AttackPlan): Attack {
  const kind = KINDS[plan.attack]!;
  const clock = new Clock();
  const sent = new TimeLog();
  /** Seqs answered (or never written: they cannot be answered and do not count as drops). */
  const seen = new SeenSet();
  const refusedSeqs = new SeenSet();
  let answers = 0;
  let answersInAttack = 0;
  let refusedAcks = 0;
  let written = 0;
  let writtenBytes = 0;
  let running = false;
  let cuts = 0;
  const firstCut = new First();
  const reconnectRefused = new Counts();
  const closeCodes = new Counts();
  let reconnects = 0;

  let sender: RawSocket | undefined;
  let receiver: RawSocket | undefined;
  let helper: RawSocket | undefined;
  let room: { roomId: string; ownerToken: string } | undefined;
  let stopped = false;

  const onAnswer = (seq: number) => {
    if (seq >= 0) seen.add(seq);
    answers++;
    if (running) answersInAttack++;
  };

  function listen(s: RawSocket, role: 'sender' | 'receiver'): void {
    s.onFrame = (text) => {
      if (kind === 'heartbeat' && role === 'sender') {
        if (text.startsWith('42["heartbeat:pong"')) onAnswer(-1);
      } else if (kind === 'chat' && role === 'sender') {
        if (text.startsWith('42["chat:message"')) {
          const m = /"content":"f(\d+)"/.exec(text);
          if (m) onAnswer(Number(m[1]));
        }
      } else if (kind === 'play' && role === 'receiver') {
        if (text.startsWith('42["play:update"')) {
          const m = /"fseq":(\d+)/.exec(text);
          if (m) onAnswer(Number(m[1]));
        }
      } else if (kind === 'audio' && role === 'receiver') {
        if (text.startsWith('42["voice:audio-chunk"')) {
          const m = /"audioData":\[(\d+),(\d+),(\d+)/.exec(text);
          if (m) onAnswer(Number(m[1]) * 65536 + Number(m[2]) * 256 + Number(m[3]));
        }
      }
    };
    s.onClose = () => {
      if (s.closedByUs || stopped) return;
      cuts++;
      closeCodes.add(`${role} ${s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`}`);
      if (running) firstCut.mark(clock.of(s.closedAt!), `${role} cut (${s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`})`);
      if (!stopped) void reconnect(role);
    };
  }

  /** Sender or receiver back in (the room, for the kinds that need one) after a cut. */
  async function reconnect(role: 'sender' | 'receiver'): Promise<void> {
    while (!stopped) {
      try {
        const s = await connectAs(plan, ATTACKER_ADDRESS);
        reconnects++;
        if (room) {
          const ack = await joinRoom(s, { roomId: room.roomId, userName: role, ...(role === 'sender' ? { ownerToken: room.ownerToken } : {}) });
          if (!ack?.success) reconnectRefused.add(`rejoin: ${ack?.code ?? 'no ack'}`);
        }
        listen(s, role);
        if (role === 'sender') sender = s;
        else receiver = s;
        return;
      } catch (err) {
        const { reason } = refusalReason(err);
        reconnectRefused.add(reason);
        if (running) firstCut.mark(clock.now(), `reconnect refused (${reason})`);
        await sleep(50);
      }
    }
  }

  function sendOne(s: RawSocket): void {
    const t = clock.now();
    const seq = sent.push(t);
    let bytes = 0;
    const done = (ok: boolean) => {
      if (!ok) {
        seen.add(seq); // never reached the server: not a drop
        return;
      }
      if (running) {
        written++;
        writtenBytes += bytes;
      }
    };
    switch (kind) {
      case 'heartbeat':
        return s.send('42["heartbeat"]', false, done);
      case 'list':
        s.request(
          'room:list',
          undefined,
          (args) => {
            if (args === undefined) return; // connection gone: counted as unanswered
            if (args === '[[]]') {
              refusedAcks++;
              refusedSeqs.add(seq);
            } else onAnswer(seq);
          },
          done,
        );
        return;
      case 'chat':
        return s.send(`42["chat:message",{"content":"f${seq}","type":"text"}]`, false, done);
      case 'play':
        return s.send(
          `42["play:update",{"type":"play","url":"https://media.example.com/vod/flood/index.m3u8","currentTime":${seq},"isPlaying":true,` +
            `"videoId":"flood","videoName":"Flood","videoYear":"2024","searchTitle":"Flood","episode":1,"source":"flood","fseq":${seq}}]`,
          false,
          done,
        );
      case 'audio': {
        const frame =
          `42["voice:audio-chunk",{"roomId":"${room?.roomId ?? ''}","audioData":[${(seq >> 16) & 255},${(seq >> 8) & 255},${seq & 255},` +
          `${AUDIO_TAIL}],"sampleRate":16000}]`;
        bytes = frame.length;
        return s.send(frame, false, done);
      }
    }
  }

  function pump(): void {
    if (!running) return;
    const s = sender;
    let n = 0;
    if (s?.open) {
      const high = HIGH_WATER[kind];
      while (n < BATCH && s.buffered < high && !(kind === 'list' && s.pendingAcks >= MAX_PENDING_ACKS)) {
        sendOne(s);
        n++;
      }
    }
    if (n > 0) setImmediate(pump);
    else setTimeout(pump, 1);
  }

  return {
    async prepare() {
      if (kind === 'list') {
        helper = await connectAs(plan, helperAddress(2));
        await createRoom(helper, { name: 'abuse: a public room', description: '', isPublic: true, userName: 'bystander' });
      }
      const s = await connectAs(plan, ATTACKER_ADDRESS);
      if (kind === 'chat' || kind === 'play' || kind === 'audio') {
        room = await createRoom(s, { name: `abuse ${kind}`, description: '', isPublic: false, userName: 'sender' });
      }
      listen(s, 'sender');
      sender = s;
      if (kind === 'play' || kind === 'audio') {
        const r = await connectAs(plan, ATTACKER_ADDRESS);
        const ack = await joinRoom(r, { roomId: room!.roomId, userName: 'receiver' });
        if (!ack?.success) throw new Error(`receiver join refused: ${JSON.stringify(ack)}`);
        listen(r, 'receiver');
        receiver = r;
      }
    },

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      answers = 0; // the pong every socket gets on connect is not the attack's
      running = true;
      pump();
      await sleep(durationMs);
      running = false;
      const sends = sent.length;
      await sleep(drainMs);
      stopped = true;

      let throttledAfterMs: number | null = null;
      let signal = 'never (every event answered)';
      let upperBound = false;
      if (kind === 'heartbeat') {
        // Every new connection gets one pong of its own at connect (the server's first broadcast).
        const pongs = Math.max(0, answers - reconnects);
        if (pongs < written) {
          throttledAfterMs = sent.at(pongs);
          signal = `pongs stopped (${pongs} pongs for ${written} heartbeats; upper bound)`;
          upperBound = true;
        }
      } else {
        const miss = firstMissing(seen, sends);
        if (miss) {
          throttledAfterMs = sent.at(miss.seq);
          signal =
            kind === 'list' && refusedSeqs.has(miss.seq)
              ? 'rate_limited ack (empty list)'
              : miss.kind === 'gap'
                ? 'first event dropped'
                : 'unanswered tail (dropped, or still queued)';
        }
      }
      if (firstCut.at !== undefined && (throttledAfterMs === null || firstCut.at < throttledAfterMs)) {
        throttledAfterMs = firstCut.at;
        signal = firstCut.what;
        upperBound = false;
      }
      const seconds = durationMs / 1000;
      const bytes = kind === 'audio' ? writtenBytes : 0;
      const notes: string[] = [];
      const answeredPct = written > 0 ? round((100 * answers) / written, 1) : 0;
      notes.push(
        `${written} written (${sends} send calls), ${answers} answered (${answeredPct} %)` +
          `${kind === 'list' ? `, ${refusedAcks} refused` : ''}, ${answers - answersInAttack} of the answers only after the attack ended` +
          (cuts ? `; ${cuts} cuts (the first at ${round(firstCut.at ?? Number.NaN, 1)} ms), ${reconnects} reconnects` : '') +
          (reconnectRefused.total ? `, reconnects refused ${JSON.stringify(reconnectRefused.by)}` : ''),
      );
      return {
        rate: { value: round(written / seconds), unit: 'ev/s', ...(bytes ? { also: `${round(bytes / seconds / 1048576, 1)} MB/s` } : {}) },
        throttledAfterMs: throttledAfterMs === null ? null : round(throttledAfterMs, 1),
        throttleSignal: signal,
        cuts,
        details: {
          kind,
          sendCalls: sends,
          written,
          ...(bytes ? { writtenMBps: round(bytes / seconds / 1048576, 2) } : {}),
          answered: answers,
          answeredDuringAttack: answersInAttack,
          refusedAcks,
          upperBound,
          reconnects,
          closeCodes: closeCodes.by,
          reconnectRefused: reconnectRefused.by,
        },
        notes,
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const s of [sender, receiver, helper]) s?.close();
    },
  };
}
