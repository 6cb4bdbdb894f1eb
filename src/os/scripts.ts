// Running operator scripts (notify, track scripts): argv splitting, no shell, a hard timeout, never throws.
import { execFile } from 'node:child_process';
import { access, constants as fsc } from 'node:fs/promises';

/** Split a command line into argv: spaces separate, "..." and '...' quote, backslash escapes in "...". */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${line}`);
  if (has || cur) out.push(cur);
  return out;
}

export interface ScriptResult {
  ok: boolean;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
  /** The last bytes of stderr, for the log. */
  stderr: string;
}

/** Run argv (no shell) with extra arguments; kill it (SIGKILL) after timeoutMs. */
export function runScript(command: string, extra: string[], timeoutMs: number): Promise<ScriptResult> {
  const t0 = process.hrtime.bigint();
  let argv: string[];
  try {
    argv = splitCommand(command);
  } catch (e) {
    return Promise.resolve({ ok: false, code: null, signal: null, timedOut: false, ms: 0, stderr: (e as Error).message });
  }
  return new Promise((resolve) => {
    execFile(argv[0]!, [...argv.slice(1), ...extra], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, windowsHide: true },
      (err, _stdout, stderr) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string | null }) | null;
        const timedOut = !!e?.killed;
        const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
        resolve({ ok: !e, code, signal: e?.signal ?? null, timedOut, ms, stderr: String(stderr ?? (e?.message ?? '')).slice(-500) });
      });
  });
}

/** The program of a command line exists and is executable (checked before start and reload). */
export async function checkExecutable(command: string): Promise<string | null> {
  let argv: string[];
  try {
    argv = splitCommand(command);
  } catch (e) {
    return (e as Error).message;
  }
  if (!argv[0]) return 'empty command';
  if (!argv[0].includes('/')) return null; // found through PATH at run time
  try {
    await access(argv[0], fsc.X_OK);
    return null;
  } catch {
    return `${argv[0]} does not exist or is not executable`;
  }
}
