/**
 * Every client event of PROTOCOL §5: its rate class, its payload parser, its ack shape, and the
 * service call it makes. The wrapper in handler.ts applies them uniformly.
 */
import type { ZodType } from 'zod';
import type { Config } from '../config/config.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { audioChunk, chat, signal, viewerReady, type SignalEvent } from '../domain/room-relay.ts';
import {
  clearState,
  musicEvent,
  screenStart,
  screenStop,
  seek,
  setPlaybackState,
  setPlaying,
  type MusicEvent,
} from '../domain/room-playback.ts';
import type { RoomService } from '../service/room-service.ts';
import { isPcmBytes } from '../wire/sanitize.ts';
import {
  answerSchema,
  chatSchema,
  helperRegisterSchema,
  iceSchema,
  liveStateSchema,
  musicStateSchema,
  offerSchema,
  playStateSchema,
  roomCreateSchema,
  roomJoinSchema,
  screenStateSchema,
  seekSchema,
  type AudioChunk,
  type SignalPayload,
} from '../wire/schemas.ts';
import { fromSchema, noPayload, simpleFailAck, type EventSpec, type Parsed } from './handler.ts';
import { emitDirect } from './direct-emit.ts';
import { RawPcm } from '../wire/raw-pcm.ts';

/** `state:clear` keeps the English strings of the servers in use (§5.19). */
const STATE_CLEAR_ERRORS: Partial<Record<ErrorCode, string>> = {
  not_in_room: 'Not in a room',
  not_owner: 'Not owner',
  room_not_found: 'Room not found',
};

/** Types one table entry from its parser, then stores it type-erased in the table. */
function on<P>(parse: (raw: unknown) => Parsed<P>, spec: Omit<EventSpec<P>, 'parse'>): EventSpec<unknown> {
  return { ...spec, parse } as EventSpec<unknown>;
}

/** §5.18: checked in one pass without copying the 8192-element array through a generic schema. */
function parseAudio(maxBytes: number) {
  return (raw: unknown): Parsed<AudioChunk> => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false };
    const { audioData, sampleRate } = raw as Record<string, unknown>;
    // A RawPcm was checked by the decoder (raw-pcm.ts); only its cap is compared here.
    if (audioData instanceof RawPcm) {
      if (audioData.maxBytes > maxBytes) return { ok: false };
    } else if (!isPcmBytes(audioData, maxBytes)) return { ok: false };
    let rate = 16000;
    if (sampleRate !== undefined && sampleRate !== null) {
      if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate < 3000 || sampleRate > 192000) {
        return { ok: false };
      }
      rate = sampleRate;
    }
    // The array was just built by the packet decoder and every element has been checked: it is
    // relayed as is (copying 8192 numbers per chunk is measurable at hundreds of speakers).
    // Its size (JSON; at most 4 characters a value for an array) is what its relay costs.
    const size = audioData instanceof RawPcm ? audioData.json.length : audioData.length * 4;
    return { ok: true, value: { audioData, sampleRate: rate }, size };
  };
}

export type EventTable = Record<string, EventSpec<unknown>>;

