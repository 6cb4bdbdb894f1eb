// Durations as the config and the CLI spell them ("1s", "100ms", "2.5s", "1m", "1h"), without zod.

export const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
export const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration string (a bare number is seconds) to ms; null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : null;
}
