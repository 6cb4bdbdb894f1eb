// Announce mode without I/O: the fitness/drain state machine on a virtual clock (examples and properties), the fitness of
// a group from an IPVS table, BIRD's reply framing and parsers on real BIRD 2.0.12 output, and the config's rules.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  announceDeadline, initialAnnounce, stepAnnounce, type AnnounceAction, type AnnounceEvent, type AnnounceState, type AnnounceTiming,
} from '../../src/engine/announce.js';
import { BirdReplyReader, parseProtocols, parseRoutePrefixes } from '../../src/net/bird-reply.js';
import { parseConfig } from '../../src/config/load.js';
import { groupFitness, groupTraffic, serviceKeys } from '../../src/ipvs/fitness.js';
import type { ServiceEntry } from '../../src/ipvs/types.js';

const T: AnnounceTiming = { upDelayMs: 1000, downDelayMs: 0, holdDownMs: 5000, drainTimeoutMs: 30_000, drainQuietMs: 2000 };

/** A group driven by events at times; every action is recorded with its time. */
class Sim {
  state: AnnounceState;
  log: { at: number; a: AnnounceAction }[] = [];
  constructor(public now = 0, public t = T) { this.state = initialAnnounce(now); }
  send(ev: AnnounceEvent, at = this.now): AnnounceAction[] {
    this.now = at;
    const s = stepAnnounce(this.state, this.t, at, ev);
    this.state = s.state;
    for (const a of s.actions) this.log.push({ at, a });
    return s.actions;
  }
  /** Advance the clock to `to`, ticking at every deadline on the way (as the daemon's timer does). */
  until(to: number): void {
    for (let d = announceDeadline(this.state, this.t); d !== null && d <= to; d = announceDeadline(this.state, this.t)) this.send({ type: 'tick' }, Math.max(d, this.now));
    this.now = to;
  }
  types(): string[] { return this.log.map((l) => l.a.type); }
}
const fit = { type: 'fitness', fit: true, why: [] } as const;
const unfit = (why = 'web: 0 real server(s) in service, 1 needed') => ({ type: 'fitness', fit: false, why: [why] }) as const;

