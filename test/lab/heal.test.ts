// Self-healing state in the lab (issue 11 part 1): VIPs deleted behind the MASTER's back, added on the BACKUP, dropped by a link down.
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labSupported, reapOrphanLabs, waitFor, CLI, VIP, type Lab } from '../../src/lab/topology.js';
import { expectSoleHolder, inst, up } from './helpers.js';
import { startProbe, startResponders } from '../../src/lab/prober.js';

const skip = !labSupported().ok;
const V4_XOVER = '10.99.0.9';
const V6_XOVER = 'fd00:99::9';

const healLines = (lab: Lab, node: 'lvs1' | 'lvs2') =>
  lab.directors.get(node)!.lines.map((l) => { try { return JSON.parse(l.text) as Record<string, unknown>; } catch { return null; } })
    .filter((o): o is Record<string, unknown> => o !== null && o.heal !== undefined);

describe.skipIf(skip)('self-healing VIPs (real vrrpd)', () => {
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

  it('VIP deleted on the MASTER (ip addr del) is back within one advert interval; the client keeps being served', async () => {
    expect(await up(lab)).toBe('lvs1');
    const probe = await startProbe(lab, { durationMs: 15_000 });
    await probe.waitServedBy('lvs1', 3000, 0);
    const t = performance.now();
    await lab.exec('lvs1', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0'], { check: true });
    await waitFor(async () => (await lab.vipHolders(VIP)).join() === 'lvs1', 1000, 10, 'the VIP back on lvs1 within 1 s (one advert interval)');
    const backMs = performance.now() - t;
    await probe.waitServedBy('lvs1', 3000, t, 10);
    const out = probe.outage(t);
    expect(out.ms).toBeLessThan(1000);
    expect(probe.since(t).every((r) => r.name === 'lvs1')).toBe(true);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'MASTER', counters: expect.objectContaining({ vipRestores: 1 }) });
    expect((await inst(lab, 'lvs2')).state).toBe('BACKUP');
    const logged = healLines(lab, 'lvs1');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ heal: 'restored', vips: [VIP] });
    // `ip` is an IPv4 requester: the notification names its netlink port, which iproute2 sets to its pid.
    expect(String(logged[0]!.seen)).toMatch(/RTM_DELADDR ifindex \d+ \(eth0\) 192\.168\.1\.250\/32.*netlink port \d+/);
    await expectSoleHolder(lab, 'lvs1');
    console.log(`VIP back after ${backMs.toFixed(1)} ms (bounded by the polling), client outage ${out.ms} ms`);
  });

  it('VIP added on the BACKUP (ip addr add) is removed; the MASTER stays the sole holder', async () => {
    await up(lab);
    await lab.addAddress('lvs2', `${VIP}/32`);
    await waitFor(async () => (await lab.vipHolders(VIP)).join() === 'lvs1', 1000, 10, 'the stray VIP gone from lvs2');
    expect((await inst(lab, 'lvs2')).counters).toMatchObject({ vipRemovals: 1 });
    expect(healLines(lab, 'lvs2')[0]).toMatchObject({ heal: 'removed', vips: [VIP] });
    await expectSoleHolder(lab, 'lvs1');
  });

  it('interface down and up: VIPs come back (IPv6 dropped by the kernel is restored; IPv4 kept)', async () => {
    // Two excluded VIPs on the crossover (untracked: dontTrackPrimary), one per family.
    await up(lab, { lvs1: { extra: { excludedVips: ['192.168.1.100 dev eth0', `${V4_XOVER}/32 dev eth1`, `${V6_XOVER}/128 dev eth1`] } } });
    const v6 = async () => (await lab.exec('lvs1', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth1'])).stdout.includes(V6_XOVER);
    await waitFor(v6, 2000, 20, 'the IPv6 VIP on lvs1 eth1');
    await lab.exec('lvs1', ['ip', 'link', 'set', 'dev', 'eth1', 'down'], { check: true });
    // The kernel drops the IPv6 address (RTM_DELADDR, no sender): vrrpd puts it back at once.
    await waitFor(() => healLines(lab, 'lvs1').some((o) => String(o.seen).includes(V6_XOVER)), 2000, 10, 'the IPv6 VIP restore logged');
    await lab.exec('lvs1', ['ip', 'link', 'set', 'dev', 'eth1', 'up'], { check: true });
    await waitFor(v6, 1000, 10, 'the IPv6 VIP on eth1 after up');
    await new Promise((r) => setTimeout(r, 300));
    expect(await v6()).toBe(true);
    expect(String(healLines(lab, 'lvs1')[0]!.seen)).toMatch(/no port id for IPv6/);
    expect((await lab.addresses('lvs1', 'eth1')).map((a) => a.split('/')[0])).toContain(V4_XOVER);
    expect((await inst(lab, 'lvs1')).state).toBe('MASTER');
    // The tracked LAN interface: FAULT, the peer takes over, and on return lvs1 preempts with the VIPs.
    await lab.cutLink('lvs1', 'eth0');
    await waitFor(async () => (await lab.vipHolders(VIP)).join() === 'lvs2', 5000, 50, 'lvs2 to take the VIP');
    await lab.exec('lvs1', ['ip', 'link', 'set', 'dev', 'eth0', 'up'], { check: true });
    await waitFor(async () => (await lab.vipHolders(VIP)).join() === 'lvs1', 8000, 50, 'the VIP back on lvs1');
    expect((await inst(lab, 'lvs1')).state).toBe('MASTER');
    expect(await lab.vipHolders(VIP)).toEqual(['lvs1']);
    await waitFor(v6, 1000, 20, 'the IPv6 VIP on eth1 again');
  });
});
