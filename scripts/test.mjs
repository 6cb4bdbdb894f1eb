#!/usr/bin/env node
// The test command (npm test): lint, typecheck, the unit suite, the netns lab, VM and packaging suites; closes with "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

let status = 0;
// The lab suite runs the compiled daemon: build first so it never tests a stale dist/.
for (const [name, cmd, args] of [['build', process.execPath, ['scripts/build.mjs']], ['lint', 'npx', ['eslint', '.']], ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']]]) {
  console.log(`\n== ${name}`);
  if (run(cmd, args) !== 0) {
    console.log(`${name}: failed`);
    status = 1;
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
const suites = [
  ['unit, simulated segment, sockets', []],
  ['network-namespace lab (root)', ['-c', 'vitest.lab.config.ts']],
  ['IPVS kernel in a qemu VM (root)', ['-c', 'vitest.vm.config.ts']],
  ['packaging: the .deb on a bare Debian root, man pages, unit, completion, alert rules', ['-c', 'vitest.pkg.config.ts']],
];
for (const [name, extra] of suites) {
  console.log(`\n== vitest: ${name}`);
  const report = `.vitest-report-${suites.findIndex((s) => s[0] === name)}.json`;
  rmSync(report, { force: true });
  const code = run('npx', ['vitest', 'run', ...extra, '--reporter=default', '--reporter=json', `--outputFile=${report}`,
    ...process.argv.slice(2)]);
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    if (code !== 0 && r.numFailedTests === 0) failed += 1; // a failed suite file or a crash
  } catch {
    failed += 1; // no report: vitest itself broke
  }
  if (code !== 0) status = 1;
}
if (passed === 0) status = 1; // a run that tested nothing is a failure
if (failed > 0) status = 1;
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
