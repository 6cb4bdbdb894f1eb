// Redundant advert paths in the lab: VRRP on the crossover (a direct veth, both carriers drop when cut), an extra path over the LAN.
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labSupported, reapOrphanLabs, sleep, CLI, LAB_DIST, LAN,
  type DirectorName, type Lab, type LabConfigOptions,
} from '../../src/lab/topology.js';
import { startProbe, startResponders } from '../../src/lab/prober.js';
import { expectSoleHolder, holdersBecome, inst, up, waitState } from './helpers.js';

const skip = !labSupported().ok;
const INTERVAL_MS = 500;
/** Master_Down_Interval at 500 ms (v3): 3 × 500 ms + Skew_Time; we watch well past it. */
const WATCH_MS = 4 * INTERVAL_MS + 1500;

/** The seed's vi_100 on eth1 (primary interface tracked: dontTrackPrimary off), eth0 tracked, LAN as an extra path. */
const withPaths = (paths = true): LabConfigOptions & { lvs1: LabConfigOptions; lvs2: LabConfigOptions } => {
  const o = (peer: DirectorName): LabConfigOptions => ({
    version: 3, advertInterval: `${INTERVAL_MS}ms`,
    extra: { dontTrackPrimary: false, ...(paths ? { extraPaths: [{ interface: 'eth0', peer: LAN[peer] }] } : {}) },
  });
  return { lvs1: o('lvs2'), lvs2: o('lvs1') };
};

describe.skipIf(skip)('redundant advert paths (crossover + LAN), real vrrpd', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI) || !existsSync(`${LAB_DIST}/probe.js`)) throw new Error('dist is not built: npm run build (or npm run test:lab)');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command');
    await reapOrphanLabs();
  });
  beforeEach(async () => {
    lab = await createLab();
    await startResponders(lab);
  });
  afterEach(async () => { await lab?.destroy(); });

  it('cutting the crossover: no transition, no second VIP holder, the client keeps being served', async () => {
    expect(await up(lab, withPaths())).toBe('lvs1');
    const probe = await startProbe(lab, { intervalMs: 20, durationMs: 30_000 });
    await probe.waitServedBy('lvs1', 3000, 0);
    const [s1, s2] = [await inst(lab, 'lvs1'), await inst(lab, 'lvs2')];
    const t = performance.now();
    await lab.cutLink('lvs1', 'eth1'); // a veth: lvs2's eth1 loses its carrier too
    await sleep(WATCH_MS);
    const [a1, a2] = [await inst(lab, 'lvs1'), await inst(lab, 'lvs2')];
    expect(a1).toMatchObject({ state: 'MASTER', since: s1.since });
    expect(a2).toMatchObject({ state: 'BACKUP', since: s2.since });
    expect(await lab.vipHolders()).toEqual(['lvs1']);
    await expectSoleHolder(lab, 'lvs1');
    expect(probe.since(t).every((r) => r.name === 'lvs1')).toBe(true);
    expect(probe.outage(t).ms).toBeLessThan(500);
    // The adverts kept coming over the LAN.
    expect(Number(a2.counters.advertsReceived)).toBeGreaterThan(Number(s2.counters.advertsReceived) + WATCH_MS / INTERVAL_MS / 2);
    await lab.restoreLink('lvs1', 'eth1');
    await sleep(2 * INTERVAL_MS);
    expect((await inst(lab, 'lvs1')).since).toBe(s1.since);
  });

  it('control, without extraPaths: the same cut FAULTs both sides (the outage the paths prevent)', async () => {
    expect(await up(lab, withPaths(false))).toBe('lvs1');
    await lab.cutLink('lvs1', 'eth1');
    await waitState(lab, 'lvs1', 'FAULT', 3000);
    await waitState(lab, 'lvs2', 'FAULT', 3000);
    expect(await lab.vipHolders()).toEqual([]);
  });

  it("cutting the master's LAN (tracked eth0) still fails over", async () => {
    expect(await up(lab, withPaths())).toBe('lvs1');
    const probe = await startProbe(lab, { durationMs: 20_000 });
    await probe.waitServedBy('lvs1', 3000, 0);
    const t = performance.now();
    await lab.cutLink('lvs1', 'eth0');
    await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'FAULT', vips: [] });
    await probe.waitServedBy('lvs2', 5000, t);
    await expectSoleHolder(lab, 'lvs2');
  });

  it('a dead master (all its links down, then SIGKILL) is taken over by the backup', async () => {
    expect(await up(lab, withPaths())).toBe('lvs1');
    let t = performance.now();
    await lab.cutLink('lvs1', 'eth1');
    await lab.cutLink('lvs1', 'eth0');
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 6000);
    expect(tr.reason).toMatch(/silent/);
    await holdersBecome(lab, ['lvs2']);
    // Back: lvs1 (priority 100) preempts over both paths.
    await lab.restoreLink('lvs1', 'eth0');
    await lab.restoreLink('lvs1', 'eth1');
    await waitState(lab, 'lvs1', 'MASTER', 8000);
    await waitState(lab, 'lvs2', 'BACKUP', 3000);
    t = performance.now();
    lab.directors.get('lvs1')!.signal('SIGKILL');
    await lab.waitTransition('lvs2', 'MASTER', t, 6000);
    await waitState(lab, 'lvs2', 'MASTER', 2000);
  });
});
