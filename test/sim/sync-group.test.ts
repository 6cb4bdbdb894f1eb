// Sync groups on the simulated segment: two routers × two member instances (LVS-NAT public VIP + gateway VIP) move together.
import { describe, expect, it } from 'vitest';
import { Segment, cfg } from '../../src/sim/segment.js';
import type { InstanceConfig } from '../../src/engine/types.js';
import { skewTimeMs } from '../../src/engine/timers.js';

const HOSTS = { lvs1: ['172.16.1.251', '10.0.0.251'], lvs2: ['172.16.1.252', '10.0.0.252'] } as const;
type Host = keyof typeof HOSTS;

function member(host: Host, which: 'pub' | 'gw', over: Partial<InstanceConfig>, group: string | null): InstanceConfig {
  return cfg({
    name: which,
    vrid: which === 'pub' ? 51 : 52,
    primaryAddress: HOSTS[host][which === 'pub' ? 0 : 1],
    advertAddresses: [which === 'pub' ? '172.16.1.100' : '10.0.0.254'],
    priority: host === 'lvs1' ? 100 : 90,
    ...(group ? { syncGroup: group } : {}),
    ...over,
  });
}

interface Opts {
  group?: boolean;
  over?: Partial<Record<`${Host}/${'pub' | 'gw'}`, Partial<InstanceConfig>>>;
}

/** Two hosts, each with a pub and a gw instance in sync group "lvs" (or no group). */
function lvsNat(opts: Opts = {}): Segment {
  const seg = new Segment();
  const group = opts.group === false ? null : 'lvs';
  for (const h of ['lvs1', 'lvs2'] as const) {
    for (const w of ['pub', 'gw'] as const) seg.add(`${h}/${w}`, member(h, w, opts.over?.[`${h}/${w}`] ?? {}, group));
    if (group) seg.syncGroup(group, [`${h}/pub`, `${h}/gw`]);
  }
  return seg;
}

function started(opts: Opts = {}): Segment {
  const seg = lvsNat(opts);
  for (const h of ['lvs1', 'lvs2']) for (const w of ['pub', 'gw']) seg.send(`${h}/${w}`, { type: 'startup' });
  seg.runFor(10_000);
  return seg;
}

const states = (seg: Segment, h: Host) => [seg.router(`${h}/pub`).state, seg.router(`${h}/gw`).state];

/**
 * Total virtual time during which a host held the VIPs of some members but not all: with the group it
 * must be 0 (both move in the same step, at the same instant). Also returns how many such steps occurred.
 */
function splitTime(seg: Segment, h: Host, from = 0): { ms: number; steps: number } {
  const names = [`${h}/pub`, `${h}/gw`];
  const evs = seg.holderChanges;
  let ms = 0;
  let steps = 0;
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!;
    const next = evs[i + 1];
    if (next && next.at === e.at) continue; // same instant: the step is not over yet
    const n = e.holders.filter((x) => names.includes(x)).length;
    if (n > 0 && n < names.length && e.at >= from) {
      steps++;
      ms += (next?.at ?? seg.now) - e.at;
    }
  }
  return { ms, steps };
}

const groupNotifies = (seg: Segment) => seg.groupLog.filter((g) => g.action.type === 'groupNotify').map((g) => g.action);