describe('announce state machine', () => {
  it('starts withdrawn and announces once fit for upDelay', () => {
    const s = new Sim();
    expect(s.state.phase).toBe('withdrawn');
    s.send(fit, 100);
    expect(s.types()).toEqual([]);
    expect(announceDeadline(s.state, T)).toBe(1100);
    s.until(1099);
    expect(s.types()).toEqual([]);
    s.until(1100);
    expect(s.types()).toEqual(['announce']);
    expect(s.state.phase).toBe('announced');
  });

  it('a fitness break restarts the up delay', () => {
    const s = new Sim();
    s.send(fit, 0);
    s.send(unfit(), 500);
    s.send(fit, 700);
    s.until(1600);
    expect(s.types()).toEqual([]);
    s.until(1700);
    expect(s.types()).toEqual(['announce']);
  });

  it('unfit withdraws at once (downDelay 0) into a drain; quiet traffic ends it and releases the VIPs', () => {
    const s = new Sim();
    s.send(fit, 0);
    s.until(1000);
    s.send(unfit(), 2000);
    expect(s.types()).toEqual(['announce', 'withdraw']);
    expect(s.state.phase).toBe('draining');
    expect(s.state.reason).toMatch(/unfit: web: 0 real server/);
    s.send({ type: 'traffic', activeConns: 5, packets: 100 }, 2500);
    s.send({ type: 'traffic', activeConns: 5, packets: 140 }, 3000);
    s.until(4999);
    expect(s.state.phase).toBe('draining');
    s.until(5000); // 2 s without a new packet
    expect(s.types()).toEqual(['announce', 'withdraw', 'drained', 'release']);
    expect(s.log.at(-2)!.a).toMatchObject({ type: 'drained', outcome: 'quiet', afterMs: 3000, activeConns: 5 });
    expect(s.state.phase).toBe('withdrawn');
  });

  it('downDelay: a short unfit blip does not withdraw', () => {
    const s = new Sim(0, { ...T, downDelayMs: 3000 });
    s.send(fit, 0);
    s.until(1000);
    s.send(unfit(), 2000);
    s.send(fit, 4000);
    s.until(10_000);
    expect(s.types()).toEqual(['announce']);
    s.send(unfit(), 11_000);
    s.until(14_000);
    expect(s.types()).toEqual(['announce', 'withdraw']);
  });

  it('hold-down: fit again right after a withdrawal waits holdDown from the withdrawal', () => {
    const s = new Sim();
    s.send(fit, 0);
    s.until(1000);
    s.send(unfit(), 2000);
    s.send({ type: 'traffic', activeConns: 0, packets: 0 }, 2100); // drained at once: no connection
    s.send(fit, 2500);
    s.until(6999);
    expect(s.types()).toEqual(['announce', 'withdraw', 'drained', 'release']);
    s.until(7000);
    expect(s.types().at(-1)).toBe('announce');
  });

  it('fit again while still draining re-announces (the drain ends as "reannounced")', () => {
    const s = new Sim(0, { ...T, holdDownMs: 0 });
    s.send(fit, 0);
    s.until(1000);
    s.send(unfit(), 2000);
    s.send({ type: 'traffic', activeConns: 3, packets: 1 }, 2100);
    s.send(fit, 2200);
    s.until(3200);
    expect(s.types()).toEqual(['announce', 'withdraw', 'drained', 'announce']);
    expect(s.log[2]!.a).toMatchObject({ outcome: 'reannounced' });
  });

  it('yield withdraws, holds, reports the drain; resume announces at once (no hold-down)', () => {
    const s = new Sim();
    s.send(fit, 0);
    s.until(1000);
    s.send({ type: 'yield' }, 10_000);
    expect(s.types()).toEqual(['announce', 'withdraw']);
    s.send({ type: 'traffic', activeConns: 2, packets: 10 }, 10_500);
    s.send({ type: 'traffic', activeConns: 0, packets: 12 }, 11_000);
    expect(s.types()).toEqual(['announce', 'withdraw', 'drained', 'release']);
    expect(s.log[2]!.a).toMatchObject({ cause: 'yield', outcome: 'no-connections', afterMs: 1000 });
    s.until(60_000);
    expect(s.state).toMatchObject({ phase: 'withdrawn', held: true });
    s.send({ type: 'resume' }, 60_000);
    expect(s.types().at(-1)).toBe('announce');
  });

  it('a yield with nothing announced reports at once and holds', () => {
    const s = new Sim();
    expect(s.send({ type: 'yield' }, 0)).toEqual([{ type: 'drained', cause: 'yield', outcome: 'nothing-announced', afterMs: 0, activeConns: null }]);
    s.send(fit, 10);
    s.until(100_000);
    expect(s.state.phase).toBe('withdrawn');
  });

  it('the drain times out when traffic keeps coming', () => {
    const s = new Sim();
    s.send(fit, 0);
    s.until(1000);
    s.send({ type: 'yield' }, 1000);
    for (let t = 1500; t < 31_000; t += 500) s.send({ type: 'traffic', activeConns: 4, packets: t }, t);
    s.until(31_000);
    expect(s.log.find((l) => l.a.type === 'drained')).toMatchObject({ at: 31_000, a: { outcome: 'timeout', activeConns: 4 } });
  });

  it('stop withdraws an announced group and nothing follows', () => {
    const s = new Sim();
    s.send(fit, 0);
    s.until(1000);
    expect(s.send({ type: 'stop' }, 2000)).toMatchObject([{ type: 'withdraw', cause: 'stop' }]);
    expect(announceDeadline(s.state, T)).toBeNull();
    expect(s.send(fit, 3000)).toEqual([]);
  });

  it('property: announced only after upDelay of unbroken fitness, never within holdDown of an unfit withdrawal, never while unfit or held', () => {
    const ev = fc.oneof(
      fc.constant<AnnounceEvent>(fit), fc.constant<AnnounceEvent>(unfit()), fc.constant<AnnounceEvent>({ type: 'yield' }),
      fc.constant<AnnounceEvent>({ type: 'resume' }), fc.constant<AnnounceEvent>({ type: 'tick' }),
      fc.record({ activeConns: fc.integer({ min: 0, max: 3 }), packets: fc.integer({ min: 0, max: 5 }) }).map((x): AnnounceEvent => ({ type: 'traffic', ...x })),
    );
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), ev), { maxLength: 80 }), (steps) => {
      const s = new Sim();
      let lastFitStart: number | null = null;
      let lastUnfitWithdraw: number | null = null;
      let held = false;
      for (const [dt, e] of steps) {
        s.until(s.now + dt);
        const before = s.log.length;
        const wasFit = s.state.fit;
        s.send(e);
        if (e.type === 'fitness' && e.fit && !wasFit) lastFitStart = s.now;
        if (e.type === 'yield') held = true;
        if (e.type === 'resume') { held = false; lastUnfitWithdraw = null; }
        for (const { at, a } of s.log.slice(before)) {
          if (a.type === 'announce') {
            expect(s.state.fit).toBe(true);
            expect(held).toBe(false);
            expect(at - lastFitStart!).toBeGreaterThanOrEqual(T.upDelayMs);
            if (lastUnfitWithdraw !== null) expect(at - lastUnfitWithdraw).toBeGreaterThanOrEqual(T.holdDownMs);
          }
          if (a.type === 'withdraw' && a.cause === 'unfit') lastUnfitWithdraw = at;
        }
        // The phase agrees with the actions: announced ⇔ the last address action was announce.
        const last = [...s.log].reverse().find((l) => l.a.type === 'announce' || l.a.type === 'withdraw');
        expect(s.state.phase === 'announced').toBe(last?.a.type === 'announce');
        // Nothing pending is in the past.
        const d = announceDeadline(s.state, T);
        if (d !== null) expect(d).toBeGreaterThan(s.now - 1e-9 - 0 * d);
      }
    }), { numRuns: 300 });
  });
});

