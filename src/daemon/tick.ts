// The next timer's outcome, computed ahead: step() is pure, so its adverts can be built before the deadline.
import { step, type StepResult } from '../engine/instance.js';
import type { Action, InstanceState } from '../engine/types.js';
import type { AdvertTarget } from './channels.js';
import type { Runner } from './runner.js';

interface Prepared {
  runner: Runner;
  base: InstanceState;
  deadline: number;
  result: StepResult;
  sends: (() => void)[];
  ipId: number;
}

/**
 * When the scheduler is armed, the instance with the earliest deadline is stepped ahead of time
 * (with the deadline as its time) and its adverts are built. When the deadline comes, the packets
 * leave in one call each and the instance adopts the prepared state (VrrpInstance.commit). Anything
 * that reaches the instance first (an advert, a link event, a request) changes its state object and
 * voids the preparation: then the timer is handled by a normal step. This moves ~0.2 ms of
 * JavaScript (engine step, encoding, headers) from after the deadline to before it.
 */
export class TickPreparer {
  private prepared: Prepared | null = null;

  prepare(r: Runner | null, deadline: number | null, targets: readonly AdvertTarget[],
    payload: (r: Runner, a: Extract<Action, { type: 'sendAdvert' }>, t: AdvertTarget) => Uint8Array): void {
    const p = this.prepared;
    if (r === null || deadline === null) {
      this.prepared = null;
      return;
    }
    if (p && p.runner === r && p.base === r.inst.state && p.deadline === deadline) return;
    const result = step(r.inst.state, r.inst.config, deadline, { type: 'tick' });
    const sends: (() => void)[] = [];
    let ipId = r.ipId;
    try {
      for (const a of result.actions) {
        if (a.type !== 'sendAdvert' || !targets.length) continue;
        ipId = (ipId % 0xffff) + 1; // as Executor.sendAdvert: per instance, from 1, never 0
        for (const t of targets) sends.push(t.ch.prepare(payload(r, a, t), t.src, t.dst, ipId));
      }
    } catch {
      this.prepared = null; // the normal path will meet (and log) the same error
      return;
    }
    this.prepared = { runner: r, base: r.inst.state, deadline, result, sends, ipId };
  }

  /** At the deadline: send the prepared adverts and adopt the prepared state; null if it no longer applies. */
  commit(now: number, runners: readonly Runner[], clock: () => number):
    { runner: Runner; actions: readonly Action[]; deadline: number; sentAt: number } | null {
    const p = this.prepared;
    this.prepared = null;
    if (!p || now < p.deadline || !runners.includes(p.runner) || p.runner.inst.state !== p.base) return null;
    for (const send of p.sends) send();
    const sentAt = clock();
    if (!p.runner.inst.commit(p.base, p.result)) return null;
    p.runner.ipId = p.ipId;
    return { runner: p.runner, actions: p.result.actions, deadline: p.deadline, sentAt };
  }
}
