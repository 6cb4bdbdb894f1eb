// The check loop's pure core on explicit times: keepalived's start-up, rounds, retries, down/up and their deadlines.
import { describe, expect, it } from 'vitest';
import {
  initialLoopState, loopNextDeadline, loopStep, type LoopAction, type LoopSpec, type LoopState,
} from '../../src/checks/core.js';
import { planCheck } from '../../src/checks/index.js';
import { virtualServerSchema } from '../../src/config/schema.js';

const spec = (o: Partial<LoopSpec> = {}): LoopSpec => ({
  service: 'web', address: '10.0.0.1', port: 80, type: 'http', target: '10.0.0.1:80', delayLoop: 1000,
  retries: 0, delayBeforeRetry: 100, retryWhileDown: false, periodFromStart: false, failedRoundDelay: 1000, ...o,
});

interface Attempt { at: number; retrying: boolean; ok: boolean }
interface Timeline { attempts: Attempt[]; transitions: [number, boolean, string][]; logs: LoopAction[]; state: LoopState }

/**
 * Run a loop from t=0 until `until`: each attempt's outcome from `outcome(n)` (n from 0) and it takes `took` ms.
 * Events come only at the deadlines the core asks for, as a scheduler would deliver them.
 */
function run(sp: LoopSpec, outcome: (n: number) => boolean, until: number, took = 10): Timeline {
  let s = initialLoopState(sp, 0);
  const tl: Timeline = { attempts: [], transitions: [], logs: [], state: s };
  const apply = (now: number, ev: Parameters<typeof loopStep>[3]) => {
    const r = loopStep(s, sp, now, ev);
    s = r.state;
    for (const a of r.actions) {
      if (a.type === 'transition') tl.transitions.push([now, a.healthy, a.reason]);
      if (a.type === 'log') tl.logs.push(a);
    }
    return r.actions;
  };
  apply(0, { type: 'start' });
  for (let guard = 0; guard < 1000; guard++) {
    const d = loopNextDeadline(s);
    if (d === null || d > until) break;
    const probe = apply(d, { type: 'due' }).find((a) => a.type === 'probe');
    if (!probe || probe.type !== 'probe') throw new Error('due without a probe');
    expect(loopNextDeadline(s)).toBeNull(); // never two attempts at once
    const ok = outcome(tl.attempts.length);
    tl.attempts.push({ at: d, retrying: probe.retrying, ok });
    apply(d + took, { type: 'result', ok, reason: ok ? 'HTTP 200' : 'HTTP status 500' });
  }
  tl.state = s;
  return tl;
}
const times = (tl: Timeline) => tl.attempts.map((a) => a.at);

