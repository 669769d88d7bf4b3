/**
 * Slow reader (attack 5): the attacker owns a room (owner socket) with `slowPushers` member
 * sockets and one reader, all at 127.0.0.1. At the start the reader stops reading (its TCP socket
 * paused: the server's writes to it pile up in the kernel, then in the server's memory) while the
 * others push at the default rate limits, the most bytes each allows:
 *
 * - the owner: `play:update` 20/s, a PlayState padded to ~7.5 KB (MAX_STATE_BYTES 8192), to the room;
 * - every pusher: `voice:offer` 40/s to the reader, ~30 KB each (MAX_SIGNAL_BYTES 32768), and a
 *   500-character `chat:message` 3/s to the room.
 *
 * Rate: bytes written by the pushers per second. Throttled ("cut"): the server dropping the reader,
 * seen as `room:member-left` with its id at a pusher, or as the reader's own connection failing (it
 * keeps writing a heartbeat every 250 ms, which fails once the server has closed it). The runner
 * samples the server's RSS meanwhile.
 *
 * signal-pump: the same pushing with a reader that reads: traffic within every default limit,
 * nothing to throttle. What it costs the server beyond the sockets (Socket.IO keeps every
 * non-volatile broadcast, to-id signals included, for connection state recovery) shows in its RSS,
 * and tells how much of slow-reader's RSS is the slow reader's.
 */
import type { AttackPlan } from './ipc.ts';
import { ATTACKER_ADDRESS } from './ipc.ts';
import { Clock, First, connectAs, createRoom, joinRoom, round, type Attack, type AttackOutcome } from './common.ts';
import { sleep, type RawSocket } from './raw.ts';

const PLAY_PER_SEC = 20;
const SIGNAL_PER_SEC = 40;
const CHAT_PER_SEC = 3;
const PAD_STATE = 'p'.repeat(7_400);
const OFFER_SDP = 'v=0\\r\\n' + 'a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host\\r\\n'.repeat(520);
const CHAT = 'c'.repeat(480);

export function slowReader(plan: AttackPlan): Attack {
  const pause = plan.attack === 'slow-reader';
  const clock = new Clock();
  const pushers: RawSocket[] = [];
  let owner: RawSocket | undefined;
  let reader: RawSocket | undefined;
  let roomId = '';
  const cut = new First();
  let bytes = 0;
  let frames = 0;
  let running = false;
  let stopped = false;
  let pushersCut = 0;
  let readerWritesFailed = 0;

  const written = (len: number) => (ok: boolean) => {
    if (ok && running) {
      bytes += len;
      frames++;
    }
  };

  function every(perSec: number, fn: () => void): NodeJS.Timeout {
    return setInterval(fn, 1000 / perSec);
  }

  function watch(s: RawSocket, role: string): void {
    s.onFrame = (text) => {
      if (reader && text.startsWith('42["room:member-left"') && text.includes(reader.sid) && running) {
        cut.mark(clock.now(), 'reader dropped (room:member-left)');
      }
    };
    s.onClose = () => {
      if (s.closedByUs || stopped) return;
      pushersCut++;
      if (running) cut.mark(clock.of(s.closedAt!), `${role} cut (close ${s.closeCode})`);
    };
  }

  return {
    async prepare() {
      owner = await connectAs(plan, ATTACKER_ADDRESS);
      roomId = (await createRoom(owner, { name: 'abuse: busy room', description: '', isPublic: false, userName: 'owner' })).roomId;
      watch(owner, 'owner');
      for (let i = 0; i < plan.slowPushers; i++) {
        const s = await connectAs(plan, ATTACKER_ADDRESS);
        const ack = await joinRoom(s, { roomId, userName: `pusher-${i}` });
        if (!ack?.success) throw new Error(`pusher join refused: ${JSON.stringify(ack)}`);
        watch(s, 'pusher');
        pushers.push(s);
      }
      reader = await connectAs(plan, ATTACKER_ADDRESS);
      const ack = await joinRoom(reader, { roomId, userName: 'reader' });
      if (!ack?.success) throw new Error(`reader join refused: ${JSON.stringify(ack)}`);
      const r = reader;
      r.onClose = () => {
        if (!r.closedByUs && running) cut.mark(clock.of(r.closedAt!), `reader closed (${r.closeCode})`);
      };
    },

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      const r = reader!;
      let received = 0;
      if (pause) r.pauseReading();
      else r.onFrame = (_text, size) => (received += size);
      running = true;
      const timers: NodeJS.Timeout[] = [];
      let seq = 0;
      timers.push(
        every(PLAY_PER_SEC, () => {
          const f =
            `42["play:update",{"type":"play","url":"https://media.example.com/vod/slow/index.m3u8","currentTime":${seq++},"isPlaying":true,` +
            `"videoId":"slow","videoName":"Slow","source":"slow","pad":"${PAD_STATE}"}]`;
          owner!.send(f, false, written(f.length));
        }),
      );
      for (const p of pushers) {
        timers.push(
          every(SIGNAL_PER_SEC, () => {
            const f = `42["voice:offer",{"targetUserId":"${r.sid}","offer":{"type":"offer","sdp":"${OFFER_SDP}"}}]`;
            p.send(f, false, written(f.length));
          }),
          every(CHAT_PER_SEC, () => {
            const f = `42["chat:message",{"content":"${CHAT} ${seq++}","type":"text"}]`;
            p.send(f, false, written(f.length));
          }),
        );
      }
      // The reader keeps writing: a write fails (and the connection closes) once the server dropped it.
      timers.push(
        setInterval(() => {
          if (!r.open) return;
          r.send('42["heartbeat"]', false, (ok) => {
            if (!ok && running) {
              readerWritesFailed++;
              cut.mark(clock.now(), 'reader write failed');
            }
          });
        }, 250),
      );
      await sleep(durationMs);
      running = false;
      for (const t of timers) clearInterval(t);
      const readerBytesRead = r.tcp.bytesRead;
      r.close();
      await sleep(drainMs);
      stopped = true;
      const seconds = durationMs / 1000;
      return {
        rate: { value: round(bytes / seconds), unit: 'B/s' },
        throttledAfterMs: cut.at === undefined ? null : round(cut.at, 1),
        throttleSignal: cut.at === undefined ? 'never (reader still a member at the end)' : cut.what,
        cuts: cut.at === undefined ? 0 : 1,
        ...(pause ? {} : { throttleApplies: false }),
        details: { pushers: pushers.length, frames, bytes, pushedMBps: round(bytes / seconds / 1048576, 2), readerBytesRead, readerReceived: received, readerWritesFailed, pushersCut },
        notes: [
          `${pushers.length} pushers + owner wrote ${frames} frames, ${round(bytes / 1048576, 1)} MB (${round(bytes / seconds / 1048576, 2)} MB/s) toward a reader that ` +
            (pause ? 'read nothing' : `read ${round(received / 1048576, 1)} MB`) +
            (pushersCut ? `; ${pushersCut} pushers were cut` : ''),
        ],
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const s of [...pushers, owner, reader]) s?.close();
    },
  };
}
