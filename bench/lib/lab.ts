// The netns lab (src/lab), loaded at run time from the main build (dist/lab), typed from src/lab.
//
// Why not the copy tsc -p tsconfig.bench.json emits under build/bench/src/lab: topology.ts locates the
// vrrpd CLI and the probe/responder scripts relative to its own file (REPO_ROOT = two levels up), which
// from build/bench/src/lab is build/bench, not the repository. The dist/ copy resolves them correctly.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Topology = typeof import('../../src/lab/topology.js');
type Prober = typeof import('../../src/lab/prober.js');
export type { Lab, LabProcess, DirectorName, NodeName } from '../../src/lab/topology.js';
export type { ClientProbe } from '../../src/lab/prober.js';

/** The repository root: the nearest directory above this file with vrrpd's package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'vrrpd') return dir;
    dir = dirname(dir);
  }
  throw new Error('bench: cannot find the vrrpd repository root above bench/');
}

export const REPO = repoRoot();
const DIST_LAB = join(REPO, 'dist', 'lab');
if (!existsSync(join(DIST_LAB, 'topology.js')) || !existsSync(join(DIST_LAB, 'prober.js'))) {
  process.stderr.write('bench: dist/lab is not built: run npm run build first\n');
  process.exit(2);
}

export const topo = (await import(pathToFileURL(join(DIST_LAB, 'topology.js')).href)) as Topology;
export const prober = (await import(pathToFileURL(join(DIST_LAB, 'prober.js')).href)) as Prober;
export const load = (await import(pathToFileURL(join(DIST_LAB, 'load.js')).href)) as typeof import('../../src/lab/load.js');
