/**
 * Relayed audio kept as text (PROTOCOL §5.18, issue 4): the fast decoder takes exactly the frames
 * the client writes and nothing else, and the encoder's output is the stock encoder's, byte for byte.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type * as SocketIoParser from 'socket.io-parser';
import { loadConfig } from '../../src/config/config.ts';
import { buildEventTable } from '../../src/gateway/events.ts';
import type { RoomService } from '../../src/service/room-service.ts';
import { guardedParser } from '../../src/wire/parser.ts';
import { decodeAudioFrame, encodeAudioPacket, isPcmList, RawPcm } from '../../src/wire/raw-pcm.ts';

const { Encoder: StockEncoder } = createRequire(import.meta.url)('socket.io-parser') as typeof SocketIoParser;
const stock = new StockEncoder();
const EVENT = 'voice:audio-chunk';

/** What socket.io-client writes for an emit (Engine.IO's leading `4` already stripped). */
const clientFrame = (payload: unknown) => stock.encode({ type: 2, nsp: '/', data: [EVENT, payload] })[0] as string;

const bytes = (n: number) => Array.from({ length: n }, (_, i) => (i * 37) % 256);

describe('isPcmList', () => {
  const ok = (body: string, max = 16384) => isPcmList(`[${body}]`, 1, body.length + 1, max);
  it('takes an even, non-empty list of integers 0-255 written as JSON.stringify writes them', () => {
    assert.equal(ok('0,0'), true);
    assert.equal(ok('0,1,9,10,99,100,199,200,249,255'), true);
    assert.equal(ok(bytes(8192).join(',')), true);
    assert.equal(ok(bytes(16384).join(',')), true);
  });
  it('counts against the cap only where the text could hold more than it', () => {
    assert.equal(ok(bytes(16386).join(',')), false);
    assert.equal(ok(bytes(64).join(','), 64), true);
    assert.equal(ok(bytes(66).join(','), 64), false);
    assert.equal(ok(Array(66).fill(0).join(','), 64), false); // short values: 131 characters for 66
    assert.equal(ok(Array(64).fill(0).join(','), 64), true);
  });
  it('refuses anything else', () => {
    for (const body of ['', '1', '1,2,3', '256,1', '1000,1', '01,1', '00,1', '-1,1', '1.5,1', '1e2,1', '1,2,', ',1,2', '1,,2', ' 1,2', '1 ,2', '"1",2', 'null,1', 'true,1', '[1],2']) {
      assert.equal(ok(body), false, body);
    }
  });
});

describe('decodeAudioFrame', () => {
  it('takes the client frame: the array as text, the other fields parsed, in any key order', () => {
    const audioData = bytes(8192);
    for (const payload of [
      { roomId: 'ABC123', audioData, sampleRate: 16000 },
      { audioData, roomId: 'ABC123' },
      { sampleRate: 48000, audioData },
      { roomId: 'with "quotes" and \\"audioData\\":[1,2] inside', audioData },
    ]) {
      const packet = decodeAudioFrame(clientFrame(payload), 16384);
      assert.ok(packet, JSON.stringify(Object.keys(payload)));
      assert.equal(packet.type, 2);
      assert.equal(packet.nsp, '/');
      assert.equal(packet.data[0], EVENT);
      const got = packet.data[1] as Record<string, unknown>;
      assert.ok(got.audioData instanceof RawPcm);
      assert.deepEqual(JSON.parse(got.audioData.json), audioData);
      assert.deepEqual({ ...got, audioData: got.audioData.toJSON() }, payload);
    }
  });

  it('leaves every other frame to the stock decoder', () => {
    const ok = clientFrame({ roomId: 'r', audioData: [1, 2], sampleRate: 16000 });
    const frames = [
      ok.replace('[1,2]', '[1, 2]'), // spaces
      ok.replace('[1,2]', '[1,256]'),
      ok.replace('[1,2]', '[1,02]'),
      ok.replace('[1,2]', '[]'),
      ok.replace('[1,2]', '[1,2,3]'), // odd
      clientFrame({ roomId: 'r', audioData: bytes(16386) }), // over the cap
      ok.replace('[1,2]', '[1.5,2]'),
      ok.replace('[1,2]', '[[1],2]'),
      ok.replace('"audioData":[1,2]', '"audioData":[1,2],"audioData":[3,4]'), // a later key wins in JSON.parse
      clientFrame({ roomId: 'r', nested: { audioData: [1, 2] } }),
      clientFrame({ roomId: 'r', audioData: 'text' }),
      `21${ok.slice(1)}`, // with an ack id
      `2/admin,${ok.slice(1)}`, // another namespace
      ok.replace(EVENT, 'chat:message'),
      `${ok.slice(0, -1)},"extra"]`, // a third argument
      ok.slice(0, -2), // cut short
      '2["voice:audio-chunk",{"audioData":[1,2]}', // not JSON
    ];
    for (const frame of frames) assert.equal(decodeAudioFrame(frame, 16384), undefined, frame.slice(0, 120));
  });
});

