// Sync daemon by VRRP role (master on MASTER, backup on BACKUP), idempotent, foreign daemons spared; and the pure-module wall.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/client.js';
import { daemonMatches, planSyncDaemons, setSyncRole, syncDaemonSpec, type SyncDaemonSettings } from '../../src/ipvs/sync.js';
import type { DaemonSpec } from '../../src/ipvs/codec.js';
import { FakeIpvsKernel } from './fake-ipvs.js';

const cfg: SyncDaemonSettings = { interface: 'eth1', syncId: 100 };
const master: DaemonSpec = { state: 'master', interface: 'eth1', syncId: 100 };

describe('sync daemon planning', () => {
  it('the spec from the config: options only when set, the group canonical', () => {
    expect(syncDaemonSpec(cfg, 'backup')).toEqual({ state: 'backup', interface: 'eth1', syncId: 100 });
    expect(syncDaemonSpec({ ...cfg, multicastGroup: 'FF02::0:1:2', port: 9000, ttl: 2, maxLen: 1400 }, 'master'))
      .toEqual({ ...master, group: 'ff02::1:2', port: 9000, ttl: 2, maxLen: 1400 });
  });

  it('a running daemon matches on interface and sync id, and on each option the kernel reports', () => {
    expect(daemonMatches(master, { ...master, maxLen: 1472, port: 8848, ttl: 1, group: '224.0.0.81' })).toBe(true);
    expect(daemonMatches({ ...master, port: 9000 }, { ...master, port: 8848 })).toBe(false);
    expect(daemonMatches({ ...master, port: 9000 }, master)).toBe(true); // a kernel before 4.3 reports no port
    expect(daemonMatches(master, { ...master, syncId: 1 })).toBe(false);
  });

  it('start what is missing, restart what differs, keep what matches; stop only ours when nothing is wanted', () => {
    expect(planSyncDaemons([master], [])).toEqual({ stop: [], start: [master] });
    expect(planSyncDaemons([master], [master])).toEqual({ stop: [], start: [] });
    expect(planSyncDaemons([master], [{ ...master, syncId: 7 }])).toEqual({ stop: ['master'], start: [master] });
    const ours = (d: DaemonSpec) => d.syncId === 100;
    expect(planSyncDaemons([], [master, { ...master, state: 'backup', syncId: 5 }], ours)).toEqual({ stop: ['master'], start: [] });
  });
});

describe('setSyncRole on a fake kernel', () => {
  it('MASTER runs the master daemon, BACKUP the backup one, none stops ours; repeated calls change nothing', async () => {
    const k = new FakeIpvsKernel();
    const c = await IpvsClient.open({ sys: k });
    expect(await setSyncRole(c, cfg, 'master')).toMatchObject({ ok: true, stop: [], start: [master] });
    expect(await setSyncRole(c, cfg, 'master')).toMatchObject({ ok: true, stop: [], start: [] });
    const b = await setSyncRole(c, cfg, 'backup');
    expect(b).toMatchObject({ ok: true, stop: ['master'], start: [{ ...master, state: 'backup' }] });
    expect(b.running.map((d) => d.state)).toEqual(['backup']);
    expect(await setSyncRole(c, cfg, 'none')).toMatchObject({ ok: true, stop: ['backup'], start: [], running: [] });
    expect(k.writes).toEqual(['NEW_DAEMON', 'DEL_DAEMON', 'NEW_DAEMON', 'DEL_DAEMON']);
    expect(await setSyncRole(c, undefined, 'master')).toMatchObject({ ok: true, stop: [], start: [] }); // not configured: untouched
    c.close();
  });

  it('a foreign backup daemon is left alone on MASTER', async () => {
    const k = new FakeIpvsKernel();
    const c = await IpvsClient.open({ sys: k });
    await c.startDaemon({ state: 'backup', interface: 'lo', syncId: 9 });
    const r = await setSyncRole(c, cfg, 'master');
    expect(r).toMatchObject({ ok: true, stop: [] });
    expect(r.running.map((d) => `${d.state} ${d.interface} ${d.syncId}`)).toEqual(['backup lo 9', 'master eth1 100']);
    c.close();
  });
});

describe('the pure IPVS modules', () => {
  it.each(['uapi.ts', 'codec.ts', 'reconcile.ts', 'sync.ts'])('src/ipvs/%s imports no Node built-in and no socket code at run time', (file) => {
    const src = readFileSync(new URL(`../../src/ipvs/${file}`, import.meta.url), 'utf8');
    const runtime = [...src.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)].map((m) => m[1]);
    expect(runtime.filter((m) => m!.startsWith('node:') || /net\/(netlink|native|sockaddr)|\/client|\/genl/.test(m!))).toEqual([]);
    expect(src).not.toMatch(/\b(process|setTimeout|setImmediate|Date\.now|require)\b/);
  });
});
