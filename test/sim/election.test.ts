// Simulated-segment scenarios: election, preemption, nopreempt, owner, initial state, preempt_delay.
import { describe, expect, it } from 'vitest';
import { Segment, cfg } from '../../src/sim/segment.js';
import { masterDownIntervalMs } from '../../src/engine/timers.js';

const A = '172.16.1.251';
const B = '172.16.1.252';
const C = '172.16.1.253';

function pair(over1 = {}, over2 = {}, seg = new Segment()) {
  seg.add('lvs1', cfg({ primaryAddress: A, priority: 100, ...over1 }));
  seg.add('lvs2', cfg({ primaryAddress: B, priority: 90, ...over2 }));
  return seg;
}

describe('election', () => {
  it('the higher priority wins, after its own Master_Down_Interval, and only it holds the VIPs', () => {
    const seg = pair();
    seg.startAll();
    seg.runFor(20_000);
    expect(seg.router('lvs1').state).toBe('MASTER');
    expect(seg.router('lvs2').state).toBe('BACKUP');
    expect(seg.holders()).toEqual(['lvs1']);
    const [t] = seg.transitions().filter((x) => x.to === 'MASTER');
    expect(t).toMatchObject({ router: 'lvs1', reason: 'no-master' });
    expect(t!.at).toBeCloseTo(masterDownIntervalMs(3, 100, 100), 9); // 3000 + 609.375
    expect(seg.transitions().filter((x) => x.to === 'MASTER')).toHaveLength(1); // lvs2 never flipped
  });

  it('equal priority: a later BACKUP does not preempt an equal master (priority >= ours is accepted)', () => {
    for (const [first, second] of [['lvs1', 'lvs2'], ['lvs2', 'lvs1']] as const) {
      const seg = pair({}, { priority: 100 });
      seg.send(first, { type: 'startup' });
      seg.runFor(5_000);
      seg.send(second, { type: 'startup' });
      seg.runFor(60_000);
      expect(seg.router(first).state).toBe('MASTER');
      expect(seg.router(second).state).toBe('BACKUP');
      expect(seg.holders()).toEqual([first]);
    }
  });

  it('simultaneous timeout at equal priority resolves in one round trip to the greater address', () => {
    const seg = pair({}, { priority: 100 });
    seg.startAll(); // both time out at exactly the same instant and both become MASTER
    seg.runFor(4_000);
    const down = seg.transitions('lvs1').find((x) => x.from === 'MASTER');
    expect(down).toMatchObject({ to: 'BACKUP', reason: 'equal-priority-greater-address' });
    const up = seg.transitions('lvs1').find((x) => x.to === 'MASTER')!;
    expect(down!.at - up.at).toBeCloseTo(0.1, 9); // one latency
    expect(seg.holders()).toEqual(['lvs2']);
  });

  it('three routers elect the highest; the others stay BACKUP', () => {
    const seg = pair();
    seg.add('lvs3', cfg({ primaryAddress: C, priority: 150 }));
    seg.startAll();
    seg.runFor(30_000);
    expect(seg.holders()).toEqual(['lvs3']);
    expect(seg.transitions().filter((x) => x.to === 'MASTER').map((x) => x.router)).toEqual(['lvs3']);
  });
});

