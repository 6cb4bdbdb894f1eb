// Operating vrrpd in the lab while a client is served: reloads (unchanged, live priority, invalid, removal) and yield without a peer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labSupported, reapOrphanLabs, sleep, CLI, LAB_DIST, VIP, XOVER, type Lab } from '../../src/lab/topology.js';
import { startProbe, startResponders } from '../../src/lab/prober.js';
import { capture, expectSoleHolder, inst, up, waitState } from './helpers.js';

const skip = !labSupported().ok;

describe.skipIf(skip)('operations in network namespaces (real vrrpd)', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI) || !existsSync(`${LAB_DIST}/probe.js`)) throw new Error('dist is not built: npm run build');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command');
    await reapOrphanLabs();
  });
  beforeEach(async () => {
    lab = await createLab();
    await startResponders(lab);
  });
  afterEach(async () => {
    await lab?.destroy();
  });

  it('reload without changes: no transition, no GARP, no advert gap, the client never notices', async () => {
    await up(lab);
    await sleep(1500); // past the garp masterDelay burst of the election
    const probe = await startProbe(lab, { durationMs: 20_000, intervalMs: 10 });
    await probe.waitServedBy('lvs1', 3000, 0);
    const arp = await capture(lab, 'client', ['-i', 'eth0', 'arp'], 8);
    const vrrp = await capture(lab, 'lvs2', ['-i', 'eth1', 'ip proto 112'], 8);
    const before = await inst(lab, 'lvs1');
    const t = performance.now();
    const r = await lab.cli('lvs1', ['reload']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('unchanged: vi_100');
    const s1 = await lab.cli('lvs1', ['status', '--json']);
    expect(s1.code).toBe(0);
    await sleep(3000);
    const after = await inst(lab, 'lvs1');
    expect(after.state).toBe('MASTER');
    expect(after.since).toBe(before.since); // no transition
    // No GARP (sender = VIP); the client's own ARP queries for the VIP may appear and are fine.
    expect(arp.lines.filter((l) => l.text.includes(`tell ${VIP}`) && l.at > t).map((l) => l.text)).toEqual([]);
    // Adverts kept their 1 s rhythm across the reload: no gap over 1.1 s between consecutive adverts.
    const ads = vrrp.lines.filter((l) => l.text.includes(`${XOVER.lvs1} >`)).map((l) => l.at);
    expect(ads.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < ads.length; i++) expect(ads[i]! - ads[i - 1]!).toBeLessThan(1100);
    expect(probe.outage(t).ms).toBeLessThan(100);
    await expectSoleHolder(lab, 'lvs1');
  });

  it('reload with a lower priority on the MASTER: applied live, advertised at once, lvs2 preempts', async () => {
    await up(lab);
    const cfg = `${lab.dir}/lvs1.yaml`;
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/priority: 100/, 'priority: 50'));
    const r = await lab.cli('lvs1', ['reload']);
    expect(r.stdout).toContain('updated: vi_100');
    expect((await inst(lab, 'lvs1')).effectivePriority).toBe(50);
    await waitState(lab, 'lvs2', 'MASTER', 6000);
    expect((await inst(lab, 'lvs2')).reason).toBe('preempt');
    await expectSoleHolder(lab, 'lvs2');
  });

  it('reload of an invalid file is refused with file:line and the old config keeps running', async () => {
    await up(lab);
    const cfg = `${lab.dir}/lvs1.yaml`;
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/priority: 100/, 'priority: 100\n    prority: 5'));
    const r = await lab.cli('lvs1', ['reload']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lvs1\.yaml:\d+:\d+: instances\.vi_100\.prority: unknown key "prority"/);
    expect(r.stderr).toContain('keeps running its previous configuration');
    // SIGHUP with the same bad file: also refused, still MASTER.
    lab.directors.get('lvs1')!.signal('SIGHUP');
    await sleep(1500);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'MASTER', priority: 100 });
    await expectSoleHolder(lab, 'lvs1');
  });

  it('reload removing the instance: priority 0 and VIPs released, lvs2 takes over in Skew_Time', async () => {
    await up(lab);
    const probe = await startProbe(lab, { durationMs: 20_000, intervalMs: 10 });
    await probe.waitServedBy('lvs1', 3000, 0);
    writeFileSync(`${lab.dir}/lvs1.yaml`, 'instances: {}\n');
    const t = performance.now();
    const r = await lab.cli('lvs1', ['reload']);
    expect(r.stdout).toContain('removed: vi_100');
    // Measured from lvs1's own release (its MASTER -> INIT line), not from the CLI's start-up.
    const gone = await lab.waitTransition('lvs1', 'INIT', t, 5000);
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    expect(tr.at - gone.at).toBeLessThan(1000); // Skew_Time at priority 90: 648 ms
    await probe.waitServedBy('lvs2', 5000, t);
    expect(probe.outage(t).ms).toBeLessThan(1500);
    await expectSoleHolder(lab, 'lvs2');
  });

  it('yield without a live peer: reclaimed after Master_Down_Interval, exit 1, the VIP comes back', async () => {
    await up(lab, {}, ['lvs1']);
    const t = performance.now();
    const r = await lab.cli('lvs1', ['yield'], { timeoutMs: 20_000 });
    const took = performance.now() - t;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/vi_100: no peer took over; reclaimed after 3\.\d s/);
    expect(took).toBeGreaterThan(3000);
    expect(took).toBeLessThan(6000);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'MASTER', reason: 'yield-reclaim', held: false });
    expect(await lab.vipHolders(VIP)).toEqual(['lvs1']);
  });
});
