// The daemon's clock and its one precise timer: monotonic ms (fractional), fired at the nearest deadline.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Monotonic milliseconds with sub-µs resolution (CLOCK_MONOTONIC via hrtime). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** How close before a deadline we stop sleeping and start yielding to the event loop turn by turn. */
const SPIN_MS = 1.5;
const MAX_LEAD_MS = 0.5;

/** A precise wake-up source (timerfd in the daemon): arm for an absolute monotonic ms, or null. */
export interface Waker {
  arm(absMs: number | null): void;
  close(): void;
}

/**
 * One timer for the earliest deadline of all instances. With a Waker (timerfd) it sleeps in the
 * kernel until the deadline and wakes within tens of µs. Without one it falls back to setTimeout. setTimeout is only ms-accurate and often
 * 1 ms late, so it sleeps until SPIN_MS before the deadline and then re-checks on each event-loop
 * turn (setImmediate), which keeps I/O flowing while landing within tens of µs of the deadline.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private deadline: number | null = null;
  /** Lateness of the last firing, ms. */
  lastLatenessMs = 0;
  maxLatenessMs = 0;
  /** Lateness of each firing (ns): the event loop's delay, measured only when it wakes for work (no sampling timer). */
  private readonly lag: RecordableHistogram = createHistogram();

  private readonly waker: Waker | null;
  private armedAt: number | null = null;
  private wakeLatency = 0.1;
  /** How early the waker is armed (ms), learned from its latency. */
  lead = 0.1;

  constructor(private readonly now: () => number, private readonly fire: (now: number) => void,
    makeWaker?: (onFire: () => void) => Waker) {
    this.waker = makeWaker ? makeWaker(() => this.spin()) : null;
  }

  /** Arm for an absolute deadline (ms, same clock as now()), or disarm with null. */
  arm(deadline: number | null): void {
    if (deadline === this.deadline && (this.timer || this.immediate || (this.waker && deadline !== null))) return;
    // Re-arming the waker replaces its deadline: no disarm first (one timerfd_settime per wake-up, not two).
    this.cancel(this.waker !== null && deadline !== null);
    this.deadline = deadline;
    if (deadline === null) return;
    if (this.waker) {
      // Wake a little early by the wake-up latency we have been seeing, then finish the wait on
      // the event loop (spin), so the work starts at the deadline and not ~0.1-0.3 ms after it.
      this.waker.arm(deadline - this.lead);
      this.armedAt = deadline - this.lead;
      return;
    }
    const wait = deadline - this.now() - SPIN_MS;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.spin();
      }, wait);
    } else {
      this.spin();
    }
  }

  private spin(): void {
    const d = this.deadline;
    if (d === null) return;
    const t = this.now();
    if (this.armedAt !== null) {
      // Learn the waker's latency (EWMA), capped so a loaded moment never makes us spin long.
      const late = Math.max(0, t - this.armedAt);
      this.wakeLatency = this.wakeLatency * 0.9 + Math.min(late, MAX_LEAD_MS) * 0.1;
      this.lead = Math.min(MAX_LEAD_MS, this.wakeLatency);
      this.armedAt = null;
    }
    if (t >= d) {
      this.deadline = null;
      this.lastLatenessMs = t - d;
      this.maxLatenessMs = Math.max(this.maxLatenessMs, this.lastLatenessMs);
      this.lag.record(Math.max(1, Math.round(this.lastLatenessMs * 1e6)));
      this.fire(t);
      return;
    }
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.spin();
    });
  }

  cancel(keepWaker = false): void {
    if (!keepWaker) this.waker?.arm(null);
    this.armedAt = null;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.deadline = null;
  }

  /**
   * Event-loop delay percentiles (ms): how late the timer fired, over every firing so far. A sampling
   * histogram (monitorEventLoopDelay) would wake the process 100 times a second for nothing.
   */
  eventLoopLag(): { p50: number; p99: number; max: number } {
    if (this.lag.count === 0) return { p50: 0, p99: 0, max: 0 };
    const d = (ns: number) => ns / 1e6;
    return { p50: d(this.lag.percentile(50)), p99: d(this.lag.percentile(99)), max: d(this.lag.max) };
  }

  stop(): void {
    this.cancel();
    this.waker?.close();
  }
}
