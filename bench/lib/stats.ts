// Small statistics and text-table helpers for the benchmark report.
import { rng } from '../../src/sim/segment.js';

export interface Summary { n: number; min: number; median: number; max: number }

export function summary(xs: readonly number[]): Summary | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, min: s[0]!, median, max: s[s.length - 1]! };
}

/** A number of milliseconds with 3 decimals (µs), signed when asked. */
export function ms(x: number | null | undefined, signed = false): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const t = x.toFixed(3);
  return signed && x >= 0 ? `+${t}` : t;
}

/** Render rows as an aligned text table (first row = header); numeric-looking cells right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  const numeric = /^[+-]?[\d.]+x?$|^-$/;
  return rows.map((r, ri) => r.map((c, i) => (ri > 0 && numeric.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** A deterministic PRNG (the simulator's mulberry32) for the fault phases: the same sequence for both implementations. */
export const prng = rng;
