/**
 * Polling, for the conditions a test has no event to wait on: HTTP-visible state (/stats, /ready),
 * a room:list that only a lobby observer sees, a counter a listener bumps, a process's output.
 * Where an event exists, wait for it instead (`waitFor` in ./client.ts): a poll is slower and
 * blinder than an event.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type PollOptions = {
  /** How long to keep trying, in ms (default 3000). */
  ms?: number;
  /** What is awaited, for the error message (default "condition"). */
  what?: string;
  /** The pause between two probes, in ms (default 100). */
  everyMs?: number;
};

const show = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/**
 * Calls `probe` until `ok` holds for what it returns, and resolves with that value. Once `ms` has
 * passed it fails with an error naming `what` and the last value probed. An error thrown by
 * `probe` or `ok` ends the wait at once.
 */
export function until<T, U extends T>(probe: () => T | Promise<T>, ok: (v: T) => v is U, opts?: PollOptions): Promise<U>;
export function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, opts?: PollOptions): Promise<T>;
export async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, opts: PollOptions = {}): Promise<T> {
  const { ms = 3000, what = 'condition', everyMs = 100 } = opts;
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for: ${what} (last value: ${show(v)})`);
    await sleep(everyMs);
  }
}

/** `until` for a yes/no condition: resolves once `pred` returns true. */
export async function eventually(pred: () => boolean | Promise<boolean>, opts?: PollOptions): Promise<void> {
  await until(pred, (v) => v, opts);
}