describe('BIRD reply framing and parsers (real BIRD 2.0.12 output)', () => {
  const protocols = '0001 BIRD 2.0.12 ready.\n2002-Name       Proto      Table      State  Since         Info\n1002-device1    Device     ---        up     01:43:41.290  \n'
    + ' lb         Direct     ---        up     01:43:41.290  \n upstream   BGP        ---        up     01:43:45.208  Established   \n'
    + ' backup     BGP        ---        start  01:43:54.952  Active        Received: Administrative shutdown\n0000 \n';
  it('splits replies, continuation lines carry the code', () => {
    const r = new BirdReplyReader();
    const out = [...r.push(protocols.slice(0, 50)), ...r.push(protocols.slice(50))];
    expect(out.map((x) => x.code)).toEqual([1, 0]);
    expect(out[0]!.lines[0]!.text).toBe('BIRD 2.0.12 ready.');
    expect(parseProtocols(out[1]!)).toEqual([
      { name: 'device1', proto: 'Device', state: 'up', info: '' },
      { name: 'lb', proto: 'Direct', state: 'up', info: '' },
      { name: 'upstream', proto: 'BGP', state: 'up', info: 'Established' },
      { name: 'backup', proto: 'BGP', state: 'start', info: 'Active Received: Administrative shutdown' },
    ]);
  });
  it('routes: prefixes of 1007 lines; an error reply', () => {
    const r = new BirdReplyReader();
    const [routes, err, empty] = r.push('1007-Table master4:\n 198.51.100.10/32     unicast [lb 01:43:41.301] * (240)\n \tdev lb0\n'
      + ' 2001:db8::10/128  unicast [lb 01:43:41.301] * (240)\n0000 \n9001 No valid tables\n0000 \n');
    expect(parseRoutePrefixes(routes!)).toEqual(['198.51.100.10/32', '2001:db8::10/128']);
    expect(err!.code).toBe(9001);
    expect(parseRoutePrefixes(empty!)).toEqual([]);
  });
});

const BASE = `
virtualServers:
  web:
    address: 198.51.100.10
    port: 80
    scheduler: mh
    schedulerFlags: [mh-port]
    inhibitOnFailure: true
    realServers:
      - { address: 10.1.0.21, port: 80 }
      - { address: 10.1.0.22, port: 80 }
announce:
  web:
    vips: [198.51.100.10]
`;
const messages = (text: string) => {
  const r = parseConfig(text, 'a.yaml');
  return r.ok ? { ok: true, warnings: r.warnings.map((w) => `${w.line}: ${w.message}`), config: r.config } : { ok: false, errors: r.errors.map((e) => `${e.line}: ${e.message}`) };
};

