#!/usr/bin/env node
// Runs every test file with Node's built-in runner through tsx, and fails when no test ran:
// Node 20's runner exits 0 on an empty run, which must never pass as green.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.ts')) files.push(p);
  }
};
for (const r of roots) {
  if (r.endsWith('.test.ts')) files.push(r);
  else walk(r);
}
files.sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'wrs-tests-'));
const tap = join(dir, 'result.tap');
const res = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--test',
    '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
const out = readFileSync(tap, 'utf8');
rmSync(dir, { recursive: true, force: true });
const num = (k) => Number(out.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? 0);
const tests = num('tests');
const pass = num('pass');
const failed = num('fail') + num('cancelled');
const skipped = num('skipped');
console.log(`\ntests: ${pass} passed, ${failed} failed, ${skipped} skipped`);
if (tests === 0 || pass === 0) {
  console.error('run-tests: no test ran; failing on purpose');
  process.exit(1);
}
process.exit(res.status === 0 && failed === 0 ? 0 : 1);
