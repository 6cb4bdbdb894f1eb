// Seed 001 in network namespaces with the real daemon: election, failovers (link, SIGKILL, SIGTERM), preempt, unicast, GARP, yield, reconcile.
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labConfig, labSupported, reapOrphanLabs, sleep, waitFor, CLI, LAB_DIST, LB_VIP, MAC, VIP, XOVER,
  type Lab,
} from '../../src/lab/topology.js';
import { capture, expectSoleHolder, holdersBecome, inst, up, waitState } from './helpers.js';
import { startProbe, startResponders, whoServes } from '../../src/lab/prober.js';

const skip = !labSupported().ok;

describe.skipIf(skip)('seed 001 in network namespaces (real vrrpd)', () => {
  let lab: Lab;

  beforeAll(async () => {
    if (!existsSync(CLI) || !existsSync(`${LAB_DIST}/probe.js`)) throw new Error('dist is not built: npm run build (or npm run test:lab)');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command: the daemon is not wired');
    await reapOrphanLabs();
  });
  beforeEach(async () => {
    lab = await createLab();
    await startResponders(lab);
  });
  afterEach(async () => {
    await lab?.destroy();
  });

  it('election: lvs1 (priority 100) is MASTER with the VIPs, lvs2 BACKUP following 172.16.1.251', async () => {
    expect(await up(lab, { auth: true })).toBe('lvs1');
    const s2 = await inst(lab, 'lvs2');
    expect(s2).toMatchObject({ state: 'BACKUP', master: XOVER.lvs1, vips: [], priority: 90 });
    expect(await inst(lab, 'lvs1')).toMatchObject({ priority: 100, effectivePriority: 100, master: XOVER.lvs1 });
    const seen = await whoServes(lab);
    expect(Object.keys(seen.servedBy)).toEqual(['lvs1']);
    await expectSoleHolder(lab, 'lvs1');
  });

  it('link cut: tracked eth0 down on the master → lvs2 MASTER within 2 s, the client follows', async () => {
    await up(lab);
    const probe = await startProbe(lab, { durationMs: 20_000 });
    await probe.waitServedBy('lvs1', 3000, 0);
    const t = performance.now();
    await lab.cutLink('lvs1', 'eth0');
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    expect(tr.at - t).toBeLessThan(2000);
    await waitState(lab, 'lvs2', 'MASTER', 2000);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'FAULT', vips: [] });
    await probe.waitServedBy('lvs2', 5000, t);
    expect(probe.outage(t).ms).toBeLessThan(2000);
    await expectSoleHolder(lab, 'lvs2');
  });

  it('SIGKILL: lvs2 takes over after Master_Down_Interval (3–5 s); a restarted lvs1 removes its stale VIP and preempts', async () => {
    await up(lab);
    const cap = await capture(lab, 'lvs2', ['-i', 'eth1', 'ip proto 112'], 20);
    // Kill right after an advert reached lvs2: the takeover then comes a full Master_Down_Interval later (3.648 s).
    const adv = await cap.waitLine((l) => l.includes(`${XOVER.lvs1} >`), 3000, { from: cap.lines.length });
    lab.directors.get('lvs1')!.signal('SIGKILL');
    const tr = await lab.waitTransition('lvs2', 'MASTER', adv.at, 8000);
    expect(tr.at - adv.at).toBeGreaterThan(3000);
    expect(tr.at - adv.at).toBeLessThan(5000);
    expect(tr.reason).toMatch(/silent|down/i);
    await lab.directors.get('lvs1')!.exited;
    // Nobody removed lvs1's copy: that is what SIGKILL leaves (the client follows lvs2's GARP).
    await holdersBecome(lab, ['lvs1', 'lvs2']);
    await lab.startDirector('lvs1', `${lab.dir}/lvs1.yaml`);
    await holdersBecome(lab, ['lvs2']); // well before lvs1 preempts (3.6 s)
    await waitState(lab, 'lvs1', 'MASTER', 6000);
    await waitState(lab, 'lvs2', 'BACKUP', 3000);
    await expectSoleHolder(lab, 'lvs1');
  });

  it('SIGTERM: priority 0 → lvs2 MASTER in Skew_Time (< 1 s); lvs1 exits 0 and leaves no VIP', async () => {
    await up(lab);
    const probe = await startProbe(lab, { durationMs: 20_000 });
    await probe.waitServedBy('lvs1', 3000, 0);
    const d1 = lab.directors.get('lvs1')!;
    const t = performance.now();
    d1.signal('SIGTERM');
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    expect(tr.at - t).toBeLessThan(1000);
    expect(tr.reason).toMatch(/resign|priority 0/i);
    expect((await d1.exited).code).toBe(0);
    const addrs = (await lab.exec('lvs1', ['ip', '-o', 'addr'])).stdout;
    expect(addrs).not.toContain(VIP);
    expect(addrs).not.toContain(LB_VIP);
    await probe.waitServedBy('lvs2', 5000, t);
    await expectSoleHolder(lab, 'lvs2');
  });

  it('SIGTERM while starting (right after the owner became MASTER, before the control socket): exits 0, leaves no VIP', async () => {
    // Priority 255 (the address owner) goes MASTER inside start (RFC 5798 §6.4.1); the signal is sent the moment that
    // is logged, while the daemon is still starting. It must stop as on any SIGTERM, not die of the default action.
    const d1 = await lab.startDirector('lvs1', lab.writeConfig('lvs1', labConfig('lvs1', { priority: 255 })), { waitReady: false });
    await d1.waitLine((t) => /"to":"MASTER"/.test(t), 10_000);
    d1.signal('SIGTERM');
    const end = await d1.exited;
    expect(end, d1.tail(false)).toEqual({ code: 0, signal: null });
    const addrs = (await lab.exec('lvs1', ['ip', '-o', 'addr'])).stdout;
    expect(addrs).not.toContain(VIP);
    expect(d1.lines.some((l) => /"vrrpd stopped"/.test(l.text))).toBe(true);
  });

  it('preempt: the returning lvs1 (priority 100) takes the VIP back', async () => {
    await up(lab);
    await lab.directors.get('lvs1')!.stop();
    await waitState(lab, 'lvs2', 'MASTER', 3000);
    const t = performance.now();
    await lab.startDirector('lvs1', `${lab.dir}/lvs1.yaml`);
    const tr = await lab.waitTransition('lvs1', 'MASTER', t, 8000);
    expect(tr.reason).toMatch(/preempt/i);
    await waitState(lab, 'lvs2', 'BACKUP', 3000);
    expect((await whoServes(lab)).servedBy).toEqual({ lvs1: expect.any(Number) });
    await expectSoleHolder(lab, 'lvs1');
  });

  it('preempt: false: the returning lvs1 stays BACKUP', async () => {
    // Started one after the other: with nopreempt, whoever is MASTER first stays (a race at a joint
    // start is legitimately won by either).
    expect(await up(lab, { preempt: false }, ['lvs1'])).toBe('lvs1');
    await lab.startDirector('lvs2', lab.writeConfig('lvs2', labConfig('lvs2', { preempt: false })));
    await waitState(lab, 'lvs2', 'BACKUP', 3000);
    await lab.directors.get('lvs1')!.stop();
    await waitState(lab, 'lvs2', 'MASTER', 3000);
    await lab.startDirector('lvs1', `${lab.dir}/lvs1.yaml`);
    await sleep(6000); // well past Master_Down_Interval (3.6 s)
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'BACKUP', master: XOVER.lvs2 });
    await expectSoleHolder(lab, 'lvs2');
  });

  it('unicast: adverts go to the peer only, election and failover work', async () => {
    const cap = await capture(lab, 'lvs2', ['-i', 'eth1', 'ip proto 112'], 20);
    expect(await up(lab, { unicast: true })).toBe('lvs1');
    await cap.waitLine((l) => l.includes(`${XOVER.lvs1} > ${XOVER.lvs2}:`) && /VRRPv2/.test(l), 3000);
    expect(cap.lines.some((l) => l.text.includes('224.0.0.18'))).toBe(false);
    const t = performance.now();
    await lab.cutLink('lvs1', 'eth0');
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    expect(tr.at - t).toBeLessThan(2000);
    await expectSoleHolder(lab, 'lvs2');
  });

  it('adverts go out on eth1 (crossover) while the VIP lives on eth0', async () => {
    await up(lab, { auth: true });
    const [x, lan1, lan2] = await Promise.all([
      capture(lab, 'lvs2', ['-v', '-i', 'eth1', '-c', '2', 'ip proto 112'], 5),
      capture(lab, 'lvs1', ['-i', 'eth0', 'ip proto 112'], 3),
      capture(lab, 'lvs2', ['-i', 'eth0', 'ip proto 112'], 3),
    ]);
    await Promise.all([x.exited, lan1.exited, lan2.exited]);
    const adverts = x.lines.filter((l) => /VRRPv2, Advertisement, vrid 100, prio 100/.test(l.text));
    expect(adverts.length, x.lines.map((l) => l.text).join('\n')).toBeGreaterThanOrEqual(1);
    expect(x.lines.some((l) => l.text.includes(`${XOVER.lvs1} > 224.0.0.18`))).toBe(true);
    expect(lan1.lines.filter((l) => /VRRP/.test(l.text))).toEqual([]);
    expect(lan2.lines.filter((l) => /VRRP/.test(l.text))).toEqual([]);
    await expectSoleHolder(lab, 'lvs1');
  });

  it('the client sees gratuitous ARPs for the VIP from the new master after a failover', async () => {
    await up(lab);
    await whoServes(lab, 300); // the client has an ARP entry for the VIP (lvs1's MAC)
    const cap = await capture(lab, 'client', ['-e', '-i', 'eth0', 'arp'], 10);
    const t = performance.now();
    await lab.cutLink('lvs1', 'eth0');
    await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    // tcpdump: "MAC > ff:ff:ff:ff:ff:ff, ethertype ARP ...: Request who-has VIP [(ff:ff:ff:ff:ff:ff)] tell VIP"
    const garpRe = new RegExp(`who-has ${VIP.replaceAll('.', '\\.')}( \\([0-9a-f:]+\\))? tell ${VIP.replaceAll('.', '\\.')},`);
    const isGarp = (l: string) => l.includes(`${MAC.lvs2.eth0} >`) && garpRe.test(l);
    await waitFor(() => cap.lines.filter((l) => isGarp(l.text)).length >= 5, 3000, 50, 'a burst of 5 GARPs from lvs2');
    expect((await lab.exec('client', ['ip', 'neigh', 'show', VIP])).stdout).toContain(MAC.lvs2.eth0);
    expect(cap.lines.some((l) => l.text.includes(`${MAC.lvs1.eth0} >`) && l.text.includes(`tell ${VIP}`))).toBe(false);
    // garp masterDelay 1s: a second burst a second later.
    await waitFor(() => cap.lines.filter((l) => isGarp(l.text)).length >= 10, 3000, 50, 'the second GARP burst');
    expect((await whoServes(lab, 300)).servedBy).toEqual({ lvs2: expect.any(Number) });
    await expectSoleHolder(lab, 'lvs2');
  });

  it('vrrpd yield on the master hands over to the peer; the yielder stays BACKUP until resume', async () => {
    await up(lab);
    const y = await lab.cli('lvs1', ['yield']);
    expect(y.code, `${y.stdout}${y.stderr}`).toBe(0);
    expect(y.stdout).toContain(XOVER.lvs2);
    await waitState(lab, 'lvs2', 'MASTER', 2000);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'BACKUP', held: true });
    await sleep(5000); // longer than Master_Down_Interval: preempt must stay held
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'BACKUP', held: true, master: XOVER.lvs2 });
    await expectSoleHolder(lab, 'lvs2');
    const r = await lab.cli('lvs1', ['resume']);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    await waitState(lab, 'lvs1', 'MASTER', 6000);
    await waitState(lab, 'lvs2', 'BACKUP', 3000);
    await expectSoleHolder(lab, 'lvs1');
  });

  it('stale VIP: a VIP left on lvs2 is removed when vrrpd starts there as BACKUP', async () => {
    expect(await up(lab, {}, ['lvs1'])).toBe('lvs1');
    await lab.addAddress('lvs2', `${VIP}/32`);
    expect(await lab.vipHolders(VIP)).toEqual(['lvs1', 'lvs2']);
    await lab.startDirector('lvs2', lab.writeConfig('lvs2', labConfig('lvs2')));
    await holdersBecome(lab, ['lvs1']);
    await sleep(1500);
    expect(await inst(lab, 'lvs2')).toMatchObject({ state: 'BACKUP', master: XOVER.lvs1 });
    await expectSoleHolder(lab, 'lvs1');
  });

  it('VRRPv3 at 100 ms: a SIGKILL is taken over in ≈ 3 × 100 ms + Skew_Time', async () => {
    await up(lab, { version: 3, advertInterval: '100ms' });
    const cap = await capture(lab, 'lvs2', ['-i', 'eth1', 'ip proto 112'], 20);
    const adv = await cap.waitLine((l) => l.includes(`${XOVER.lvs1} >`), 2000, { from: cap.lines.length });
    lab.directors.get('lvs1')!.signal('SIGKILL');
    const tr = await lab.waitTransition('lvs2', 'MASTER', adv.at, 3000);
    // Master_Down_Interval = 300 ms + (256 − 90) × 100 ms / 256 = 364.8 ms
    expect(tr.at - adv.at).toBeGreaterThan(250);
    expect(tr.at - adv.at).toBeLessThan(800);
    await lab.directors.get('lvs1')!.exited;
    await lab.startDirector('lvs1', `${lab.dir}/lvs1.yaml`);
    await waitState(lab, 'lvs1', 'MASTER', 3000);
    await waitState(lab, 'lvs2', 'BACKUP', 2000);
    await expectSoleHolder(lab, 'lvs1');
  });

  it('a cable pulled on the switch side (carrier loss, eth0 still up) is a fault too', async () => {
    await up(lab);
    const t = performance.now();
    await lab.cutCable('lvs1');
    const tr = await lab.waitTransition('lvs2', 'MASTER', t, 5000);
    expect(tr.at - t).toBeLessThan(2000);
    expect(await inst(lab, 'lvs1')).toMatchObject({ state: 'FAULT' });
    await expectSoleHolder(lab, 'lvs2');
    await lab.cutCable('lvs1', true);
    await waitState(lab, 'lvs1', 'MASTER', 8000);
    await waitState(lab, 'lvs2', 'BACKUP', 3000);
    await expectSoleHolder(lab, 'lvs1');
  });
});
