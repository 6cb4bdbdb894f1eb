// One real server's check loop: rounds every delayLoop, keepalived's retries before DOWN, UP on the first success.
import type { Logger } from 'pino';
import type { Probe, ProbeResult } from './probes.js';

export type CheckType = 'http' | 'https' | 'tcp' | 'misc' | 'dns' | 'udp' | 'ping' | 'smtp' | 'file';

/** Everything a loop needs: who it checks, how often, and keepalived's retry rules for its type. */
export interface LoopSpec {
  service: string;
  /** The real server as configured (address canonical, port as in the config). */
  address: string;
  port: number;
  type: CheckType;
  /** What is probed, for logs: "10.0.0.1:80", or the script. */
  target: string;
  /** The service's delayLoop: the pause between rounds. */
  delayLoop: number;
  /** Failed attempts retried this many times, delayBeforeRetry apart, before the server goes down. */
  retries: number;
  delayBeforeRetry: number;
  /** keepalived TCP_CHECK retries even while the server is down; HTTP_GET and MISC_CHECK do not. */
  retryWhileDown: boolean;
  /** MISC_CHECK counts delayLoop from the start of a run; HTTP/TCP from its end (keepalived). */
  periodFromStart: boolean;
  /** Pause after a failed round (HTTP_GET: max(delayLoop, delayBeforeRetry), keepalived). */
  failedRoundDelay: number;
  /** A configuration problem (e.g. no port to check): the server is down for good, nothing runs. */
  problem?: string;
  /** keepalived alpha: the server starts DOWN and comes UP on the first attempt that passes. */
  alpha?: boolean;
  /** keepalived warmup: the first round starts after a random delay in [0, warmup] ms instead of at once. */
  warmup?: number;
}

/**
 * A check loop. keepalived semantics: the server starts UP (checker is_up); a round is one attempt, plus up to
 * `retries` more, `delayBeforeRetry` apart, while they fail; the server goes DOWN when all of them failed, and
 * UP again on the first attempt that succeeds. Never two attempts at once; stop() cancels the timer and aborts
 * the attempt in flight (its sockets destroyed).
 */
export class CheckLoop {
  healthy = true;
  lastError: string | null = null;
  lastChange = new Date();
  /** Attempts made so far (all rounds, retries included). */
  attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  private started = false;
  private hasRun = false;
  private retry = 0;
  private roundStart = 0;

  constructor(readonly spec: LoopSpec, private readonly probe: Probe, private readonly log: Logger,
    private readonly onTransition: (loop: CheckLoop) => void) {
    if (spec.problem !== undefined) {
      this.healthy = false;
      this.lastError = spec.problem;
    } else if (spec.alpha) {
      this.healthy = false;
      this.lastError = 'not checked yet (alpha)';
    }
  }

  private get fields() {
    return { service: this.spec.service, server: this.label, check: this.spec.type, target: this.spec.target };
  }

  get label(): string {
    return `${this.spec.address.includes(':') ? `[${this.spec.address}]` : this.spec.address}:${this.spec.port}`;
  }

  /** First round at once, or after a random part of the warm-up; with a configuration problem (down from the start) nothing runs. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    if (this.spec.problem !== undefined) {
      this.log.warn({ ...this.fields, reason: this.spec.problem }, `real server ${this.label} of ${this.spec.service} down: ${this.spec.problem}`);
      return;
    }
    this.schedule(this.spec.warmup ? Math.random() * this.spec.warmup : 0, false);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
  }

  private schedule(ms: number, retrying: boolean): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.run(retrying), Math.max(0, ms));
  }

  private run(retrying: boolean): void {
    this.timer = null;
    if (this.stopped) return;
    if (!retrying) {
      this.retry = 0;
      this.roundStart = performance.now();
    }
    this.probe(this.abort.signal, retrying).then(
      (r) => this.settle(r),
      (e: unknown) => this.settle({ ok: false, reason: `internal error: ${e instanceof Error ? e.message : String(e)}` }),
    );
  }

  private settle(r: ProbeResult): void {
    if (this.stopped) return;
    this.attempts++;
    const elapsed = performance.now() - this.roundStart;
    if (r.ok) {
      this.lastError = null;
      if (!this.healthy) this.transition(true, r.reason);
      else if (!this.hasRun) this.log.info({ ...this.fields, result: r.reason }, `real server ${this.label} of ${this.spec.service}: check passed`);
      this.hasRun = true;
      this.schedule(this.spec.delayLoop - (this.spec.periodFromStart ? elapsed : 0), false);
      return;
    }
    this.lastError = r.reason;
    if ((this.healthy || this.spec.retryWhileDown) && this.retry < this.spec.retries) {
      this.retry++;
      this.log.debug({ ...this.fields, reason: r.reason, retry: this.retry, of: this.spec.retries }, 'health check failed; retrying');
      this.schedule(this.spec.delayBeforeRetry, true);
      return;
    }
    if (this.healthy) {
      const tries = this.retry > 0 ? ` (${this.retry + 1} attempts)` : '';
      this.transition(false, `${r.reason}${tries}`);
    } else {
      this.log.debug({ ...this.fields, reason: r.reason }, 'health check still failing');
    }
    this.hasRun = true;
    this.schedule(this.spec.failedRoundDelay - (this.spec.periodFromStart ? elapsed : 0), false);
  }

  private transition(healthy: boolean, reason: string): void {
    this.healthy = healthy;
    this.lastChange = new Date();
    const state = healthy ? 'up' : 'down';
    this.log.info({ ...this.fields, state, reason }, `real server ${this.label} of ${this.spec.service} ${state}: ${reason}`);
    this.onTransition(this);
  }
}
