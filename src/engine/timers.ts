// VRRP timer formulas (RFC 3768 §6.1, RFC 5798 §6.1) in milliseconds, sub-millisecond exact.
import type { Version } from '../protocol/advert.js';

/** Centiseconds to milliseconds. */
export const csToMs = (cs: number): number => cs * 10;

/**
 * Skew_Time in ms.
 * RFC 5798 §6.1 (v3): ((256 - Priority) * Master_Adver_Interval) / 256, interval in centiseconds.
 * RFC 3768 §6.1 (v2): (256 - Priority) / 256 seconds — not scaled by the advert interval.
 */
export function skewTimeMs(version: Version, priority: number, masterAdverIntervalCs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  return ((256 - priority) * csToMs(masterAdverIntervalCs)) / 256;
}

/**
 * Master_Down_Interval in ms: 3 × interval + Skew_Time.
 * v2 uses the locally configured Advertisement_Interval (RFC 3768 §6.1, it must match the master's);
 * v3 uses the Master_Adver_Interval learned from the master's adverts (RFC 5798 §6.1).
 */
export function masterDownIntervalMs(version: Version, priority: number, masterAdverIntervalCs: number): number {
  return 3 * csToMs(masterAdverIntervalCs) + skewTimeMs(version, priority, masterAdverIntervalCs);
}

/** The earliest of several optional deadlines, or null when none is set. */
export function earliest(...deadlines: (number | null)[]): number | null {
  let best: number | null = null;
  for (const d of deadlines) if (d !== null && (best === null || d < best)) best = d;
  return best;
}
