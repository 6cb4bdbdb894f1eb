#!/usr/bin/env node
// The test command (npm test): lint, typecheck, then every vitest suite, closing with "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const report = '.vitest-report.json';
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

let status = 0;
for (const [name, args] of [['lint', ['eslint', '.']], ['typecheck', ['tsc', '-p', 'tsconfig.json', '--noEmit']]]) {
  console.log(`\n== ${name}`);
  if (run('npx', args) !== 0) {
    console.log(`${name}: failed`);
    status = 1;
  }
}

console.log('\n== vitest');
rmSync(report, { force: true });
const vitestStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`,
  ...process.argv.slice(2)]);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  skipped = r.numPendingTests + (r.numTodoTests ?? 0);
} catch {
  failed += 1; // no report: vitest itself broke
}
if (vitestStatus !== 0 && failed === 0) failed = 1;
if (passed === 0) status = 1; // a run that tested nothing is a failure
if (failed > 0 || vitestStatus !== 0) status = 1;
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
