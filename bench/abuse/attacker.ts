/**
 * An attacker process (forked by run.ts, one per attack): prepares its attack when told, runs it
 * from the shared start instant, reports what it measured, and exits when told to stop or when
 * its parent goes away, so no attacker outlives a run.
 */
import { CpuMeter, type Attack } from './common.ts';
import { connFlood, roomFlood } from './conn-flood.ts';
import { flood, isFlood } from './flood.ts';
import { roomFanout } from './fanout.ts';
import { garbage, isGarbage } from './garbage.ts';
import type { AttackPlan, FromAttacker, ToAttacker } from './ipc.ts';
import { joinSpam } from './join-spam.ts';
import { slowReader } from './slow-reader.ts';

let attack: Attack | undefined;
let plan: AttackPlan | undefined;

const reply = (msg: FromAttacker) => process.send?.(msg);

function make(p: AttackPlan): Attack {
  if (isFlood(p.attack)) return flood(p);
  if (isGarbage(p.attack)) return garbage(p);
  switch (p.attack) {
    case 'conn-flood':
      return connFlood(p);
    case 'room-flood':
      return roomFlood(p);
    case 'join-spam':
      return joinSpam(p);
    case 'room-fanout':
      return roomFanout(p);
    case 'slow-reader':
    case 'signal-pump':
      return slowReader(p);
    default:
      throw new Error(`unknown attack ${p.attack}`);
  }
}

function stop(): never {
  attack?.close();
  process.exit(0);
}

process.on('disconnect', stop);
// A raw socket's late error after the attack is over must not kill the report.
process.on('uncaughtException', (err) => process.stderr.write(`attacker: ${err.stack ?? err.message}\n`));

process.on('message', (msg: ToAttacker) => {
  const run = async () => {
    switch (msg.type) {
      case 'prepare':
        plan = msg.plan;
        attack = make(plan);
        await attack.prepare();
        reply({ type: 'ready' });
        break;
      case 'go': {
        if (!attack || !plan) throw new Error('go before prepare');
        const cpu = new CpuMeter();
        const wait = msg.startAt - Date.now();
        setTimeout(() => cpu.reset(), Math.max(0, wait)).unref();
        let cpuPct = 0;
        setTimeout(() => (cpuPct = cpu.pct()), Math.max(0, wait) + msg.durationMs).unref();
        const outcome = await attack.run(msg.startAt, msg.durationMs, msg.drainMs);
        reply({ type: 'result', result: { attack: plan.attack, ...outcome, attackerCpuPct: cpuPct } });
        break;
      }
      case 'stop':
        stop();
    }
  };
  run().catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
