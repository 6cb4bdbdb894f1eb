// The floor order of src/ holds: the lint rule rejects planted upward and sideways imports, and no file import cycle exists.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { FLOORS, unitOf } from '../../eslint-floors.js';

const eslint = new ESLint({ cwd: process.cwd() });

async function floorErrors(code: string, filePath: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath });
  return res!.messages.filter((m) => m.ruleId === 'floors/no-upward-import').map((m) => m.message);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SRC = resolve('src');

/** Relative imports of every src file (static, re-exports, dynamic), resolved to .ts paths. */
function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of walk(SRC)) {
    const text = readFileSync(f, 'utf8');
    const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)].map((m) => m[1]!);
    g.set(relative(SRC, f), specs.map((s) => relative(SRC, resolve(dirname(f), s.replace(/\.js$/, '.ts')))));
  }
  return g;
}

/** Strongly connected components with more than one file (or a self-import): the cycles. */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('floors of src/', () => {
  it('every folder of src/ has a floor', () => {
    const units = new Set(walk(SRC).map((f) => unitOf(relative(SRC, f))));
    const known = new Set(FLOORS.flat());
    expect([...units].filter((u) => !known.has(u!))).toEqual([]);
  });

  const planted: [string, string, string][] = [
    ['src/engine/probe.ts', "import { x } from '../daemon/director.js';", 'engine → daemon'],
    ['src/protocol/probe.ts', "import { x } from '../engine/instance.js';", 'protocol → engine'],
    ['src/net/probe.ts', "import { x } from '../daemon/runner.js';", 'net → daemon (ports above their adapter)'],
    ['src/config/probe.ts', "import { x } from '../ipvs/plan.js';", 'config → ipvs'],
    ['src/checks/probe.ts', "import { x } from '../ipvs/codec.js';", 'checks → ipvs (sideways)'],
    ['src/daemon/probe.ts', "import { x } from '../control/server.js';", 'daemon → control'],
    ['src/sim/probe.ts', "import { x } from '../net/netio.js';", 'sim → net'],
    ['src/tools/decode.ts', "import { x } from '../cli.js';", 'tools → cli'],
    ['src/daemon/probe.ts', "export { x } from '../cli.js';", 're-export up'],
    ['src/ipvs/probe.ts', "export const f = () => import('../daemon/ipvs.js');", 'dynamic import up'],
  ];
  for (const [file, line, what] of planted) {
    it(`rejects a planted ${what}`, async () => {
      const errors = await floorErrors(`${line}\nexport const y = 1;\n`, file);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/must not import/);
    });
  }

  it('allows imports down the floors and within a unit', async () => {
    expect(await floorErrors("import { x } from '../engine/instance.js';\nimport { y } from './runner.js';\nexport const z = [x, y];\n", 'src/daemon/probe.ts')).toEqual([]);
    expect(await floorErrors("import { x } from './daemon/director.js';\nexport const z = x;\n", 'src/daemon.ts')).toEqual([]);
  });

  it('the real tree has no upward import', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    const bad = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'floors/no-upward-import').map((m) => `${relative(process.cwd(), r.filePath)}: ${m.message}`));
    expect(bad).toEqual([]);
  }, 180_000); // lints the whole tree: slow on a busy machine

  it('no import cycle among the files of src/', () => {
    const g = importGraph();
    expect(g.size).toBeGreaterThan(50);
    expect(cycles(g)).toEqual([]);
  });

  it('the cycle finder finds a planted cycle', () => {
    expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
