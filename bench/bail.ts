/**
 * Stopping a benchmark run early (Ctrl-C, SIGTERM, a deadline): clean up what was started, then
 * exit 2, with a hard exit if the clean-up itself hangs. Returns `bail(reason)` for the deadline.
 */
export function bailOnSignals(name: string, cleanup: () => Promise<void>, hardExitMs: number): (reason: string) => void {
  const bail = (reason: string) => {
    process.stderr.write(`${name}: ${reason}; stopping everything\n`);
    const hard = setTimeout(() => process.exit(2), hardExitMs);
    void cleanup().then(() => {
      clearTimeout(hard);
      process.exit(2);
    });
  };
  process.on('SIGINT', () => bail('interrupted'));
  process.on('SIGTERM', () => bail('terminated'));
  return bail;
}
