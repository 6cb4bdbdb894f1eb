// Bounded process helpers for the lab: run-to-completion with a timeout, long-running children with collected lines, polling.
import { spawn, type ChildProcess } from 'node:child_process';
/** A node of the lab (a network namespace). */
export type NodeName = 'lvs1' | 'lvs2' | 'client' | 'sw' | 'real';

export interface ExecResult { code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }
export interface ExecOptions { timeoutMs?: number; check?: boolean; input?: string }

/** Run a command to completion, killed (SIGKILL) after timeoutMs. Throws on failure unless check is false. */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const t = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, timeoutMs);
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('close', (code, signal) => {
      clearTimeout(t);
      const r: ExecResult = { code, signal, stdout, stderr, timedOut };
      if (opts.check !== false && (code !== 0 || timedOut)) {
        reject(new Error(`${cmd} ${args.join(' ')}: ${timedOut ? `timed out after ${timeoutMs} ms` : `exit ${code ?? signal}`}\n${stderr.trim()}`));
      } else resolve(r);
    });
  });
}

export interface Line { at: number; text: string }

/** A process started in a lab namespace: its stdout/stderr lines (with arrival times), its exit. */
export class LabProcess {
  readonly lines: Line[] = [];
  readonly errLines: Line[] = [];
  exitCode: number | null = null;
  exitSignal: string | null = null;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private readonly listeners = new Set<() => void>();
  private done = false;

  constructor(readonly label: string, readonly node: NodeName, readonly cmd: readonly string[], readonly proc: ChildProcess) {
    const collect = (stream: NodeJS.ReadableStream | null, into: Line[]) => {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          into.push({ at: performance.now(), text: buf.slice(0, i) });
          buf = buf.slice(i + 1);
        }
        this.notify();
      });
    };
    collect(proc.stdout, this.lines);
    collect(proc.stderr, this.errLines);
    proc.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: string | null) => {
        if (this.done) return;
        this.done = true;
        this.exitCode = code;
        this.exitSignal = signal;
        this.notify();
        resolve({ code, signal });
      };
      proc.on('close', finish);
      proc.on('error', () => finish(null, 'spawn-error'));
    });
  }

  get pid(): number | undefined { return this.proc.pid; }
  get running(): boolean { return !this.done; }

  private notify(): void { for (const l of [...this.listeners]) l(); }

  /** Stdout lines that parse as JSON objects. */
  json(): { at: number; obj: Record<string, unknown> }[] {
    const out: { at: number; obj: Record<string, unknown> }[] = [];
    for (const l of this.lines) {
      if (!l.text.startsWith('{')) continue;
      try { out.push({ at: l.at, obj: JSON.parse(l.text) as Record<string, unknown> }); } catch { /* not JSON */ }
    }
    return out;
  }

  /** The first line from index `from` on (stdout, or stderr) that matches; rejects after timeoutMs or on exit. */
  waitLine(match: (text: string) => boolean, timeoutMs: number, opts: { from?: number; stderr?: boolean } = {}): Promise<Line> {
    const src = opts.stderr ? this.errLines : this.lines;
    let i = opts.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        for (; i < src.length; i++) {
          if (match(src[i]!.text)) { cleanup(); resolve(src[i]!); return; }
        }
        if (this.done) { cleanup(); reject(new Error(`${this.label} exited (${this.exitCode ?? this.exitSignal}) before the awaited line; stderr: ${this.tail(true)}`)); }
      };
      const t = setTimeout(() => { cleanup(); reject(new Error(`${this.label}: no matching line within ${timeoutMs} ms; last: ${this.tail(false)}`)); }, timeoutMs);
      const cleanup = () => { clearTimeout(t); this.listeners.delete(check); };
      this.listeners.add(check);
      check();
    });
  }

  /** The last few lines, for error messages. */
  tail(stderr: boolean, n = 5): string {
    return (stderr ? this.errLines : this.lines).slice(-n).map((l) => l.text).join(' | ');
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running && this.proc.pid !== undefined) {
      try { process.kill(this.proc.pid, sig); } catch { /* already gone */ }
    }
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves once it has exited. */
  async stop(graceMs = 2000): Promise<{ code: number | null; signal: string | null }> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    let giveUp: NodeJS.Timeout | undefined;
    const stuck = new Promise<{ code: number | null; signal: string | null }>((r) => {
      giveUp = setTimeout(() => r({ code: null, signal: 'unkillable' }), graceMs + 3000);
    });
    try { return await Promise.race([this.exited, stuck]); } finally { clearTimeout(t); clearTimeout(giveUp); }
  }
}

/** Poll `predicate` every stepMs until it returns a truthy value (returned) or timeoutMs passes (throws). */
export async function waitFor<T>(predicate: () => T | Promise<T>, timeoutMs: number, stepMs = 100, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  const maxTries = Math.ceil(timeoutMs / Math.max(1, stepMs)) + 2;
  let last: unknown;
  for (let i = 0; i < maxTries; i++) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (performance.now() >= deadline) break;
    await sleep(Math.min(stepMs, Math.max(0, deadline - performance.now())));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `; last: ${typeof last === 'string' ? last : JSON.stringify(last)}`}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
