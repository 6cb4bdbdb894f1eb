// The VRRP side of the director's one timer: which deadline is next, its tick prepared ahead, run when due.
import type { Logger } from 'pino';
import { earliest } from '../engine/timers.js';
import type { Channels } from './channels.js';
import type { Scheduler } from './clock.js';
import type { Executor } from './executor.js';
import type { Runner } from './runner.js';
import { TickPreparer, warmUp } from './tick.js';

/** How long before a non-MASTER VRRP deadline its tick is prepared (see arm): 2 ms cost v2 at 1 s ~0.75 ms of precision (bench:failover), 20 ms none. */
const PREPARE_LEAD_MS = 20;
/**
 * A late timer is worth a warning when it is late by more than this share of the shortest advert interval (at
 * least 1 ms): 1 ms at 10 ms adverts, 100 ms at 1 s (where a few ms threaten nothing: Master_Down is 3 intervals
 * plus Skew_Time, RFC 5798 §6.1). At most one warning per LATE_WARN_EVERY_MS, with the count of the others; the
 * lateness itself is always in the metrics (vrrpd_timer_lateness_seconds).
 */
const LATE_WARN_SHARE = 0.1;
const LATE_WARN_EVERY_MS = 10_000;

export interface VrrpTimingHost {
  log: Logger;
  now(): number;
  runners(): readonly Runner[];
  channels: Channels;
  executor: Executor;
  scheduler: Scheduler;
}

export class VrrpTiming {
  /** The next timer's outcome, computed ahead (see tick.ts). */
  private readonly preparer = new TickPreparer();
  /** Kinds of instance (family/version) whose hot path was warmed at launch. */
  private readonly warmed = new Set<string>();
  /** Late-timer warnings: when the last was logged, how many were not since. */
  private lateWarnedAt = -Infinity;
  private lateUnlogged = 0;

  constructor(private readonly host: VrrpTimingHost) {}

  /** Before an instance starts: its hot path runs once on throw-away states (a cold first takeover is late). */
  warm(r: Runner): void {
    // The code is shared: warm it fully once per family and version; other instances fill their advert cache.
    const kind = `${r.family}/${r.settings.version}`;
    warmUp(r, this.host.channels.targets(r), this.host.now(), (x, a, t) => this.host.executor.advertPayload(x, a, t.dst, t.src),
      this.warmed.has(kind) ? 1 : undefined);
    this.warmed.add(kind);
    this.host.executor.warm(r);
  }

  /** The nearest VRRP deadline and its instance. */
  private next(): { at: number | null; who: Runner | null } {
    let at: number | null = null;
    let who: Runner | null = null;
    for (const r of this.host.runners()) {
      const d = r.inst.nextDeadline();
      if (d !== null && (at === null || d < at)) {
        at = d;
        who = r;
      }
    }
    return { at, who };
  }

  /** The timer fired: run every VRRP deadline due (the prepared tick first); false when none was. */
  fire(now: number): boolean {
    const { at } = this.next();
    if (at === null || at > now) return false;
    const { channels, executor, scheduler, log } = this.host;
    // An advert that arrived before the deadline but is still queued must count: read first.
    channels.drain();
    const done = this.preparer.commit(now, this.host.runners(), this.host.now);
    if (done) executor.run(done.runner, done.actions, { deadline: done.deadline, firedAt: now, sentAt: done.sentAt }, true);
    if (scheduler.lastLatenessMs > 1) this.lateTimer(now, scheduler, log);
    for (const r of this.host.runners()) {
      const d = r.inst.nextDeadline();
      if (d === null || d > now) continue;
      executor.run(r, r.inst.step(now, { type: 'tick' }), { deadline: d, firedAt: now, sentAt: null });
    }
    return true;
  }

  /** A timer fired late: warn if that matters at these intervals, at most once per LATE_WARN_EVERY_MS. */
  private lateTimer(now: number, scheduler: Scheduler, log: Logger): void {
    let shortest = Infinity;
    for (const r of this.host.runners()) shortest = Math.min(shortest, r.settings.advertInterval);
    const late = scheduler.lastLatenessMs;
    if (late <= Math.max(1, LATE_WARN_SHARE * shortest)) return;
    if (now - this.lateWarnedAt < LATE_WARN_EVERY_MS) {
      this.lateUnlogged++;
      return;
    }
    log.warn({ latenessMs: Number(late.toFixed(3)), maxLatenessMs: Number(scheduler.maxLatenessMs.toFixed(3)), alsoLateSinceLastWarning: this.lateUnlogged, lag: scheduler.eventLoopLag() },
      'timer fired late: event loop lag threatens VRRP deadlines');
    this.lateWarnedAt = now;
    this.lateUnlogged = 0;
  }

  /**
   * Arm the one timer for the nearest of the VRRP deadlines and `others` (track scripts, health checks).
   * A MASTER's Adver_Timer comes as armed: its tick is prepared now. Any other VRRP deadline (a BACKUP's
   * Master_Down_Timer) is pushed back by every advert received: it is prepared only once it is near,
   * waking PREPARE_LEAD_MS before it, or each advert would cost a second engine step and header.
   */
  arm(others: number | null): void {
    const { at, who } = this.next();
    const { scheduler, channels, executor } = this.host;
    const payload: Parameters<TickPreparer['prepare']>[3] = (x, a, t) => executor.advertPayload(x, a, t.dst, t.src);
    if (who !== null && at !== null && (who.inst.state.state === 'MASTER' || at - this.host.now() <= PREPARE_LEAD_MS)) {
      scheduler.arm(earliest(at, others));
      this.preparer.prepare(who, at, channels.targets(who), payload);
    } else {
      scheduler.arm(earliest(at === null ? null : at - PREPARE_LEAD_MS, others));
      this.preparer.prepare(null, null, [], payload);
    }
  }
}