describe('announce config', () => {
  it('defaults', () => {
    const r = messages(BASE);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(r.config!.announce.web).toMatchObject({ interface: 'lb0', minHealthy: 1, holdDown: 5000, bird: { socket: '/run/bird/bird.ctl' } });
    expect(r.config!.ipvs.activeActive).toEqual({ sloppyTcp: true, sloppySctp: true, connReuseMode: 1 });
  });
  it('refuses with file:line what it cannot honour', () => {
    expect(messages(BASE.replace('scheduler: mh', 'scheduler: mh\n    forwarding: nat')).errors).toEqual([expect.stringMatching(/^7: announce group "web": .*uses NAT/)]);
    expect(messages(BASE.replace('vips: [198.51.100.10]', 'vips: [198.51.100.11]')).errors).toEqual([expect.stringMatching(/^14: no virtual server has one of these VIPs/)]);
    expect(messages(`${BASE}    minHealthy: 3\n`).errors).toEqual([expect.stringMatching(/^15: .*minHealthy 3 could never be met/)]);
    expect(messages(`${BASE}    interface: lo\n`).errors).toEqual([expect.stringMatching(/^15: lo cannot be/)]);
    expect(messages(`${BASE}instances:\n  vi:\n    interface: eth0\n    vrid: 1\n`).errors).toEqual([expect.stringMatching(/announce groups and VRRP instances/)]);
    expect(messages(`${BASE}    services: [nope]\n`).errors).toEqual([expect.stringMatching(/^15: no virtual server "nope"/)]);
  });
  it('warns when the active-active table is fragile', () => {
    expect(messages(BASE.replace('scheduler: mh', 'scheduler: rr').replace('schedulerFlags: [mh-port]', 'schedulerFlags: []')).warnings)
      .toEqual([expect.stringMatching(/scheduler rr is not mh with mh-port/)]);
    expect(messages(BASE.replace('inhibitOnFailure: true', 'inhibitOnFailure: false')).warnings).toEqual([expect.stringMatching(/without inhibitOnFailure/)]);
    expect(messages(`${BASE}ipvs:\n  activeActive:\n    sloppyTcp: false\n`).warnings).toEqual([expect.stringMatching(/sloppyTcp off/)]);
  });
});

describe('group fitness from the kernel table', () => {
  const cfg = messages(BASE).config!;
  const keys = serviceKeys(cfg);
  const entry = (weights: number[], extra: Partial<ServiceEntry> = {}): ServiceEntry => ({
    family: 4, protocol: 'tcp', address: '198.51.100.10', port: 80, scheduler: 'mh', flags: 0, timeout: 0, netmask: 0xffffffff,
    stats: { conns: 0, inPkts: 77, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 },
    dests: weights.map((w, i) => ({ family: 4, address: `10.1.0.2${i + 1}`, port: 80, forwarding: 'dr', weight: w, upperThreshold: 0, lowerThreshold: 0,
      activeConns: 3, inactConns: 0, stats: { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 } })),
    ...extra,
  }) as unknown as ServiceEntry;
  it('fit with a real server in service; unfit when none, when not programmed, without IPVS, with a blocker', () => {
    expect(groupFitness(cfg, ['web'], 1, keys, [entry([1, 0])])).toEqual({ fit: true, why: [] });
    expect(groupFitness(cfg, ['web'], 1, keys, [entry([0, 0])]).why).toEqual(['web: 0 real server(s) in service, 1 needed']);
    expect(groupFitness(cfg, ['web'], 2, keys, [entry([1, 0])]).fit).toBe(false);
    expect(groupFitness(cfg, ['web'], 1, keys, []).why).toEqual(['web: not programmed']);
    expect(groupFitness(cfg, ['web'], 1, keys, null).fit).toBe(false);
    expect(groupFitness(cfg, ['web'], 1, keys, [entry([1, 1])], ['net.ipv4.vs.sloppy_tcp is 0']).why).toEqual(['net.ipv4.vs.sloppy_tcp is 0']);
  });
  it('traffic: active connections and packets in of the group\'s services', () => {
    expect(groupTraffic(['web'], keys, [entry([1, 1])])).toEqual({ activeConns: 6, packets: 77 });
  });
});
