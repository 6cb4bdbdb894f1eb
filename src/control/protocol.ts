// Control-socket protocol: newline-delimited JSON requests and replies, each request checked whole (no zod: the daemon stays light).
import type { ReloadReport } from '../daemon/reload.js';
export type { StatusReport } from '../daemon/status.js';
export type { YieldResult } from '../daemon/runner.js';

/** The reply to `reload`: applied, or refused with the errors (the running config is kept). */
export interface ReloadOutcome {
  applied: boolean;
  errors: string[];
  warnings?: string[];
  plan?: ReloadReport;
}

/** A request as the daemon takes it (every other key, type or value is refused: see decodeRequestLine). */
export type Request =
  | { id?: string | number; cmd: 'status' }
  | {
    id?: string | number;
    cmd: 'yield';
    instance?: string;
    /** Hold duration in ms; absent or null = until resume. */
    holdMs?: number | null;
    /** How long to wait for the outcome, ms (at most 600,000). */
    timeoutMs?: number;
  }
  | { id?: string | number; cmd: 'resume'; instance?: string }
  | { id?: string | number; cmd: 'ping' }
  | { id?: string | number; cmd: 'reload' };

type Check = (v: unknown) => string | null;
const optional = (c: Check): Check => (v) => (v === undefined ? null : c(v));
const isId: Check = (v) => (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? null : 'expected a string or a number');
const isString: Check = (v) => (typeof v === 'string' ? null : 'expected a string');
const isNumber = (min: number, minOpen: boolean, max = Infinity): Check => (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'expected a number';
  if (minOpen ? v <= min : v < min) return `expected a number ${minOpen ? '>' : '>='} ${min}`;
  return v > max ? `expected a number <= ${max}` : null;
};
/** Each command's keys and their checks (`cmd` itself is checked first). */
const SHAPES: Record<Request['cmd'], Record<string, Check>> = {
  status: {},
  yield: {
    instance: optional(isString),
    holdMs: (v) => (v === undefined || v === null ? null : isNumber(0, false)(v)),
    timeoutMs: optional(isNumber(0, true, 600_000)),
  },
  resume: { instance: optional(isString) },
  ping: {},
  reload: {},
};

/** The problems of a parsed request, "path: message" each; none when it is a Request. */
function requestProblems(json: unknown): string[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return ['request: expected an object'];
  const o = json as Record<string, unknown>;
  const cmd = o.cmd;
  if (typeof cmd !== 'string' || !Object.hasOwn(SHAPES, cmd)) return [`cmd: expected one of ${Object.keys(SHAPES).map((c) => `"${c}"`).join(', ')}`];
  const shape: Record<string, Check> = { id: optional(isId), ...SHAPES[cmd as Request['cmd']] };
  const out: string[] = [];
  for (const [key, check] of Object.entries(shape)) {
    const problem = check(o[key]);
    if (problem) out.push(`${key}: ${problem}`);
  }
  const unknown = Object.keys(o).filter((k) => k !== 'cmd' && !Object.hasOwn(shape, k));
  if (unknown.length) out.push(`request: unrecognized key(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  return out;
}

export type Reply = { id?: string | number; ok: true; result: unknown } | { id?: string | number; ok: false; error: string };

export { DEFAULT_SOCKET, MAX_LINE } from './defaults.js';

/**
 * One request line as the server reads it: the request, or the error reply. Never throws (any text,
 * any JSON): the control socket's whole input handling before a command runs.
 */
export function decodeRequestLine(line: string): { ok: true; id: string | number | undefined; request: Request } | { ok: false; reply: Reply } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, reply: { ok: false, error: 'malformed JSON' } };
  }
  const problems = requestProblems(json);
  const raw = typeof json === 'object' && json && 'id' in json ? (json as { id?: unknown }).id : undefined;
  const id = typeof raw === 'string' || typeof raw === 'number' ? raw : undefined;
  if (problems.length) return { ok: false, reply: { id, ok: false, error: `bad request: ${problems.join('; ')}` } };
  return { ok: true, id, request: json as Request };
}
