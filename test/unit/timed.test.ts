// The default driver of timed shells (one setTimeout for the next deadline) and the batching of deadline changes.
import { describe, expect, it } from 'vitest';
import { DeadlineNotifier, TimerDriver, type Timed } from '../../src/checks/timed.js';

/** A Timed with a queue of deadlines; runDue pops those due, recording [deadline, the time it ran at]. */
class Queue implements Timed {
  readonly ran: [number, number][] = [];
  constructor(public deadlines: number[]) {}
  nextDeadline(): number | null { return this.deadlines.length ? Math.min(...this.deadlines) : null; }
  runDue(now: number): void {
    for (const d of this.deadlines.filter((x) => x <= now)) this.ran.push([d, now]);
    this.deadlines = this.deadlines.filter((d) => d > now);
  }
}

describe('TimerDriver (used only where no scheduler is injected)', () => {
  it('fires each deadline at or after it, re-arming for the next; nothing early', async () => {
    const now = () => performance.now();
    const t0 = now();
    const q = new Queue([t0 + 2, t0 + 6, t0 + 12]);
    const driver = new TimerDriver(q, now);
    driver.rearm();
    for (let i = 0; i < 400 && q.ran.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    // a late firing may run two at once; none runs before its deadline (setTimeout can fire early: re-armed)
    expect(q.ran.map(([d]) => d)).toEqual([t0 + 2, t0 + 6, t0 + 12]);
    for (const [d, at] of q.ran) expect(at).toBeGreaterThanOrEqual(d);
    driver.stop();
  });

  it('stop() cancels the armed timer; rearm() after stop does nothing', async () => {
    const now = () => performance.now();
    const q = new Queue([now() + 1]);
    const driver = new TimerDriver(q, now);
    driver.rearm();
    driver.stop();
    driver.rearm();
    await new Promise((r) => setTimeout(r, 20));
    expect(q.ran).toEqual([]);
  });
});

describe('DeadlineNotifier', () => {
  it('with a scheduler: each change told at once; inside batch() told once at the end, and only if something changed', () => {
    let told = 0;
    const n = new DeadlineNotifier(new Queue([]), () => 0, () => told++);
    n.changed();
    expect(told).toBe(1);
    n.batch(() => { n.changed(); n.changed(); n.batch(() => n.changed()); expect(told).toBe(1); });
    expect(told).toBe(2);
    n.batch(() => {});
    expect(told).toBe(2);
  });
});
