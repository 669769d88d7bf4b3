/**
 * MoonTVPlus's traffic for the rooms of one generator (PROTOCOL §1.5, §5, §8), every rate
 * multiplied by the measurement's `rate`: every socket sends `heartbeat` every 5 s (always, as
 * the client does, in or out of a measurement); owners send a full `play:update` every 5 s;
 * everyone chats about every 30 s; members seek about every 2 min and pause about every 5 min;
 * speakers send an 8192-byte `voice:audio-chunk` every 256 ms. Random gaps are exponential (a
 * Poisson process), periodic ones start at a random phase, so sends never come in lockstep.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchSocket } from './bench-socket.ts';
import type { BenchEvent, MeasurePlan, MeasureResult } from './ipc.ts';
import { Meter, nowMs } from './meter.ts';
import { chatText, playState, readAudioStamp, readChat, readPlayStamp, readSeek, seekValue, type AudioChunk } from './payloads.ts';

export const PERIOD_MS = {
  heartbeat: 5_000,
  playUpdate: 5_000,
  chat: 30_000,
  seek: 120_000,
  pause: 300_000,
  audio: 256,
} as const;

export interface Member {
  sock: BenchSocket;
  room: Room;
  isOwner: boolean;
  alive: boolean;
  audio?: AudioChunk;
}

export interface Room {
  /** Global index in the run. */
  index: number;
  id: string;
  members: Member[];
}

