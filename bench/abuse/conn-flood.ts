/**
 * Connection floods (attack 2), all from 127.0.0.1:
 *
 * - conn-flood: new WebSocket connections as fast as they complete (200 handshakes in flight),
 *   each completing the Socket.IO connect with the key and then held open (pings answered), up to
 *   `connMax` held at once. Rate: connections completed per second. Throttled: the first refused
 *   attempt (an HTTP answer instead of the upgrade, a reset, a connect_error, a close during the
 *   handshake, a timeout) or the first held connection the server closed.
 * - room-flood: sockets that each connect, send `room:create` (public, with a password: every
 *   accepted one costs the server a scrypt) and hold their room; a refused socket is closed and
 *   the worker starts over with a new connection (32 in flight), up to `roomMax` rooms. Rate:
 *   room:create written per second. Throttled: the first refused create (its send time) or
 *   connection.
 *
 * Limits of the attacker itself (ports, file descriptors) are counted apart and never taken for
 * the server's refusals.
 */
import type { AttackPlan } from './ipc.ts';
import { ATTACKER_ADDRESS } from './ipc.ts';
import { ACK_TIMEOUT_MS, Clock, Counts, First, ackCode, connectAs, refusalReason, round, type Attack, type AttackOutcome } from './common.ts';
import { sleep, type RawSocket } from './raw.ts';

const CONN_CONCURRENCY = 200;
const ROOM_CONCURRENCY = 32;

export function connFlood(plan: AttackPlan): Attack {
  const clock = new Clock();
  const held = new Set<RawSocket>();
  const refused = new Counts();
  const local = new Counts();
  const closeCodes = new Counts();
  const firstRefused = new First();
  const firstCut = new First();
  let attempts = 0;
  let connected = 0;
  let cuts = 0;
  let maxHeld = 0;
  let capReachedAt: number | undefined;
  let running = false;
  let stopped = false;

  async function worker(): Promise<void> {
    while (running) {
      if (held.size >= plan.connMax) {
        capReachedAt ??= clock.now();
        await sleep(50);
        continue;
      }
      attempts++;
      const t = clock.now();
      try {
        const s = await connectAs(plan, ATTACKER_ADDRESS);
        if (!running) {
          s.close();
          return;
        }
        connected++;
        held.add(s);
        maxHeld = Math.max(maxHeld, held.size);
        s.onClose = () => {
          held.delete(s);
          if (s.closedByUs || stopped) return;
          cuts++;
          const how = s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`;
          closeCodes.add(how);
          firstCut.mark(clock.of(s.closedAt!), `held connection cut (${how})`);
        };
      } catch (err) {
        const r = refusalReason(err);
        if (r.local) {
          local.add(r.reason);
          await sleep(20);
        } else if (running) {
          refused.add(r.reason);
          firstRefused.mark(t, `connection refused (${r.reason})`);
        }
      }
    }
  }

  return {
    async prepare() {},

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      running = true;
      const workers = Array.from({ length: CONN_CONCURRENCY }, worker);
      await sleep(durationMs);
      running = false;
      const heldAtEnd = held.size;
      stopped = true;
      for (const s of held) s.close();
      await Promise.all(workers);
      await sleep(drainMs);
      const first = [firstRefused, firstCut].filter((f) => f.at !== undefined).sort((a, b) => a.at! - b.at!)[0];
      const seconds = durationMs / 1000;
      return {
        rate: { value: round(connected / seconds), unit: 'conn/s', also: `${round(attempts / seconds)} tries/s` },
        throttledAfterMs: first ? round(first.at!, 1) : null,
        throttleSignal: first ? first.what : `never (${heldAtEnd} connections held at the end)`,
        cuts,
        details: { attempts, connected, heldAtEnd, maxHeld, capReachedAtMs: capReachedAt ?? null, refused: refused.by, attackerLimits: local.by, closeCodes: closeCodes.by },
        notes: [
          `${attempts} attempts, ${connected} connected, ${heldAtEnd} held at the end (cap ${plan.connMax}${capReachedAt !== undefined ? `, reached at ${round(capReachedAt)} ms` : ''})` +
            `, refused ${JSON.stringify(refused.by)}, cut ${cuts}` +
            (local.total ? `, attacker's own limits ${JSON.stringify(local.by)}` : ''),
        ],
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const s of held) s.close();
    },
  };
}