describe('check loop core', () => {
  it('starts healthy with the first attempt due at once (or after a warm-up delay); nothing before start', () => {
    const s0 = initialLoopState(spec(), 5);
    expect([s0.healthy, s0.lastError, s0.lastChange, loopNextDeadline(s0)]).toEqual([true, null, 5, null]);
    expect(loopStep(s0, spec(), 5, { type: 'due' }).actions).toEqual([]);
    const started = loopStep(s0, spec(), 5, { type: 'start' });
    expect(started.actions).toEqual([]);
    expect(loopNextDeadline(started.state)).toBe(5);
    expect(loopNextDeadline(loopStep(s0, spec(), 5, { type: 'start', delay: 250 }).state)).toBe(255);
    // a second start changes nothing
    expect(loopStep(started.state, spec(), 9, { type: 'start', delay: 99 }).state).toEqual(started.state);
  });

  it('a due event before the deadline does nothing; at it, one probe; while probing no deadline and no second probe', () => {
    let s = loopStep(initialLoopState(spec(), 0), spec(), 0, { type: 'start', delay: 100 }).state;
    expect(loopStep(s, spec(), 99.9, { type: 'due' }).actions).toEqual([]);
    const r = loopStep(s, spec(), 100, { type: 'due' });
    expect(r.actions).toEqual([{ type: 'probe', retrying: false }]);
    s = r.state;
    expect(loopNextDeadline(s)).toBeNull();
    expect(loopStep(s, spec(), 5000, { type: 'due' }).actions).toEqual([]);
  });

  it('healthy: one attempt per delayLoop counted from the end of the attempt (HTTP/TCP); the first pass is logged once', () => {
    const tl = run(spec(), () => true, 3100, 10);
    expect(times(tl)).toEqual([0, 1010, 2020, 3030]);
    expect(tl.transitions).toEqual([]);
    expect(tl.logs.filter((l) => l.type === 'log' && l.msg.includes('check passed'))).toHaveLength(1);
    expect(tl.logs[0]).toMatchObject({ level: 'info', fields: { service: 'web', server: '10.0.0.1:80', check: 'http', target: '10.0.0.1:80', result: 'HTTP 200' } });
    expect(tl.state.attempts).toBe(4);
  });

  it('periodFromStart (MISC_CHECK): delayLoop from the start of the run; a run longer than delayLoop: the next at once', () => {
    expect(times(run(spec({ type: 'misc', periodFromStart: true }), () => true, 3100, 200))).toEqual([0, 1000, 2000, 3000]);
    expect(times(run(spec({ type: 'misc', periodFromStart: true }), () => true, 3100, 1500))).toEqual([0, 1500, 3000]);
    // failed rounds too (failedRoundDelay from the start)
    expect(times(run(spec({ type: 'misc', periodFromStart: true }), () => false, 2100, 200))).toEqual([0, 1000, 2000]);
  });

  it('retries: delayBeforeRetry apart, marked as retries; down after 1 + retries failures, the count in the reason', () => {
    const tl = run(spec({ retries: 2, delayBeforeRetry: 100, failedRoundDelay: 1000 }), () => false, 1300, 10);
    expect(tl.attempts.slice(0, 3).map((a) => [a.at, a.retrying])).toEqual([[0, false], [110, true], [220, true]]);
    expect(tl.transitions).toEqual([[230, false, 'HTTP status 500 (3 attempts)']]);
    expect(tl.logs.filter((l) => l.type === 'log' && l.msg === 'health check failed; retrying').map((l) => l.type === 'log' && l.fields))
      .toEqual([expect.objectContaining({ retry: 1, of: 2, reason: 'HTTP status 500' }), expect.objectContaining({ retry: 2, of: 2 })]);
    const down = tl.logs.find((l) => l.type === 'log' && l.fields.state === 'down');
    expect(down).toMatchObject({ level: 'info', msg: 'real server 10.0.0.1:80 of web down: HTTP status 500 (3 attempts)' });
    // the next round after failedRoundDelay, counted from the end of the last attempt
    expect(tl.attempts[3]).toEqual({ at: 1230, retrying: false, ok: false });
    expect(tl.state.lastError).toBe('HTTP status 500');
  });

  it('retries 0: down on the first failure, no attempt count in the reason', () => {
    expect(run(spec(), () => false, 500).transitions).toEqual([[10, false, 'HTTP status 500']]);
  });

  it('a retry that succeeds keeps the server up; the next round starts with the full retries again', () => {
    // fail, ok | fail, fail, ok: never down with retries 2
    const pattern = [false, true, false, false, true];
    const tl = run(spec({ retries: 2 }), (n) => pattern[n] ?? true, 2500, 10);
    expect(tl.transitions).toEqual([]);
    expect(tl.attempts.map((a) => [a.at, a.retrying])).toEqual([[0, false], [110, true], [1120, false], [1230, true], [1340, true], [2350, false]]);
  });

  it('down, HTTP_GET / MISC_CHECK: no retries while down, one attempt per failedRoundDelay, "still failing" at debug', () => {
    const tl = run(spec({ retries: 2, failedRoundDelay: 1500 }), () => false, 5000, 10);
    expect(times(tl)).toEqual([0, 110, 220, 1730, 3240, 4750]);
    expect(tl.attempts.slice(3).every((a) => !a.retrying)).toBe(true);
    expect(tl.transitions).toHaveLength(1);
    expect(tl.logs.filter((l) => l.type === 'log' && l.msg === 'health check still failing')).toHaveLength(3);
    expect(tl.logs.filter((l) => l.type === 'log' && l.msg === 'health check still failing').every((l) => l.type === 'log' && l.level === 'debug')).toBe(true);
  });

  it('down, TCP_CHECK: retries even while down (keepalived), still one down transition', () => {
    const tl = run(spec({ type: 'tcp', retries: 1, retryWhileDown: true }), () => false, 2100, 10);
    expect(tl.attempts.map((a) => [a.at, a.retrying])).toEqual([[0, false], [110, true], [1120, false], [1230, true]]);
    expect(tl.transitions).toEqual([[120, false, 'HTTP status 500 (2 attempts)']]);
  });

  it('recovery: up on the first success, with its result as the reason; lastError cleared, lastChange = that time', () => {
    const tl = run(spec({ retries: 1, failedRoundDelay: 1000 }), (n) => n >= 3, 3000, 10);
    expect(tl.transitions).toEqual([[120, false, 'HTTP status 500 (2 attempts)'], [2140, true, 'HTTP 200']]);
    expect(times(tl)).toEqual([0, 110, 1120, 2130]); // down: no retry of the round at 1120 (HTTP_GET)
    expect(tl.attempts[3]!.retrying).toBe(false);
    expect([tl.state.healthy, tl.state.lastError, tl.state.lastChange]).toEqual([true, null, 2140]);
    expect(tl.logs.find((l) => l.type === 'log' && l.fields.state === 'up')).toMatchObject({ msg: 'real server 10.0.0.1:80 of web up: HTTP 200' });
    // no "check passed" line once the check has run: the transition says it
    expect(tl.logs.some((l) => l.type === 'log' && l.msg.includes('check passed'))).toBe(false);
  });

  it('a configuration problem: down from construction, a warning at start, nothing ever runs', () => {
    const sp = spec({ problem: 'no port to check' });
    const s0 = initialLoopState(sp, 7);
    expect([s0.healthy, s0.lastError]).toEqual([false, 'no port to check']);
    const r = loopStep(s0, sp, 8, { type: 'start' });
    expect(r.actions).toEqual([{ type: 'log', level: 'warn', msg: 'real server 10.0.0.1:80 of web down: no port to check',
      fields: { service: 'web', server: '10.0.0.1:80', check: 'http', target: '10.0.0.1:80', reason: 'no port to check' } }]);
    expect(loopNextDeadline(r.state)).toBeNull();
    expect(loopStep(r.state, sp, 9999, { type: 'due' }).actions).toEqual([]);
  });

  it('stop: no deadline, and a result arriving afterwards changes nothing', () => {
    let s = loopStep(initialLoopState(spec(), 0), spec(), 0, { type: 'start' }).state;
    s = loopStep(s, spec(), 0, { type: 'due' }).state;
    s = loopStep(s, spec(), 1, { type: 'stop' }).state;
    expect(loopNextDeadline(s)).toBeNull();
    const r = loopStep(s, spec(), 2, { type: 'result', ok: false, reason: 'stopped' });
    expect(r.actions).toEqual([]);
    expect(r.state).toEqual(s);
    // a result with no attempt in flight is ignored too
    const idle = loopStep(initialLoopState(spec(), 0), spec(), 0, { type: 'start' }).state;
    expect(loopStep(idle, spec(), 1, { type: 'result', ok: false, reason: 'x' }).state).toEqual(idle);
  });

  it('IPv6 servers are labelled [address]:port', () => {
    const sp = spec({ address: '2001:db8::1', problem: 'p' });
    const r = loopStep(initialLoopState(sp, 0), sp, 0, { type: 'start' });
    expect(r.actions[0]).toMatchObject({ msg: 'real server [2001:db8::1]:80 of web down: p' });
  });
});

