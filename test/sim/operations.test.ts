// Simulated-segment scenarios: yield/resume, faults and tracking, GARP schedule, shutdown order.
import { describe, expect, it } from 'vitest';
import { Segment, cfg } from '../../src/sim/segment.js';
import { masterDownIntervalMs, skewTimeMs } from '../../src/engine/timers.js';
import { A, B, running } from '../support/pair.js';


describe('yield', () => {
  it('hands over to the peer in Skew_Time, reports who took over, and holds back until resume', () => {
    const seg = running();
    const t0 = seg.now;
    const acts = seg.send('lvs1', { type: 'yield', holdMs: null });
    expect(acts.slice(0, 2)).toMatchObject([{ type: 'sendAdvert', priority: 0 }, { type: 'removeVips' }]);
    expect(seg.router('lvs1').state).toBe('BACKUP');
    seg.runFor(60_000);
    const outcome = seg.actions('yieldOutcome', 'lvs1');
    expect(outcome).toHaveLength(1);
    expect(outcome[0]!.action).toMatchObject({ outcome: 'taken-over', by: B });
    // prio-0 lands (0.1) + lvs2 waits its skew + its first advert lands (0.1)
    expect((outcome[0]!.action as { afterMs: number }).afterMs).toBeCloseTo(0.2 + skewTimeMs(3, 90, 100), 9);
    // Held: lvs1 has the higher priority and preempt on, yet it accepts lvs2 for a whole minute.
    expect(seg.holders()).toEqual(['lvs2']);
    expect(seg.timeWithHolders(t0, seg.now, (n) => n === 0)).toBeCloseTo(0.1 + skewTimeMs(3, 90, 100), 9);
    const t1 = seg.now;
    seg.send('lvs1', { type: 'resume' });
    seg.runFor(10_000);
    const back = seg.transitions('lvs1').find((x) => x.to === 'MASTER' && x.at > t1)!;
    expect(back.reason).toBe('preempt');
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('--for a duration: the hold expires by itself and normal preemption resumes', () => {
    const seg = running();
    const t0 = seg.now;
    seg.send('lvs1', { type: 'yield', holdMs: 20_000 });
    seg.runFor(19_000);
    expect(seg.holders()).toEqual(['lvs2']);
    seg.runFor(30_000);
    expect(seg.actions('holdEnded', 'lvs1')[0]).toMatchObject({ at: t0 + 20_000, action: { cause: 'expired' } });
    const back = seg.transitions('lvs1').find((x) => x.to === 'MASTER' && x.at > t0)!;
    expect(back.at).toBeGreaterThan(t0 + 20_000);
    expect(back.at).toBeLessThan(t0 + 20_000 + 1_000 + masterDownIntervalMs(3, 100, 100));
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('with no live peer it reclaims MASTER after Master_Down_Interval: a yield never orphans the VIPs', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A }));
    seg.startAll();
    seg.runFor(10_000);
    const t0 = seg.now;
    seg.send('lvs1', { type: 'yield', holdMs: null });
    seg.runFor(10_000);
    const back = seg.transitions('lvs1').at(-1)!;
    expect(back).toMatchObject({ to: 'MASTER', reason: 'yield-reclaim' });
    expect(back.at - t0).toBeCloseTo(masterDownIntervalMs(3, 100, 100), 9);
    expect(seg.actions('yieldOutcome', 'lvs1')[0]!.action).toMatchObject({ outcome: 'reclaimed' });
    expect(seg.router('lvs1').instance.state.held).toBe(false);
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('a peer in FAULT does not take over, so the yielder reclaims', () => {
    const seg = running();
    seg.send('lvs2', { type: 'interface', ifname: 'eth0', up: false });
    seg.send('lvs1', { type: 'yield', holdMs: null });
    seg.runFor(10_000);
    expect(seg.actions('yieldOutcome', 'lvs1')[0]!.action).toMatchObject({ outcome: 'reclaimed' });
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('after the peer took over, the held router still fails over if that peer dies', () => {
    const seg = running();
    seg.send('lvs1', { type: 'yield', holdMs: null });
    seg.runFor(5_000);
    seg.kill('lvs2');
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs1']);
    expect(seg.transitions('lvs1').at(-1)).toMatchObject({ to: 'MASTER', reason: 'master-silent' });
  });

  it('is refused on a BACKUP, and resume without a hold does nothing', () => {
    const seg = running();
    expect(seg.send('lvs2', { type: 'yield', holdMs: null })).toEqual([{ type: 'yieldRefused', detail: 'not MASTER (BACKUP)' }]);
    expect(seg.send('lvs2', { type: 'resume' })).toEqual([]);
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs1']);
  });
});

describe('faults and tracking', () => {
  it('tracked interface down on the MASTER: priority 0, VIPs released, FAULT; the backup takes over in skew', () => {
    const seg = running();
    const t0 = seg.now;
    const acts = seg.send('lvs1', { type: 'interface', ifname: 'eth0', up: false });
    expect(acts.map((a) => a.type)).toEqual(['sendAdvert', 'removeVips', 'transition', 'hook', 'notify']);
    expect(acts[0]).toMatchObject({ priority: 0 });
    expect(seg.router('lvs1').state).toBe('FAULT');
    seg.runFor(5_000);
    expect(seg.transitions('lvs2').at(-1)!.at - t0).toBeCloseTo(0.1 + skewTimeMs(3, 90, 100), 9);
    // In FAULT it ignores the election entirely.
    seg.runFor(60_000);
    expect(seg.router('lvs1').state).toBe('FAULT');
    expect(seg.holders()).toEqual(['lvs2']);
  });

  it('FAULT clears to BACKUP (not MASTER), then preempts normally; with several faults, all must clear', () => {
    const seg = running();
    seg.send('lvs1', { type: 'interface', ifname: 'eth0', up: false });
    seg.send('lvs1', { type: 'fault', source: 'script chk_http', active: true });
    seg.runFor(5_000);
    seg.send('lvs1', { type: 'interface', ifname: 'eth0', up: true });
    expect(seg.router('lvs1').state).toBe('FAULT');
    const t0 = seg.now;
    seg.send('lvs1', { type: 'fault', source: 'script chk_http', active: false });
    expect(seg.router('lvs1').state).toBe('BACKUP');
    expect(seg.transitions('lvs1').at(-1)).toMatchObject({ from: 'FAULT', to: 'BACKUP', reason: 'fault-cleared' });
    seg.runFor(10_000);
    expect(seg.transitions('lvs1').at(-1)).toMatchObject({ to: 'MASTER', reason: 'preempt' });
    expect(seg.transitions('lvs1').at(-1)!.at - t0).toBeCloseTo(masterDownIntervalMs(3, 100, 100), 9);
  });

  it('a router started while faulted goes straight to FAULT and sends nothing', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A }));
    seg.send('lvs1', { type: 'interface', ifname: 'eth1', up: false });
    seg.startAll();
    seg.runFor(10_000);
    expect(seg.router('lvs1').state).toBe('FAULT');
    expect(seg.actions('sendAdvert')).toHaveLength(0);
  });

  it('a tracking weight below the backup\'s priority hands over; the master re-advertises at once', () => {
    const seg = running();
    const t0 = seg.now;
    const acts = seg.send('lvs1', { type: 'trackWeight', weight: -20 });
    expect(acts).toEqual([{ type: 'priorityChanged', from: 100, to: 80 }, { type: 'sendAdvert', priority: 80, intervalCs: 100 }]);
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs2']);
    const up = seg.transitions('lvs2').find((x) => x.at > t0)!;
    expect(up).toMatchObject({ to: 'MASTER', reason: 'preempt' });
    // Weight back: lvs1 preempts again.
    seg.send('lvs1', { type: 'trackWeight', weight: 0 });
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('effective priority stays within 1-254 and the owner is never adjusted', () => {
    const seg = new Segment();
    const r = seg.add('x', cfg({ primaryAddress: A, priority: 100 }));
    const o = seg.add('o', cfg({ primaryAddress: B, priority: 255 }));
    seg.send(r, { type: 'trackWeight', weight: 500 });
    seg.send(o, { type: 'trackWeight', weight: -50 });
    expect(r.instance.state.effectivePriority).toBe(254);
    expect(o.instance.state.effectivePriority).toBe(255);
    seg.send(r, { type: 'trackWeight', weight: -500 });
    expect(r.instance.state.effectivePriority).toBe(1);
  });
});

describe('gratuitous ARP schedule', () => {
  it('a burst on becoming MASTER, a second after garp_master_delay, refresh while MASTER, nothing after leaving', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({
      primaryAddress: A, priority: 255,
      garp: { masterDelayMs: 5_000, masterRepeat: 3, masterRefreshMs: 60_000, refreshRepeat: 2, lowerPriorityRepeat: 1 },
    }));
    seg.startAll();
    seg.runFor(200_000);
    const g = seg.actions('announce', 'lvs1').map((a) => [a.at, a.action.cause, a.action.count]);
    expect(g).toEqual([
      [0, 'become-master', 3], [5_000, 'master-delay', 3],
      [60_000, 'refresh', 2], [120_000, 'refresh', 2], [180_000, 'refresh', 2],
    ]);
    seg.send('lvs1', { type: 'yield', holdMs: null });
    const n = seg.actions('announce').length;
    seg.runFor(2_000); // less than its Master_Down_Interval (~3 s): still BACKUP, no GARP
    expect(seg.actions('announce').filter((a) => a.action.cause === 'refresh').length).toBe(3);
    expect(seg.actions('announce').length).toBe(n);
  });

  it('garp_master_delay 0 means one burst only', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A, priority: 255, garp: { masterDelayMs: 0, masterRepeat: 5, masterRefreshMs: 0, refreshRepeat: 1, lowerPriorityRepeat: 5 } }));
    seg.startAll();
    seg.runFor(100_000);
    expect(seg.actions('announce').map((a) => a.action.cause)).toEqual(['become-master']);
  });
});

