/**
 * The wire: every client payload's schema (zod) and the types inferred from them (PROTOCOL §3, §5).
 * Rules applied everywhere (§5): `null` counts as absent for optional fields; fields a schema does
 * not know are kept and relayed (`looseObject`) inside a per-event size cap; numbers are finite;
 * strings are bounded. The value that passes is what is stored and relayed, never the raw input.
 */
import { z } from 'zod';
import type { RawPcm } from './raw-pcm.ts';

/** Optional field where `null` means absent (§5). */
export const opt = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === null ? undefined : v), schema.optional());

const str = (max: number) => z.string().max(max);
const finiteNonNeg = z.number().min(0);
/** Ids that some upstream APIs hand out as numbers (music platforms, live sources). */
const idLike = z.union([str(512), z.number()]);

/** Room id as typed by people: any case, trimmed, upper-cased (§3). */
export const roomIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .transform((s) => s.toUpperCase());

const userName = z.string().trim().min(1).max(64);

export const roomCreateSchema = z.object({
  name: z.string().trim().min(1).max(100),
  description: opt(str(500)).transform((v) => v ?? ''),
  password: opt(str(64)).transform((v) => (v ? v : undefined)),
  isPublic: opt(z.boolean()).transform((v) => v ?? true),
  roomType: opt(z.enum(['sync', 'screen', 'music'])).transform((v) => v ?? 'sync'),
  userName,
  /** Native extension: the room's playback-control policy (README "Protocol extensions"). */
  playbackControl: opt(z.enum(['shared', 'owner'])),
});
export type RoomCreatePayload = z.infer<typeof roomCreateSchema>;

export const roomJoinSchema = z.object({
  roomId: roomIdSchema,
  password: opt(str(64)),
  userName,
  ownerToken: opt(str(128)),
});
export type RoomJoinPayload = z.infer<typeof roomJoinSchema>;

export const helperRegisterSchema = z.object({
  roomId: roomIdSchema,
  ownerToken: z.string().min(1).max(128),
});
export type HelperRegisterPayload = z.infer<typeof helperRegisterSchema>;

export const playStateSchema = z.looseObject({
  type: z.literal('play'),
  url: str(8192),
  currentTime: finiteNonNeg,
  isPlaying: z.boolean(),
  videoId: idLike,
  videoName: str(512),
  videoYear: opt(idLike),
  searchTitle: opt(str(512)),
  episode: opt(finiteNonNeg),
  source: str(256),
});
export type PlayState = z.infer<typeof playStateSchema>;

export const liveStateSchema = z.looseObject({
  type: z.literal('live'),
  channelId: idLike,
  channelName: str(512),
  channelUrl: str(8192),
});
export type LiveState = z.infer<typeof liveStateSchema>;

export const screenStateSchema = z.looseObject({
  type: z.literal('screen'),
  status: z.enum(['idle', 'sharing']),
  ownerName: str(128),
  hasAudio: opt(z.boolean()),
  startedAt: opt(z.number()),
});
export type ScreenState = z.infer<typeof screenStateSchema>;

const musicItemSchema = z.looseObject({
  id: idLike,
  name: str(512),
  artist: str(512),
  album: opt(str(512)),
  pic: opt(str(8192)),
  platform: str(64),
  songmid: opt(idLike),
  duration: opt(finiteNonNeg),
  durationText: opt(str(32)),
});

export const musicStateSchema = z.looseObject({
  type: z.literal('music'),
  song: musicItemSchema,
  nextSong: z.preprocess((v) => v ?? null, musicItemSchema.nullable()),
  currentTime: finiteNonNeg,
  isPlaying: z.boolean(),
  quality: str(32),
  playMode: z.enum(['loop', 'single', 'random']),
  updatedAt: z.number(),
});
export type MusicSyncState = z.infer<typeof musicStateSchema>;

export type CurrentState = PlayState | LiveState | ScreenState | MusicSyncState;

export const seekSchema = finiteNonNeg;

export const chatSchema = (maxLength: number) =>
  z.object({
    content: z
      .string()
      .max(maxLength)
      .refine((s) => s.trim().length > 0, 'empty message'),
    type: opt(z.enum(['text', 'emoji'])).transform((v) => v ?? 'text'),
  });
export type ChatPayload = z.infer<ReturnType<typeof chatSchema>>;

/** An RTC session description or candidate: any JSON object (size-capped by the event). */
const jsonObject = z.record(z.string(), z.unknown());
const targetUserId = z.string().min(1).max(64);

export const offerSchema = z.looseObject({ targetUserId, offer: jsonObject });
export const answerSchema = z.looseObject({ targetUserId, answer: jsonObject });
export const iceSchema = z.looseObject({ targetUserId, candidate: jsonObject.nullable() });
export type SignalPayload = { targetUserId: string } & Record<string, unknown>;

export interface AudioChunk {
  /** Checked byte values; as the text they came in when the frame took the fast path (raw-pcm.ts). */
  audioData: number[] | RawPcm;
  sampleRate: number;
}