export function roomFlood(plan: AttackPlan): Attack {
  const clock = new Clock();
  const held = new Set<RawSocket>();
  const codes = new Counts();
  const connRefused = new Counts();
  const local = new Counts();
  const firstRefused = new First();
  const firstCut = new First();
  let created = 0;
  let createsWritten = 0;
  let connects = 0;
  let cuts = 0;
  let running = false;
  let stopped = false;
  let n = 0;

  async function worker(): Promise<void> {
    while (running && created < plan.roomMax) {
      let s: RawSocket;
      const t = clock.now();
      try {
        s = await connectAs(plan, ATTACKER_ADDRESS);
        connects++;
      } catch (err) {
        const r = refusalReason(err);
        if (r.local) {
          local.add(r.reason);
          await sleep(20);
        } else if (running) {
          connRefused.add(r.reason);
          firstRefused.mark(t, `connection refused (${r.reason})`);
        }
        continue;
      }
      if (!running) {
        s.close();
        return;
      }
      const i = n++;
      const sentAt = clock.now();
      const code = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('no ack'), ACK_TIMEOUT_MS);
        s.request(
          'room:create',
          { name: `flood ${i}`, description: 'room flood', isPublic: true, password: `pw-${i}`, userName: `flooder-${i}` },
          (args) => {
            clearTimeout(timer);
            resolve(ackCode(args));
          },
          (ok) => {
            if (ok && running) createsWritten++;
          },
        );
      });
      if (code === '') {
        created++;
        held.add(s);
        s.onClose = () => {
          held.delete(s);
          if (s.closedByUs || stopped) return;
          cuts++;
          firstCut.mark(clock.of(s.closedAt!), `room owner cut (${s.serverDisconnect ? 'io server disconnect' : `close ${s.closeCode}`})`);
        };
      } else {
        codes.add(code);
        if (running) firstRefused.mark(sentAt, `room:create refused (${code})`);
        s.close();
      }
    }
  }

  return {
    async prepare() {},

    async run(startAt, durationMs, drainMs): Promise<AttackOutcome> {
      await clock.startAt(startAt);
      running = true;
      const workers = Array.from({ length: ROOM_CONCURRENCY }, worker);
      await sleep(durationMs);
      running = false;
      const heldAtEnd = held.size;
      await Promise.race([Promise.all(workers), sleep(ACK_TIMEOUT_MS)]);
      stopped = true;
      for (const s of held) s.close();
      await sleep(drainMs);
      const first = [firstRefused, firstCut].filter((f) => f.at !== undefined).sort((a, b) => a.at! - b.at!)[0];
      const seconds = durationMs / 1000;
      return {
        rate: { value: round(createsWritten / seconds), unit: 'create/s', also: `${round((connects + connRefused.total) / seconds)} conn tries/s` },
        throttledAfterMs: first ? round(first.at!, 1) : null,
        throttleSignal: first ? first.what : `never (${created} rooms created)`,
        cuts,
        details: { createsWritten, created, heldAtEnd, connects, refusedCreates: codes.by, refusedConnects: connRefused.by, attackerLimits: local.by },
        notes: [
          `${createsWritten} room:create written over ${connects} connections: ${created} rooms created (cap ${plan.roomMax}), refused ${JSON.stringify(codes.by)}` +
            (connRefused.total ? `, connections refused ${JSON.stringify(connRefused.by)}` : '') +
            (cuts ? `, ${cuts} owners cut` : ''),
        ],
      };
    },

    close() {
      stopped = true;
      running = false;
      for (const s of held) s.close();
    },
  };
}
