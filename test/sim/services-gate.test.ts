// The IPVS gate as an engine fact: a new MASTER carrying services adds its VIPs only on servicesReady.
import { describe, expect, it } from 'vitest';
import { Segment, cfg } from '../../src/sim/segment.js';
import { VrrpInstance } from '../../src/engine/instance.js';

const A = '172.16.1.251';
const B = '172.16.1.252';

function pair(delayMs: number) {
  const seg = new Segment({ latencyMs: 0.1 });
  seg.add('lvs1', cfg({ primaryAddress: A, priority: 100, awaitServices: true })).servicesDelayMs = delayMs;
  seg.add('lvs2', cfg({ primaryAddress: B, priority: 90, awaitServices: true })).servicesDelayMs = delayMs;
  seg.startAll();
  return seg;
}

describe('services gate (awaitServices)', () => {
  it('MASTER advertises at once but adds the VIPs and GARPs only when its services are ready', () => {
    const inst = new VrrpInstance(cfg({ primaryAddress: A, priority: 255, awaitServices: true }), 0);
    const acts = inst.step(0, { type: 'startup' }).map((a) => a.type);
    expect(acts).toEqual(['sendAdvert', 'transition', 'hook', 'notify']);
    expect(inst.state.state).toBe('MASTER');
    expect(inst.state.vipsHeld).toBe(false);
    expect(inst.state.awaitingServices).toBe(true);
    expect(inst.state.garpDelayTimer).toBeNull(); // no delayed GARP for VIPs we do not hold yet
    const ready = inst.step(40, { type: 'servicesReady' });
    expect(ready.map((a) => a.type)).toEqual(['addVips', 'announce']);
    expect(inst.state.vipsHeld).toBe(true);
    expect(inst.state.garpDelayTimer).toBe(40 + 5000); // garp_master_delay counts from the VIPs
    expect(inst.step(50, { type: 'servicesReady' })).toEqual([]); // once only
  });

  it('without awaitServices the VIPs go up in the same step, right behind the advert', () => {
    const inst = new VrrpInstance(cfg({ primaryAddress: A, priority: 255 }), 0);
    expect(inst.step(0, { type: 'startup' }).map((a) => a.type)).toEqual(['sendAdvert', 'addVips', 'announce', 'transition', 'hook', 'notify']);
    expect(inst.state.vipsHeld).toBe(true);
  });

  it('a MASTER that loses the election before its services are ready never adds the VIPs', () => {
    const inst = new VrrpInstance(cfg({ primaryAddress: A, priority: 255, awaitServices: true }), 0);
    inst.step(0, { type: 'startup' });
    inst.step(1, { type: 'fault', source: 'test', active: true });
    expect(inst.state.state).toBe('FAULT');
    expect(inst.state.awaitingServices).toBe(false);
    expect(inst.step(2, { type: 'servicesReady' })).toEqual([]);
    expect(inst.state.vipsHeld).toBe(false);
  });

  it('on the segment: the takeover holds the VIPs only after the services delay; one holder at the end', () => {
    const seg = pair(250);
    seg.runFor(5000);
    expect(seg.router('lvs1').state).toBe('MASTER');
    const up = seg.transitions('lvs1').find((t) => t.to === 'MASTER')!;
    const held = seg.holderChanges.find((c) => c.holders.includes('lvs1'))!;
    expect(held.at - up.at).toBeCloseTo(250, 6);
    // lvs1 dies: lvs2 takes over, and its VIPs follow its services by the same delay.
    seg.kill('lvs1');
    seg.runFor(5000);
    const up2 = seg.transitions('lvs2').find((t) => t.to === 'MASTER')!;
    const held2 = seg.holderChanges.find((c) => c.holders.includes('lvs2'))!;
    expect(held2.at - up2.at).toBeCloseTo(250, 6);
    expect(seg.holders()).toEqual(['lvs2']);
    // No split-brain heal GARP before the VIPs were there.
    const early = seg.actions('announce', 'lvs2').filter((a) => a.at < held2.at);
    expect(early).toEqual([]);
  });
});
