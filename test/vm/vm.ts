// Run a script inside the IPVS test VM (test/vm/run.sh: Debian kernel under qemu, host root read-only + tmpfs overlay).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const VM_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(VM_DIR, '../..');
const RUN_SH = join(VM_DIR, 'run.sh');
const BUILD_SH = join(VM_DIR, 'build.sh');
const CACHE = process.env.VRRPD_VM_CACHE ?? join(REPO, '.cache/vm');

export interface VmOptions {
  /** Bound on the guest run (qemu is killed after it): default 300 s. The build check before it is bounded separately. */
  timeoutMs?: number;
  /** Extra environment for the guest script (the host's environment is not passed, except CI). */
  env?: Record<string, string>;
  /** Arguments for the script. */
  args?: string[];
  /** Working directory in the guest (a host path): default the repo. */
  cwd?: string;
  /** Called with each chunk of the guest's console output (\r already stripped). */
  onOutput?: (chunk: string) => void;
  /** Echo the console to this process's stderr as it comes (default: when VRRPD_VM_ECHO=1). */
  echo?: boolean;
}

export interface VmResult {
  /** The guest script's exit code; 124 when the timeout killed the VM, 125 when the VM failed around the script. */
  code: number;
  /** The guest's console (the script's stdout and stderr, interleaved, and kernel errors), without the exit marker. */
  output: string;
  /** run.sh's own messages: build progress, timings, failures. */
  log: string;
  timedOut: boolean;
  /** Wall time from starting qemu to the script starting, as measured by run.sh (null if it never started). */
  bootMs: number | null;
  /** Wall time of the whole call. */
  totalMs: number;
}

/** Whether this machine can run the VM: Linux x86-64, root (apt-get, and qemu's 9p export of /), and apt or a built cache. */
export function vmSupported(): { ok: boolean; reason?: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, reason: 'needs Linux on x86-64' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root' };
  if (process.env.VRRPD_SKIP_VM === '1') return { ok: false, reason: 'VRRPD_SKIP_VM=1' };
  const canBuild = existsSync(join(CACHE, 'env')) || spawnSync('sh', ['-c', 'command -v apt-get && command -v dpkg-deb'], { stdio: 'ignore' }).status === 0;
  return canBuild ? { ok: true } : { ok: false, reason: 'no apt-get to fetch the kernel and qemu, and no built .cache/vm' };
}

let built: Promise<void> | null = null;

/** Build (or check) the cached kernel and initramfs, once per process. Rejects with build.sh's output on failure. */
export function buildVm(timeoutMs = 600_000): Promise<void> {
  built ??= new Promise<void>((res, rej) => {
    const p = spawn('bash', [BUILD_SH], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGTERM'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) res();
      else rej(new Error(`test/vm/build.sh failed (${signal ?? code}):\n${out}`));
    });
  }).catch((e: unknown) => {
    built = null; // let a later call retry
    throw e;
  });
  return built;
}

/** Boot the VM and run `script` (a host path; the guest sees it at the same path) as root; resolves when the VM is gone. */
export async function runInVm(script: string, opts: VmOptions = {}): Promise<VmResult> {
  const started = performance.now();
  await buildVm();
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const args = ['-t', String(Math.max(1, Math.ceil(timeoutMs / 1000)))];
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  if (opts.cwd) args.push('-C', opts.cwd);
  args.push(resolve(script), ...(opts.args ?? []));
  const echo = opts.echo ?? process.env.VRRPD_VM_ECHO === '1';

  return new Promise<VmResult>((res, rej) => {
    const p = spawn('bash', [RUN_SH, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VRRPD_VM_NO_BUILD: '1' },
    });
    let output = '';
    let log = '';
    p.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      output += s;
      opts.onOutput?.(s);
      if (echo) process.stderr.write(s);
    });
    p.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (echo) process.stderr.write(d);
    });
    // run.sh kills qemu at the timeout; this is the backstop if run.sh itself hangs (SIGTERM: its trap kills qemu).
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    }, timeoutMs + 15_000);
    p.on('error', (e) => { clearTimeout(guard); rej(e); });
    p.on('close', (code) => {
      clearTimeout(guard);
      const boot = /vm: boot (\d+)\.(\d) s/.exec(log);
      const c = killed ? 124 : (code ?? 125);
      res({
        code: c,
        output,
        log,
        timedOut: c === 124 && (killed || /vm: timed out/.test(log)),
        bootMs: boot ? Number(boot[1]) * 1000 + Number(boot[2]) * 100 : null,
        totalMs: Math.round(performance.now() - started),
      });
    });
  });
}

/** Like runInVm, with the script's text: written to a temporary host file (visible in the guest), removed afterwards. */
export async function runScriptInVm(source: string, opts: VmOptions = {}): Promise<VmResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-vm-'));
  const file = join(dir, 'script.sh');
  writeFileSync(file, source.startsWith('#!') ? source : `#!/bin/bash\n${source}`, { mode: 0o755 });
  try {
    return await runInVm(file, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every src/**.ts newer than its dist/**.js: the guest runs dist/ (read-only), so build on the host first. */
export function buildDist(): void {
  const stale = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
          const js = join(REPO, 'dist', relative(join(REPO, 'src'), p)).replace(/\.ts$/, '.js');
          if (!existsSync(js) || statSync(p).mtimeMs > statSync(js).mtimeMs) out.push(p);
        }
      }
    };
    walk(join(REPO, 'src'));
    return out;
  };
  if (stale().length === 0) return;
  spawnSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { stdio: 'ignore' });
  const left = stale();
  if (left.length > 0) throw new Error(`dist/ was not rebuilt for ${left.join(', ')}`);
}

/**
 * Build dist/, run a guest script that prints `CHECK name ok|FAIL ...` and `INFO ...` lines, and collect them;
 * the INFO lines and the timings go to the test log. `showAll(results, r)`: print the whole guest output too
 * (default: when the guest did not exit 0).
 */
export async function runGuestChecks(guest: string, opts: VmOptions & { showAll?: (results: ReadonlyMap<string, string>, r: VmResult) => boolean } = {}):
  Promise<{ r: VmResult; results: Map<string, string> }> {
  buildDist();
  const r = await runInVm(guest, opts);
  const results = new Map<string, string>();
  for (const m of r.output.matchAll(/^CHECK (\S+) (ok|FAIL.*)$/gm)) results.set(m[1]!, m[2]!);
  for (const m of r.output.matchAll(/^INFO (.*)$/gm)) console.log(`vm: ${m[1]}`);
  console.log(`vm: boot ${r.bootMs === null ? '?' : (r.bootMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(1)} s, exit ${r.code}`);
  if (opts.showAll ? opts.showAll(results, r) : r.code !== 0) console.log(`guest output:\n${r.output}\nrun.sh:\n${r.log}`);
  return { r, results };
}
