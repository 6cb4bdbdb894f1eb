// Simulated-segment scenarios: failover timings (kill, priority 0, v3 learning), split brain, v2 mismatch, flapping.
import { describe, expect, it } from 'vitest';
import { Segment, cfg } from '../../src/sim/segment.js';
import { masterDownIntervalMs, skewTimeMs } from '../../src/engine/timers.js';
import { A, B, running } from '../support/pair.js';


const lastAdvertFrom = (seg: Segment, name: string) => seg.actions('sendAdvert', name).at(-1)!.at;

describe('failover', () => {
  it('SIGKILL: the backup takes over Master_Down_Interval after the last advert (v3, 1 s)', () => {
    const seg = running();
    seg.runFor(345.6); // fault at an arbitrary phase
    seg.kill('lvs1');
    const last = lastAdvertFrom(seg, 'lvs1');
    seg.runFor(10_000);
    const up = seg.transitions('lvs2').find((x) => x.to === 'MASTER')!;
    expect(up.reason).toBe('master-silent');
    expect(up.at - (last + 0.1)).toBeCloseTo(masterDownIntervalMs(3, 90, 100), 9); // 3000 + 648.4375
    expect(seg.holders()).toEqual(['lvs2']);
  });

  it('v2 uses the local interval in seconds and a skew of (256 - p)/256 s, not scaled (RFC 3768 §6.1)', () => {
    const seg = running({ version: 2, advertIntervalCs: 300 }, { version: 2, advertIntervalCs: 300 });
    seg.kill('lvs1');
    const last = lastAdvertFrom(seg, 'lvs1');
    seg.runFor(20_000);
    const up = seg.transitions('lvs2').find((x) => x.to === 'MASTER')!;
    expect(up.at - (last + 0.1)).toBeCloseTo(9000 + 648.4375, 9);
    expect(skewTimeMs(2, 90, 300)).toBeCloseTo(648.4375, 9);
  });

  it('priority 0 on shutdown: the backup takes over in Skew_Time, not Master_Down_Interval', () => {
    const seg = running();
    const t0 = seg.now;
    const acts = seg.send('lvs1', { type: 'shutdown' });
    expect(acts.map((a) => a.type)).toEqual(['sendAdvert', 'removeVips', 'transition', 'hook', 'notify']);
    expect(acts[0]).toMatchObject({ type: 'sendAdvert', priority: 0 });
    seg.runFor(5_000);
    const up = seg.transitions('lvs2').find((x) => x.to === 'MASTER')!;
    expect(up.reason).toBe('master-resigned');
    expect(up.at - t0).toBeCloseTo(0.1 + skewTimeMs(3, 90, 100), 9); // 648.4375 ms after the advert lands
    expect(seg.timeWithHolders(t0, seg.now, (n) => n === 0)).toBeCloseTo(0.1 + 648.4375, 9);
    expect(seg.holders()).toEqual(['lvs2']);
  });

  it('v3 learns the master\'s interval: a 10 ms master is detected in 3 × 10 ms + skew, not 3 s', () => {
    const seg = running({ advertIntervalCs: 1 }, { advertIntervalCs: 100 });
    expect(seg.router('lvs2').instance.state.masterAdverIntervalCs).toBe(1);
    seg.runFor(3.3);
    seg.kill('lvs1');
    const last = lastAdvertFrom(seg, 'lvs1');
    seg.runFor(5_000);
    const up = seg.transitions('lvs2').find((x) => x.to === 'MASTER')!;
    expect(up.at - (last + 0.1)).toBeCloseTo(30 + (166 * 10) / 256, 9); // 36.484375 ms
    // ...and, once MASTER, it advertises its own configured interval again.
    expect(seg.actions('sendAdvert', 'lvs2').at(-1)!.action.intervalCs).toBe(100);
  });

  it('sub-millisecond skew: priority 254 at 1 cs gives Skew_Time 78.125 µs', () => {
    expect(skewTimeMs(3, 254, 1)).toBe(0.078125);
    expect(masterDownIntervalMs(3, 254, 1)).toBe(30.078125);
    const seg = running({ advertIntervalCs: 1, priority: 255 }, { advertIntervalCs: 1, priority: 254 });
    const t0 = seg.now;
    seg.send('lvs1', { type: 'shutdown' });
    seg.runFor(100);
    const up = seg.transitions('lvs2').find((x) => x.to === 'MASTER' && x.at > t0)!;
    expect(up.reason).toBe('master-resigned');
    expect(up.at - t0).toBeCloseTo(0.1 + 0.078125, 12);
  });

  it('a backup that loses 2 adverts in a row does not fail over; 3 lost do', () => {
    const seg = running();
    const base = seg.router('lvs1').instance.state.adverTimer!;
    // Cut lvs1 → lvs2 for just under two intervals around the next two adverts.
    seg.at(base - 1, () => seg.partition('lvs1', 'lvs2'));
    seg.at(base + 1500, () => seg.partition('lvs1', 'lvs2', false));
    seg.runFor(20_000);
    expect(seg.transitions('lvs2').filter((x) => x.to === 'MASTER')).toHaveLength(0);
    const b2 = seg.router('lvs1').instance.state.adverTimer!;
    seg.at(b2 - 1, () => seg.partition('lvs1', 'lvs2'));
    seg.at(b2 + 2500, () => seg.partition('lvs1', 'lvs2', false));
    seg.runFor(20_000);
    expect(seg.transitions('lvs2').filter((x) => x.to === 'MASTER')).toHaveLength(1);
    expect(seg.holders()).toEqual(['lvs1']); // and it converged back
  });
});

