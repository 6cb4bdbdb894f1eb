// The next timer's outcome, computed ahead: step() is pure, so its adverts can be built before the deadline.
import { step, type StepResult } from '../engine/instance.js';
import type { Action, InstanceState } from '../engine/types.js';
import type { AdvertTarget } from './channels.js';
import type { Runner } from './runner.js';
import { decodeAdvert, isMulticast } from '../protocol/advert.js';
import { addressToBytes, bytesToAddress } from '../protocol/addr.js';

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

/** Rounds of the warm-up: enough for V8 to compile the path past its interpreter (measured: bench/footprint.md). */
const WARM_ROUNDS = 40;

/**
 * Run an instance's hot path on throw-away states before it starts, so its first takeover is not the
 * first time the code runs (cold JavaScript: +0.4-0.6 ms on the first takeover): startup, the
 * Master_Down tick that makes it MASTER, its advert built, prepared (never sent), decoded and
 * received as a BACKUP, a MASTER's Adver_Timer tick and its shutdown (the priority-0 advert built and
 * cached). Pure steps on copies; nothing is sent.
 */
export function warmUp(r: Runner, targets: readonly AdvertTarget[], t0: number,
  payload: (r: Runner, a: Extract<Action, { type: 'sendAdvert' }>, t: AdvertTarget) => Uint8Array, rounds = WARM_ROUNDS): void {
  const cfg = r.inst.config;
  const src = addressToBytes(r.engineCfg.primaryAddress);
  if (!src) return;
  for (let k = 0; k < rounds; k++) {
    const started = step(r.inst.state, cfg, t0, { type: 'startup' }).state;
    const at = started.masterDownTimer ?? t0;
    const master = step(started, cfg, at, { type: 'tick' });
    for (const a of master.actions) {
      if (a.type !== 'sendAdvert') continue;
      for (const t of targets) {
        const bytes = payload(r, a, t);
        t.ch.prepare(bytes, t.src, t.dst, 1);
        const from = addressToBytes(t.src) ?? src;
        const d = decodeAdvert(bytes, { family: r.family, src: from, dst: addressToBytes(t.dst) ?? src, ttl: 255 });
        if (d.ok) step(started, cfg, at, { type: 'advert', advert: d.advert, src: bytesToAddress(from), ttl: 255, unicast: !isMulticast(addressToBytes(t.dst) ?? src) });
      }
    }
    const next = master.state.adverTimer;
    if (next !== null) step(master.state, cfg, next, { type: 'tick' });
    // Shutdown as MASTER: its priority-0 advert is built (and cached) now, not after SIGTERM.
    for (const a of step(master.state, cfg, at, { type: 'shutdown' }).actions) {
      if (a.type !== 'sendAdvert') continue;
      for (const t of targets) t.ch.prepare(payload(r, a, t), t.src, t.dst, 1);
    }
  }
}
