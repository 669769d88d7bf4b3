/**
 * First step at the edge, before any schema: turn what the Socket.IO parser produced into a clean
 * JSON value. Keys that could reach an object's prototype (`__proto__`, `constructor`, `prototype`)
 * are dropped (PROTOCOL §5), nesting is bounded, and anything that is not plain JSON is refused.
 * The result is built from fresh plain objects, so nothing from the raw input is relayed by reference.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const MAX_DEPTH = 16;
/** Values (objects, arrays, scalars) in one payload: real ones hold a few dozen (audio bypasses this). */
export const MAX_NODES = 2048;
/** Keys of one object: a state has about ten. */
export const MAX_KEYS = 64;

interface Budget {
  nodes: number;
  /** About the length of the value's JSON, counted on the way (no JSON.stringify per event). */
  size: number;
}

/**
 * `undefined` in the result means "refused". Work is bounded by MAX_NODES, whatever the input.
 * `measure`, when given, receives about the length of the value's JSON (strings and keys exact,
 * escapes not counted, a number as 8): the size caps of the wire module use it.
 */
export function sanitize(value: unknown, measure?: { size: number }): unknown {
  const budget: Budget = { nodes: MAX_NODES, size: 0 };
  const out = clean(value, 0, budget);
  if (measure) measure.size = budget.size;
  return out;
}

function clean(value: unknown, depth: number, budget: Budget): unknown {
  if (--budget.nodes < 0) return undefined;
  if (value === null) {
    budget.size += 4;
    return null;
  }
  switch (typeof value) {
    case 'string':
      budget.size += value.length + 2;
      return value;
    case 'boolean':
      budget.size += 5;
      return value;
    case 'number':
      budget.size += 8;
      return Number.isFinite(value) ? value : undefined;
    case 'object': {
      if (depth >= MAX_DEPTH) return undefined;
      if (Array.isArray(value)) {
        if (value.length > budget.nodes) return undefined;
        budget.size += 1 + value.length;
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const v = clean(value[i], depth + 1, budget);
          if (v === undefined) return undefined;
          out[i] = v;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      const keys = Object.keys(value);
      if (keys.length > MAX_KEYS) return undefined;
      budget.size += 2;
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        if (FORBIDDEN_KEYS.has(key)) continue;
        budget.size += key.length + 4;
        const v = clean((value as Record<string, unknown>)[key], depth + 1, budget);
        if (v === undefined) return undefined;
        out[key] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** An array of byte values (0..255) with an even length, checked in one tight loop (§5.18). */
export function isPcmBytes(value: unknown, maxBytes: number): value is number[] {
  if (!Array.isArray(value)) return false;
  const n = value.length;
  if (n === 0 || n > maxBytes || n % 2 !== 0) return false;
  for (let i = 0; i < n; i++) {
    const b: unknown = value[i];
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) return false;
  }
  return true;
}
