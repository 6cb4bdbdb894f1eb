// What runs on time and is driven from outside (a next deadline, run what is due), and a setTimeout driver for it.

/**
 * Something that runs on time without timers of its own. A scheduler arms for nextDeadline() (monotonic ms,
 * the clock of `TimedClock.now`), calls runDue(now) when it is reached, and re-reads nextDeadline() after that
 * and whenever the thing tells it (onDeadlinesChanged) that its deadline moved.
 */
export interface Timed {
  /** The earliest time something is due, or null when nothing is (idle, or only work in flight). */
  nextDeadline(): number | null;
  /** Fire everything due at or before `now`. */
  runDue(now: number): void;
}

/** The clock a timed shell reads: monotonic ms, and the offset that turns it into wall ms (for status). */
export interface TimedClock {
  now(): number;
  /** Wall ms = now() + wallOffset (fixed once by the caller: timestamps do not jitter). */
  wallOffset: number;
}

/** performance.now() with a wall offset fixed now; for shells whose owner gives no clock. */
export function processClock(): TimedClock {
  const now = () => performance.now();
  return { now, wallOffset: Date.now() - now() };
}

/**
 * The default driver when no scheduler is injected: one setTimeout for the target's next deadline.
 * Call rearm() whenever the deadline may have changed; stop() leaves no handle behind.
 */
export class TimerDriver {
  private timer: NodeJS.Timeout | null = null;
  private armedFor: number | null = null;
  private stopped = false;

  constructor(private readonly target: Timed, private readonly now: () => number) {}

  rearm(): void {
    if (this.stopped) return;
    const d = this.target.nextDeadline();
    if (d === this.armedFor && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = d;
    if (d === null) return;
    // setTimeout has ms granularity: round up, so it does not fire just before the deadline and spin.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = null;
      this.target.runDue(this.now());
      this.rearm();
    }, Math.max(0, Math.ceil(d - this.now())));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Tells a scheduler that deadlines moved; inside batch() (a runDue over many loops, a reload) the calls fold
 * into one, told at the end. With no outside scheduler (`tell` undefined) it re-arms a TimerDriver for `target`.
 */
export class DeadlineNotifier {
  private readonly driver: TimerDriver | null;
  private readonly tell: () => void;
  private batching: { changed: boolean } | null = null;

  constructor(target: Timed, now: () => number, tell: (() => void) | undefined) {
    this.driver = tell ? null : new TimerDriver(target, now);
    this.tell = tell ?? (() => this.driver!.rearm());
  }

  readonly changed = (): void => {
    if (this.batching) this.batching.changed = true;
    else this.tell();
  };

  batch(fn: () => void): void {
    if (this.batching) return fn();
    this.batching = { changed: false };
    try {
      fn();
    } finally {
      const { changed } = this.batching;
      this.batching = null;
      if (changed) this.tell();
    }
  }

  /** Our own timer (if any) is cancelled for good. */
  stop(): void {
    this.driver?.stop();
  }
}
