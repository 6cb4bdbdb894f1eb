// Self-healing VIPs on the simulated segment: a MASTER restores VIPs deleted behind its back, a BACKUP removes strays.
import { describe, expect, it } from 'vitest';
import { step } from '../../src/engine/instance.js';
import { vipRestoreHoldoffMs } from '../../src/engine/vip-heal.js';
import { running } from '../support/pair.js';

describe('VIPs that heal themselves', () => {
  it('MASTER: a VIP deleted by someone else is put back at once and announced; no transition', () => {
    const seg = running();
    const before = seg.transitions().length;
    const acts = seg.tamper('lvs1', false);
    expect(acts.map((a) => a.type)).toEqual(['addVips', 'announce', 'vipsHealed']);
    expect(acts[1]).toMatchObject({ type: 'announce', cause: 'vip-restored', count: 5 });
    expect(acts[2]).toMatchObject({ heal: 'restored', addresses: ['192.168.1.250'], seen: 'simulated' });
    expect(seg.holders()).toEqual(['lvs1']);
    expect(seg.router('lvs1').instance.state.counters.vipRestores).toBe(1);
    seg.runFor(10_000);
    expect(seg.transitions().length).toBe(before);
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('BACKUP: our VIP added by someone else is removed; MASTER untouched', () => {
    const seg = running();
    const acts = seg.tamper('lvs2', true);
    expect(acts.map((a) => a.type)).toEqual(['removeVips', 'vipsHealed']);
    expect(seg.holders()).toEqual(['lvs1']);
    expect(seg.router('lvs2').instance.state.counters.vipRemovals).toBe(1);
    // The same fact on the MASTER (its own VIPs present) means nothing.
    expect(seg.send('lvs1', { type: 'vipsPresent', addresses: ['192.168.1.250'], seen: 'x' })).toEqual([]);
  });

  it('FAULT: a stray VIP is removed too; a lost VIP on a non-MASTER is not restored', () => {
    const seg = running();
    seg.send('lvs2', { type: 'fault', source: 'test', active: true });
    expect(seg.router('lvs2').state).toBe('FAULT');
    expect(seg.tamper('lvs2', true).map((a) => a.type)).toEqual(['removeVips', 'vipsHealed']);
    expect(seg.send('lvs2', { type: 'vipsLost', addresses: ['192.168.1.250'], seen: 'x' })).toEqual([]);
  });

  it('a program that keeps deleting them gets one restore per holdoff, at the advert timer', () => {
    const seg = running({ advertIntervalCs: 1 }, { advertIntervalCs: 1 });
    const c = seg.router('lvs1').config;
    const holdoff = vipRestoreHoldoffMs(c);
    expect(holdoff).toBe(1000);
    const t0 = seg.now;
    seg.tamper('lvs1', false);
    seg.runFor(100);
    expect(seg.tamper('lvs1', false)).toEqual([]); // within the holdoff: deferred
    expect(seg.holders()).toEqual([]);
    seg.runFor(1000);
    const restores = seg.actions('vipsHealed', 'lvs1');
    expect(restores.length).toBe(2);
    const second = restores[1]!;
    expect(second.at - t0).toBeGreaterThanOrEqual(holdoff);
    expect(second.at - t0).toBeLessThanOrEqual(holdoff + 10); // the first advert tick past the holdoff
    expect(second.action.deferredMs).toBeGreaterThanOrEqual(holdoff);
    expect(seg.holders()).toEqual(['lvs1']);
    // The backup never took over meanwhile: the master kept advertising.
    expect(seg.transitions('lvs2').filter((t) => t.to === 'MASTER')).toEqual([]);
  });

  it('a pending restore is dropped when the instance leaves MASTER', () => {
    const seg = running();
    seg.tamper('lvs1', false);
    seg.tamper('lvs1', false);
    expect(seg.router('lvs1').instance.state.vipsMissing).toEqual(['192.168.1.250']);
    seg.send('lvs1', { type: 'fault', source: 'test', active: true });
    expect(seg.router('lvs1').instance.state.vipsMissing).toEqual([]);
  });

  it('step() stays pure with the new events', () => {
    const seg = running();
    const s = seg.router('lvs1').instance.state;
    const frozen = JSON.stringify(s);
    step(s, seg.router('lvs1').config, seg.now, { type: 'vipsLost', addresses: ['a'], seen: 'x' });
    expect(JSON.stringify(s)).toBe(frozen);
  });
});