export function buildEventTable(service: RoomService, config: Config): EventTable {
  const { limits } = config;
  const state = <S extends ZodType>(schema: S) => fromSchema(schema, limits.maxStateBytes);

  const table: EventTable = {
    'room:create': on(fromSchema(roomCreateSchema, 4096), {
      rate: 'room',
      failAck: simpleFailAck,
      run: (actor, p) => service.create(actor, p),
    }),
    'room:join': on(fromSchema(roomJoinSchema, 4096), {
      rate: 'room',
      failAck: simpleFailAck,
      run: (actor, p) => service.join(actor, p),
    }),
    'room:leave': on(noPayload, {
      rate: 'room',
      run: (actor) => service.leave(actor),
    }),
    'room:list': on(noPayload, {
      rate: 'room',
      failAck: () => [],
      run: async () => ({ ok: true, effects: [], ack: await service.list() }),
    }),
    'heartbeat': on(noPayload, {
      rate: 'heartbeat',
      run: async (actor, _p, socket) => {
        // §1.5: the sender always gets a pong, in a room or not.
        const now = Date.now();
        // Straight to this socket's connection: `socket.emit` would keep every pong (3,600 a second
        // at 18,000 sockets) in the recovery buffer, and a broadcast costs far more (issue 4).
        emitDirect(socket, 'heartbeat:pong', { timestamp: now });
        // §5.20: refresh lastHeartbeat, but write it at most every heartbeatRefreshMs: nothing
        // depends on it to the second (presence is the connection, §8), and every write is a
        // store round trip (issue 4).
        if (actor.roomId && now - (socket.data.heartbeatAt ?? 0) >= config.timers.heartbeatRefreshMs) {
          socket.data.heartbeatAt = now;
          await service.heartbeat(actor);
        }
        return { ok: true, effects: [] };
      },
    }),
    'screen:helper-register': on(fromSchema(helperRegisterSchema, 1024), {
      rate: 'room',
      failAck: simpleFailAck,
      run: (actor, p) => service.registerHelper(actor, p),
    }),
    'state:clear': on(noPayload, {
      rate: 'playback',
      failAck: (code) => ({ success: false, error: STATE_CLEAR_ERRORS[code] ?? simpleFailAck(code).error, code }),
      okAck: { success: true },
      run: (actor) => service.change(actor, (r, now) => clearState(r, actor.socketId, now)),
    }),

    'play:update': on(state(playStateSchema), {
      rate: 'playback',
      run: (actor, p) => service.change(actor, (r, now) => setPlaybackState(r, actor.socketId, 'play:update', p, now)),
    }),
    'play:change': on(state(playStateSchema), {
      rate: 'playback',
      run: (actor, p) => service.change(actor, (r, now) => setPlaybackState(r, actor.socketId, 'play:change', p, now)),
    }),
    'live:change': on(state(liveStateSchema), {
      rate: 'playback',
      run: (actor, p) => service.change(actor, (r, now) => setPlaybackState(r, actor.socketId, 'live:change', p, now)),
    }),
    'play:play': on(noPayload, {
      rate: 'playback',
      run: (actor) => service.change(actor, (r, now) => setPlaying(r, actor.socketId, true, now)),
    }),
    'play:pause': on(noPayload, {
      rate: 'playback',
      run: (actor) => service.change(actor, (r, now) => setPlaying(r, actor.socketId, false, now)),
    }),
    'play:seek': on(fromSchema(seekSchema, 64), {
      rate: 'playback',
      run: (actor, t) => service.change(actor, (r, now) => seek(r, actor.socketId, t, now)),
    }),
    'screen:start': on(state(screenStateSchema), {
      rate: 'playback',
      run: (actor, p) => service.change(actor, (r, now) => screenStart(r, actor.socketId, p, now), true),
    }),
    'screen:stop': on(noPayload, {
      rate: 'playback',
      run: (actor) => service.change(actor, (r, now) => screenStop(r, actor.socketId, now), true),
    }),
    'screen:viewer-ready': on(noPayload, {
      rate: 'signal',
      run: (actor) => service.relay(actor, (r) => viewerReady(r, actor.socketId)),
    }),
    'chat:message': on(fromSchema(chatSchema(limits.maxChatLength), limits.maxChatLength * 4 + 256), {
      rate: 'chat',
      run: (actor, p) => {
        const id = service.newMessageId();
        return service.relay(actor, (r, now) => chat(r, actor.socketId, p, id, now));
      },
    }),
    'voice:audio-chunk': on(parseAudio(limits.maxAudioChunkBytes), {
      rate: 'audio',
      run: (actor, p) => service.relay(actor, (r) => audioChunk(r, actor.socketId, p)),
    }),
  };

  const music: MusicEvent[] = ['music:change', 'music:update', 'music:play', 'music:pause', 'music:seek', 'music:queue'];
  for (const event of music) {
    table[event] = on(state(musicStateSchema), {
      rate: 'playback',
      run: (actor, p) => service.change(actor, (r, now) => musicEvent(r, actor.socketId, event, p, now)),
    });
  }

  const signals: [SignalEvent, ZodType<SignalPayload>][] = [
    ['voice:offer', offerSchema],
    ['voice:answer', answerSchema],
    ['voice:ice', iceSchema],
    ['screen:offer', offerSchema],
    ['screen:answer', answerSchema],
    ['screen:ice', iceSchema],
  ];
  for (const [event, schema] of signals) {
    table[event] = on(fromSchema(schema, limits.maxSignalBytes), {
      rate: 'signal',
      run: (actor, p) => service.relay(actor, (r) => signal(r, actor.socketId, event, p), event.startsWith('screen:')),
    });
  }
  return table;
}