describe('sync group', () => {
  it('starts whole: lvs1 MASTER of both members, lvs2 BACKUP of both; group notify per host', () => {
    const seg = started();
    expect(states(seg, 'lvs1')).toEqual(['MASTER', 'MASTER']);
    expect(states(seg, 'lvs2')).toEqual(['BACKUP', 'BACKUP']);
    expect(seg.groups.map((g) => g.coord.state)).toEqual(['MASTER', 'BACKUP']);
    expect(groupNotifies(seg)).toEqual([
      { type: 'groupNotify', group: 'lvs', state: 'BACKUP' }, // lvs1, at startup
      { type: 'groupNotify', group: 'lvs', state: 'BACKUP' }, // lvs2
      { type: 'groupNotify', group: 'lvs', state: 'MASTER' }, // lvs1 after Master_Down_Interval
    ]);
    // The first member whose timer fired waited for the other: 'wantMaster' then MASTER together.
    const wants = seg.actions('wantMaster', 'lvs1/pub').concat(seg.actions('wantMaster', 'lvs1/gw'));
    expect(wants.length).toBeGreaterThanOrEqual(1);
    const ups = seg.transitions().filter((t) => t.to === 'MASTER');
    expect(ups.map((t) => t.router).sort()).toEqual(['lvs1/gw', 'lvs1/pub']);
    expect(ups[0]!.at).toBe(ups[1]!.at);
    expect(splitTime(seg, 'lvs1')).toEqual({ ms: 0, steps: 0 });
  });

  it("cutting one member's link on the master moves both: the other member goes FAULT too (keepalived vrrp_sync_fault)", () => {
    const seg = started();
    const t0 = seg.now;
    seg.isolate('lvs1/pub');
    const acts = seg.send('lvs1/pub', { type: 'interface', ifname: 'eth0', up: false });
    expect(acts[0]).toMatchObject({ type: 'sendAdvert', priority: 0 });
    expect(states(seg, 'lvs1')).toEqual(['FAULT', 'FAULT']);
    // The gw member released with priority 0 as well, so the peer's gw takes over in Skew_Time.
    expect(seg.actions('sendAdvert', 'lvs1/gw').at(-1)!.action.priority).toBe(0);
    expect(seg.router('lvs1/gw').instance.state.faults).toEqual(['sync group lvs']);
    seg.runFor(5_000);
    expect(states(seg, 'lvs2')).toEqual(['MASTER', 'MASTER']);
    const ups = seg.transitions().filter((t) => t.to === 'MASTER' && t.at > t0);
    expect(ups.map((t) => t.router).sort()).toEqual(['lvs2/gw', 'lvs2/pub']);
    // lvs2/pub never hears the isolated lvs1/pub's priority 0: it waits Master_Down_Interval, and lvs2/gw
    // (resigned after Skew_Time) waits for it; both go together.
    expect(ups[0]!.at).toBe(ups[1]!.at);
    expect(seg.router('lvs2/gw').instance.state.counters.priorityZeroReceived).toBe(1);
    expect(seg.groups[0]!.coord.state).toBe('FAULT');
    expect(seg.groups[1]!.coord.state).toBe('MASTER');
    expect(splitTime(seg, 'lvs1')).toEqual({ ms: 0, steps: 0 });
    expect(splitTime(seg, 'lvs2')).toEqual({ ms: 0, steps: 0 });

    // The link comes back: lvs1 leaves FAULT with both members, then preempts lvs2 with both.
    seg.isolate('lvs1/pub', false);
    seg.send('lvs1/pub', { type: 'interface', ifname: 'eth0', up: true });
    expect(states(seg, 'lvs1')).toEqual(['BACKUP', 'BACKUP']);
    seg.runFor(10_000);
    expect(states(seg, 'lvs1')).toEqual(['MASTER', 'MASTER']);
    expect(states(seg, 'lvs2')).toEqual(['BACKUP', 'BACKUP']);
    expect(splitTime(seg, 'lvs1')).toEqual({ ms: 0, steps: 0 });
    expect(splitTime(seg, 'lvs2')).toEqual({ ms: 0, steps: 0 });
  });

  it('a cut on the BACKUP side (gw member) puts its whole group in FAULT and leaves the master alone', () => {
    const seg = started();
    seg.isolate('lvs2/gw');
    seg.send('lvs2/gw', { type: 'interface', ifname: 'eth1', up: false });
    seg.runFor(10_000);
    expect(states(seg, 'lvs2')).toEqual(['FAULT', 'FAULT']);
    expect(states(seg, 'lvs1')).toEqual(['MASTER', 'MASTER']);
    expect(seg.transitions('lvs1/pub').at(-1)!.to).toBe('MASTER');
  });

  it('a higher priority on the peer takes both: the preferred router returns and preempts as a group', () => {
    const seg = started({ over: { 'lvs2/pub': { priority: 110 }, 'lvs2/gw': { priority: 110 } } });
    // lvs2 started with 110 and won the first election; lvs1 is BACKUP of both.
    expect(states(seg, 'lvs2')).toEqual(['MASTER', 'MASTER']);
    const t0 = seg.now;
    seg.restart('lvs2/pub');
    seg.restart('lvs2/gw');
    seg.runFor(20_000);
    expect(states(seg, 'lvs2')).toEqual(['MASTER', 'MASTER']);
    expect(states(seg, 'lvs1')).toEqual(['BACKUP', 'BACKUP']);
    // The restart handed the VIPs to lvs1 (both) and lvs2 took both back; neither host was ever split.
    expect(seg.transitions('lvs1/pub').filter((t) => t.at > t0).map((t) => t.to)).toEqual(['MASTER', 'BACKUP']);
    expect(splitTime(seg, 'lvs1')).toEqual({ ms: 0, steps: 0 });
    expect(splitTime(seg, 'lvs2')).toEqual({ ms: 0, steps: 0 });
  });

  it('one member going BACKUP on a higher-priority advert takes the others to BACKUP at once', () => {
    const seg = started();
    // A third router on the public LAN only, with a higher priority for VRID 51.
    seg.add('lvs3/pub', member('lvs1', 'pub', { primaryAddress: '172.16.1.253', priority: 200 }, null));
    const t0 = seg.now;
    seg.send('lvs3/pub', { type: 'startup' });
    seg.runFor(10_000);
    const down = seg.transitions().filter((t) => t.at > t0 && t.from === 'MASTER');
    expect(down.map((t) => [t.router, t.reason])).toEqual([['lvs1/pub', 'higher-priority'], ['lvs1/gw', 'sync-backup']]);
    expect(down[0]!.at).toBe(down[1]!.at);
    // keepalived's rule: a group is MASTER only whole. Neither lvs1 nor lvs2 can be (their pub member
    // accepts lvs3), so the gw VIP has no holder: the gw members wait, wanting MASTER.
    expect(states(seg, 'lvs1')).toEqual(['BACKUP', 'BACKUP']);
    expect(states(seg, 'lvs2')).toEqual(['BACKUP', 'BACKUP']);
    expect(seg.router('lvs1/gw').instance.state.wantsMaster).toBe(true);
    expect(seg.router('lvs2/gw').instance.state.wantsMaster).toBe(true);
    expect(seg.holders()).toEqual(['lvs3/pub']);
    // lvs3 leaves: the groups elect again, whole.
    seg.send('lvs3/pub', { type: 'shutdown' });
    seg.runFor(10_000);
    expect(states(seg, 'lvs1')).toEqual(['MASTER', 'MASTER']);
    expect(states(seg, 'lvs2')).toEqual(['BACKUP', 'BACKUP']);
    expect(splitTime(seg, 'lvs1')).toEqual({ ms: 0, steps: 0 });
  });

  it('a yield of one member hands over the whole group within Skew_Time', () => {
    const seg = started();
    const t0 = seg.now;
    seg.send('lvs1/pub', { type: 'yield', holdMs: null });
    expect(states(seg, 'lvs1')).toEqual(['BACKUP', 'BACKUP']);
    seg.runFor(5_000);
    expect(states(seg, 'lvs2')).toEqual(['MASTER', 'MASTER']);
    const up = seg.transitions().filter((t) => t.at > t0 && t.to === 'MASTER');
    expect(up.map((t) => t.reason)).toEqual(['master-resigned', 'master-resigned']);
    expect(up[0]!.at - t0).toBeCloseTo(0.1 + skewTimeMs(3, 90, 100), 9);
    // lvs1/gw, not held, hears the lower-priority lvs2/gw and wants to preempt; lvs1/pub is held: it waits.
    seg.runFor(10_000);
    expect(states(seg, 'lvs1')).toEqual(['BACKUP', 'BACKUP']);
    expect(seg.router('lvs1/gw').instance.state.wantsMaster).toBe(true);
    seg.send('lvs1/pub', { type: 'resume' });
    seg.runFor(10_000);
    expect(states(seg, 'lvs1')).toEqual(['MASTER', 'MASTER']);
    expect(splitTime(seg, 'lvs1')).toEqual({ ms: 0, steps: 0 });
    expect(splitTime(seg, 'lvs2')).toEqual({ ms: 0, steps: 0 });
  });

  it('a priority raised on one member only does not split the group (keepalived: prefer BACKUP over thrashing)', () => {
    const seg = started({ over: { 'lvs2/pub': { priority: 110 } } });
    seg.runFor(30_000);
    // lvs2/pub wants to preempt, lvs2/gw accepts lvs1/gw (100 > 90): lvs2 stays BACKUP, lvs1 keeps both.
    expect(states(seg, 'lvs1')).toEqual(['MASTER', 'MASTER']);
    expect(states(seg, 'lvs2')).toEqual(['BACKUP', 'BACKUP']);
    expect(seg.router('lvs2/pub').instance.state.wantsMaster).toBe(true);
    expect(seg.actions('wantMaster', 'lvs2/pub')).toHaveLength(1); // re-armed quietly, no action storm
  });

  it('no moment with one router MASTER of one member and BACKUP of the other, under loss and jitter', () => {
    function run(group: boolean): Segment {
      const seg = new Segment({ seed: 7, latencyMs: [0.05, 3], loss: 0.2 });
      for (const h of ['lvs1', 'lvs2'] as const) {
        for (const w of ['pub', 'gw'] as const) seg.add(`${h}/${w}`, member(h, w, {}, group ? 'lvs' : null));
        if (group) seg.syncGroup('lvs', [`${h}/pub`, `${h}/gw`]);
      }
      seg.startAll();
      let t = 0;
      for (let i = 0; i < 40; i++) {
        t += 3_000 + (i * 977) % 4_000;
        const h = i % 2 === 0 ? 'lvs1' : 'lvs2';
        const w = i % 3 === 0 ? 'gw' : 'pub';
        const up = i % 4 >= 2;
        seg.at(t, () => seg.send(`${h}/${w}`, { type: 'interface', ifname: 'x', up }));
      }
      seg.runUntil(t + 20_000);
      return seg;
    }
    const grouped = run(true);
    expect(splitTime(grouped, 'lvs1').ms).toBe(0);
    expect(splitTime(grouped, 'lvs2').ms).toBe(0);
    expect(grouped.transitions().filter((x) => x.to === 'MASTER').length).toBeGreaterThan(4); // it did move
    // The same faults without the group split the hosts for seconds: the check can fail.
    const plain = run(false);
    expect(splitTime(plain, 'lvs1').ms + splitTime(plain, 'lvs2').ms).toBeGreaterThan(10_000);
  });
});

