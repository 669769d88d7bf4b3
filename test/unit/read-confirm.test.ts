/** read-confirm.ts: the judgement over a WebSocket client's sent and confirmed bytes (issue 5). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeReads, ReadState } from '../../src/gateway/read-confirm.ts';

const KB = 1024;
const limits = { max: 1024 * KB, graceMs: 500 };

describe('judgeReads (slow readers, issue 5)', () => {
  it('probes past max / 8 unconfirmed, once, and never while a ping is outstanding', () => {
    const s = new ReadState();
    assert.equal(judgeReads(s, 128 * KB, false, 0, limits).verdict, 'ok');
    assert.equal(judgeReads(new ReadState(), 200 * KB, true, 0, limits).verdict, 'ok', "Engine.IO's own ping awaits its answer");
    const j = judgeReads(s, 129 * KB, false, 10, limits);
    assert.equal(j.verdict, 'probe');
    assert.equal(s.probeAt, 129 * KB);
    assert.equal(judgeReads(s, 300 * KB, true, 20, limits).verdict, 'ok', 'one probe outstanding at a time');
  });

  it('an answer confirms what was sent before the probe, not after', () => {
    const s = new ReadState();
    judgeReads(s, 200 * KB, false, 0, limits);
    const j = judgeReads(s, 260 * KB, false, 100, limits);
    assert.equal(s.confirmed, 200 * KB);
    assert.equal(j.unconfirmed, 60 * KB);
    assert.equal(j.verdict, 'ok');
  });

  it('volatile traffic is dropped past max / 4 unconfirmed, and again not once confirmed', () => {
    const s = new ReadState();
    assert.equal(judgeReads(s, 200 * KB, false, 0, limits).dropVolatile, false);
    assert.equal(judgeReads(s, 300 * KB, true, 100, limits).dropVolatile, true);
    assert.equal(judgeReads(s, 300 * KB, false, 200, limits).dropVolatile, false, 'answered: 100 KB unconfirmed');
  });

  it('cuts past max / 2 unconfirmed only once a probe has gone unanswered for the grace', () => {
    const s = new ReadState();
    judgeReads(s, 200 * KB, false, 0, limits);
    assert.equal(judgeReads(s, 2048 * KB, true, 499, limits).verdict, 'ok', 'a burst beyond max is no cut by itself');
    assert.equal(judgeReads(s, 500 * KB, true, 600, limits).verdict, 'ok', 'under max / 2');
    assert.equal(judgeReads(s, 513 * KB, true, 600, limits).verdict, 'cut');
  });

  it('a reader that answers after a burst is confirmed, not cut', () => {
    const s = new ReadState();
    judgeReads(s, 1536 * KB, false, 0, limits);
    const j = judgeReads(s, 1540 * KB, false, 450, limits);
    assert.equal(j.verdict, 'ok');
    assert.equal(j.unconfirmed, 4 * KB);
  });
});
