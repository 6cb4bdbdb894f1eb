// What the benches that run in the test VM share: option checks, and one guest script run under test/vm/run.sh with its RESULT line.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** usage(msg) prints msg and the usage text, exits 2; int() checks an integer option's range (or calls usage). */
export function optionChecks(bench: string, usageText: string): {
  usage: (msg: string) => never;
  int: (name: string, v: string | undefined, lo: number, hi: number) => number;
} {
  const usage = (msg: string): never => {
    process.stderr.write(`${bench}: ${msg}\n\n${usageText}`);
    process.exit(2);
  };
  const int = (name: string, v: string | undefined, lo: number, hi: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) usage(`--${name} takes an integer ${lo}-${hi}`);
    return n;
  };
  return { usage, int };
}

/** The repository root: the nearest directory above this file with package.json and the VM harness. */
export function vmRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test/vm/run.sh'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('bench: cannot find the repository root (with test/vm/run.sh) above build/bench');
}

export interface GuestRun<R> { result: R | null; code: number; output: string }

/**
 * Boot the test VM once and run `script` (a bash body) in it with `env`, bounded by timeoutS. Guest stdout lines:
 * `RESULT {json}` is the result, `PROGRESS text` goes to stderr, others to `onLine` (or stderr as "guest: ...").
 */
export function runGuest<R>(script: string, env: Record<string, string | number>, timeoutS: number,
  onLine?: (line: string) => boolean): Promise<GuestRun<R>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-vm-'));
  const file = join(dir, 'guest.sh');
  writeFileSync(file, `#!/bin/bash\n${script}\n`, { mode: 0o755 });
  const args = ['-t', String(timeoutS), ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), file];
  const log = (m: string): void => { process.stderr.write(`${m}\n`); };
  return new Promise((res, rej) => {
    const p = spawn('bash', [join(vmRepoRoot(), 'test/vm/run.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    let result: R | null = null;
    p.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7)) as R;
        else if (l.startsWith('PROGRESS ')) log(`  ${l.slice(9)}`);
        else if (onLine?.(l)) continue;
        else if (l.trim()) log(`  guest: ${l}`);
      }
    });
    p.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    p.on('error', rej);
    p.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      res({ result, code: code ?? 125, output });
    });
  });
}
