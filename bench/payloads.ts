/**
 * MoonTVPlus-shaped payloads with the bench's stamps hidden where the server relays them intact:
 * an extra `bench` field of the PlayState (unknown fields are relayed, PROTOCOL §5), the chat text,
 * the seek position (seconds since the run's epoch), and the first six bytes of the PCM audio.
 */
import { Skim } from './bench-socket.ts';

export interface PlayStamp {
  t: number;
  seq: number;
  /** Global room index of the sender, to catch deliveries into the wrong room. */
  from: number;
}

export function playState(stamp: PlayStamp, currentTime: number): Record<string, unknown> {
  return {
    type: 'play',
    url: 'https://media.example.com/vod/8h2k1/index.m3u8',
    currentTime,
    isPlaying: true,
    videoId: '8h2k1',
    videoName: 'Bench Movie',
    videoYear: '2024',
    searchTitle: 'Bench Movie',
    episode: 1,
    source: 'bench',
    bench: stamp,
  };
}

export function readPlayStamp(data: unknown): PlayStamp | undefined {
  const b = (data as { bench?: PlayStamp } | null)?.bench;
  return b && typeof b.t === 'number' ? b : undefined;
}

export const chatText = (t: number, room: number): string => `bench ${t} ${room} hello, is everyone in sync?`;

export function readChat(data: unknown): { t: number; room: number } | undefined {
  const content = (data as { content?: unknown } | null)?.content;
  if (typeof content !== 'string' || !content.startsWith('bench ')) return undefined;
  const [, t, room] = content.split(' ');
  return { t: Number(t), room: Number(room) };
}

/** A seek position that carries its send time: exact, since JSON round-trips doubles. */
export const seekValue = (t: number, runEpoch: number): number => (t - runEpoch) / 1000;
export const readSeek = (data: unknown, runEpoch: number): number =>
  typeof data === 'number' ? runEpoch + data * 1000 : Number.NaN;

const AUDIO_BYTES = 8192;
const STAMP_BYTES = 6;

/**
 * A speaker's chunk, prebuilt once: the client sends 8192 bytes (~28 KB of JSON) every 256 ms
 * (PROTOCOL §5.18), and serialising that per send would make the generator the bottleneck.
 */
export class AudioChunk {
  private readonly tail: string;

  constructor(
    private readonly roomId: string,
    random: () => number,
  ) {
    const bytes: number[] = [];
    for (let i = STAMP_BYTES; i < AUDIO_BYTES; i++) bytes.push(Math.floor(random() * 256));
    this.tail = bytes.join(',');
  }

  /** JSON of `{ roomId, audioData, sampleRate }` stamped with t (1/100 ms since the epoch, 48 bits). */
  json(t: number, runEpoch: number): string {
    let ticks = Math.max(0, Math.round((t - runEpoch) * 100));
    const head: number[] = [];
    for (let i = 0; i < STAMP_BYTES; i++) {
      head.unshift(ticks % 256);
      ticks = Math.floor(ticks / 256);
    }
    return `{"roomId":${JSON.stringify(this.roomId)},"audioData":[${head.join(',')},${this.tail}],"sampleRate":16000}`;
  }
}

/** The send time of a relayed chunk, from a parsed payload or a skimmed frame. */
export function readAudioStamp(data: unknown, runEpoch: number): number {
  let bytes: number[];
  if (data instanceof Skim) {
    const at = data.head.indexOf('"audioData":[');
    if (at < 0) return Number.NaN;
    bytes = data.head
      .slice(at + 13)
      .split(',', STAMP_BYTES)
      .map(Number);
  } else {
    const audio = (data as { audioData?: unknown } | null)?.audioData;
    if (!Array.isArray(audio)) return Number.NaN;
    bytes = audio.slice(0, STAMP_BYTES) as number[];
  }
  if (bytes.length < STAMP_BYTES || bytes.some((b) => !Number.isInteger(b))) return Number.NaN;
  const ticks = bytes.reduce((acc, b) => acc * 256 + b, 0);
  return runEpoch + ticks / 100;
}
