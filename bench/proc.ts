/**
 * Server process figures from /proc (Linux): RSS from /proc/<pid>/status, CPU time from
 * /proc/<pid>/stat (utime + stime). Read from outside so that the measurement costs the server
 * nothing and works the same for our server and for the bare relay.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime; 100 on every Linux we know, asked once anyway. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) the process has used so far, or NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: count fields after its closing ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state), so utime (14) and stime (15) are rest[11] and rest[12].
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in MB, or NaN once the process is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface ProcWindow {
  cpuSeconds: number;
  wallSeconds: number;
  cpuPct: number;
  rssMb: number;
  rssTotalMb: number;
  perPid: { pid: number; rssMb: number; cpuPct: number }[];
}

/** Samples RSS every `everyMs` so the peak during a window is known, not only the end value. */
export class ProcSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = new Map<number, number>();
  private cpuStart = new Map<number, number>();
  private wallStart = 0;

  constructor(
    private readonly pids: readonly number[],
    private readonly everyMs = 500,
  ) {}

  /** Starts a window: CPU counters and RSS peaks are taken from now. */
  start(): void {
    this.stop();
    this.wallStart = performance.now();
    this.peak.clear();
    for (const pid of this.pids) this.cpuStart.set(pid, cpuSeconds(pid));
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const pid of this.pids) {
      const r = rssMb(pid);
      if (r > (this.peak.get(pid) ?? 0)) this.peak.set(pid, r);
    }
  }

  /**
   * Ends the window: CPU seconds used by all pids together, wall seconds, their CPU % of one core
   * (over 100 with several processes), the largest peak RSS of one process (the per-process
   * budget) and the sum of the peaks.
   */
  stop(): ProcWindow {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const wall = (performance.now() - this.wallStart) / 1000;
    let cpu = 0;
    let rss = 0;
    let rssTotal = 0;
    const perPid = this.pids.map((pid) => {
      const used = cpuSeconds(pid) - (this.cpuStart.get(pid) ?? Number.NaN);
      const peak = this.peak.get(pid) ?? Number.NaN;
      cpu += used;
      rss = Math.max(rss, peak);
      rssTotal += peak;
      return { pid, rssMb: round(peak), cpuPct: round(wall > 0 ? (100 * used) / wall : 0) };
    });
    return { cpuSeconds: cpu, wallSeconds: wall, cpuPct: round(wall > 0 ? (100 * cpu) / wall : 0), rssMb: round(rss), rssTotalMb: round(rssTotal), perPid };
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