/** mulberry32: a seeded generator, so two runs with the same options send the same schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Traffic {
  private meter: Meter | undefined;
  /** Bumped by every measurement's end: timer chains of an older one stop at their next turn. */
  private generation = 0;
  private rate = 1;
  private seq = 0;

  /** `rooms` is filled in by the setup as rooms come up; measurements use what it holds then. */
  constructor(
    private readonly rooms: readonly Room[],
    private readonly runEpoch: number,
    private readonly random: () => number,
  ) {}

  /** Wires receipts and drops of a socket that is now in its room. */
  attach(m: Member): void {
    m.sock.onEvent = (event, data) => this.receive(m, event, data);
    m.sock.onClose = () => {
      m.alive = false;
      this.meter?.disconnect();
    };
  }

  /** Heartbeats for the whole life of the socket (§1.5), at the current measurement's rate. */
  startHeartbeat(sock: BenchSocket): void {
    const beat = () => {
      if (!sock.connected) return;
      sock.emit('heartbeat');
      this.meter?.heartbeat(nowMs());
      setTimeout(beat, PERIOD_MS.heartbeat / this.rate).unref();
    };
    setTimeout(beat, this.random() * PERIOD_MS.heartbeat).unref();
  }

  /** Runs one measurement and resolves with its counts once the drain is over. */
  async measure(plan: MeasurePlan): Promise<MeasureResult> {
    await sleep(plan.startAt - Date.now());
    const windowStart = plan.startAt + plan.warmupMs;
    const windowEnd = windowStart + plan.durationMs;
    const meter = new Meter(windowStart, windowEnd);
    this.meter = meter;
    this.rate = plan.rate;
    const gen = this.generation;
    for (const room of this.rooms) {
      for (const m of room.members) {
        if (m.isOwner) this.periodic(gen, PERIOD_MS.playUpdate, () => this.playUpdate(m));
        else {
          this.poisson(gen, PERIOD_MS.seek, () => this.seek(m));
          this.poisson(gen, PERIOD_MS.pause, () => this.pause(m, meter));
        }
        this.poisson(gen, PERIOD_MS.chat, () => this.chat(m));
        if (m.audio) this.periodic(gen, PERIOD_MS.audio, () => this.speak(m));
      }
    }
    const loop = monitorEventLoopDelay({ resolution: 10 });
    await sleep(windowStart - Date.now());
    loop.enable();
    await sleep(windowEnd - Date.now());
    loop.disable();
    // The histogram holds intervals of its 10 ms timer; lateness is the excess.
    const late = (ns: number) => Math.max(0, Math.round((ns / 1e6 - 10) * 100) / 100);
    const generatorLoop = { p99: late(loop.percentile(99)), max: late(loop.max) };
    await sleep(windowEnd + plan.drainMs - Date.now());
    this.generation++;
    this.rate = 1;
    this.meter = undefined;
    return meter.close(generatorLoop);
  }

  private periodic(gen: number, periodMs: number, fire: () => void): void {
    const every = periodMs / this.rate;
    const tick = () => {
      if (gen !== this.generation) return;
      fire();
      setTimeout(tick, every).unref();
    };
    setTimeout(tick, this.random() * every).unref();
  }

  private poisson(gen: number, meanMs: number, fire: () => void): void {
    const mean = meanMs / this.rate;
    const next = () => setTimeout(tick, -Math.log(1 - this.random()) * mean).unref();
    const tick = () => {
      if (gen !== this.generation) return;
      fire();
      next();
    };
    next();
  }

  /** Live recipients of an event from `m`: the others, or everyone with `self`. */
  private count(m: Member, event: BenchEvent, t: number, self: boolean): void {
    let n = 0;
    let real = 0;
    for (const r of m.room.members) {
      if (!r.alive || (r === m && !self)) continue;
      n++;
      if (r.sock.kind === 'real') real++;
    }
    this.meter?.sent(event, t, n, real);
  }

  private playUpdate(m: Member): void {
    if (!m.alive) return;
    const t = nowMs();
    m.sock.emit('play:update', playState({ t, seq: this.seq++, from: m.room.index }, (t - this.runEpoch) / 1000));
    this.count(m, 'play:update', t, false);
  }

  private chat(m: Member): void {
    if (!m.alive) return;
    const t = nowMs();
    m.sock.emit('chat:message', { content: chatText(t, m.room.index), type: 'text' });
    this.count(m, 'chat:message', t, true);
  }

  private seek(m: Member): void {
    if (!m.alive) return;
    const t = nowMs();
    m.sock.emit('play:seek', seekValue(t, this.runEpoch));
    this.count(m, 'play:seek', t, false);
  }

  /** Pauses carry no payload, so no stamp: they are sent inside the window only, and all count. */
  private pause(m: Member, meter: Meter): void {
    const t = nowMs();
    if (!m.alive || !meter.inWindow(t)) return;
    m.sock.emit('play:pause');
    this.count(m, 'play:pause', t, false);
  }

  private speak(m: Member): void {
    if (!m.alive || !m.audio) return;
    const t = nowMs();
    m.sock.emitJson('voice:audio-chunk', m.audio.json(t, this.runEpoch));
    this.count(m, 'voice:audio-chunk', t, false);
  }

  private receive(m: Member, event: string, data: unknown): void {
    const meter = this.meter;
    if (!meter) return;
    const now = nowMs();
    const real = m.sock.kind === 'real';
    switch (event) {
      case 'play:update': {
        const s = readPlayStamp(data);
        if (!s) return meter.other('play:update (no stamp)');
        if (s.from !== m.room.index) meter.misroute();
        return meter.delivered('play:update', s.t, now, real);
      }
      case 'chat:message': {
        const c = readChat(data);
        if (!c) return meter.other('chat:message (no stamp)');
        if (c.room !== m.room.index) meter.misroute();
        return meter.delivered('chat:message', c.t, now, real);
      }
      case 'play:seek': {
        const t = readSeek(data, this.runEpoch);
        return Number.isNaN(t) ? meter.other('play:seek (no stamp)') : meter.delivered('play:seek', t, now, real);
      }
      case 'play:pause':
        return meter.delivered('play:pause', Number.NaN, now, real);
      case 'voice:audio-chunk': {
        const t = readAudioStamp(data, this.runEpoch);
        return Number.isNaN(t) ? meter.other('voice:audio-chunk (no stamp)') : meter.delivered('voice:audio-chunk', t, now, real);
      }
      case 'heartbeat:pong':
        return meter.pong(now);
      case 'room:member-joined':
        return; // late joins of the setup phase
      default:
        return meter.other(event);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