describe('planCheck: keepalived\'s retry rules per check type', () => {
  const plan = (check: Record<string, unknown>) => {
    const vs = virtualServerSchema.parse({ address: '10.0.0.100', port: 80, delayLoop: '2s', realServers: [{ address: '10.0.0.1', port: 80, check }] });
    const rs = vs.realServers[0]!;
    const p = planCheck('web', vs, rs, rs.checks[0]!);
    if (p.kind !== 'loop') throw new Error('expected a probe loop');
    return p.spec;
  };
  it('TCP retries while down, from the end, delayLoop after a failed round', () => {
    expect(plan({ type: 'tcp', retries: 3, delayBeforeRetry: '5s' })).toMatchObject({
      retries: 3, delayBeforeRetry: 5000, retryWhileDown: true, periodFromStart: false, failedRoundDelay: 2000, delayLoop: 2000 });
  });
  it('HTTP: no retries while down, max(delayLoop, delayBeforeRetry) after a failed round', () => {
    expect(plan({ type: 'http', urls: [{ path: '/' }], retries: 3, delayBeforeRetry: '5s' })).toMatchObject({
      retries: 3, retryWhileDown: false, periodFromStart: false, failedRoundDelay: 5000 });
    expect(plan({ type: 'http', urls: [{ path: '/' }], delayBeforeRetry: '1s' }).failedRoundDelay).toBe(2000);
  });
  it('MISC: no retries, delayLoop from the start of a run', () => {
    expect(plan({ type: 'misc', script: '/bin/true' })).toMatchObject({
      retries: 0, retryWhileDown: false, periodFromStart: true, failedRoundDelay: 2000 });
  });
});
