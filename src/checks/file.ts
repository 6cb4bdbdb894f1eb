// keepalived FILE_CHECK (track_file for a real server): a number read from a file sets the server's weight or fails it.
import { closeSync, constants as fsc, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** keepalived reads at most this many bytes of the file. */
const READ_BYTES = 127;
/** The file is re-read this often besides on change notifications (a replaced directory, a lost event). */
export const FILE_POLL_MS = 1000;

/**
 * The number in a tracked file, as keepalived reads it (C strtol with base 0): leading blanks, a sign, then
 * 0x hex, 0 octal or decimal digits; no digits is 0. null: out of range (-2^31 .. 2^31), ignored by keepalived.
 */
export function parseTrackValue(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?/.exec(text)!;
  const digits = m[2];
  if (!digits) return 0;
  const base = /^0[xX]/.test(digits) ? 16 : digits.length > 1 && digits[0] === '0' ? 8 : 10;
  const body = base === 16 ? digits.slice(2) : digits;
  if (body.replace(/^0+/, '').length > 12) return null; // beyond any int32 in every base
  const v = (m[1] === '-' ? -1 : 1) * parseInt(body, base);
  return v < INT32_MIN || v > INT32_MAX + 1 ? null : v;
}

/**
 * What the value does to the real server (keepalived track_file semantics for real servers):
 * weight 0: healthy when the value is 0 (reverse: when it is not); otherwise value × weight (× -1 reverse), clamped
 * to int32, is added to the server's configured weight (the IPVS weight never goes below 0: the server drains), and
 * a result at or below -2^31 fails the server.
 */
export function fileEffect(value: number, weight: number, reverse: boolean): { healthy: boolean; adjust: number } {
  if (weight === 0) return { healthy: reverse ? value !== 0 : value === 0, adjust: 0 };
  const s = Math.max(INT32_MIN, Math.min(INT32_MAX, value * weight * (reverse ? -1 : 1)));
  return s <= INT32_MIN ? { healthy: false, adjust: 0 } : { healthy: true, adjust: s };
}

/** The IPVS weight of a server with these adjustments: configured + sum, within 0 .. 2^31-1 (keepalived real_weight). */
export function effectiveWeight(configured: number, adjustments: readonly number[]): number {
  const w = adjustments.reduce((a, b) => a + b, configured);
  return Math.max(0, Math.min(INT32_MAX, w));
}

export interface FileSpec {
  service: string;
  address: string;
  port: number;
  type: 'file';
  /** The file, for status and logs. */
  target: string;
  weight: number;
  reverse: boolean;
}

/** Read the file now: its number, 0 when missing or empty (keepalived), null when unreadable as a number. */
function readValue(path: string): { value: number | null; error: string | null } {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { value: 0, error: code === 'ENOENT' ? null : `cannot open: ${code ?? String(e)} (read as 0)` };
  }
  try {
    const buf = Buffer.alloc(READ_BYTES);
    const n = readSync(fd, buf, 0, READ_BYTES, null);
    const v = parseTrackValue(buf.toString('latin1', 0, n));
    return v === null ? { value: null, error: 'number out of range: ignored' } : { value: v, error: null };
  } catch (e) {
    return { value: 0, error: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)} (read as 0)` };
  } finally {
    closeSync(fd);
  }
}

/**
 * A FILE_CHECK: the file is read at construction (its state is known at once, as keepalived's), then on every change
 * notification of its directory and every FILE_POLL_MS. onChange is called when health or weight changes.
 */
export class FileCheck {
  healthy = true;
  /** Added to the server's configured weight. */
  adjust = 0;
  lastError: string | null = null;
  lastChange = new Date();
  value = 0;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(readonly spec: FileSpec, private readonly log: Logger, private readonly onChange: () => void) {
    this.refresh(false);
  }

  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => this.refresh(true), FILE_POLL_MS);
    try {
      const name = basename(this.spec.target);
      this.watcher = watch(dirname(this.spec.target), { persistent: false }, (_ev, f) => {
        if (f === null || f === name) this.refresh(true);
      });
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = null; });
    } catch {
      this.watcher = null; // no directory (yet): the poll still reads it
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
  }

  private refresh(notify: boolean): void {
    if (this.stopped) return;
    const r = readValue(this.spec.target);
    if (r.value === null) {
      this.lastError = r.error;
      return;
    }
    this.value = r.value;
    const e = fileEffect(r.value, this.spec.weight, this.spec.reverse);
    this.lastError = e.healthy ? r.error : `${this.spec.target} reads ${r.value}`;
    if (e.healthy === this.healthy && e.adjust === this.adjust) return;
    const was = this.healthy;
    this.healthy = e.healthy;
    this.adjust = e.adjust;
    this.lastChange = new Date();
    const server = `${this.spec.address.includes(':') ? `[${this.spec.address}]` : this.spec.address}:${this.spec.port}`;
    const what = was !== e.healthy ? (e.healthy ? 'up' : 'down') : `weight ${e.adjust >= 0 ? '+' : ''}${e.adjust}`;
    this.log.info({ service: this.spec.service, server, check: 'file', target: this.spec.target, value: r.value, adjust: e.adjust, healthy: e.healthy },
      `real server ${server} of ${this.spec.service}: ${this.spec.target} reads ${r.value}: ${what}`);
    if (notify) this.onChange();
  }
}
