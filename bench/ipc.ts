/** Messages between the runner (orchestrate.ts) and its generator processes (generator.ts). */
import type { SparseHistogram } from './histogram.ts';

export interface GeneratorPlan {
  index: number;
  /** http://127.0.0.1:<port> of each server process; a room's sockets are spread over them. */
  targets: string[];
  token: string;
  /** This generator owns the rooms [firstRoom, firstRoom + rooms) of the run. */
  firstRoom: number;
  rooms: number;
  members: number;
  /** How many of its sockets are real socket.io-client sockets (one per room, from the first). */
  real: number;
  voiceSpeakers: number;
  localAddresses: string[];
  /** ms epoch: the seek and audio stamps are counted from it (their payloads have no room for more). */
  runEpoch: number;
  seed: number;
  connectConcurrency: number;
  connectTimeoutMs: number;
}

/** One measurement: warmup, window (counted), drain (late deliveries of the window still count). */
export interface MeasurePlan {
  rate: number;
  /** ms epoch at which traffic starts, the same for every generator. */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
}

export type ToGenerator = { type: 'setup'; plan: GeneratorPlan } | { type: 'measure'; plan: MeasurePlan } | { type: 'stop' };

export type FromGenerator =
  | { type: 'ready'; setup: SetupResult }
  | { type: 'result'; result: MeasureResult }
  | { type: 'error'; message: string };

export interface SetupResult {
  sockets: number;
  realSockets: number;
  failedConnects: number;
  failedJoins: number;
  /** Rooms whose owner created them (their members may still have failed to join). */
  rooms: number;
  connectMs: number;
  /** The first few failure messages, to tell a refused key from a port shortage. */
  errors: string[];
}

export interface EventCounts {
  sent: number;
  expected: number;
  delivered: number;
  latency: { buckets: SparseHistogram; max: number };
}

/** Events the traffic sends; audio is volatile and reported on its own. */
export const EVENTS = ['play:update', 'chat:message', 'play:seek', 'play:pause', 'voice:audio-chunk'] as const;
export type BenchEvent = (typeof EVENTS)[number];

export interface MeasureResult {
  events: Record<BenchEvent, EventCounts>;
  /** Expected and delivered at the real socket.io-client sockets only. */
  real: { expected: number; delivered: number };
  heartbeats: { sent: number; pongs: number };
  /** Deliveries that reached a member of another room than the sender's: must stay 0. */
  misrouted: number;
  /** Events nobody should have received during the run (e.g. room:deleted, state:cleared). */
  unexpected: Record<string, number>;
  /** Sockets that dropped during the measurement. */
  disconnects: number;
  /**
   * The generator's own event-loop lateness in the window (ms): when it is high, receipts are
   * stamped late and the latencies measure the generator, not the server.
   */
  generatorLoop: { p99: number; max: number };
}