describe('shutdown', () => {
  it('a BACKUP shuts down silently; a MASTER sends priority 0 before removing the VIPs', () => {
    const seg = running();
    expect(seg.send('lvs2', { type: 'shutdown' }).map((a) => a.type)).toEqual(['transition', 'hook', 'notify']);
    const acts = seg.send('lvs1', { type: 'shutdown' });
    expect(acts[0]).toMatchObject({ type: 'sendAdvert', priority: 0 });
    expect(acts[1]).toMatchObject({ type: 'removeVips' });
    expect(acts.at(-1)).toMatchObject({ type: 'notify', state: 'STOP' });
    expect(seg.router('lvs1').instance.nextDeadline()).toBeNull();
    expect(seg.send('lvs1', { type: 'shutdown' })).toEqual([]);
  });
});

describe('reconfigure (reload) on the engine', () => {
  it('a priority change on the MASTER is advertised at once, without a transition, and the rhythm stays', () => {
    const seg = running();
    const r = seg.router('lvs1');
    const nextBefore = r.instance.state.adverTimer!;
    const t0 = seg.now;
    const acts = r.instance.reconfigure(seg.now, { ...r.config, priority: 120 });
    expect(acts).toEqual([{ type: 'priorityChanged', from: 100, to: 120 }, { type: 'sendAdvert', priority: 120, intervalCs: 100 }]);
    expect(r.instance.state.state).toBe('MASTER');
    expect(r.instance.state.adverTimer).toBe(t0 + 1000);
    expect(nextBefore).toBeGreaterThan(t0);
    // An unchanged config changes nothing at all.
    expect(r.instance.reconfigure(seg.now, r.instance.config)).toEqual([]);
  });
  it('lowering the MASTER below the backup hands over through normal preemption', () => {
    const seg = running();
    seg.reconfigure('lvs1', { ...seg.router('lvs1').config, priority: 50 });
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs2']);
    expect(seg.transitions('lvs2').at(-1)).toMatchObject({ to: 'MASTER', reason: 'preempt' });
  });
  it('turning preempt off on a higher BACKUP keeps the current master', () => {
    const seg = running();
    seg.reconfigure('lvs1', { ...seg.router('lvs1').config, priority: 50 });
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs2']);
    seg.reconfigure('lvs1', { ...seg.router('lvs1').config, priority: 200, preempt: false });
    seg.runFor(30_000);
    expect(seg.holders()).toEqual(['lvs2']); // higher now, but nopreempt: no takeover
    seg.reconfigure('lvs1', { ...seg.router('lvs1').config, preempt: true });
    seg.runFor(10_000);
    expect(seg.holders()).toEqual(['lvs1']); // and preempt back on: it takes over
  });
});
