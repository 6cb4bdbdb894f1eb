// Control-socket protocol: newline-delimited JSON requests and replies, validated with zod.
import { z } from 'zod';
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

export const requestSchema = z.discriminatedUnion('cmd', [
  z.strictObject({ id: z.union([z.string(), z.number()]).optional(), cmd: z.literal('status') }),
  z.strictObject({
    id: z.union([z.string(), z.number()]).optional(),
    cmd: z.literal('yield'),
    instance: z.string().optional(),
    /** Hold duration in ms; absent or null = until resume. */
    holdMs: z.number().nonnegative().nullable().optional(),
    /** How long to wait for the outcome, ms. */
    timeoutMs: z.number().positive().max(600_000).optional(),
  }),
  z.strictObject({ id: z.union([z.string(), z.number()]).optional(), cmd: z.literal('resume'), instance: z.string().optional() }),
  z.strictObject({ id: z.union([z.string(), z.number()]).optional(), cmd: z.literal('ping') }),
  z.strictObject({ id: z.union([z.string(), z.number()]).optional(), cmd: z.literal('reload') }),
]);

export type Request = z.infer<typeof requestSchema>;

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
  const parsed = requestSchema.safeParse(json);
  const raw = typeof json === 'object' && json && 'id' in json ? (json as { id?: unknown }).id : undefined;
  const id = typeof raw === 'string' || typeof raw === 'number' ? raw : undefined;
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
    return { ok: false, reply: { id, ok: false, error: `bad request: ${msg}` } };
  }
  return { ok: true, id, request: parsed.data };
}
