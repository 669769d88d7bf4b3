/** creates-in-flight.ts: creates on their way between the caps check and the insert (issue 5). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreatesInFlight } from '../../src/service/creates-in-flight.ts';

describe('CreatesInFlight', () => {
  it('each create counts only those that began before it, per IP and in all', () => {
    const c = new CreatesInFlight();
    const a = c.begin('1.1.1.1');
    const b = c.begin('2.2.2.2');
    const d = c.begin('1.1.1.1');
    assert.deepEqual([a.ahead(), a.aheadFromIp()], [0, 0]);
    assert.deepEqual([b.ahead(), b.aheadFromIp()], [1, 0]);
    assert.deepEqual([d.ahead(), d.aheadFromIp()], [2, 1]);
  });

  it('a landed create is no longer counted, and landing twice changes nothing', () => {
    const c = new CreatesInFlight();
    const a = c.begin('1.1.1.1');
    const b = c.begin('1.1.1.1');
    const d = c.begin('1.1.1.1');
    a.done();
    a.done();
    assert.deepEqual([b.ahead(), b.aheadFromIp()], [0, 0]);
    assert.deepEqual([d.ahead(), d.aheadFromIp()], [1, 1]);
    b.done();
    d.done();
    const e = c.begin('1.1.1.1');
    assert.deepEqual([e.ahead(), e.aheadFromIp()], [0, 0]);
  });
});
