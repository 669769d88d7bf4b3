/**
 * A frame's shape, read before it is parsed (issue 5). JSON.parse of 60 KB of nested arrays or of
 * an object with thousands of keys costs 3-4 ms of the event loop (flat JSON of that size: 0.2 ms),
 * and sanitize.ts refuses such payloads anyway (MAX_DEPTH levels, MAX_NODES values), but only after
 * the parse has been paid. One pass over the text counts nesting and separators outside strings:
 * about 0.1 ms for 60 KB, nothing for the few hundred bytes of a real event. Relayed audio (8192
 * numbers) takes its own way before this (raw-pcm.ts).
 */
import { MAX_DEPTH, MAX_NODES } from './sanitize.ts';

/** Levels above the payload: the packet's event array, and one for slack. */
const DEPTH_LIMIT = MAX_DEPTH + 2;
/** Commas and colons: a payload within MAX_NODES values has fewer than two per value. */
const SEPARATOR_LIMIT = 2 * MAX_NODES + 16;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const COMMA = 44;
const COLON = 58;

/** False when the text nests deeper or separates more values than any payload the server accepts. */
export function shapeWithinLimits(text: string): boolean {
  let depth = 0;
  let separators = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > DEPTH_LIMIT) return false;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    else if ((c === COMMA || c === COLON) && ++separators > SEPARATOR_LIMIT) return false;
  }
  return true;
}
