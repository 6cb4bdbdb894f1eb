// Shared lab-test helpers: start a pair, wait for states, assert the sole VIP holder, capture.
import { expect } from 'vitest';
import {
  labConfig, waitFor, LB_VIP, VIP,
  type DirectorName, type InstanceStatus, type Lab, type LabConfigOptions, type LabProcess,
} from '../../src/lab/topology.js';

export async function inst(lab: Lab, n: DirectorName): Promise<InstanceStatus> {
  const i = await lab.instance(n);
  if (!i) throw new Error(`vrrpd@${n} does not answer`);
  return i;
}

export async function waitState(lab: Lab, n: DirectorName, state: string, timeoutMs: number): Promise<InstanceStatus> {
  return waitFor(async () => ((await lab.instance(n))?.state === state ? lab.instance(n) : null), timeoutMs, 100, `${n} to be ${state}`);
}

/** Start vrrpd on the given directors (lvs1 then lvs2 by default) with seed configs and wait for one MASTER. */
export async function up(lab: Lab, o: LabConfigOptions & { lvs1?: LabConfigOptions; lvs2?: LabConfigOptions } = {}, nodes: DirectorName[] = ['lvs1', 'lvs2']): Promise<DirectorName> {
  // One after the other, in the given order (lvs1, the higher priority, first): a joint start lets
  // the lower priority win a timeout race on a loaded machine, which nopreempt would then keep.
  for (const n of nodes) await lab.startDirector(n, lab.writeConfig(n, labConfig(n, { ...o, ...o[n] })));
  return waitFor(async () => {
    const s = await Promise.all(nodes.map((n) => lab.instance(n)));
    const m = s.filter((i) => i?.state === 'MASTER');
    return m.length === 1 && s.every((i) => i !== null) ? nodes[s.indexOf(m[0]!)]! : null;
  }, 12_000, 150, 'exactly one MASTER');
}

/** The invariant after every scenario: each VIP on exactly one director's eth0, the expected one, which status agrees with. */
export async function expectSoleHolder(lab: Lab, who: DirectorName): Promise<void> {
  // Addresses change just after the transition is logged: give them a moment, then assert.
  await waitFor(async () => (await lab.vipHolders(VIP)).join() === who && (await lab.vipHolders(LB_VIP)).join() === who, 2000, 100).catch(() => undefined);
  expect(await lab.vipHolders(VIP)).toEqual([who]);
  expect(await lab.vipHolders(LB_VIP)).toEqual([who]);
  const s = await inst(lab, who);
  expect(s.state).toBe('MASTER');
  expect([...s.vips].sort()).toEqual([`${LB_VIP}/32`, `${VIP}/32`]);
}

/** The directors holding the VIP become exactly `who` within 1.5 s. */
export async function holdersBecome(lab: Lab, who: DirectorName[]): Promise<void> {
  await waitFor(async () => (await lab.vipHolders(VIP)).join() === who.join(), 1500, 50).catch(() => undefined);
  expect(await lab.vipHolders(VIP)).toEqual(who);
}

/** A capture in a namespace, line-buffered; resolves once tcpdump listens. */
export async function capture(lab: Lab, node: 'lvs1' | 'lvs2' | 'client', args: string[], seconds: number): Promise<LabProcess> {
  const p = lab.spawnIn(node, ['timeout', String(seconds), 'tcpdump', '-l', '-n', ...args], `tcpdump@${node}`);
  await p.waitLine((l) => l.includes('listening on'), 5000, { stderr: true });
  return p;
}
