// IPVS plan, pure: the operations that turn the kernel's table into the one the config, health and quorum ask for.
// No I/O, no clock: reconcile.ts sends a plan and reads the table back. Never flushes: foreign services stay.
import type { VirtualServer } from '../config/schema.js';
import { desiredTable, destKey, serviceKey, type DesiredService } from './desired.js';
import type { Healthy } from './quorum.js';
import {
  destLabel, isFwmark, serviceLabel, type DestEntry, type DestId, type DestSpec, type ServiceEntry, type ServiceId, type ServiceSpec,
} from './types.js';

export type PlanOp =
  | { op: 'add-service'; key: string; service: ServiceSpec }
  | { op: 'edit-service'; key: string; service: ServiceSpec; changes: string[] }
  | { op: 'delete-service'; key: string; service: ServiceId }
  | { op: 'add-dest'; key: string; service: ServiceId; dest: DestSpec }
  | { op: 'edit-dest'; key: string; service: ServiceId; dest: DestSpec; changes: string[] }
  | { op: 'delete-dest'; key: string; service: ServiceId; dest: DestId };

export interface Plan {
  /** In sending order: additions and edits first, then deletions (make before break). */
  ops: PlanOp[];
  desired: DesiredService[];
  /** Keys of every service this plan manages: the desired ones and the owned ones it deletes. */
  managed: string[];
  /** Kernel services left alone: neither configured nor owned. */
  foreign: string[];
}

const idOf = (s: ServiceId): ServiceId => (isFwmark(s)
  ? { family: s.family, fwmark: s.fwmark }
  : { family: s.family, protocol: s.protocol, address: s.address, port: s.port });
const specOf = (s: ServiceSpec): ServiceSpec => ({
  ...idOf(s), scheduler: s.scheduler, flags: s.flags, timeout: s.timeout, netmask: s.netmask, ...(s.pe ? { pe: s.pe } : {}),
});
const destIdOf = (d: DestId): DestId => ({ address: d.address, family: d.family, port: d.port });
const destSpecOf = (d: DestSpec): DestSpec => {
  const { address, family, port, forwarding, weight, upperThreshold, lowerThreshold, tunType, tunPort, tunFlags } = d;
  return {
    address, family, port, forwarding, weight, upperThreshold, lowerThreshold,
    ...(tunType !== undefined ? { tunType } : {}), ...(tunPort !== undefined ? { tunPort } : {}), ...(tunFlags !== undefined ? { tunFlags } : {}),
  };
};

function serviceChanges(want: ServiceSpec, have: ServiceSpec): string[] {
  const c: string[] = [];
  if (want.scheduler !== have.scheduler) c.push(`scheduler ${have.scheduler} -> ${want.scheduler}`);
  if (want.flags !== have.flags) c.push(`flags 0x${have.flags.toString(16)} -> 0x${want.flags.toString(16)}`);
  if (want.timeout !== have.timeout) c.push(`timeout ${have.timeout} -> ${want.timeout}`);
  if (want.netmask !== have.netmask) c.push(`netmask /${have.netmask} -> /${want.netmask}`);
  if ((want.pe ?? '') !== (have.pe ?? '')) c.push(`pe ${have.pe ?? 'none'} -> ${want.pe ?? 'none'}`);
  return c;
}

function destChanges(want: DestSpec, have: DestSpec): string[] {
  const c: string[] = [];
  for (const f of ['forwarding', 'weight', 'upperThreshold', 'lowerThreshold'] as const) {
    if (want[f] !== have[f]) c.push(`${f} ${have[f]} -> ${want[f]}`);
  }
  for (const f of ['tunType', 'tunPort', 'tunFlags'] as const) {
    if (want[f] !== undefined && want[f] !== have[f]) c.push(`${f} ${have[f] ?? 'default'} -> ${want[f]}`);
  }
  return c;
}

const byKey = <T>(xs: readonly T[], key: (x: T) => string): Map<string, T> => new Map(xs.map((x) => [key(x), x]));
const sortedKeys = <T>(m: Map<string, T>): string[] => [...m.keys()].sort();

/**
 * The minimal operations turning `current` (the kernel's table) into `desired`, touching only desired services and
 * `owned` ones (configured before) that are no longer desired. A kernel service matching a desired key is taken
 * over (it is ours by configuration, e.g. after a restart); anything else is foreign and never touched.
 */
