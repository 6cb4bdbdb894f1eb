// One real server's check loop (shell): runs the pure core's actions (probes, logs, transitions); no timers of its own.
import type { Logger } from 'pino';
import { initialLoopState, loopNextDeadline, loopStep, serverLabel, type LoopEvent, type LoopSpec, type LoopState } from './core.js';
import type { Probe, ProbeResult } from './probes.js';
import type { Timed, TimedClock } from './timed.js';

export type { CheckType, LoopSpec } from './core.js';

/** Where a loop gets its time from, and whom it tells that its next deadline moved. */
export interface LoopHost extends TimedClock {
  onDeadlinesChanged(): void;
}

/**
 * A check loop. keepalived semantics (see core.ts): the server starts UP; a round is one attempt, plus up to
 * `retries` more, `delayBeforeRetry` apart, while they fail; DOWN when all of them failed, UP again on the first
 * attempt that succeeds. Never two attempts at once. Its owner drives it: nextDeadline() / runDue(now); a probe's
 * completion is fed back with host.now(). stop() aborts the attempt in flight (its sockets destroyed).
 */
export class CheckLoop implements Timed {
  private state: LoopState;
  private readonly abort = new AbortController();

  constructor(readonly spec: LoopSpec, private readonly probe: Probe, private readonly log: Logger,
    private readonly onTransition: (loop: CheckLoop) => void, private readonly host: LoopHost) {
    this.state = initialLoopState(spec, host.now());
  }

  get healthy(): boolean { return this.state.healthy; }
  get lastError(): string | null { return this.state.lastError; }
  /** The last up/down change (construction, when none yet), as wall time. */
  get lastChange(): Date { return new Date(this.state.lastChange + this.host.wallOffset); }
  /** Attempts made so far (all rounds, retries included). */
  get attempts(): number { return this.state.attempts; }
  /** An attempt is in flight. */
  get probing(): boolean { return this.state.phase === 'probing'; }
  get label(): string { return serverLabel(this.spec); }

  /**
   * The first attempt is due at once, or after `delay` ms (default: keepalived's warmup, a random part of
   * spec.warmup); with a configuration problem nothing runs.
   */
  start(delay: number | undefined = this.spec.warmup ? Math.random() * this.spec.warmup : undefined): void {
    this.feed({ type: 'start', delay });
  }

  stop(): void {
    this.feed({ type: 'stop' });
    this.abort.abort();
  }

  nextDeadline(): number | null {
    return loopNextDeadline(this.state);
  }

  runDue(now: number): void {
    const d = this.nextDeadline();
    if (d !== null && d <= now) this.feed({ type: 'due' }, now);
  }

  private feed(ev: LoopEvent, now = this.host.now()): void {
    const before = this.nextDeadline();
    const { state, actions } = loopStep(this.state, this.spec, now, ev);
    this.state = state;
    for (const a of actions) {
      if (a.type === 'log') this.log[a.level](a.fields, a.msg);
      else if (a.type === 'transition') this.onTransition(this);
      else this.run(a.retrying);
    }
    if (this.nextDeadline() !== before) this.host.onDeadlinesChanged();
  }

  private run(retrying: boolean): void {
    let attempt: Promise<ProbeResult>;
    try {
      attempt = this.probe(this.abort.signal, retrying);
    } catch (e) {
      attempt = Promise.reject(e); // a probe that throws is a failed attempt, never an exception in the scheduler
    }
    attempt.then(
      (r) => this.settle(r),
      (e: unknown) => this.settle({ ok: false, reason: `internal error: ${e instanceof Error ? e.message : String(e)}` }),
    );
  }

  private settle(r: ProbeResult): void {
    this.feed({ type: 'result', ok: r.ok, reason: r.reason });
  }
}
