/**
 * The Socket.IO parser with a guard in front of its decoder (issue 5). Every frame a client sends
 * is JSON-parsed before any handler or rate limit can look at it, and JSON.parse of 60 KB of
 * nested arrays or of an object with thousands of keys costs 3-4 ms (flat JSON: 0.2 ms). So each
 * connection's decoder spends from a byte budget (`RATE_INBOUND_BYTES`, well above the real
 * client's few audio streams), which bounds the parsing an abuser can cause; a connection past it
 * is cut before the frame is parsed. A frame nested or separated past anything the server accepts
 * is refused before it is parsed as well (structure.ts), so the budget's bytes cost a flat parse at
 * most.
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
import { MAX_DEPTH } from './sanitize.ts';
import { shapeWithinLimits } from './structure.ts';

// The CommonJS build, the one socket.io itself loads: under Node, the package's ESM entry is its
// debug build (a `debug` call per packet), and one copy of the parser is enough.
const { Decoder: BaseDecoder, Encoder: BaseEncoder } = createRequire(import.meta.url)('socket.io-parser') as typeof SocketIoParser;

/**
 * A Socket.IO EVENT packet up to its payload: type 2, namespace, ack id, the event name, a comma
 * (socket.io-parser's encoding; the name is at most 128 characters, the rest is not looked at).
 */
const EVENT_HEAD = /^2(?:\/[^,]{0,128},)?\d{0,15}\[\s*"(?:[^"\\]|\\.){0,128}"\s*,/;
/** One level deeper than sanitize.ts accepts (MAX_DEPTH): refused by it as the original would be. */
const TOO_DEEP = `${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}`;

export class WireError extends Error {
  override name = 'WireError';
  constructor(readonly violation: 'inbound_bytes' | 'frame_shape') {
    super(violation === 'inbound_bytes' ? 'inbound byte budget exceeded' : 'frame nested or separated past any accepted payload');
  }
}

/** A frame's or packet's length: characters of a string, bytes of binary data. */
export function byteLength(obj: unknown): number {
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
      if (!this.budget.takeN(byteLength(obj), Date.now())) throw new WireError('inbound_bytes');
      // Audio as the client writes it skips JSON.parse of its array (raw-pcm.ts); not in the
      // middle of a binary packet, where the stock decoder refuses text.
      if (typeof obj === 'string' && !(this as unknown as { reconstructor: unknown }).reconstructor) {
        const audio = decodeAudioFrame(obj, maxAudioBytes);
        if (audio) {
          this.emitReserved('decoded', audio);
          return;
        }
        // What sanitize.ts would refuse after the parse is refused before it (structure.ts): the
        // event goes on with a small payload that sanitize refuses the same way, so that the
        // sender gets the same answer (an ack `invalid_payload`; audio dropped, §5.18) without
        // the parse. A frame whose head is not an event's is cut.
        if (!shapeWithinLimits(obj)) {
          const head = EVENT_HEAD.exec(obj);
          if (!head) throw new WireError('frame_shape');
          super.add(`${head[0]}${TOO_DEEP}]`);
          return;
        }
      }
      super.add(obj);
    }
  }
  return { Encoder, Decoder: GuardedDecoder };
}
