// Seed 002's heartbeat pair moved to VRRP: `vrrpd import --format heartbeat` on its ha.cf/haresources/authkeys, the two
// YAML documents run on lvs1 (director1) and lvs2 (director2) in network namespaces: the preferred node wins, and
// when it dies the other takes the VIP and the client follows. This kernel has no IPVS: the pair runs --no-ipvs
// (the ldirectord.cf the import references is still read and validated; IPVS is the VM tests' part).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, labSupported, reapOrphanLabs, run, waitFor, CLI, LAB_DIST, LB_VIP, REPO_ROOT, type DirectorName, type Lab } from '../../src/lab/topology.js';
import { startProbe, startResponders } from '../../src/lab/prober.js';

const skip = !labSupported().ok;
const SEED = join(REPO_ROOT, 'test/fixtures/ldirectord/seed-002');

describe.skipIf(skip)('seed 002 heartbeat pair imported and run as a VRRP pair (real vrrpd)', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI) || !existsSync(`${LAB_DIST}/probe.js`)) throw new Error('dist is not built: npm run build (or npm run test:lab)');
    await reapOrphanLabs();
  });
  beforeEach(async () => {
    lab = await createLab();
    await startResponders(lab);
  });
  afterEach(async () => {
    await lab?.destroy();
  });

  const vi1 = async (n: DirectorName) => (await lab.tryStatus(n))?.instances.find((i) => i.name === 'vi_1') ?? null;
  const waitVi1 = (n: DirectorName, state: string, ms: number) =>
    waitFor(async () => ((await vi1(n))?.state === state ? vi1(n) : null), ms, 100, `${n} vi_1 to be ${state}`);

  it('imports to one config per node; director1 (preferred) is MASTER with 192.168.1.100; SIGKILL: director2 takes over, the client follows', async () => {
    // The operator's /etc/ha.d, copied as it is.
    const etc = join(lab.dir, 'ha.d');
    mkdirSync(etc);
    for (const f of ['ha.cf', 'haresources', 'authkeys', 'ldirectord.cf']) copyFileSync(join(SEED, f), join(etc, f));
    const imp = await run(process.execPath, [CLI, 'import', '--format', 'heartbeat', '-f', join(etc, 'ha.cf')], { timeoutMs: 20_000 });
    expect(imp.code, imp.stderr).toBe(0);
    // A header of comments, then one YAML document per node ("# node NAME" first).
    const nodes = imp.stdout.split(/^---$/m).slice(1).map((text) => ({ name: /^# node (\S+)/m.exec(text)?.[1], text }));
    expect(nodes.map((n) => n.name)).toEqual(['director1.foo.com', 'director2.foo.com']);
    const paths = { lvs1: lab.writeConfig('lvs1', nodes[0]!.text), lvs2: lab.writeConfig('lvs2', nodes[1]!.text) };
    for (const p of Object.values(paths)) {
      const chk = await run(process.execPath, [CLI, 'check', '-f', p], { timeoutMs: 20_000 });
      expect(chk.code, chk.stderr).toBe(0);
    }

    // director1 = lvs1, director2 = lvs2; both on the LAN's eth0 as in the seed (udp eth0, IPaddr::192.168.1.100/24/eth0).
    await lab.startDirector('lvs2', paths.lvs2, { args: ['--no-ipvs'] });
    await lab.startDirector('lvs1', paths.lvs1, { args: ['--no-ipvs'] });
    const m = await waitVi1('lvs1', 'MASTER', 15_000);
    expect(m).toMatchObject({ priority: 150, vips: ['192.168.1.100/24'] });
    await waitVi1('lvs2', 'BACKUP', 5000);
    expect(await vi1('lvs2')).toMatchObject({ priority: 100, vips: [] });
    await waitFor(async () => (await lab.vipHolders(LB_VIP)).join() === 'lvs1', 3000, 100, 'lvs1 alone holding 192.168.1.100');

    const probe = await startProbe(lab, { target: LB_VIP, durationMs: 25_000 });
    await probe.waitServedBy('lvs1', 5000, 0);
    const t = performance.now();
    lab.directors.get('lvs1')!.signal('SIGKILL');
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 10_000);
    // Master_Down_Interval = 3 × 1 s + Skew_Time (RFC 3768 §6.1): about 3.6 s, where heartbeat's deadtime was 20 s.
    expect(tr.at - t).toBeLessThan(5000);
    await waitVi1('lvs2', 'MASTER', 3000);
    await probe.waitServedBy('lvs2', 8000, t);
    expect(probe.outage(t).ms).toBeLessThan(6000);

    // director1 back (auto_failback -> preempt): it removes its stale copy of the VIP and takes the service back.
    await lab.directors.get('lvs1')!.exited;
    await lab.startDirector('lvs1', paths.lvs1, { args: ['--no-ipvs'] });
    await waitVi1('lvs1', 'MASTER', 10_000);
    await waitVi1('lvs2', 'BACKUP', 5000);
    await waitFor(async () => (await lab.vipHolders(LB_VIP)).join() === 'lvs1', 3000, 100, 'lvs1 alone holding 192.168.1.100 again');
    const back = performance.now();
    await probe.waitServedBy('lvs1', 8000, back - 5000);
  }, 90_000);
});
