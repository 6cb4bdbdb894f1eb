// The seed's keepalived.conf (seeds/001), unmodified, run by vrrpd on both directors of the lab: election and failover.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labSupported, reapOrphanLabs, waitFor, CLI, LB_VIP, VIP, XOVER, type Lab, type DirectorName } from '../../src/lab/topology.js';
import { startProbe, startResponders } from '../../src/lab/prober.js';

const skip = !labSupported().ok;
const SEED = new URL('../fixtures/keepalived-conf/seed-001/etc/keepalived/keepalived.conf', import.meta.url);

describe.skipIf(skip)('seed 001 keepalived.conf under vrrpd (real daemons)', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI) || !daemonAvailable()) throw new Error('dist is not built: npm run build');
    await reapOrphanLabs();
  });
  beforeEach(async () => {
    lab = await createLab();
    await startResponders(lab);
  });
  afterEach(async () => { await lab?.destroy(); });

  it('loads unmodified (router_id per node, as the seed says), elects by address at equal priority 90, fails over on a cut eth0', async () => {
    const text = readFileSync(SEED, 'utf8');
    // The only per-node difference the seed allows: router_id. The absolute include of
    // /etc/keepalived/conf.d/*.conf is left as is (it warns when it matches nothing); --no-ipvs because
    // this host kernel has no IPVS (the VM suite runs the services).
    for (const n of ['lvs1', 'lvs2'] as DirectorName[]) {
      const path = `${lab.dir}/${n}.conf`;
      writeFileSync(path, text.replace('router_id LVS1', `router_id ${n.toUpperCase()}`));
      const check = await lab.exec(n, [process.execPath, CLI, 'check', '-f', path]);
      expect(check.code).toBe(0);
      expect(check.stderr).toMatch(/keepalived\.conf:29:1: include: no file matches|lvs[12]\.conf:29:1: include/); // warned, not dropped
      await lab.startDirector(n, path, { args: ['--no-ipvs'] });
    }
    const st = async (n: DirectorName) => (await lab.instance(n))?.state;
    // Both start BACKUP with priority 90 and nopreempt: whoever times out first is MASTER; if both do at
    // once, the greater address (lvs2, .252) wins. Either way exactly one, and it stays.
    const master = await waitFor(async () => {
      const [a, b] = [await st('lvs1'), await st('lvs2')];
      if (a === 'MASTER' && b === 'BACKUP') return 'lvs1';
      if (b === 'MASTER' && a === 'BACKUP') return 'lvs2';
      return null;
    }, 12_000, 150, 'one MASTER') as DirectorName;
    const other: DirectorName = master === 'lvs1' ? 'lvs2' : 'lvs1';
    const s = await lab.instance(other);
    expect(s).toMatchObject({ name: 'vi_100', vrid: 100, priority: 90, master: XOVER[master] });
    expect(await lab.vipHolders(VIP)).toEqual([master]);
    expect(await lab.vipHolders(LB_VIP)).toEqual([master]); // virtual_ipaddress_excluded is held too
    // track_interface eth0: cutting the master's LAN link hands over in Skew_Time, the client follows.
    const probe = await startProbe(lab, { durationMs: 15_000 });
    await probe.waitServedBy(master, 3000, 0);
    const t = performance.now();
    await lab.cutLink(master, 'eth0');
    await waitFor(async () => ((await st(other)) === 'MASTER' ? true : null), 3000, 50, `${other} MASTER`);
    await probe.waitServedBy(other, 5000, t);
    expect(probe.outage(t).ms).toBeLessThan(2000);
    expect(await lab.vipHolders(VIP)).toEqual([other]);
    expect((await lab.instance(master))?.state).toBe('FAULT');
    // nopreempt: the link comes back, the old master stays BACKUP.
    await lab.restoreLink(master, 'eth0');
    await waitFor(async () => ((await st(master)) === 'BACKUP' ? true : null), 3000, 50, `${master} BACKUP`);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await st(other)).toBe('MASTER');
    expect(await lab.vipHolders(VIP)).toEqual([other]);
  });
});
