// The daemon's clock and its one precise timer: monotonic ms (fractional), fired at the nearest deadline.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Monotonic milliseconds with sub-µs resolution (CLOCK_MONOTONIC via hrtime). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** How close before a deadline we stop sleeping and start yielding to the event loop turn by turn. */
const SPIN_MS = 1.5;

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
  private readonly lag: IntervalHistogram;

  private readonly waker: Waker | null;

  constructor(private readonly now: () => number, private readonly fire: (now: number) => void,
    makeWaker?: (onFire: () => void) => Waker) {
    this.lag = monitorEventLoopDelay({ resolution: 10 });
    this.lag.enable();
    this.waker = makeWaker ? makeWaker(() => this.spin()) : null;
  }

  /** Arm for an absolute deadline (ms, same clock as now()), or disarm with null. */
  arm(deadline: number | null): void {
    if (deadline === this.deadline && (this.timer || this.immediate || (this.waker && deadline !== null))) return;
    this.cancel();
    this.deadline = deadline;
    if (deadline === null) return;
    if (this.waker) {
      this.waker.arm(deadline);
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
    if (t >= d) {
      this.deadline = null;
      this.lastLatenessMs = t - d;
      this.maxLatenessMs = Math.max(this.maxLatenessMs, this.lastLatenessMs);
      this.fire(t);
      return;
    }
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.spin();
    });
  }

  cancel(): void {
    this.waker?.arm(null);
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.deadline = null;
  }

  /** Event-loop delay percentiles (ms) since the last reset. */
  eventLoopLag(): { p50: number; p99: number; max: number } {
    return { p50: this.lag.percentile(50) / 1e6, p99: this.lag.percentile(99) / 1e6, max: this.lag.max / 1e6 };
  }

  stop(): void {
    this.cancel();
    this.waker?.close();
    this.lag.disable();
  }
}
