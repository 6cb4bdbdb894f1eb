// A skip-ahead clock for timed shells (health checks, track scripts): waits are skipped, probes still take real time.
import type { Timed, TimedClock } from '../../src/checks/timed.js';

/** A shell driven by the clock: its deadlines, and how many of its probes/scripts are running. */
export interface Driven extends Timed {
  inFlight(): number;
}

/**
 * Virtual time = real monotonic time + everything skipped. The clock never sleeps for a deadline: when nothing
 * is in flight it jumps straight to the next one and fires it (runDue). While a probe or script runs, it waits
 * for it in real time (that is the probe's own duration, e.g. a connect timeout) without jumping, so rounds,
 * retries and delays are exact in virtual time. Give `clock` as the shell's clock and `changed` as its
 * onDeadlinesChanged.
 */
export class SkipClock implements TimedClock {
  private skipped = 0;
  private readonly driven: Driven[] = [];
  private wake: (() => void) | null = null;
  readonly wallOffset = Date.now() - performance.now();
  /** Every firing: the virtual time runDue was called with. */
  readonly fired: number[] = [];

  readonly now = (): number => performance.now() + this.skipped;

  /** For the shell's onDeadlinesChanged: wakes a wait for results. */
  readonly changed = (): void => {
    const w = this.wake;
    this.wake = null;
    w?.();
  };

  drive<T extends Driven>(shell: T): T {
    this.driven.push(shell);
    return shell;
  }

  /** Run until cond() holds, at most `virtualMs` of virtual time from now (and `realMs` of real time). */
  async until(cond: () => boolean, virtualMs: number, what = 'condition', realMs = 10_000): Promise<void> {
    const limit = this.now() + virtualMs;
    const realEnd = performance.now() + realMs;
    while (!cond()) {
      if (performance.now() > realEnd) throw new Error(`${what}: not reached after ${realMs} ms of real time`);
      if (!(await this.step(limit))) throw new Error(`${what}: not reached within ${virtualMs} ms of virtual time`);
    }
  }

  /** Let `ms` of virtual time pass: everything due in it runs (probes in real time), then time is at now + ms. */
  async advance(ms: number, realMs = 10_000): Promise<void> {
    const limit = this.now() + ms;
    const realEnd = performance.now() + realMs;
    while (await this.step(limit)) {
      if (performance.now() > realEnd) throw new Error(`advance(${ms}): still busy after ${realMs} ms of real time`);
    }
    this.jumpTo(limit);
  }

  /** One move: fire what is due, else wait for work in flight, else jump to the next deadline up to limit. */
  private async step(limit: number): Promise<boolean> {
    if (this.fire()) {
      await new Promise((r) => setImmediate(r));
      return true;
    }
    if (this.driven.some((d) => d.inFlight() > 0)) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => { this.wake = null; r(); }, 5);
        this.wake = () => { clearTimeout(t); r(); };
      });
      return true;
    }
    const next = this.nextDeadline();
    if (next === null || next > limit) return false;
    this.jumpTo(next);
    return true;
  }

  private nextDeadline(): number | null {
    const ds = this.driven.map((d) => d.nextDeadline()).filter((d): d is number => d !== null);
    return ds.length ? Math.min(...ds) : null;
  }

  /** runDue on every shell with something due now; true if any. */
  private fire(): boolean {
    const now = this.now();
    let any = false;
    for (const d of this.driven) {
      const next = d.nextDeadline();
      if (next !== null && next <= now) {
        this.fired.push(now);
        d.runDue(now);
        any = true;
      }
    }
    return any;
  }

  private jumpTo(t: number): void {
    const ahead = t - this.now();
    if (ahead > 0) this.skipped += ahead;
  }
}
