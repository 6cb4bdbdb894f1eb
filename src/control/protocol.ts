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
