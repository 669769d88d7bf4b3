/**
 * Runs one socket's handlers one after another, in arrival order, so that a slow step (a password
 * hash, a Redis round trip) can never reorder that socket's commands or interleave two of its joins.
 */
const IDLE: Promise<void> = Promise.resolve();

export class SerialQueue {
  private tail: Promise<void> = IDLE;
  private pending = 0;

  get size(): number {
    return this.pending;
  }

  /** `task` must not throw (the handler wrapper catches everything). */
  push(task: () => Promise<void>): void {
    this.pending++;
    this.tail = this.tail.then(task).finally(() => {
      // Idle again: let go of the chain, rather than hold it until this socket's next event.
      if (--this.pending === 0) this.tail = IDLE;
    });
  }

  /** Resolves once everything queued so far has run. */
  drain(): Promise<void> {
    return this.tail;
  }
}
