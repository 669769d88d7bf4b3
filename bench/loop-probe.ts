/**
 * A probe preloaded into the process under test, so that the bench reads the event-loop delay of
 * the measured window alone: the server's /stats histogram runs since start-up and so also holds
 * the start and the connect storm. It is plain JavaScript handed to Node as a data: URL
 * (`node --import data:... dist/main.js`): no loader (tsx would add a loader thread and its memory
 * to the RSS we measure) and no file outside the TypeScript sources. It talks over the IPC channel
 * the runner opens and never keeps the process alive by itself.
 */
const SOURCE = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
if (process.send) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  // The histogram holds the intervals between its 10 ms timer's runs, not the lateness: an idle
  // loop reads 10 ms. The lateness is the interval less the resolution.
  const late = (ns) => Math.max(0, ns / 1e6 - 10);
  h.enable();
  process.on('message', (msg) => {
    if (msg === 'loop:reset') h.reset();
    else if (msg === 'loop:read') {
      process.send?.({ loop: { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max) } });
    }
  });
  // The runner is gone (killed, crashed): shut down gracefully rather than outlive the run.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.channel?.unref();
}
`;

/** Node arguments that preload the probe. */
export const LOOP_PROBE_ARGS = ['--import', `data:text/javascript,${encodeURIComponent(SOURCE)}`];