describe('decodeAudioFrame against the stock decoder, on mutated frames', () => {
  it('whatever it takes, the stock decoder reads the same; what it leaves, goes the generic way', () => {
    const { Decoder: StockDecoder } = createRequire(import.meta.url)('socket.io-parser') as typeof SocketIoParser;
    const stockDecode = (frame: string): unknown => {
      const d = new StockDecoder();
      let out: unknown;
      d.on('decoded', (p: unknown) => (out = p));
      try {
        d.add(frame);
      } catch {
        return undefined;
      }
      return out;
    };
    const alphabet = '0123456789,[]{}":-. aeilmnoprstuADRS\\';
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const base = clientFrame({ roomId: 'R1', audioData: [0, 1, 25, 255, 100, 9], sampleRate: 16000 });
    let taken = 0;
    for (let i = 0; i < 5000; i++) {
      const chars = [...base];
      for (let k = 0, edits = 1 + rand(3); k < edits; k++) {
        const at = rand(chars.length);
        const op = rand(3);
        const c = alphabet[rand(alphabet.length)]!;
        if (op === 0) chars[at] = c;
        else if (op === 1) chars.splice(at, 0, c);
        else chars.splice(at, 1);
      }
      const frame = chars.join('');
      const fast = decodeAudioFrame(frame, 16384);
      if (!fast) continue;
      taken++;
      const stock = stockDecode(frame) as { type: number; nsp: string; data: unknown[] } | undefined;
      assert.ok(stock, `taken by the fast path, refused by the stock decoder: ${frame}`);
      const payload = fast.data[1] as { audioData: RawPcm };
      const materialised = { ...fast, data: [fast.data[0], { ...payload, audioData: payload.audioData.toJSON() }] };
      assert.deepEqual(materialised, stock, frame);
      const bytes = payload.audioData.toJSON();
      assert.ok(bytes.length > 0 && bytes.length % 2 === 0 && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255), frame);
    }
    assert.ok(taken > 100, `${taken} mutated frames taken: the property was exercised`);
  });
});

describe('encodeAudioPacket', () => {
  it('writes what the stock encoder writes for the same array, byte for byte', () => {
    const audioData = bytes(8192);
    const raw = new RawPcm(JSON.stringify(audioData), 16384);
    for (const extra of [{}, { id: 12 }, { nsp: '/other' }]) {
      const mine = encodeAudioPacket({ type: 2, nsp: '/', ...extra, data: [EVENT, { userId: 'u"1', audioData: raw, sampleRate: 16000 }] });
      const theirs = stock.encode({ type: 2, nsp: '/', ...extra, data: [EVENT, { userId: 'u"1', audioData, sampleRate: 16000 }] });
      assert.deepEqual([mine], theirs);
    }
  });

  it('with an object beside the array (nothing the relay builds), the result is still the stock one', () => {
    const audioData = bytes(16);
    const raw = new RawPcm(JSON.stringify(audioData), 16384);
    const payload = (a: unknown) => ({ meta: { audioData: 0, note: '"audioData":0' }, audioData: a, sampleRate: 16000 });
    const parser = guardedParser({ perSecond: 1e9, burst: 1e9 }, 16384);
    assert.deepEqual(
      new parser.Encoder().encode({ type: 2, nsp: '/', data: [EVENT, payload(raw)] }),
      stock.encode({ type: 2, nsp: '/', data: [EVENT, payload(audioData)] }),
    );
  });

  it('leaves other packets to the stock encoder', () => {
    const raw = new RawPcm('[1,2]', 16384);
    assert.equal(encodeAudioPacket({ type: 2, nsp: '/', data: [EVENT, { userId: 'u', audioData: [1, 2] }] }), undefined);
    assert.equal(encodeAudioPacket({ type: 2, nsp: '/', data: ['chat:message', { audioData: raw }] }), undefined);
    assert.equal(encodeAudioPacket({ type: 3, nsp: '/', data: [EVENT, { audioData: raw }] }), undefined);
  });

  it('serialised anywhere else (the Redis adapter), a RawPcm is its array', () => {
    assert.equal(JSON.stringify({ a: new RawPcm('[1,2,255]', 16384) }), '{"a":[1,2,255]}');
  });
});

describe('guardedParser', () => {
  const parser = guardedParser({ perSecond: 1e9, burst: 1e9 }, 16384);

  it('decodes a client audio frame to a RawPcm, and relays it as the same bytes', () => {
    const decoder = new parser.Decoder();
    const decoded: { data: unknown[] }[] = [];
    decoder.on('decoded', (p) => void decoded.push(p as { data: unknown[] }));
    const audioData = bytes(64);
    decoder.add(clientFrame({ roomId: 'r', audioData, sampleRate: 16000 }));
    decoder.add(clientFrame({ roomId: 'r', audioData: [1, 300] })); // stock path, stock result
    assert.equal(decoded.length, 2);
    const fast = decoded[0]!.data[1] as { audioData: RawPcm };
    assert.ok(fast.audioData instanceof RawPcm);
    assert.deepEqual(decoded[1]!.data[1], { roomId: 'r', audioData: [1, 300] });
    const out = new parser.Encoder().encode({ type: 2, nsp: '/', data: [EVENT, { userId: 'u', audioData: fast.audioData, sampleRate: 16000 }] });
    assert.deepEqual(out, stock.encode({ type: 2, nsp: '/', data: [EVENT, { userId: 'u', audioData, sampleRate: 16000 }] }));
  });
});

describe('the voice:audio-chunk handler and a RawPcm', () => {
  it('takes one checked against its own cap or a smaller one, not against a larger one', () => {
    const config = loadConfig({ MAX_AUDIO_CHUNK_BYTES: '8192' });
    const parse = buildEventTable({} as RoomService, config)['voice:audio-chunk']!.parse;
    assert.equal(parse({ audioData: new RawPcm('[1,2]', 8192) }).ok, true);
    assert.equal(parse({ audioData: new RawPcm('[1,2]', 4096) }).ok, true);
    assert.equal(parse({ audioData: new RawPcm('[1,2]', 16384) }).ok, false);
  });
});