describe('preemption', () => {
  it('a higher-priority router that starts later preempts: it discards the lower adverts and takes over when its timer fires', () => {
    const seg = pair();
    seg.send('lvs2', { type: 'startup' });
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs2']);
    const start = seg.now;
    seg.send('lvs1', { type: 'startup' });
    seg.runFor(10_000);
    const up = seg.transitions('lvs1').find((x) => x.to === 'MASTER')!;
    expect(up.reason).toBe('preempt');
    // It discarded every lower advert, so the timer set at startup ran out untouched.
    expect(up.at).toBeCloseTo(start + masterDownIntervalMs(3, 100, 100), 9);
    expect(seg.transitions('lvs2').at(-1)).toMatchObject({ to: 'BACKUP', reason: 'higher-priority' });
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('nopreempt: a higher-priority router that starts later stays BACKUP', () => {
    const seg = pair({ preempt: false });
    seg.send('lvs2', { type: 'startup' });
    seg.runFor(10_000);
    seg.send('lvs1', { type: 'startup' });
    seg.runFor(120_000);
    expect(seg.router('lvs1').state).toBe('BACKUP');
    expect(seg.holders()).toEqual(['lvs2']);
    expect(seg.transitions('lvs1')).toHaveLength(1); // INIT → BACKUP only
  });

  it('nopreempt still takes over when the master dies', () => {
    const seg = pair({ preempt: false });
    seg.send('lvs2', { type: 'startup' });
    seg.runFor(10_000);
    seg.send('lvs1', { type: 'startup' });
    seg.runFor(10_000);
    seg.kill('lvs2');
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('preempt_delay: a lower-priority master is tolerated for the delay, then preempted', () => {
    const seg = pair({ preemptDelayMs: 10_000 });
    seg.send('lvs2', { type: 'startup' });
    seg.runFor(10_000);
    const start = seg.now;
    seg.send('lvs1', { type: 'startup' });
    seg.runFor(40_000);
    const up = seg.transitions('lvs1').find((x) => x.to === 'MASTER')!;
    expect(up.reason).toBe('preempt');
    // The window opens at the first lower advert (within one interval of start) and lasts 10 s.
    expect(up.at).toBeGreaterThan(start + 10_000);
    expect(up.at).toBeLessThan(start + 1_000 + 10_000 + masterDownIntervalMs(3, 100, 100) + 1);
    // Without the delay it would have happened 3.6 s after start.
    expect(up.at - start).toBeGreaterThan(masterDownIntervalMs(3, 100, 100) + 5_000);
  });

  it('preempt_delay does not delay a takeover when there is no master at all', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A, preemptDelayMs: 30_000 }));
    seg.startAll();
    seg.runFor(5_000);
    expect(seg.holders()).toEqual(['lvs1']);
  });
});

describe('owner and initial state', () => {
  it('priority 255 becomes MASTER at once on startup (RFC 5798 §6.4.1) and displaces a running master', () => {
    const seg = pair({ priority: 255 });
    seg.send('lvs2', { type: 'startup' });
    seg.runFor(10_000);
    const t0 = seg.now;
    seg.send('lvs1', { type: 'startup' });
    expect(seg.router('lvs1').state).toBe('MASTER');
    expect(seg.transitions('lvs1')[0]).toMatchObject({ from: 'INIT', to: 'MASTER', reason: 'owner', at: t0 });
    seg.runFor(5_000);
    expect(seg.holders()).toEqual(['lvs1']);
    // The overlap is one network latency: lvs2 steps down when our first advert lands.
    expect(seg.timeWithHolders(t0, seg.now, (n) => n > 1)).toBeCloseTo(0.1, 9);
  });

  it('state MASTER waits one interval (plus skew), not three, and never claims unheard', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A, initialState: 'MASTER', priority: 100 }));
    seg.startAll();
    seg.runFor(5_000);
    const up = seg.transitions('lvs1').find((x) => x.to === 'MASTER')!;
    expect(up.reason).toBe('initial-state');
    expect(up.at).toBeCloseTo(1000 + (156 * 1000) / 256, 9);
  });

  it('state MASTER with a better master running stays BACKUP', () => {
    const seg = pair({ initialState: 'MASTER', priority: 50 });
    seg.send('lvs2', { type: 'startup' });
    seg.runFor(10_000);
    seg.send('lvs1', { type: 'startup' });
    seg.runFor(30_000);
    expect(seg.router('lvs1').state).toBe('BACKUP');
    expect(seg.holders()).toEqual(['lvs2']);
  });
});
