// A skip-ahead clock for the director: its one timer (the Waker) is fired by jumping virtual time, never by sleeping.
import type { Waker } from '../../src/daemon/clock.js';

/**
 * Virtual time = real monotonic time + everything skipped. The director arms one Waker for its nearest
 * deadline (VRRP timers, track scripts, health checks); instead of sleeping until it, the clock jumps
 * there and fires it. Real time still flows, so I/O the director waits on (scripts, sockets, promises)
 * completes as usual between jumps; only the waiting for deadlines is skipped.
 */
export class DirectorClock {
  private skipped = 0;
  private armed: number | null = null;
  private onFire: (() => void) | null = null;
  /** Every deadline fired, in virtual time. */
  readonly fired: number[] = [];

  readonly now = (): number => performance.now() + this.skipped;

  readonly makeWaker = (onFire: () => void): Waker => {
    this.onFire = onFire;
    return { arm: (abs) => { this.armed = abs; }, close: () => { this.armed = null; } };
  };

  /** Let pending I/O callbacks run (a few event-loop turns, ~1 ms of real time) without jumping. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 1));
  }

  /** One move toward `limit`: fire the armed deadline if it is within it; false when none is. */
  private async step(limit: number): Promise<boolean> {
    await this.settle();
    const at = this.armed;
    if (at === null || at > limit) return false;
    // The Scheduler arms its waker up to 0.5 ms early and finishes on the event loop: land just past it.
    const target = at + 0.5;
    if (target > this.now()) this.skipped += target - this.now();
    this.armed = null;
    this.fired.push(at);
    this.onFire?.();
    return true;
  }

  /** Let `ms` of virtual time pass: every deadline in it fires in order; then time is at now + ms. */
  async advance(ms: number, maxSteps = 100_000): Promise<void> {
    const limit = this.now() + ms;
    for (let i = 0; i < maxSteps && (await this.step(limit)); i++) { /* fire the next */ }
    if (limit > this.now()) this.skipped += limit - this.now();
    await this.settle();
  }

  /**
   * Run until cond() holds: deadlines fire as they come, within `virtualMs` of virtual time; real time
   * is bounded too (scripts and sockets run in it).
   */
  async until(cond: () => boolean, virtualMs: number, what = 'condition', realMs = 10_000): Promise<void> {
    const limit = this.now() + virtualMs;
    const realEnd = performance.now() + realMs;
    while (!cond()) {
      if (performance.now() > realEnd) throw new Error(`${what}: not reached after ${realMs} ms of real time`);
      if (this.now() > limit) throw new Error(`${what}: not reached within ${virtualMs} ms of virtual time`);
      if (!(await this.step(limit))) await new Promise((r) => setTimeout(r, 2)); // only I/O can change it now
    }
  }
}
