// Desired IPVS table from the config, minimal plans (add/edit/delete), foreign services untouched, ownership, apply + verify.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { virtualServerSchema, type VirtualServer } from '../../src/config/schema.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import { fwdMethod, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_TUNNEL, SCHEDULERS, type ServiceEntry } from '../../src/ipvs/codec.js';
import {
  applyPlan, checkPlan, describeOp, desiredTable, IpvsConfigError, IpvsReconciler, parseNetmask, planReconcile, serviceKey,
  type DesiredService, type PlanOp,
} from '../../src/ipvs/reconcile.js';
import { FakeIpvsKernel } from './fake-ipvs.js';

const vs = (o: Record<string, unknown>): VirtualServer => virtualServerSchema.parse(o);
const table = (o: Record<string, Record<string, unknown>>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, vs(v)]));
const web = { address: '192.168.1.100', port: 80, realServers: [{ address: '10.0.0.1', weight: 10 }, { address: '10.0.0.2', weight: 20 }] };
const seed = (() => {
  const r = parseConfig(readFileSync(new URL('../../conf/lvs1.yaml', import.meta.url), 'utf8'), 'conf/lvs1.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
})();
const ops = (p: { ops: PlanOp[] }) => p.ops.map(describeOp);
const issues = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof IpvsConfigError) return [...e.issues];
    throw e;
  }
  return [];
};
/** The kernel table a desired table would read back as (what a successful apply leaves). */
const asKernel = (d: DesiredService[]): ServiceEntry[] => d.map(({ name: _n, sorry: _s, dests, ...spec }) => ({
  ...spec, stats: {} as ServiceEntry['stats'],
  dests: dests.map((x) => ({ ...x, activeConns: 0, inactConns: 0, persistConns: 0, stats: {} as ServiceEntry['stats'] })),
}));

