#!/usr/bin/env node
// npm run build: tsc (dist/, the modules tests and the lab import), then the bundled command over dist/cli.js
// (scripts/bundle.mjs). Every place that builds dist/ (npm test, tests that rebuild a stale dist, the VM harness)
// runs this, so dist/cli.js is always the command as shipped. tsc's output is printed; exit code: tsc's, else the bundle's.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, encoding: 'utf8' });
process.stdout.write(tsc.stdout ?? '');
process.stderr.write(tsc.stderr ?? '');
// tsc emits even with type errors; the bundle is built anyway so dist/cli.js is never tsc's (the caller sees the code).
try {
  await bundle(join(REPO, 'dist'));
} catch (e) {
  process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
process.exit(tsc.status ?? 1);
