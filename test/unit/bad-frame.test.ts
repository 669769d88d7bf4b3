/**
 * Issue 5: which Engine.IO closes count as a refused frame (`disconnected.bad_frame`, the IP
 * locked out) and which are a network's doing. The descriptions are those engine.io 6 passes to
 * its `close` event; abuse.test.ts shows the real ones over real sockets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { badFrame } from '../../src/gateway/connection-guard.ts';

/** What engine.io's Transport.onError builds from a message (the ws transport passes ws's error). */
const transportError = (msg: unknown) => Object.assign(new Error(String(msg)), { type: 'TransportError' });

describe('badFrame', () => {
  it('frames no client sends: ws receiver errors, polling body errors, an undecodable packet, a client ping', () => {
    assert.equal(badFrame('transport error', transportError(new RangeError('Max payload size exceeded'))), 'RangeError: Max payload size exceeded');
    assert.ok(badFrame('transport error', transportError(new Error('Invalid WebSocket frame: invalid UTF-8 sequence'))));
    assert.ok(badFrame('transport error', transportError(new RangeError('Invalid WebSocket frame: RSV2 and RSV3 must be clear'))));
    assert.equal(badFrame('transport error', transportError('payload too large')), 'payload too large');
    assert.ok(badFrame('transport error', transportError('too many chunks')));
    assert.ok(badFrame('transport error', transportError('invalid content')));
    assert.ok(badFrame('transport error', new Error('invalid heartbeat direction')));
    assert.equal(badFrame('parse error', undefined), 'parse error');
  });

  it('a network failure, a timeout or an orderly close is not one', () => {
    assert.equal(badFrame('transport close', undefined), undefined);
    assert.equal(badFrame('ping timeout', undefined), undefined);
    assert.equal(badFrame('forced close', undefined), undefined);
    assert.equal(badFrame('transport error', transportError('poll connection closed prematurely')), undefined);
    assert.equal(badFrame('transport error', transportError('data request connection closed prematurely')), undefined);
    assert.equal(badFrame('transport error', transportError('http request timeout')), undefined);
    assert.equal(badFrame('transport error', transportError('write error')), undefined);
    assert.equal(badFrame('transport error', transportError('overlap from client')), undefined);
    assert.equal(badFrame('transport error', 'payload too large'), undefined);
  });
});