describe('a single-member group behaves exactly like no group', () => {
  function scenario(group: boolean) {
    const seg = new Segment({ seed: 3, latencyMs: [0.05, 1] });
    seg.add('lvs1', member('lvs1', 'pub', {}, group ? 'g1' : null));
    seg.add('lvs2', member('lvs2', 'pub', {}, group ? 'g2' : null));
    if (group) {
      seg.syncGroup('g1', ['lvs1']);
      seg.syncGroup('g2', ['lvs2']);
    }
    seg.startAll();
    seg.runFor(10_000);
    seg.send('lvs1', { type: 'interface', ifname: 'eth0', up: false });
    seg.runFor(5_000);
    seg.send('lvs1', { type: 'interface', ifname: 'eth0', up: true });
    seg.runFor(10_000);
    seg.kill('lvs1');
    seg.runFor(5_000);
    seg.restart('lvs1');
    seg.runFor(10_000);
    seg.send('lvs2', { type: 'fault', source: 'script', active: true });
    seg.runFor(5_000);
    seg.send('lvs1', { type: 'yield', holdMs: 2_000 });
    seg.runFor(10_000);
    return {
      transitions: seg.transitions().map(({ at, router, from, to, reason }) => ({ at, router, from, to, reason })),
      holders: seg.holderChanges,
      adverts: seg.actions('sendAdvert').map((a) => [a.at, a.router, a.action.priority]),
    };
  }

  it('same transitions at the same instants, same holders, same adverts', () => {
    const plain = scenario(false);
    const grouped = scenario(true);
    expect(plain.transitions.length).toBeGreaterThan(6);
    expect(grouped).toEqual(plain);
  });
});
