/** structure.ts: a frame's nesting and separators, read before it is parsed (issue 5). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_DEPTH, MAX_NODES } from '../../src/wire/sanitize.ts';
import { shapeWithinLimits } from '../../src/wire/structure.ts';

const nested = (levels: number) => `42["play:update",${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}]`;

describe('shapeWithinLimits', () => {
  it('passes what sanitize.ts accepts: MAX_DEPTH levels of payload, MAX_NODES values', () => {
    assert.equal(shapeWithinLimits(nested(MAX_DEPTH)), true);
    assert.equal(shapeWithinLimits(`421["x",[${Array(MAX_NODES - 1).fill('1').join(',')}]]`), true);
    assert.equal(shapeWithinLimits('42["heartbeat"]'), true);
  });

  it('refuses deep nesting and masses of separators', () => {
    assert.equal(shapeWithinLimits(nested(MAX_DEPTH + 2)), false);
    assert.equal(shapeWithinLimits(`42["x",${'['.repeat(30_000)}${']'.repeat(30_000)}]`), false);
    assert.equal(shapeWithinLimits(`42["x",[${Array(3 * MAX_NODES).fill('1').join(',')}]]`), false);
    assert.equal(shapeWithinLimits(`42["x",{${Array.from({ length: 3000 }, (_, i) => `"k${i}":0`).join(',')}}]`), false);
  });

  it('does not count brackets, commas or colons inside strings, escaped quotes included', () => {
    const text = '[[[{{{,:,:'.repeat(5000);
    assert.equal(shapeWithinLimits(`42["chat:message",{"content":${JSON.stringify(text)},"type":"text"}]`), true);
    assert.equal(shapeWithinLimits(`42["chat:message",{"content":"a\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\","type":"text"}]`), true);
    // The string ends at an escaped backslash followed by a quote: what follows is structure again.
    assert.equal(shapeWithinLimits(`42["x","\\\\",${'['.repeat(40)}${']'.repeat(40)}]`), false);
  });
});
