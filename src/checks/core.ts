// The check loop's pure core: keepalived's rounds, retries and up/down as (state, time, event) in, (state, actions) out.

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
  /** keepalived warmup: the first round starts after a random delay in [0, warmup] ms (the shell draws it). */
  warmup?: number;
}

/**
 * new: not started; waiting: an attempt is due at `due`; probing: one attempt in flight (never two);
 * parked: down for good (a configuration problem), nothing runs; stopped: final.
 */
export type LoopPhase = 'new' | 'waiting' | 'probing' | 'parked' | 'stopped';

export interface LoopState {
  readonly phase: LoopPhase;
  readonly healthy: boolean;
  /** Why the last attempt failed; null after a success (and before the first failure). */
  readonly lastError: string | null;
  /** Monotonic ms of the last up/down change (of construction, when none yet). */
  readonly lastChange: number;
  /** Attempts completed so far (all rounds, retries included). */
  readonly attempts: number;
  /** A round has completed (keepalived logs the first success of a check that starts up). */
  readonly hasRun: boolean;
  /** Retries made in the current round. */
  readonly retry: number;
  /** When the current round's first attempt started (periodFromStart counts from here). */
  readonly roundStart: number;
  /** While waiting: when the next attempt is due, and whether it is a retry within the round. */
  readonly due: number | null;
  readonly retrying: boolean;
}

export type LoopEvent =
  /** Begin: the first attempt after `delay` ms (default 0: at once; a warm-up passes its random pick here). */
  | { type: 'start'; delay?: number }
  /** Time reached: start the attempt that is due (ignored before it is due). */
  | { type: 'due' }
  /** The attempt in flight finished (ignored when none is). */
  | { type: 'result'; ok: boolean; reason: string }
  | { type: 'stop' };

export type LogLevel = 'debug' | 'info' | 'warn';

export type LoopAction =
  /** Run one attempt; `retrying` for keepalived's retries within a round (HTTP resumes at the URL that failed). */
  | { type: 'probe'; retrying: boolean }
  /** The server went up or down (state already updated); the shell tells its owner. */
  | { type: 'transition'; healthy: boolean; reason: string }
  | { type: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string };

export interface LoopStepResult {
  state: LoopState;
  actions: LoopAction[];
}

/** "10.0.0.1:80", "[2001:db8::1]:80". */
export function serverLabel(spec: Pick<LoopSpec, 'address' | 'port'>): string {
  return `${spec.address.includes(':') ? `[${spec.address}]` : spec.address}:${spec.port}`;
}

/** keepalived's checkers start up (is_up); one with a configuration problem is down from the start. */
export function initialLoopState(spec: LoopSpec, now: number): LoopState {
  return {
    phase: 'new', healthy: spec.problem === undefined && !spec.alpha,
    lastError: spec.problem ?? (spec.alpha ? 'not checked yet (alpha)' : null), lastChange: now,
    attempts: 0, hasRun: false, retry: 0, roundStart: now, due: null, retrying: false,
  };
}

/** When step() next wants a 'due' event; null while an attempt is in flight, parked, stopped or not started. */
export function loopNextDeadline(s: LoopState): number | null {
  return s.phase === 'waiting' ? s.due : null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The only writer of a loop's state. */
export function loopStep(prev: LoopState, spec: LoopSpec, now: number, ev: LoopEvent): LoopStepResult {
  const s: Mutable<LoopState> = { ...prev };
  const out: LoopAction[] = [];
  const label = serverLabel(spec);
  const fields = { service: spec.service, server: label, check: spec.type, target: spec.target };
  const wait = (ms: number, retrying: boolean) => {
    s.phase = 'waiting';
    s.due = now + Math.max(0, ms);
    s.retrying = retrying;
  };
  const transition = (healthy: boolean, reason: string) => {
    s.healthy = healthy;
    s.lastChange = now;
    const state = healthy ? 'up' : 'down';
    out.push({ type: 'log', level: 'info', fields: { ...fields, state, reason }, msg: `real server ${label} of ${spec.service} ${state}: ${reason}` });
    out.push({ type: 'transition', healthy, reason });
  };

  switch (ev.type) {
    case 'start':
      if (s.phase !== 'new') break;
      if (spec.problem !== undefined) {
        s.phase = 'parked';
        out.push({ type: 'log', level: 'warn', fields: { ...fields, reason: spec.problem },
          msg: `real server ${label} of ${spec.service} down: ${spec.problem}` });
        break;
      }
      wait(ev.delay ?? 0, false);
      break;
    case 'stop':
      s.phase = 'stopped';
      s.due = null;
      break;
    case 'due':
      if (s.phase !== 'waiting' || s.due === null || now < s.due) break;
      if (!s.retrying) {
        s.retry = 0;
        s.roundStart = now;
      }
      s.phase = 'probing';
      s.due = null;
      out.push({ type: 'probe', retrying: s.retrying });
      break;
    case 'result': {
      if (s.phase !== 'probing') break;
      s.attempts++;
      const elapsed = spec.periodFromStart ? now - s.roundStart : 0;
      if (ev.ok) {
        s.lastError = null;
        if (!s.healthy) transition(true, ev.reason);
        else if (!s.hasRun) {
          out.push({ type: 'log', level: 'info', fields: { ...fields, result: ev.reason }, msg: `real server ${label} of ${spec.service}: check passed` });
        }
        s.hasRun = true;
        wait(spec.delayLoop - elapsed, false);
        break;
      }
      s.lastError = ev.reason;
      if ((s.healthy || spec.retryWhileDown) && s.retry < spec.retries) {
        s.retry++;
        out.push({ type: 'log', level: 'debug', fields: { ...fields, reason: ev.reason, retry: s.retry, of: spec.retries }, msg: 'health check failed; retrying' });
        wait(spec.delayBeforeRetry, true);
        break;
      }
      if (s.healthy) transition(false, `${ev.reason}${s.retry > 0 ? ` (${s.retry + 1} attempts)` : ''}`);
      else out.push({ type: 'log', level: 'debug', fields: { ...fields, reason: ev.reason }, msg: 'health check still failing' });
      s.hasRun = true;
      wait(spec.failedRoundDelay - elapsed, false);
      break;
    }
  }
  return { state: s, actions: out };
}
