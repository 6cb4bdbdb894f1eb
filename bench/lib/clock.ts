// A realtime clock (CLOCK_REALTIME, µs) for fault instants, on the same clock as the kernel's pcap timestamps.
//
// Neither Date.now() (ms) nor performance.timeOrigin + performance.now() (seen ~1 ms off on this machine)
// is good enough, so we measure realtime − monotonic ourselves: spin on Date.now() until its millisecond
// ticks; the tick (realtime = that millisecond, exactly) happened between the previous Date.now() call and
// this one, which process.hrtime (CLOCK_MONOTONIC) brackets. A sample whose bracket is wide (the process was
// preempted in between) is discarded; the narrowest bracket wins. Checked against Python's
// clock_gettime(CLOCK_REALTIME) − clock_gettime(CLOCK_MONOTONIC): within a few µs.

const hrUs = (): number => Number(process.hrtime.bigint()) / 1000;

let offsetUs: number | null = null;
let offsetUncertaintyUs = Number.POSITIVE_INFINITY;

/** Re-measure realtime − monotonic (µs) from `ticks` millisecond ticks (spins about that many ms). */
export function calibrate(ticks = 5): { offsetUs: number; uncertaintyUs: number } {
  let best = { offsetUs: Number.NaN, uncertaintyUs: Number.POSITIVE_INFINITY };
  for (let k = 0; k < ticks; k++) {
    let before = hrUs();
    let d0 = Date.now();
    const limit = before + 50_000; // bounded: the millisecond ticks within 1 ms; 50 ms is a safety net
    for (;;) {
      const h1 = hrUs();
      const d = Date.now();
      if (d !== d0) {
        // The tick happened after `before` (hrtime read before the previous Date.now()) and before h1's successor.
        const after = hrUs();
        const width = after - before;
        if (width < best.uncertaintyUs) best = { offsetUs: d * 1000 - (before + after) / 2, uncertaintyUs: width };
        break;
      }
      before = h1;
      d0 = d;
      if (h1 > limit) break;
    }
  }
  if (Number.isFinite(best.uncertaintyUs)) {
    offsetUs = best.offsetUs;
    offsetUncertaintyUs = best.uncertaintyUs;
  }
  return { offsetUs: offsetUs ?? Number.NaN, uncertaintyUs: offsetUncertaintyUs };
}

/** CLOCK_REALTIME in microseconds (a double; exact to well under 1 µs at today's epoch). */
export function realtimeUs(): number {
  if (offsetUs === null) calibrate();
  return hrUs() + offsetUs!;
}

/** The bracket width (µs) of the last calibration: the clock's own uncertainty. */
export function clockUncertaintyUs(): number { return offsetUncertaintyUs; }

/** Busy-wait (after a coarse sleep) until realtime reaches `targetUs`; returns the realtime reached. */
export async function waitUntilRealtime(targetUs: number, spinMs = 2): Promise<number> {
  const coarse = (targetUs - realtimeUs()) / 1000 - spinMs;
  if (coarse > 0) await new Promise<void>((r) => setTimeout(r, coarse));
  let now = realtimeUs();
  // Bounded spin: at most spinMs + a margin past the target.
  const guard = now + (spinMs + 5) * 1000 + Math.max(0, targetUs - now);
  while (now < targetUs && now < guard) now = realtimeUs();
  return now;
}
