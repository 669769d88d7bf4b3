/**
 * How much of what the server sent a WebSocket client has the client read? (Issue 5, slow readers.)
 *
 * The server cannot see it from Node: a client that stops reading leaves its kernel's receive
 * buffer and the server's send buffer to fill first (4 MB and more on Linux), and until they are
 * full every write completes at once. Only then does anything pile up in the server's memory,
 * seconds later at the rates one room can push, and only then did the first version of the guard
 * see it.
 *
 * Engine.IO's own heartbeat can tell: a client answers a ping only once it has read everything
 * sent before the ping. So once more than `probeBytes` (max / 8) went to a client since its last
 * confirmed read, the guard sends Engine.IO's ping early (the same ping, the same timeout: the client answers
 * it as any other, and Engine.IO's next scheduled ping moves on from the answer). The answer
 * confirms every byte sent before the ping. The bytes sent since the last confirmed ping are the
 * client's *unconfirmed* bytes: whatever sits in the server's memory, in both kernels and on the
 * network for it. This module is the judgement over those figures, free of sockets and timers.
 *
 * With `max` = MAX_BUFFERED_BYTES:
 * - past max / 8 unconfirmed, a probe is sent (at most one outstanding, none while Engine.IO's own
 *   ping awaits its answer);
 * - past max / 4, volatile traffic (relayed audio, §5.18) toward it is dropped: a client on a slow
 *   link gets the audio its link carries, a quarter MB behind at most, instead of minutes of it;
 * - past max / 2 with a probe unanswered for `graceMs`, it is cut. A reading client answers within
 *   its round trip plus the time it takes to read what was sent before the probe; what it is sent
 *   besides dropped audio (state, chat, signalling) comes to kilobytes a second, so half a megabyte
 *   unconfirmed for half a second is a reader that stopped. Never on the unconfirmed bytes alone:
 *   the members of a room can send a member more than max at once within their rate limits
 *   (signal bursts), and a member that reads it all at once must not be cut for being sent it.
 *   What the server itself holds for a socket is capped apart (write-guard.ts).
 */

export interface ReadLimits {
  /** MAX_BUFFERED_BYTES. */
  max: number;
  /** How long a probe may go unanswered before max / 2 unconfirmed bytes cut the client. */
  graceMs: number;
}

/** One WebSocket connection's reading, in bytes sent toward it since it opened. */
export class ReadState {
  /** Sent before the last answered probe: read by the client. */
  confirmed = 0;
  /** Sent before the outstanding probe; -1: none outstanding. */
  probeAt = -1;
  /** When the outstanding probe was sent (ms). */
  probeSince = 0;
}

/** Unconfirmed bytes past which a probe is sent (and a socket is worth watching). */
export function probeBytes(limits: ReadLimits): number {
  return limits.max / 8;
}

export type ReadVerdict = 'ok' | 'probe' | 'cut';

export interface ReadJudgement {
  verdict: ReadVerdict;
  unconfirmed: number;
  /** Volatile traffic toward it is to be dropped. */
  dropVolatile: boolean;
}

/**
 * Judges one connection at `now`, given the bytes sent toward it so far (`sent`) and whether a
 * ping (ours or Engine.IO's) still awaits its answer. Updates `state` for an answered probe and for
 * a probe it asks to send.
 */
export function judgeReads(state: ReadState, sent: number, pingOutstanding: boolean, now: number, limits: ReadLimits): ReadJudgement {
  if (state.probeAt >= 0 && !pingOutstanding) {
    state.confirmed = Math.max(state.confirmed, state.probeAt);
    state.probeAt = -1;
  }
  const unconfirmed = sent - state.confirmed;
  const dropVolatile = unconfirmed > limits.max / 4;
  if (state.probeAt >= 0) {
    const late = now - state.probeSince >= limits.graceMs && unconfirmed > limits.max / 2;
    return { verdict: late ? 'cut' : 'ok', unconfirmed, dropVolatile };
  }
  if (unconfirmed > probeBytes(limits) && !pingOutstanding) {
    state.probeAt = sent;
    state.probeSince = now;
    return { verdict: 'probe', unconfirmed, dropVolatile };
  }
  return { verdict: 'ok', unconfirmed, dropVolatile };
}
