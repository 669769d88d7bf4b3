/**
 * Helpers for the pure domain's unit tests: outcomes unwrapped with a clear failure message, and
 * every room a test keeps deep-frozen, so a domain function that mutated its input would throw.
 */
import assert from 'node:assert/strict';
import type { Change, Outcome } from '../../src/domain/outcome.ts';
import type { RoomRecord } from '../../src/domain/types.ts';

export function freeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) freeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The change of a successful outcome (fails the test on a coded failure or on null). */
export function ok<R>(o: Outcome<R> | null): Change<R> {
  assert.ok(o, 'expected a change');
  if (!o.ok) assert.fail(`expected success, got ${o.code}`);
  return o;
}

/** The room after a successful change, frozen; fails when the change deleted it. */
export function kept<R>(o: Outcome<R> | null): RoomRecord {
  const c = ok(o);
  assert.ok(c.room, 'room should still exist');
  return freeze(c.room);
}