describe('split brain', () => {
  it('a partition makes two masters; on heal the rightful master answers the lower advert at once and re-announces the VIPs', () => {
    const seg = running();
    seg.isolate('lvs2');
    seg.runFor(10_000);
    expect(seg.holders().sort()).toEqual(['lvs1', 'lvs2']);
    // Heal just before lvs2's next advert so lvs1 (MASTER) hears a lower-priority advert first.
    const nextLow = seg.router('lvs2').instance.state.adverTimer!;
    seg.at(nextLow - 0.5, () => seg.isolate('lvs2', false));
    seg.runFor(5_000);
    const ans = seg.actions('sendAdvert', 'lvs1').find((a) => a.at > nextLow)!;
    expect(ans.at).toBeCloseTo(nextLow + 0.1, 9); // answered on receipt, not at its own next tick
    const garp = seg.actions('announce', 'lvs1').find((a) => a.at > nextLow)!;
    expect(garp.action).toMatchObject({ cause: 'lower-priority', count: 5 });
    expect(garp.at).toBeCloseTo(nextLow + 0.1, 9);
    const down = seg.transitions('lvs2').at(-1)!;
    expect(down).toMatchObject({ to: 'BACKUP', reason: 'higher-priority' });
    expect(down.at).toBeCloseTo(nextLow + 0.2, 9); // converged in one round trip
    expect(seg.holders()).toEqual(['lvs1']);
  });

  it('the heal re-announce is rate-limited while a deaf lower master keeps advertising', () => {
    const seg = running();
    seg.partition('lvs1', 'lvs2'); // cut both ways...
    seg.runFor(5_000);
    // ...then only lvs1 → lvs2 stays cut: lvs1 hears lvs2's adverts, lvs2 never hears lvs1.
    seg.partition('lvs1', 'lvs2', false);
    seg.partition('lvs1', 'lvs2');
    (seg as unknown as { blocked: Set<string> }).blocked.delete('lvs2>lvs1');
    const t0 = seg.now;
    seg.runFor(30_000);
    const low = seg.actions('sendAdvert', 'lvs2').filter((a) => a.at > t0);
    const answers = seg.actions('sendAdvert', 'lvs1').filter((a) => a.at > t0);
    const garps = seg.actions('announce', 'lvs1').filter((a) => a.at > t0 && a.action.cause === 'lower-priority');
    expect(low.length).toBeGreaterThanOrEqual(29);
    // Every lower advert is answered on arrival (which also restarts lvs1's Adver_Timer).
    for (const l of low.slice(0, -1)) expect(answers.some((a) => Math.abs(a.at - (l.at + 0.1)) < 1e-9)).toBe(true);
    expect(garps.length).toBeGreaterThanOrEqual(9);
    expect(garps.length).toBeLessThanOrEqual(11); // once per 3 s, not once per advert
  });
});

describe('v2 interval mismatch (RFC 3768 §7.1)', () => {
  it('adverts with another interval are dropped and counted, and never reset the timer', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A, version: 2, priority: 100, advertIntervalCs: 100 }));
    seg.add('lvs2', cfg({ primaryAddress: B, version: 2, priority: 90, advertIntervalCs: 200 }));
    seg.startAll();
    seg.runFor(20_000);
    // Neither accepts the other: both end MASTER (the RFC's behaviour; keepalived's too).
    expect(seg.holders().sort()).toEqual(['lvs1', 'lvs2']);
    expect(seg.router('lvs2').instance.state.counters.drops['interval-mismatch']).toBeGreaterThan(5);
    expect(seg.router('lvs1').instance.state.counters.drops['interval-mismatch']).toBeGreaterThan(5);
    expect(seg.router('lvs2').instance.state.counters.advertsReceived).toBe(0);
  });

  it('v3 has no such rule: differing intervals still elect one master', () => {
    const seg = new Segment();
    seg.add('lvs1', cfg({ primaryAddress: A, priority: 100, advertIntervalCs: 100 }));
    seg.add('lvs2', cfg({ primaryAddress: B, priority: 90, advertIntervalCs: 200 }));
    seg.startAll();
    seg.runFor(30_000);
    expect(seg.holders()).toEqual(['lvs1']);
  });
});

describe('no flapping under constant conditions', () => {
  for (const [name, interval, jitter, duration] of [
    ['1 s adverts, jitter up to 5 ms, an hour', 100, 5, 3_600_000],
    ['10 ms adverts, jitter up to 2 ms, ten minutes', 1, 2, 600_000],
  ] as const) {
    it(name, () => {
      const seg = new Segment({ latencyMs: [0.05, jitter], seed: 42 });
      seg.add('lvs1', cfg({ primaryAddress: A, priority: 100, advertIntervalCs: interval }));
      seg.add('lvs2', cfg({ primaryAddress: B, priority: 90, advertIntervalCs: interval }));
      seg.add('lvs3', cfg({ primaryAddress: '172.16.1.253', priority: 100, advertIntervalCs: interval }));
      seg.startAll();
      seg.runFor(10_000);
      const settled = seg.log.length;
      const before = seg.transitions().length;
      seg.runFor(duration);
      expect(seg.log.length).toBeGreaterThan(settled); // the routers kept advertising...
      expect(seg.transitions().length).toBe(before); // ...and nobody changed state
      expect(seg.holders()).toEqual(['lvs3']); // equal top priority: the greater address
      expect(seg.timeWithHolders(10_000, seg.now, (n) => n !== 1)).toBe(0);
    });
  }
});