export function planReconcile(desired: readonly DesiredService[], current: readonly ServiceEntry[], owned: ReadonlySet<string>): Plan {
  const want = byKey(desired, serviceKey);
  const have = byKey(current, serviceKey);
  const adds: PlanOp[] = [];
  const deletes: PlanOp[] = [];
  for (const key of sortedKeys(want)) {
    const d = want.get(key)!;
    const s = have.get(key);
    if (!s) {
      adds.push({ op: 'add-service', key, service: specOf(d) });
      for (const dest of d.dests) adds.push({ op: 'add-dest', key, service: idOf(d), dest: destSpecOf(dest) });
      continue;
    }
    const changes = serviceChanges(d, s);
    if (changes.length > 0) adds.push({ op: 'edit-service', key, service: specOf(d), changes });
    const haveDests = byKey<DestEntry>(s.dests, destKey);
    const wantDests = byKey(d.dests, destKey);
    for (const dk of sortedKeys(wantDests)) {
      const w = wantDests.get(dk)!;
      const h = haveDests.get(dk);
      if (!h) adds.push({ op: 'add-dest', key, service: idOf(d), dest: destSpecOf(w) });
      else {
        const dc = destChanges(w, h);
        if (dc.length > 0) adds.push({ op: 'edit-dest', key, service: idOf(d), dest: destSpecOf(w), changes: dc });
      }
    }
    const gone = [...haveDests.keys()].filter((dk) => !wantDests.has(dk)).sort(); // only the few gone ones sorted
    for (const dk of gone) deletes.push({ op: 'delete-dest', key, service: idOf(d), dest: destIdOf(haveDests.get(dk)!) });
  }
  const removed: string[] = [];
  const foreign: string[] = [];
  for (const key of sortedKeys(have)) {
    if (want.has(key)) continue;
    if (owned.has(key)) {
      removed.push(key);
      deletes.push({ op: 'delete-service', key, service: idOf(have.get(key)!) });
    } else foreign.push(key);
  }
  return { ops: [...adds, ...deletes], desired: [...desired], managed: [...want.keys(), ...removed], foreign };
}

/** One line per operation, for logs: "add-dest fwmark 100 -> 192.168.1.10:0 (dr, weight 50)". */
export function describeOp(op: PlanOp): string {
  const svc = serviceLabel(op.service);
  switch (op.op) {
    case 'add-service': return `add-service ${svc} (${op.service.scheduler}${op.service.timeout ? `, persistent ${op.service.timeout}s` : ''})`;
    case 'edit-service': return `edit-service ${svc}: ${op.changes.join(', ')}`;
    case 'delete-service': return `delete-service ${svc}`;
    case 'add-dest': return `add-dest ${svc} -> ${destLabel(op.dest)} (${op.dest.forwarding}, weight ${op.dest.weight})`;
    case 'edit-dest': return `edit-dest ${svc} -> ${destLabel(op.dest)}: ${op.changes.join(', ')}`;
    case 'delete-dest': return `delete-dest ${svc} -> ${destLabel(op.dest)}`;
  }
}

export interface PlanInput {
  virtualServers: Readonly<Record<string, VirtualServer>>;
  /** The instances in MASTER state: their services are installed (none: every owned service is removed). */
  masters: readonly string[];
  /** Real-server health; default every server is healthy. */
  healthy?: Healthy;
  /** Quorum states (evaluateQuorum); default the state a start gives. */
  quorumUp?: (service: string) => boolean | undefined;
  /** The kernel's table as read. */
  current: readonly ServiceEntry[];
  /** Keys of the services configured before (IpvsReconciler.ownedKeys). */
  owned: ReadonlySet<string>;
}

/**
 * Config + health + quorum + VRRP state + the kernel's table -> the operations, in sending order. Throws
 * IpvsConfigError on a table the kernel would refuse (nothing planned).
 */
export function planIpvs(input: PlanInput): Plan {
  const options = { ...(input.healthy ? { healthy: input.healthy } : {}), ...(input.quorumUp ? { quorumUp: input.quorumUp } : {}) };
  const desired = input.masters.length > 0 ? desiredTable(input.virtualServers, input.masters, options) : [];
  return planReconcile(desired, input.current, input.owned);
}
