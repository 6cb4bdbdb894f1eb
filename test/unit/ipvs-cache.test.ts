// The reconciler's verified-table cache over the fake kernel: no request when nothing changed, targeted reads for a
// few services, a full dump after any failure, for an audit, and after a reload that changes the IPVS config.
import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { virtualServerSchema, type Config, type VirtualServer } from '../../src/config/schema.js';
import { IpvsController } from '../../src/daemon/ipvs.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import { desiredTable, IpvsReconciler, type DesiredService } from '../../src/ipvs/reconcile.js';
import { NLM_F_DUMP } from '../../src/net/nlmsg.js';
import type { VrrpState } from '../../src/engine/types.js';
import { FakeIpvsKernel } from '../ipvs/fake-ipvs.js';

const GET_SERVICE = 4;
const log = pino({ level: 'silent' });
const vs = (o: Record<string, unknown>): VirtualServer => virtualServerSchema.parse(o);

/** n services on 192.168.1.100, ports 1000.., each with 3 real servers; `weight` overrides the first one's weight. */
function services(n: number, weight: (i: number) => number = () => 10): DesiredService[] {
  const cfg = Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, vs({
    address: '192.168.1.100', port: 1000 + i,
    realServers: [{ address: '10.0.0.1', weight: weight(i) }, { address: '10.0.0.2', weight: 20 }, { address: '10.0.0.3', weight: 30 }],
  })]));
  return desiredTable(cfg);
}

async function setup() {
  const kernel = new FakeIpvsKernel();
  const rec = new IpvsReconciler(await IpvsClient.open({ sys: kernel }));
  /** What the next call sent: full GET_SERVICE dumps, single GET_SERVICEs, all requests. */
  const watch = async <T>(f: () => Promise<T>) => {
    const from = kernel.received.length;
    const value = await f();
    const got = kernel.received.slice(from);
    const gets = got.filter((r) => r.cmd === GET_SERVICE);
    return {
      value, requests: got.length, commands: kernel.commands.slice(from),
      dumps: gets.filter((r) => (r.flags & NLM_F_DUMP) === NLM_F_DUMP).length,
      singleGets: gets.filter((r) => (r.flags & NLM_F_DUMP) !== NLM_F_DUMP).length,
    };
  };
  const weights = (port: number) => [...[...kernel.services.values()].find((s) => s.port === port)!.dests.values()].map((d) => d.weight);
  return { kernel, rec, watch, weights };
}

