// The track script's pure core on explicit times: first result decides, rise/fall, interval from the end of a run.
import { describe, expect, it } from 'vitest';
import {
  initialTrackState, trackNextDeadline, trackStep, type ScriptState, type TrackSpec, type TrackState,
} from '../../src/daemon/track-core.js';

const spec = (o: Partial<TrackSpec> = {}): TrackSpec => ({ interval: 1000, rise: 1, fall: 1, ...o });

/** Run from t=0 with the given exit results, each run taking `took` ms; the state after each result and the changes. */
function run(sp: TrackSpec, results: boolean[], took = 20, initFail = false) {
  let s: TrackState = initialTrackState(initFail);
  const starts: number[] = [];
  const states: ScriptState[] = [];
  const changes: [number, ScriptState, ScriptState][] = [];
  let r = trackStep(s, sp, 0, { type: 'start' });
  s = r.state;
  let t = 0;
  for (const ok of results) {
    expect(r.actions.filter((a) => a.type === 'run')).toHaveLength(1);
    starts.push(t);
    expect(trackNextDeadline(s)).toBeNull(); // running: never a second run
    r = trackStep(s, sp, t + took, { type: 'result', ok });
    s = r.state;
    for (const a of r.actions) if (a.type === 'change') changes.push([t + took, a.from, a.to]);
    states.push(s.state);
    t = trackNextDeadline(s)!;
    r = trackStep(s, sp, t, { type: 'due' });
    s = r.state;
  }
  return { starts, states, changes };
}

describe('track script core', () => {
  it('init_fail: failed from the start, OK only after rise successes (no change on a first failure)', () => {
    expect(initialTrackState(true).state).toBe('failed');
    const r = run(spec({ rise: 2 }), [true, true, false], 20, true);
    expect(r.states).toEqual(['failed', 'ok', 'failed']);
    expect(r.changes.map(([, from, to]) => `${from}>${to}`)).toEqual(['failed>ok', 'ok>failed']);
    expect(run(spec({ rise: 2 }), [false], 20, true).changes).toEqual([]);
  });
  it('unknown until the first result; the first run starts at once', () => {
    const s0 = initialTrackState();
    expect(s0.state).toBe('unknown');
    expect(trackNextDeadline(s0)).toBeNull();
    const r = trackStep(s0, spec(), 0, { type: 'start' });
    expect(r.actions).toEqual([{ type: 'run' }]);
    expect(r.state.state).toBe('unknown');
    expect(trackStep(r.state, spec(), 0, { type: 'start' }).actions).toEqual([]); // started once
  });

  it('the first result decides at once, whatever rise and fall', () => {
    expect(run(spec({ rise: 5, fall: 5 }), [false]).changes).toEqual([[20, 'unknown', 'failed']]);
    expect(run(spec({ rise: 5, fall: 5 }), [true]).changes).toEqual([[20, 'unknown', 'ok']]);
  });

  it('interval counts from the end of a run', () => {
    expect(run(spec({ interval: 1000 }), [true, true, true], 20).starts).toEqual([0, 1020, 2040]);
    expect(run(spec({ interval: 1000 }), [true, true], 3000).starts).toEqual([0, 4000]);
  });

  it('fall: that many consecutive failures turn an OK script failed; a success in between resets the count', () => {
    const r = run(spec({ fall: 3 }), [true, false, false, true, false, false, false]);
    expect(r.states).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'failed']);
    expect(r.changes.map((c) => c.slice(1))).toEqual([['unknown', 'ok'], ['ok', 'failed']]);
  });

  it('rise: that many consecutive successes turn a failed script OK; a failure in between resets the count', () => {
    const r = run(spec({ rise: 2, fall: 1 }), [false, true, false, true, true, false]);
    expect(r.states).toEqual(['failed', 'failed', 'failed', 'failed', 'ok', 'failed']);
    expect(r.changes.map((c) => c.slice(1))).toEqual([['unknown', 'failed'], ['failed', 'ok'], ['ok', 'failed']]);
    expect(r.changes[1]![0]).toBe(4 * 1020 + 20); // the 5th run, at its end
  });

  it('due before the deadline, or while running, does nothing; a result with nothing running is ignored; stop ends it', () => {
    let s = trackStep(initialTrackState(), spec(), 0, { type: 'start' }).state;
    expect(trackStep(s, spec(), 500, { type: 'due' }).actions).toEqual([]);
    s = trackStep(s, spec(), 10, { type: 'result', ok: true }).state;
    expect(trackNextDeadline(s)).toBe(1010);
    expect(trackStep(s, spec(), 1009, { type: 'due' }).actions).toEqual([]);
    expect(trackStep(s, spec(), 1010, { type: 'result', ok: false }).state).toEqual(s);
    const stopped = trackStep(s, spec(), 1000, { type: 'stop' }).state;
    expect(trackNextDeadline(stopped)).toBeNull();
    expect(trackStep(stopped, spec(), 5000, { type: 'due' }).actions).toEqual([]);
    expect(trackStep(stopped, spec(), 5000, { type: 'start' }).actions).toEqual([]);
  });
});
