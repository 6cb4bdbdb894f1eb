// The LVS-NAT pair in network namespaces (issue 9): a two-member sync group (public VIP on eth0, the real servers'
// gateway VIP on the inside eth2); a cable cut on either side of the MASTER moves both VIPs, and the real server
// behind the directors keeps answering the client (routed through whichever director holds both VIPs).
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labSupported, reapOrphanLabs, waitFor, CLI, INSIDE, INSIDE_GW_VIP, INSIDE_MAC, MAC, VIP,
  type DirectorName, type Lab,
} from '../../src/lab/topology.js';

const skip = !labSupported().ok;
const GROUP = 'lvs_nat';
const OTHER: Record<DirectorName, DirectorName> = { lvs1: 'lvs2', lvs2: 'lvs1' };

/** One director's config: vi_pub (VRRP and VIP on the LAN, eth0), vi_gw (VRRP and VIP inside, eth2), one sync group. */
function natConfig(lab: Lab, node: DirectorName): string {
  const common = {
    version: 3, state: 'BACKUP', preempt: true, advertInterval: '250ms',
    priority: node === 'lvs1' ? 100 : 90, garp: { masterDelay: '1s' },
  };
  const notify = join(lab.dir, `${node}-group-notify.sh`);
  writeFileSync(notify, `#!/bin/sh\necho "$*" >> ${join(lab.dir, `${node}-group-notify.log`)}\n`);
  chmodSync(notify, 0o755);
  return stringify({
    global: { routerId: node.toUpperCase() },
    instances: {
      vi_pub: { ...common, interface: 'eth0', vrid: 51, vips: [`${VIP} dev eth0`] },
      vi_gw: { ...common, interface: 'eth2', vrid: 52, vips: [`${INSIDE_GW_VIP} dev eth2`] },
    },
    syncGroups: { [GROUP]: { instances: ['vi_pub', 'vi_gw'], notify: { any: notify } } },
  });
}

interface GroupView { group: string; members: Record<string, string>; faults: Record<string, string[]> }

/** The sync group as `vrrpd status --json` reports it, with each member instance's own state. */
async function groupOf(lab: Lab, node: DirectorName): Promise<GroupView | null> {
  const st = await lab.tryStatus(node);
  const g = st?.syncGroups?.find((x) => x.name === GROUP);
  if (!st || !g) return null;
  for (const m of g.members) {
    const i = st.instances.find((x) => x.name === m.name);
    // The group's view of a member and the instance's own report agree, and the instance names its group.
    if (i?.state !== m.state || i.syncGroup !== GROUP) throw new Error(`${node}: member ${m.name} ${m.state} but instance ${i?.state} (group ${i?.syncGroup})`);
  }
  return {
    group: g.state,
    members: Object.fromEntries(g.members.map((m) => [m.name, m.state])),
    faults: Object.fromEntries(g.members.map((m) => [m.name, m.faults])),
  };
}

/** Wait until `master` reports the group and both members MASTER and the other director none of them MASTER. */
async function groupOn(lab: Lab, master: DirectorName, otherState: 'BACKUP' | 'FAULT', timeoutMs: number): Promise<[GroupView, GroupView]> {
  const other = OTHER[master];
  let last: unknown;
  return waitFor(async () => {
    const [m, o] = [await groupOf(lab, master), await groupOf(lab, other)];
    last = { [master]: m, [other]: o };
    const ok = m?.group === 'MASTER' && m.members.vi_pub === 'MASTER' && m.members.vi_gw === 'MASTER' &&
      o?.group === otherState && o.members.vi_pub === otherState && o.members.vi_gw === otherState;
    return ok ? [m, o] as [GroupView, GroupView] : null;
  }, timeoutMs, 100, `sync group ${GROUP} MASTER on ${master}, ${otherState} on ${other}`).catch((e: Error) => {
    throw new Error(`${e.message}; last: ${JSON.stringify(last)}`);
  });
}

/** Each VIP on exactly one director, the given one: the public VIP on its eth0, the gateway VIP on its eth2. */
async function expectBothOn(lab: Lab, who: DirectorName): Promise<void> {
  const both = async (): Promise<[DirectorName[], DirectorName[]]> => [await lab.vipHolders(VIP, 'eth0'), await lab.vipHolders(INSIDE_GW_VIP, 'eth2')];
  await waitFor(async () => (await both()).every((h) => h.join() === who), 3000, 100).catch(() => undefined);
  expect(await both()).toEqual([[who], [who]]);
}

/**
 * The client reaches the real server through the public VIP, and the answer comes back through the gateway VIP:
 * the client's ARP entry for the VIP and the real server's for its gateway both name `who`'s interfaces.
 */
async function expectServedThrough(lab: Lab, who: DirectorName): Promise<void> {
  let last = '';
  await waitFor(async () => {
    const r = await lab.exec('client', ['ping', '-n', '-c', '1', '-W', '1', INSIDE.real], { check: false, timeoutMs: 5000 });
    last = r.stdout + r.stderr;
    return r.code === 0;
  }, 8000, 200, `the client's ping to the real server ${INSIDE.real}`).catch((e: Error) => { throw new Error(`${e.message}: ${last}`); });
  const neigh = async (node: 'client' | 'real', addr: string): Promise<string> =>
    (await lab.exec(node, ['ip', 'neigh', 'show', addr], { timeoutMs: 5000 })).stdout;
  await waitFor(async () => (await neigh('client', VIP)).includes(MAC[who].eth0) && (await neigh('real', INSIDE_GW_VIP)).includes(INSIDE_MAC[who].eth2), 3000, 100)
    .catch(() => undefined);
  expect(await neigh('client', VIP)).toContain(MAC[who].eth0);
  expect(await neigh('real', INSIDE_GW_VIP)).toContain(INSIDE_MAC[who].eth2);
}

