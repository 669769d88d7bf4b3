/**
 * Server-relay voice without parsing the audio (PROTOCOL §5.18, issue 4). A `voice:audio-chunk`
 * carries 8192 bytes as a JSON array of numbers, about 28 KB of text, every ~256 ms per speaker.
 * Parsing that array, checking it, and serialising it again for the room cost about 45 % of the
 * server's CPU at 500 speakers (JSON.parse 22 %, JSON.stringify 18 %, Socket.IO's binary check 5 %),
 * and the arrays fed the garbage collector.
 *
 * So the decoder recognises the frame as the client writes it (`JSON.stringify` output), checks the
 * array's text in one pass (an even number of integers 0-255, at most MAX_AUDIO_CHUNK_BYTES of
 * them, nothing else), and keeps it as text: a `RawPcm`. Only the few other fields are parsed. The
 * encoder writes that text back into the outgoing frame. The result is the frame the generic path
 * would produce, byte for byte (test/unit/raw-pcm.test.ts).
 * Anything else (spaces, other escapes, a second `audioData`, a bad byte) goes the generic way,
 * which parses, checks and refuses as before.
 */

/** The text of a checked JSON array of byte values (even, non-empty, at most `maxBytes` of them), e.g. `[0,255]`. */
export class RawPcm {
  #parsed: number[] | undefined;

  constructor(
    readonly json: string,
    /** The cap it was checked against, so that a handler with another cap can tell. */
    readonly maxBytes: number,
  ) {}

  /**
   * Anywhere it is serialised as JSON, the array itself: the Redis adapter's cross-instance
   * message (which calls it twice: its binary check, then JSON.stringify; parsed once).
   */
  toJSON(): number[] {
    return (this.#parsed ??= JSON.parse(this.json) as number[]);
  }
}

const EVENT = 'voice:audio-chunk';
/** Socket.IO's text encoding of an EVENT (type 2) on the main namespace, without an ack id. */
const FRAME_HEAD = `2["${EVENT}",{`;
const KEY = '"audioData":[';
/** 0-255 as JSON.stringify writes it (no sign, no leading zero, no exponent). */
const BYTE = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
/**
 * Pairs of byte values, then the closing `]`: an even, non-empty list (PCM16). Sticky, run from the
 * first value; about five times faster than a character loop over the 28 KB (12 vs 65 µs).
 */
const PCM_PAIRS = new RegExp(`${BYTE},${BYTE}(?:,${BYTE},${BYTE})*\\]`, 'y');

/**
 * True if `s[start, end)` (`s[end]` being `]`) is an even, non-empty list of byte values of at
 * most `maxBytes` elements, written without spaces.
 */
export function isPcmList(s: string, start: number, end: number, maxBytes: number): boolean {
  PCM_PAIRS.lastIndex = start;
  if (!PCM_PAIRS.test(s) || PCM_PAIRS.lastIndex !== end + 1) return false;
  // A value takes at least two characters with its comma: count only a text long enough to be over.
  if ((end - start + 1) / 2 <= maxBytes) return true;
  let values = 1;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) === 44 /* , */) values++;
  return values <= maxBytes;
}

interface EventPacket {
  type: number;
  nsp: string;
  data: unknown[];
}

/**
 * The decoded packet of a `voice:audio-chunk` frame written as the client writes it, with its
 * `audioData` as a RawPcm; undefined for any other frame, and for an array that is not a valid
 * chunk (the generic decoder takes them, and the handler refuses what is invalid).
 */
export function decodeAudioFrame(s: string, maxBytes: number): EventPacket | undefined {
  if (!s.startsWith(FRAME_HEAD)) return undefined;
  const key = s.indexOf(KEY, FRAME_HEAD.length - 1);
  if (key < 0) return undefined;
  const open = key + KEY.length - 1; // the array's `[`
  const close = s.indexOf(']', open);
  if (close < 0) return undefined;
  if (!isPcmList(s, open + 1, close, maxBytes)) return undefined;
  // The rest, with the array replaced by 0: small, and JSON.parse checks it as a whole.
  let data: unknown;
  try {
    data = JSON.parse(`${s.slice(1, open)}0${s.slice(close + 1)}`);
  } catch {
    return undefined;
  }
  if (!Array.isArray(data) || data.length !== 2 || data[0] !== EVENT) return undefined;
  const payload: unknown = data[1];
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const fields = payload as Record<string, unknown>;
  // The 0 must be the payload's own `audioData`, not a nested one, nor overridden by a later key.
  if (!Object.hasOwn(fields, 'audioData') || fields.audioData !== 0) return undefined;
  fields.audioData = new RawPcm(s.slice(open, close + 1), maxBytes);
  return { type: 2, nsp: '/', data };
}

/**
 * Socket.IO's encoding of an EVENT packet whose payload's `audioData` is a RawPcm and whose other
 * values are scalars (the relayed `{ userId, audioData, sampleRate }`); undefined otherwise, and
 * the stock encoder then serialises the RawPcm through its `toJSON`.
 */
export function encodeAudioPacket(packet: { type: number; nsp?: string; id?: number; data?: unknown }): string | undefined {
  if (packet.type !== 2 || !Array.isArray(packet.data) || packet.data.length !== 2 || packet.data[0] !== EVENT) return undefined;
  const payload: unknown = packet.data[1];
  if (typeof payload !== 'object' || payload === null) return undefined;
  const raw = (payload as { audioData?: unknown }).audioData;
  if (!(raw instanceof RawPcm)) return undefined;
  for (const [k, v] of Object.entries(payload)) if (k !== 'audioData' && typeof v === 'object' && v !== null) return undefined;
  // The same keys in the same order, the array as 0; then the 0 is swapped for the array's text.
  // Every other value is a scalar, and inside a JSON string a `"` is always escaped: the first
  // `"audioData":0` is the key itself.
  const json = JSON.stringify([EVENT, { ...payload, audioData: 0 }]);
  const at = json.indexOf('"audioData":0') + '"audioData":'.length;
  let head = '2';
  if (packet.nsp && packet.nsp !== '/') head += `${packet.nsp},`;
  if (packet.id !== undefined && packet.id !== null) head += String(packet.id);
  return head + json.slice(0, at) + raw.json + json.slice(at + 1);
}
