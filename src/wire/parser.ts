/**
 * The Socket.IO parser with a guard in front of its decoder (issue 5). Every frame a client sends
 * is JSON-parsed before any handler or rate limit can look at it, and JSON.parse of 60 KB of
 * nested arrays or of an object with thousands of keys costs 3-4 ms (flat JSON: 0.2 ms). So each
 * connection's decoder spends from a byte budget (`RATE_INBOUND_BYTES`, well above the real
 * client's few audio streams), which bounds the parsing an abuser can cause; a connection past it
 * is cut before the frame is parsed.
 *
 * A refusal throws, which Socket.IO answers by closing the connection and reporting the error on
 * the socket (`socket.on('error')`): the gateway counts and logs it there.
 *
 * Relayed audio takes a shorter way through both halves: its 28 KB array is checked as text and
 * written back as text, never parsed into 8192 numbers and serialised again (raw-pcm.ts, issue 4).
 */
import { createRequire } from 'node:module';
import type * as SocketIoParser from 'socket.io-parser';
import type { RateSpec } from '../config/config.ts';
import { TokenBucket } from '../gateway/rate-limit.ts';
import { decodeAudioFrame, encodeAudioPacket } from './raw-pcm.ts';

// The CommonJS build, the one socket.io itself loads: under Node, the package's ESM entry is its
// debug build (a `debug` call per packet), and one copy of the parser is enough.
const { Decoder: BaseDecoder, Encoder: BaseEncoder } = createRequire(import.meta.url)('socket.io-parser') as typeof SocketIoParser;

export class WireError extends Error {
  override name = 'WireError';
  readonly violation = 'inbound_bytes';
  constructor() {
    super('inbound byte budget exceeded');
  }
}

function byteLength(obj: unknown): number {
  if (typeof obj === 'string') return obj.length;
  if (obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)) return obj.byteLength;
  return 0;
}

type Packet = Parameters<SocketIoParser.Encoder['encode']>[0];

/** The stock encoder, except for relayed audio, whose array is written back as the text it came in (raw-pcm.ts). */
class Encoder extends BaseEncoder {
  override encode(packet: Packet): ReturnType<SocketIoParser.Encoder['encode']> {
    const audio = encodeAudioPacket(packet);
    return audio === undefined ? super.encode(packet) : [audio];
  }
}

/** Socket.IO's `parser` option: the encoder above, and a decoder with the guard above. */
export function guardedParser(inboundBytes: RateSpec, maxAudioBytes: number) {
  class GuardedDecoder extends BaseDecoder {
    private readonly budget = new TokenBucket(inboundBytes, Date.now());

    override add(obj: unknown): void {
      if (!this.budget.takeN(byteLength(obj), Date.now())) throw new WireError();
      // Audio as the client writes it skips JSON.parse of its array (raw-pcm.ts); not in the
      // middle of a binary packet, where the stock decoder refuses text.
      if (typeof obj === 'string' && !(this as unknown as { reconstructor: unknown }).reconstructor) {
        const audio = decodeAudioFrame(obj, maxAudioBytes);
        if (audio) {
          this.emitReserved('decoded', audio);
          return;
        }
      }
      super.add(obj);
    }
  }
  return { Encoder, Decoder: GuardedDecoder };
}