/** When (performance.now()) `node`'s vrrpd logged instance `instance` going to `to`, first at or after `after`. */
async function transitionAt(lab: Lab, node: DirectorName, instance: string, to: string, after: number, timeoutMs: number): Promise<number> {
  const p = lab.directors.get(node)!;
  let from = p.lines.findIndex((l) => l.at >= after);
  if (from < 0) from = p.lines.length;
  const line = await p.waitLine((t) => {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      return o.instance === instance && o.to === to;
    } catch { return false; }
  }, timeoutMs, { from });
  return line.at;
}

/** Both members' transitions to MASTER on `node`, in ms after `t` (from the daemon's log lines as they arrived). */
async function bothMasterAfter(lab: Lab, node: DirectorName, t: number): Promise<number[]> {
  return Promise.all(['vi_pub', 'vi_gw'].map(async (i) => (await transitionAt(lab, node, i, 'MASTER', t, 5000)) - t));
}

const notifyLog = (lab: Lab, node: DirectorName): string[] => {
  const p = join(lab.dir, `${node}-group-notify.log`);
  return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n') : [];
};

describe.skipIf(skip)('LVS-NAT pair: a two-member sync group (public VIP on eth0, gateway VIP inside on eth2)', () => {
  let lab: Lab;

  beforeAll(async () => {
    if (!existsSync(CLI) || !daemonAvailable()) throw new Error('dist is not built: npm run build (or npm run test:lab)');
    await reapOrphanLabs();
    lab = await createLab({ inside: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('election: lvs1 holds both VIPs, the group MASTER there and BACKUP on lvs2; the real server answers through lvs1', async () => {
    await lab.startDirector('lvs1', lab.writeConfig('lvs1', natConfig(lab, 'lvs1')));
    await lab.startDirector('lvs2', lab.writeConfig('lvs2', natConfig(lab, 'lvs2')));
    await groupOn(lab, 'lvs1', 'BACKUP', 10_000);
    await expectBothOn(lab, 'lvs1');
    await expectServedThrough(lab, 'lvs1');
    await waitFor(async () => notifyLog(lab, 'lvs1').includes(`GROUP ${GROUP} MASTER 0`), 3000, 100);
  });

  it("lvs1's LAN cable cut: both VIPs move to lvs2 (vi_gw follows vi_pub's FAULT), the client still reaches the real server", async () => {
    const t = performance.now();
    await lab.cutCable('lvs1');
    const [, o] = await groupOn(lab, 'lvs2', 'FAULT', 5000);
    // Master_Down_Interval = 3 × 250 ms + skew (≈ 0.9 s): both members together, well under 2.5 s.
    for (const ms of await bothMasterAfter(lab, 'lvs2', t)) expect(ms).toBeLessThan(2500);
    // lvs1's vi_gw has nothing wrong of its own (its inside cable is fine): the group put it in FAULT.
    expect(o.faults.vi_gw).toEqual([`sync group ${GROUP}`]);
    expect(o.faults.vi_pub).not.toContain(`sync group ${GROUP}`);
    expect(o.faults.vi_pub?.length).toBeGreaterThan(0);
    await expectBothOn(lab, 'lvs2');
    await expectServedThrough(lab, 'lvs2');
    await waitFor(async () => notifyLog(lab, 'lvs2').includes(`GROUP ${GROUP} MASTER 0`) && notifyLog(lab, 'lvs1').includes(`GROUP ${GROUP} FAULT 0`), 3000, 100);
  });

  it('the cable back: lvs1 (priority 100, preempt) takes both VIPs back together', async () => {
    await lab.cutCable('lvs1', true);
    await groupOn(lab, 'lvs1', 'BACKUP', 8000);
    await expectBothOn(lab, 'lvs1');
    await expectServedThrough(lab, 'lvs1');
  });

  it("lvs1's inside cable cut: both VIPs move to lvs2 (vi_pub follows vi_gw's FAULT); one holder per VIP at the end", async () => {
    const t = performance.now();
    await lab.cutInsideCable('lvs1');
    const [, o] = await groupOn(lab, 'lvs2', 'FAULT', 5000);
    for (const ms of await bothMasterAfter(lab, 'lvs2', t)) expect(ms).toBeLessThan(2500);
    expect(o.faults.vi_pub).toEqual([`sync group ${GROUP}`]);
    expect(o.faults.vi_gw?.length).toBeGreaterThan(0);
    await expectBothOn(lab, 'lvs2');
    await expectServedThrough(lab, 'lvs2');
    // Nothing flapped back meanwhile: still exactly one holder of each VIP, lvs2.
    await new Promise((r) => setTimeout(r, 1000));
    await expectBothOn(lab, 'lvs2');
    expect(lab.directors.get('lvs1')!.running && lab.directors.get('lvs2')!.running).toBe(true);
  });
});
