/**
 * V8 garbage-collector tuning, applied once at start-up (GC_TUNING, default on; issue 4).
 *
 * V8 "pretenures" an allocation site, allocating its objects straight into the old generation,
 * once enough of them were seen to survive a young-generation collection. Under a burst (18,000
 * sockets connecting, a busy second) the per-event objects of Socket.IO and Engine.IO (packets,
 * encoded strings, broadcast Sets) survive for a moment, their sites get pretenured, and from
 * then on every event's short-lived garbage lands in the old generation: it grows by 10-15 MB/s
 * and is reclaimed only by full mark-compact collections of the whole heap, which stalled the
 * event loop for 300-400 ms at 18,000 sockets (delivery p99 290-380 ms). With pretenuring off
 * those objects die young, in cheap scavenges (p99 15-21 ms on the same run; README "Performance").
 *
 * The flag is read by V8 at each collection, so setting it before the server opens its port
 * is enough; node's `--no-allocation-site-pretenuring` on the command line does the same.
 */
import { setFlagsFromString } from 'node:v8';

export function applyGcTuning(enabled: boolean): void {
  if (enabled) setFlagsFromString('--no-allocation-site-pretenuring');
}