describe('desiredTable: the config as IPVS services', () => {
  it('the seed (conf/lvs1.yaml): FWM 100 wlc, DR, persistent 3600, web1 and web2 at weight 50', () => {
    const d = desiredTable(seed.virtualServers, 'vi_100');
    expect(d).toEqual([{
      name: 'fwm-100', family: 4, fwmark: 100, scheduler: 'wlc', flags: 1, timeout: 3600, netmask: 32, sorry: false,
      dests: [
        { address: '192.168.1.10', family: 4, port: 0, forwarding: 'dr', weight: 50, upperThreshold: 0, lowerThreshold: 0 },
        { address: '192.168.1.20', family: 4, port: 0, forwarding: 'dr', weight: 50, upperThreshold: 0, lowerThreshold: 0 },
      ],
    }]);
    expect(serviceKey(d[0]!)).toBe('fwmark:4:100');
    expect(desiredTable(seed.virtualServers, 'vi_200')).toEqual([]);
    expect(desiredTable(seed.virtualServers)).toHaveLength(1);
  });

  it('services without an instance belong to every instance; a list of instances selects several', () => {
    const t = table({ a: { ...web, instance: 'vi_1' }, b: { ...web, port: 443, instance: 'vi_2' }, c: { ...web, port: 8080 } });
    expect(desiredTable(t, 'vi_1').map((s) => s.name)).toEqual(['a', 'c']);
    expect(desiredTable(t, ['vi_1', 'vi_2']).map((s) => s.name)).toEqual(['a', 'b', 'c']);
  });

  it.each(SCHEDULERS)('scheduler %s is passed through by name', (scheduler) => {
    expect(desiredTable(table({ s: { ...web, scheduler } }))[0]!.scheduler).toBe(scheduler);
  });

  it('forwarding dr/nat/tun map to IP_VS_CONN_F_DROUTE/MASQ/TUNNEL, per service or per server', () => {
    const d = desiredTable(table({ s: { ...web, forwarding: 'nat', realServers: [{ address: '10.0.0.1' }, { address: '10.0.0.2', forwarding: 'tun' }, { address: '10.0.0.3', forwarding: 'dr' }] } }));
    expect(d[0]!.dests.map((x) => [x.forwarding, fwdMethod(x.forwarding)])).toEqual([
      ['nat', IP_VS_CONN_F_MASQ], ['tun', IP_VS_CONN_F_TUNNEL], ['dr', IP_VS_CONN_F_DROUTE]]);
  });

  it('protocols, IPv6 addresses (canonical), fwmark families, thresholds', () => {
    const d = desiredTable(table({
      u: { address: '2001:DB8:0::1', port: 53, protocol: 'udp', scheduler: 'rr', realServers: [{ address: '2001:db8::10', upperThreshold: 100, lowerThreshold: 10 }] },
      f6: { fwmark: 1, family: 6, realServers: [{ address: 'fd00::1' }] },
      sc: { address: '10.1.1.1', port: 9, protocol: 'sctp' },
    }));
    expect(d.map(serviceKey)).toEqual(['fwmark:6:1', 'sctp:10.1.1.1:9', 'udp:[2001:db8::1]:53']);
    expect(d[0]).toMatchObject({ netmask: 128, dests: [{ address: 'fd00::1', family: 6, port: 0 }] });
    expect(d[2]!.dests[0]).toMatchObject({ address: '2001:db8::10', port: 53, upperThreshold: 100, lowerThreshold: 10 });
  });

  it('persistence: seconds, IP_VS_SVC_F_PERSISTENT, netmask as mask or prefix', () => {
    const one = (o: Record<string, unknown>) => desiredTable(table({ s: { ...web, ...o } }))[0]!;
    expect(one({})).toMatchObject({ flags: 0, timeout: 0, netmask: 32 });
    expect(one({ persistence: '5m', persistenceNetmask: '255.255.255.0' })).toMatchObject({ flags: 1, timeout: 300, netmask: 24 });
    expect(one({ persistence: 60, persistenceNetmask: '/16' })).toMatchObject({ flags: 1, timeout: 60, netmask: 16 });
    expect(parseNetmask('ffff:ffff:ffff:ffff::', 6)).toBe(64);
    expect(parseNetmask('64', 6)).toBe(64);
    expect(parseNetmask(undefined, 6)).toBe(128);
    expect(parseNetmask('255.0.255.0', 4)).toMatch(/not contiguous/);
    expect(parseNetmask('/0', 6)).toMatch(/out of 1\.\.128/);
  });

  it('real server ports: DR and TUN keep the service port (as ipvsadm), NAT maps 0 to it, fwmark keeps 0', () => {
    const d = desiredTable(table({
      dr: { ...web, realServers: [{ address: '10.0.0.1' }, { address: '10.0.0.2', port: 80 }] },
      nat: { ...web, port: 81, forwarding: 'nat', realServers: [{ address: '10.0.0.1' }, { address: '10.0.0.2', port: 8080 }] },
      fw: { fwmark: 3, realServers: [{ address: '10.0.0.1' }] },
    }));
    expect(d.map((s) => s.dests.map((x) => x.port))).toEqual([[80, 80], [0], [81, 8080]]);
  });

  it('sorry server: the only destination when every real server has weight 0, none is healthy, or none is configured', () => {
    const sorryServer = { address: '10.0.0.99', port: 8080 };
    const base = { ...web, forwarding: 'nat', sorryServer };
    const sorry = { address: '10.0.0.99', family: 4, port: 8080, forwarding: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0 };
    expect(desiredTable(table({ s: base }))[0]).toMatchObject({ sorry: false, dests: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }] });
    const zero = { ...base, realServers: [{ address: '10.0.0.1', weight: 0 }, { address: '10.0.0.2', weight: 0 }] };
    expect(desiredTable(table({ s: zero }))[0]).toMatchObject({ sorry: true, dests: [sorry] });
    expect(desiredTable(table({ s: { ...base, realServers: [] } }))[0]).toMatchObject({ sorry: true, dests: [sorry] });
    expect(desiredTable(table({ s: base }), undefined, { healthy: () => false })[0]).toMatchObject({ sorry: true, dests: [sorry] });
    const oneDown = desiredTable(table({ s: base }), undefined, { healthy: (_s, rs) => rs.address !== '10.0.0.1' })[0]!;
    expect(oneDown).toMatchObject({ sorry: false, dests: [{ address: '10.0.0.2' }] });
    // DR: the sorry server takes the service port, as real servers do.
    expect(desiredTable(table({ s: { ...zero, forwarding: 'dr', sorryServer: { address: '10.0.0.99' } } }))[0]!.dests).toEqual([{ ...sorry, port: 80, forwarding: 'dr' }]);
  });

  it('bad input: every problem listed at once, in one IpvsConfigError, whatever instance it belongs to', () => {
    const got = issues(() => desiredTable(table({
      both: { fwmark: 1, address: '10.0.0.1', port: 80 },
      neither: { realServers: [] },
      dup1: { ...web }, dup2: { ...web, instance: 'other' },
      rs: { address: '10.0.0.5', port: 80, realServers: [{ address: '10.0.0.1' }, { address: '10.0.0.1' }, { address: '10.0.0.2', upperThreshold: 5, lowerThreshold: 6 }] },
      fam: { address: '10.0.0.6', port: 80, realServers: [{ address: 'fd00::1' }, { address: 'fd00::2', forwarding: 'tun' }] },
      port0: { address: '10.0.0.7', port: 0 },
      remap: { address: '10.0.0.8', port: 80, realServers: [{ address: '10.0.0.1', port: 8080 }] },
      half: { ...web, address: '10.0.0.9', persistence: '1500ms' },
      mask: { ...web, address: '10.0.0.10', persistence: 60, persistenceNetmask: '255.0.255.0' },
      sorry: { ...web, address: '10.0.0.11', sorryServer: { address: '10.0.0.1' } },
    }), 'vi_1'));
    expect(got).toEqual([
      'virtualServers.both: a service has either a fwmark or an address and port, not both',
      'virtualServers.dup2: same service (tcp 192.168.1.100:80) as virtualServers.dup1',
      'virtualServers.fam: realServers[0]: an IPv6 server in an IPv4 service needs tun forwarding',
      'virtualServers.half: persistence 1500 ms is not a whole number of seconds in 0..4294967',
      'virtualServers.mask: persistence netmask "255.0.255.0" is not contiguous',
      'virtualServers.neither: a service needs a fwmark, or an address and a port',
      'virtualServers.port0: port 0 (all ports) needs persistence, as in ipvsadm',
      'virtualServers.remap: realServers[0]: port 8080 differs from the service\'s 80, which dr forwarding cannot remap',
      'virtualServers.rs: realServers[1]: 10.0.0.1:80 listed twice',
      'virtualServers.rs: realServers[2]: lowerThreshold 6 above upperThreshold 5 (the kernel refuses it, ERANGE)',
      'virtualServers.sorry: sorryServer 10.0.0.1:80 is also a real server',
    ]);
  });
});