describe('IpvsReconciler: the verified table', () => {
  it('first reconcile dumps; the same table again sends no request at all', async () => {
    const { rec, watch } = await setup();
    expect(rec.cached).toBe(false);
    const first = await watch(() => rec.reconcile(services(20)));
    expect(first.value.ok).toBe(true);
    expect(first.value.read).toBe('dump');
    expect(first.dumps).toBeGreaterThanOrEqual(1);
    expect(rec.cached).toBe(true);
    const again = await watch(() => rec.reconcile(services(20)));
    expect(again.value.read).toBe('cached');
    expect(again.requests).toBe(0);
    expect(again.value.plan.ops).toEqual([]);
    expect(again.value.table).toHaveLength(20);
  });

  it('one weight changed: only that service is read (before and after), no dump', async () => {
    const { rec, watch, weights } = await setup();
    await rec.reconcile(services(20));
    const r = await watch(() => rec.reconcile(services(20, (i) => (i === 7 ? 11 : 10))));
    expect(r.value.ok).toBe(true);
    expect(r.value.read).toBe('targeted');
    expect(r.dumps).toBe(0);
    expect(r.singleGets).toBe(2); // the read before planning and the read-back
    expect(r.commands.filter((c) => c !== 'GET_SERVICE' && c !== 'GET_DEST')).toEqual(['SET_DEST']);
    expect(weights(1007)).toEqual([11, 20, 30]);
    // And the new table is the verified one: the same again is free.
    expect((await watch(() => rec.reconcile(services(20, (i) => (i === 7 ? 11 : 10))))).requests).toBe(0);
  });

  it('a touched service is planned from the kernel, not the cache: what changed outside on it is put back too', async () => {
    const { kernel, rec, weights } = await setup();
    await rec.reconcile(services(20));
    const svc = [...kernel.services.values()].find((s) => s.port === 1007)!;
    [...svc.dests.values()][2]!.weight = 99; // ipvsadm -e behind our back, on the service we are about to change
    const r = await rec.reconcile(services(20, (i) => (i === 7 ? 11 : 10)));
    expect(r.read).toBe('targeted');
    expect(r.ok).toBe(true);
    expect(weights(1007)).toEqual([11, 20, 30]);
  });

  it('a change from outside elsewhere is not seen by a cached reconcile; a full one (the audit) restores it', async () => {
    const { kernel, rec, watch, weights } = await setup();
    await rec.reconcile(services(20));
    [...[...kernel.services.values()].find((s) => s.port === 1003)!.dests.values()][0]!.weight = 0;
    expect((await watch(() => rec.reconcile(services(20)))).requests).toBe(0);
    expect(weights(1003)).toEqual([0, 20, 30]);
    const audit = await watch(() => rec.reconcile(services(20), { full: true }));
    expect(audit.value.read).toBe('dump');
    expect(audit.dumps).toBe(1);
    expect(audit.value.plan.ops).toHaveLength(1);
    expect(weights(1003)).toEqual([10, 20, 30]);
  });

  it('more services changed than the targeted limit: one dump', async () => {
    const { rec, watch } = await setup();
    await rec.reconcile(services(40));
    const r = await watch(() => rec.reconcile(services(40, (i) => (i < 11 ? 11 : 10)))); // 11 of 40 > max(8, 10)
    expect(r.value.read).toBe('dump');
    expect(r.value.ok).toBe(true);
    expect(r.dumps).toBeGreaterThanOrEqual(1);
  });

  it('an operation the kernel refuses leaves no cache: the next reconcile dumps', async () => {
    const { kernel, rec, watch } = await setup();
    await rec.reconcile(services(20));
    kernel.inject = (req) => (req.cmd === 6 ? -12 : undefined); // ENOMEM on SET_DEST
    const failed = await rec.reconcile(services(20, (i) => (i === 3 ? 11 : 10)));
    expect(failed.ok).toBe(false);
    expect(rec.cached).toBe(false);
    kernel.inject = null;
    const next = await watch(() => rec.reconcile(services(20, (i) => (i === 3 ? 11 : 10))));
    expect(next.value.read).toBe('dump');
    expect(next.dumps).toBeGreaterThanOrEqual(1);
    expect(next.value.ok).toBe(true);
  });

  it('a read that throws leaves no cache: the next reconcile dumps', async () => {
    const { kernel, rec, watch } = await setup();
    await rec.reconcile(services(20));
    kernel.inject = (req) => (req.cmd === GET_SERVICE ? -22 : undefined); // EINVAL on the targeted read
    await expect(rec.reconcile(services(20, (i) => (i === 3 ? 11 : 10)))).rejects.toThrow();
    expect(rec.cached).toBe(false);
    kernel.inject = null;
    const next = await watch(() => rec.reconcile(services(20, (i) => (i === 3 ? 11 : 10))));
    expect(next.value.read).toBe('dump');
    expect(next.value.ok).toBe(true);
  });

  it('a service deleted from outside that we then change: the targeted read finds it gone and adds it whole', async () => {
    const { kernel, rec, weights } = await setup();
    await rec.reconcile(services(20));
    for (const [k, s] of kernel.services) if (s.port === 1005) kernel.services.delete(k);
    const r = await rec.reconcile(services(20, (i) => (i === 5 ? 11 : 10)));
    expect(r.read).toBe('targeted');
    expect(r.ok).toBe(true);
    expect(weights(1005)).toEqual([11, 20, 30]);
  });

  it('invalidate(): the next reconcile dumps', async () => {
    const { rec, watch } = await setup();
    await rec.reconcile(services(5));
    rec.invalidate();
    const r = await watch(() => rec.reconcile(services(5)));
    expect(r.value.read).toBe('dump');
    expect(r.dumps).toBe(1);
  });
});

const yaml = (weight: number, onBackup = 'keep') => `ipvs:\n  onBackup: ${onBackup}\n  syncDaemon: { interface: eth1, syncId: 7 }\n`
  + 'instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    vips: [ "192.168.1.250/32 dev eth0" ]\n'
  + `virtualServers:\n  web:\n    address: 192.168.1.250\n    port: 80\n    instance: vi_1\n    realServers:\n      - { address: 10.0.0.1, port: 80, weight: ${weight} }\n`;
