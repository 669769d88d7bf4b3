/**
 * A load-generator process (forked by orchestrate.ts): sets up its share of the rooms, then runs
 * each measurement it is asked for and sends back its counts. It exits when told to stop or when
 * its parent goes away, so no generator outlives a run.
 */
import type { FromGenerator, ToGenerator } from './ipc.ts';
import { startGenerator, type Generator } from './setup.ts';

let gen: Generator | undefined;

const reply = (msg: FromGenerator) => process.send?.(msg);

function stop(): never {
  for (const s of gen?.sockets ?? []) s.close();
  process.exit(0);
}

process.on('disconnect', stop);
process.on('message', (msg: ToGenerator) => {
  const run = async () => {
    switch (msg.type) {
      case 'setup':
        gen = await startGenerator(msg.plan);
        reply({ type: 'ready', setup: gen.setup });
        break;
      case 'measure':
        if (!gen) throw new Error('measure before setup');
        reply({ type: 'result', result: await gen.traffic.measure(msg.plan) });
        break;
      case 'stop':
        stop();
    }
  };
  run().catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
