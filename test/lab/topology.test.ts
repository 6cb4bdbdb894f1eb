// The netns lab itself, without the daemon: topology, responder/prober across the LAN, link cuts, teardown; and the gap maths.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labConfig, labSupported, LAB_DIST, MAC, VIP, waitFor, type Lab } from '../../src/lab/topology.js';
import { findGaps, startProbe, startResponders, whoServes } from '../../src/lab/prober.js';
import { parse } from 'yaml';

const skip = !labSupported().ok;

describe('prober gap maths', () => {
  it('finds silences longer than 3 × interval, edges included', () => {
    expect(findGaps([10, 20, 30, 200, 210], 10, 0, 220)).toEqual([{ from: 30, to: 200, ms: 170 }]);
    expect(findGaps([50, 60], 10, 0, 200)).toEqual([{ from: 0, to: 50, ms: 50 }, { from: 60, to: 200, ms: 140 }]);
    expect(findGaps([], 10, 0, 100)).toEqual([{ from: 0, to: 100, ms: 100 }]);
  });

  it('generates seed 001 configs', () => {
    const c1 = parse(labConfig('lvs1', { unicast: true, auth: true })) as { instances: { vi_100: Record<string, unknown> } };
    expect(c1.instances.vi_100).toMatchObject({ interface: 'eth1', vrid: 100, priority: 100, sourceAddress: '172.16.1.251', unicastPeers: ['172.16.1.252'],
      vips: ['192.168.1.250 dev eth0'], excludedVips: ['192.168.1.100 dev eth0'], trackInterfaces: ['eth0'], dontTrackPrimary: true });
    const c2 = parse(labConfig('lvs2', { version: 3, advertInterval: '100ms', preempt: false })) as { instances: { vi_100: Record<string, unknown> } };
    expect(c2.instances.vi_100).toMatchObject({ priority: 90, version: 3, advertInterval: '100ms', preempt: false });
    expect(c2.instances.vi_100.auth).toBeUndefined();
  });
});

describe.skipIf(skip)('netns lab (no daemon)', () => {
  let lab: Lab;
  const rootLinks = () => spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(':')[1]?.trim()).sort();
  let linksBefore: (string | undefined)[];

  beforeAll(async () => {
    if (!existsSync(`${LAB_DIST}/responder.js`)) throw new Error('dist/lab is not built: npm run build');
    linksBefore = rootLinks();
    lab = await createLab();
  });
  afterAll(async () => { await lab?.destroy(); });

  it('builds the topology inside its own namespaces only', async () => {
    expect(rootLinks()).toEqual(linksBefore);
    const link = async (n: 'lvs1' | 'lvs2' | 'client', dev: string) => (await lab.exec(n, ['ip', '-o', 'link', 'show', 'dev', dev])).stdout;
    expect(await link('lvs1', 'eth0')).toContain(MAC.lvs1.eth0);
    expect(await link('lvs2', 'eth1')).toContain(MAC.lvs2.eth1);
    expect(await link('client', 'eth0')).toContain(MAC.client.eth0);
    expect(await lab.addresses('lvs1', 'eth0')).toEqual(['192.168.1.251/24']);
    expect(await lab.addresses('lvs2', 'eth1')).toEqual(['172.16.1.252/24']);
    expect(await lab.addresses('client', 'eth0')).toEqual(['192.168.1.10/24']);
    const rp = await lab.exec('lvs1', ['sysctl', '-n', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.eth0.rp_filter', 'net.ipv6.conf.all.accept_dad']);
    expect(rp.stdout.trim().split('\n')).toEqual(['0', '0', '0']);
    expect((await lab.exec('sw', ['ip', '-o', 'link', 'show', 'master', 'br0'])).stdout.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('the client reaches the director that holds the VIP; moving it moves the replies', async () => {
    await startResponders(lab);
    await lab.addAddress('lvs1', `${VIP}/32`);
    expect(await lab.vipHolders()).toEqual(['lvs1']);
    const s1 = await whoServes(lab, 500);
    expect(Object.keys(s1.servedBy)).toEqual(['lvs1']);
    expect(s1.received).toBeGreaterThan(15);

    await lab.exec('lvs1', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    await lab.addAddress('lvs2', `${VIP}/32`);
    await lab.exec('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    const s2 = await whoServes(lab, 500);
    expect(Object.keys(s2.servedBy)).toEqual(['lvs2']);
    expect((await lab.exec('client', ['ip', 'neigh', 'show', VIP])).stdout).toContain(MAC.lvs2.eth0);
  });

  it('the prober reports the outage while the VIP link is cut, and the recovery', async () => {
    const probe = await startProbe(lab, { intervalMs: 20, durationMs: 1500 });
    await probe.waitServedBy('lvs2', 2000, 0);
    const t = performance.now();
    await lab.cutLink('lvs2', 'eth0');
    expect((await lab.exec('lvs2', ['ip', '-o', 'link', 'show', 'dev', 'eth0'])).stdout).toMatch(/state DOWN/);
    await new Promise((r) => setTimeout(r, 400));
    await lab.restoreLink('lvs2', 'eth0');
    const s = await probe.summary();
    const outage = probe.outage(t);
    expect(outage.ms).toBeGreaterThan(300);
    expect(outage.before).toBe('lvs2');
    expect(s.gaps.length).toBeGreaterThanOrEqual(1);
    expect(s.maxGapMs).toBeGreaterThan(300);
    expect(s.sent).toBeGreaterThan(60);
  });

  it('destroy() kills what it started and deletes every namespace, twice over', async () => {
    const pids = [...lab.procs].map((p) => p.pid).filter((p): p is number => p !== undefined);
    expect(pids.length).toBeGreaterThan(0);
    await Promise.all([lab.destroy(), lab.destroy()]);
    await lab.destroy();
    const alive = pids.filter((p) => { try { process.kill(p, 0); return true; } catch { return false; } });
    expect(alive).toEqual([]);
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(list).not.toContain(lab.prefix);
    expect(existsSync(lab.dir)).toBe(false);
    expect(rootLinks()).toEqual(linksBefore);
    await expect(waitFor(() => false, 200, 50, 'nothing')).rejects.toThrow(/timed out after 200 ms waiting for nothing/);
  });
});
