// A track script's pure core: run every interval, keepalived's rise/fall, the first result decides; time is an argument.

/** Unknown until the first result; counts as OK meanwhile (the instance is waiting in BACKUP anyway). */
export type ScriptState = 'unknown' | 'ok' | 'failed';

export interface TrackSpec {
  /** ms from the end of one run to the start of the next (keepalived vrrp_script interval). */
  interval: number;
  /** Consecutive successes that turn a failed script OK, consecutive failures that turn an OK one failed. */
  rise: number;
  fall: number;
}

/** new: not started; running: the script is running (never two at once); waiting: the next run is due at `due`. */
export type TrackPhase = 'new' | 'running' | 'waiting' | 'stopped';

export interface TrackState {
  readonly phase: TrackPhase;
  readonly state: ScriptState;
  /** Consecutive successes / failures up to the last result. */
  readonly successes: number;
  readonly failures: number;
  readonly due: number | null;
  /** Results so far. */
  readonly runs: number;
}

export type TrackEvent =
  /** Begin: the first run at once. */
  | { type: 'start' }
  /** Time reached: start the run that is due (ignored before it is due). */
  | { type: 'due' }
  /** The run in flight finished: exit status 0 or not (ignored when none is running). */
  | { type: 'result'; ok: boolean }
  | { type: 'stop' };

export type TrackAction =
  | { type: 'run' }
  /** The script's state changed (state already updated); the shell re-evaluates the instances. */
  | { type: 'change'; from: ScriptState; to: ScriptState };

export interface TrackStepResult {
  state: TrackState;
  actions: TrackAction[];
}

/** `initFail` (keepalived init_fail): the script starts failed, so `rise` successes make it OK; else unknown. */
export function initialTrackState(initFail = false): TrackState {
  return { phase: 'new', state: initFail ? 'failed' : 'unknown', successes: 0, failures: 0, due: null, runs: 0 };
}

/** When step() next wants a 'due' event; null while running, stopped or not started. */
export function trackNextDeadline(s: TrackState): number | null {
  return s.phase === 'waiting' ? s.due : null;
}

/** The only writer of a track script's state. */
export function trackStep(prev: TrackState, spec: TrackSpec, now: number, ev: TrackEvent): TrackStepResult {
  const out: TrackAction[] = [];
  switch (ev.type) {
    case 'start':
      if (prev.phase !== 'new') return { state: prev, actions: out };
      out.push({ type: 'run' });
      return { state: { ...prev, phase: 'running' }, actions: out };
    case 'stop':
      return { state: { ...prev, phase: 'stopped', due: null }, actions: out };
    case 'due':
      if (prev.phase !== 'waiting' || prev.due === null || now < prev.due) return { state: prev, actions: out };
      out.push({ type: 'run' });
      return { state: { ...prev, phase: 'running', due: null }, actions: out };
    case 'result': {
      if (prev.phase !== 'running') return { state: prev, actions: out };
      const successes = ev.ok ? prev.successes + 1 : 0;
      const failures = ev.ok ? 0 : prev.failures + 1;
      let state = prev.state;
      // keepalived's rise/fall; the first result decides at once.
      if (ev.ok && state !== 'ok' && (state === 'unknown' || successes >= spec.rise)) state = 'ok';
      if (!ev.ok && state !== 'failed' && (state === 'unknown' || failures >= spec.fall)) state = 'failed';
      if (state !== prev.state) out.push({ type: 'change', from: prev.state, to: state });
      return {
        state: { phase: 'waiting', state, successes, failures, due: now + Math.max(0, spec.interval), runs: prev.runs + 1 },
        actions: out,
      };
    }
  }
}