describe('planReconcile: minimal operations, foreign services untouched', () => {
  const desired = () => desiredTable(table({ web, fwm: { fwmark: 100, persistence: 3600, realServers: [{ address: '10.0.1.1' }] } }));

  it('an empty kernel: each service added, then its destinations', () => {
    expect(ops(planReconcile(desired(), [], new Set()))).toEqual([
      'add-service fwmark 100 (wlc, persistent 3600s)', 'add-dest fwmark 100 -> 10.0.1.1:0 (dr, weight 1)',
      'add-service tcp 192.168.1.100:80 (wlc)', 'add-dest tcp 192.168.1.100:80 -> 10.0.0.1:80 (dr, weight 10)',
      'add-dest tcp 192.168.1.100:80 -> 10.0.0.2:80 (dr, weight 20)',
    ]);
  });

  it('idempotent: nothing to do when the kernel already has it', () => {
    const p = planReconcile(desired(), asKernel(desired()), new Set());
    expect(p.ops).toEqual([]);
    expect(p.managed.sort()).toEqual(['fwmark:4:100', 'tcp:192.168.1.100:80']);
  });

  it('one change, one operation: weight, thresholds, forwarding, scheduler, persistence', () => {
    const kernel = asKernel(desired());
    const change = (o: Record<string, unknown>) => ops(planReconcile(desiredTable(table({ web: { ...web, ...o }, fwm: { fwmark: 100, persistence: 3600, realServers: [{ address: '10.0.1.1' }] } })), kernel, new Set()));
    expect(change({ realServers: [{ address: '10.0.0.1', weight: 10 }, { address: '10.0.0.2', weight: 0 }] }))
      .toEqual(['edit-dest tcp 192.168.1.100:80 -> 10.0.0.2:80: weight 20 -> 0']);
    expect(change({ realServers: [{ address: '10.0.0.1', weight: 10, upperThreshold: 50, lowerThreshold: 5 }, { address: '10.0.0.2', weight: 20 }] }))
      .toEqual(['edit-dest tcp 192.168.1.100:80 -> 10.0.0.1:80: upperThreshold 0 -> 50, lowerThreshold 0 -> 5']);
    expect(change({ forwarding: 'tun' })).toHaveLength(2);
    expect(change({ scheduler: 'mh' })).toEqual(['edit-service tcp 192.168.1.100:80: scheduler wlc -> mh']);
    expect(change({ persistence: 60 })).toEqual(['edit-service tcp 192.168.1.100:80: flags 0x0 -> 0x1, timeout 0 -> 60']);
    expect(change({ realServers: [{ address: '10.0.0.1', weight: 10 }] })).toEqual(['delete-dest tcp 192.168.1.100:80 -> 10.0.0.2:80']);
    expect(change({ realServers: [...web.realServers, { address: '10.0.0.3' }] })).toEqual(['add-dest tcp 192.168.1.100:80 -> 10.0.0.3:80 (dr, weight 1)']);
  });

  it('a new identity is a new service; the old one is deleted only because we own it', () => {
    const kernel = asKernel(desired());
    const moved = desiredTable(table({ web: { ...web, port: 8080 }, fwm: { fwmark: 100, persistence: 3600, realServers: [{ address: '10.0.1.1' }] } }));
    const owned = new Set(kernel.map(serviceKey));
    expect(ops(planReconcile(moved, kernel, owned))).toEqual([
      'add-service tcp 192.168.1.100:8080 (wlc)', 'add-dest tcp 192.168.1.100:8080 -> 10.0.0.1:8080 (dr, weight 10)',
      'add-dest tcp 192.168.1.100:8080 -> 10.0.0.2:8080 (dr, weight 20)', 'delete-service tcp 192.168.1.100:80',
    ]);
    const p = planReconcile(moved, kernel, new Set());
    expect(ops(p)).not.toContain('delete-service tcp 192.168.1.100:80');
    expect(p.foreign).toEqual(['tcp:192.168.1.100:80']);
  });

  it('foreign services stay, even with an empty config; a configured key found in the kernel is taken over', () => {
    const foreign: ServiceEntry = { ...asKernel(desired())[1]!, address: '10.9.9.9' };
    expect(planReconcile([], [foreign], new Set()).ops).toEqual([]);
    const mine = { ...asKernel(desired())[1]!, scheduler: 'rr', dests: [{ ...asKernel(desired())[1]!.dests[0]!, address: '10.0.0.77' }] };
    expect(ops(planReconcile(desired(), [foreign, mine], new Set()))).toEqual([
      'add-service fwmark 100 (wlc, persistent 3600s)', 'add-dest fwmark 100 -> 10.0.1.1:0 (dr, weight 1)',
      'edit-service tcp 192.168.1.100:80: scheduler rr -> wlc',
      'add-dest tcp 192.168.1.100:80 -> 10.0.0.1:80 (dr, weight 10)', 'add-dest tcp 192.168.1.100:80 -> 10.0.0.2:80 (dr, weight 20)',
      'delete-dest tcp 192.168.1.100:80 -> 10.0.0.77:80',
    ]);
  });

  it('make before break: the sorry server is added before the real servers go', () => {
    const sorryServer = { address: '10.0.0.99' };
    const kernel = asKernel(desiredTable(table({ web: { ...web, sorryServer } })));
    const down = desiredTable(table({ web: { ...web, sorryServer } }), undefined, { healthy: () => false });
    expect(ops(planReconcile(down, kernel, new Set()))).toEqual([
      'add-dest tcp 192.168.1.100:80 -> 10.0.0.99:80 (dr, weight 1)',
      'delete-dest tcp 192.168.1.100:80 -> 10.0.0.1:80', 'delete-dest tcp 192.168.1.100:80 -> 10.0.0.2:80',
    ]);
  });
});