const config = (weight: number, onBackup = 'keep'): Config => {
  const r = parseConfig(yaml(weight, onBackup), 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
};

describe('IpvsController: cache use and the table gate', () => {
  async function controller(onBackup = 'keep') {
    const kernel = new FakeIpvsKernel();
    const c = await IpvsController.open(config(10, onBackup), log, await IpvsClient.open({ sys: kernel }));
    const dumps = () => kernel.received.filter((r) => r.cmd === GET_SERVICE && (r.flags & NLM_F_DUMP) === NLM_F_DUMP).length;
    const sync = (s: VrrpState, audit = false, ready?: () => void) => c.sync(new Map([['vi_1', s]]), audit, ready);
    return { c, kernel, dumps, sync };
  }

  it('a takeover with onBackup keep reads nothing of the table; an audit dumps; a reload with another table dumps', async () => {
    const { c, dumps, sync } = await controller();
    await sync('BACKUP');
    expect(dumps()).toBe(1);
    await sync('MASTER');
    expect(dumps()).toBe(1);
    await sync('MASTER', true);
    expect(dumps()).toBe(2);
    c.setConfig(config(10)); // the same config again: the cache stays
    await sync('MASTER');
    expect(dumps()).toBe(2);
    c.setConfig(config(20));
    await sync('MASTER');
    expect(dumps()).toBe(3);
    expect(c.status().error).toBeNull();
  });

  it('tableReady comes once, after the table and before the sync daemon switches role', async () => {
    const { kernel, sync } = await controller();
    await sync('BACKUP');
    expect(kernel.daemons.map((d) => d.state)).toEqual([2]); // IP_VS_STATE_BACKUP
    const at: string[][] = [];
    let calls = 0;
    const from = kernel.received.length;
    await sync('MASTER', false, () => { calls++; at.push(kernel.commands.slice(from)); });
    expect(calls).toBe(1);
    expect(at[0]!.filter((x) => x.endsWith('_DAEMON'))).toEqual([]);
    expect(kernel.commands.slice(from)).toContain('NEW_DAEMON');
    expect(kernel.daemons.map((d) => d.state)).toEqual([1]); // IP_VS_STATE_MASTER
  });

  it('tableReady still comes when the sync fails', async () => {
    const { kernel, sync } = await controller();
    kernel.inject = () => -22;
    let calls = 0;
    await sync('MASTER', false, () => { calls++; });
    expect(calls).toBe(1);
  });

  it('keep, table verified: tableReady at the call itself, even with an audit running; the sync still runs after', async () => {
    const { kernel, sync } = await controller();
    await sync('BACKUP');
    const audit = sync('BACKUP', true); // running (its dump is on the wire) when the takeover comes
    let calls = 0;
    const from = kernel.received.length;
    const done = sync('MASTER', false, () => { calls++; });
    expect(calls).toBe(1); // synchronously: no request answered in between
    expect(kernel.received.length).toBe(from);
    await Promise.all([audit, done]);
    expect(calls).toBe(1);
    expect(kernel.daemons.map((d) => d.state)).toEqual([1]);
  });

  it('no early tableReady when the verified table lacks the services (remove), or a sync of ours is ahead', async () => {
    const r = await controller('remove');
    await r.sync('BACKUP');
    let calls = 0;
    const done = r.sync('MASTER', false, () => { calls++; });
    expect(calls).toBe(0);
    await done;
    expect(calls).toBe(1);
    expect(r.kernel.services.size).toBe(1);

    const k = await controller('keep');
    await k.sync('BACKUP');
    const ahead = k.sync('INIT'); // queued ahead: it removes the services the verified table still holds
    let early = 0;
    const takeover = k.sync('MASTER', false, () => { early++; });
    expect(early).toBe(0);
    await Promise.all([ahead, takeover]);
    expect(early).toBe(1);
  });

  it('keep: the takeover needs no desired table at all when the verified one came from the same inputs', async () => {
    const { sync } = await controller();
    await sync('BACKUP');
    const matches = vi.spyOn(IpvsReconciler.prototype, 'matches');
    try {
      let calls = 0;
      const done = sync('MASTER', false, () => { calls++; });
      expect(calls).toBe(1);
      expect(matches).not.toHaveBeenCalled();
      await done;
    } finally {
      matches.mockRestore();
    }
  });

  it('a health change since the verified table: no early tableReady (the table the takeover wants differs)', async () => {
    const { c, sync } = await controller();
    let up = true;
    c.setHealth(() => up);
    await sync('BACKUP');
    up = false; // the real server fails its check; its sync has not run yet
    c.healthChanged();
    let calls = 0;
    const done = sync('MASTER', false, () => { calls++; });
    expect(calls).toBe(0);
    await done;
    expect(calls).toBe(1);
  });
});