describe('apply and verify on a fake kernel', () => {
  const open = async () => {
    const k = new FakeIpvsKernel();
    return { k, c: await IpvsClient.open({ sys: k }) };
  };

  it('the seed: applied, read back, verified; a second reconcile sends nothing', async () => {
    const { k, c } = await open();
    const r = new IpvsReconciler(c);
    const first = await r.reconcile(desiredTable(seed.virtualServers, 'vi_100'));
    expect(first).toMatchObject({ ok: true, applied: 3, failed: [], residual: [] });
    expect(k.writes).toEqual(['NEW_SERVICE', 'NEW_DEST', 'NEW_DEST']);
    expect([...r.ownedKeys]).toEqual(['fwmark:4:100']);
    const second = await r.reconcile(desiredTable(seed.virtualServers, 'vi_100'));
    expect(second).toMatchObject({ ok: true, applied: 0 });
    expect(second.plan.ops).toEqual([]);
    expect(k.writes).toHaveLength(3);
    c.close();
  });

  it('foreign services survive; dropping a service deletes it only while owned; a restarted reconciler leaves it', async () => {
    const { k, c } = await open();
    k.addForeign('tcp', '10.9.9.9', 80);
    const both = table({ web, fwm: { fwmark: 1, persistence: 60 } });
    const r = new IpvsReconciler(c);
    expect((await r.reconcile(desiredTable(both))).ok).toBe(true);
    expect(k.services.size).toBe(3);
    const onlyWeb = table({ web });
    const dropped = await r.reconcile(desiredTable(onlyWeb));
    expect(ops(dropped.plan)).toEqual(['delete-service fwmark 1']);
    expect(dropped.plan.foreign).toEqual(['tcp:10.9.9.9:80']);
    expect([...k.services.keys()].length).toBe(2);
    expect((await r.reconcile([])).plan.ops.map((o) => o.op)).toEqual(['delete-service']); // on BACKUP with onBackup: remove
    expect(k.services.size).toBe(1); // the foreign one
    await r.reconcile(desiredTable(both));
    const restarted = new IpvsReconciler(c); // ownership is in memory: after a restart only configured keys are ours
    expect((await restarted.reconcile(desiredTable(onlyWeb))).plan).toMatchObject({ ops: [], foreign: ['fwmark:4:1', 'tcp:10.9.9.9:80'] });
    c.close();
  });

  it('a failed operation is reported, the read-back shows what is missing, the next reconcile repairs it', async () => {
    const { k, c } = await open();
    const r = new IpvsReconciler(c);
    let failOnce = true;
    k.inject = (req) => (req.cmd === 5 && failOnce ? ((failOnce = false), -12) : undefined); // ENOMEM on the first NEW_DEST
    const res = await r.reconcile(desiredTable(table({ web })));
    expect(res.ok).toBe(false);
    expect(res.failed.map((f) => [describeOp(f.op), (f.error as { code?: string }).code])).toEqual([
      ['add-dest tcp 192.168.1.100:80 -> 10.0.0.1:80 (dr, weight 10)', 'ENOMEM']]);
    expect(ops({ ops: res.residual })).toEqual(['add-dest tcp 192.168.1.100:80 -> 10.0.0.1:80 (dr, weight 10)']);
    expect(await r.reconcile(desiredTable(table({ web })))).toMatchObject({ ok: true, applied: 1 });
    c.close();
  });

  it('a large table goes out in pipelined windows, not one reply at a time: 1000 services, 3000 operations', async () => {
    const { k, c } = await open();
    const big = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`s${i}`, {
      address: `10.${i >> 8}.${i & 255}.1`, port: 80, realServers: [{ address: '172.16.0.1' }, { address: '172.16.0.2' }] }]));
    const t0 = performance.now();
    const res = await new IpvsReconciler(c).reconcile(desiredTable(table(big)));
    expect(res).toMatchObject({ ok: true, applied: 3000 });
    expect(k.maxUnanswered).toBe(256);
    expect(k.services.size).toBe(1000);
    expect(performance.now() - t0).toBeLessThan(10_000);
    c.close();
  });

  it('bad input is refused before anything is sent (checkPlan, applyPlan)', async () => {
    const { k, c } = await open();
    const bad: DesiredService = { ...desiredTable(table({ web }))[0]!, scheduler: 'much-too-long-scheduler' };
    const plan = planReconcile([bad], [], new Set());
    expect(() => checkPlan(plan)).toThrow(IpvsConfigError);
    await expect(applyPlan(c, plan)).rejects.toThrow(/scheduler "much-too-long-scheduler" must be 1 to 15 bytes/);
    expect(k.received).toEqual([]);
    expect(() => desiredTable(table({ x: { address: '10.0.0.7', port: 0 } }))).toThrow(IpvsConfigError);
    c.close();
  });
});
