// IPVS reconcile: desired table from the config (pure), minimal plan against the kernel's table (pure), pipelined apply + read-back.
// Never flushes: only services vrrpd configures, or configured before, are touched; foreign services stay.
import type { VirtualServer } from '../config/schema.js';
import { addressToBytes, canonicalAddress, familyOf, type Family } from '../protocol/addr.js';
import {
  delDestRequest, delServiceRequest, destLabel, encodeRequests, isCanonicalIpv4, isFwmark, newDestRequest, newServiceRequest, serviceLabel,
  setDestRequest, setServiceRequest, IP_VS_SVC_F_PERSISTENT, SCHEDULERS,
  type DestEntry, type DestId, type DestSpec, type Forwarding, type IpvsRequest, type ServiceEntry, type ServiceId, type ServiceSpec,
} from './codec.js';
import type { IpvsOps } from './client.js';

export type RealServer = VirtualServer['realServers'][number];

/** A service as vrrpd wants it: the kernel's spec, its destinations, and where it came from. */
export type DesiredService = ServiceSpec & {
  /** The virtualServers key in the config. */
  name: string;
  dests: DestSpec[];
  /** True when the sorry server stands in for the real servers. */
  sorry: boolean;
};

/** Virtual servers the kernel would refuse or misread; nothing was touched. */
export class IpvsConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`IPVS configuration refused: ${issues.join('; ')}`);
    this.name = 'IpvsConfigError';
  }
}

/** A service's identity in the kernel: fwmark and family, or protocol, address and port. */
export function serviceKey(id: ServiceId): string {
  return isFwmark(id) ? `fwmark:${id.family}:${id.fwmark}` : `${id.protocol}:${id.family === 6 ? `[${id.address}]` : id.address}:${id.port}`;
}

/** A destination's identity within its service. */
export const destKey = (d: DestId): string => destLabel(d);

/** Whole seconds above this overflow the kernel's jiffies timeout (u32) at HZ=1000. */
const MAX_PERSISTENCE_S = Math.floor(0xffffffff / 1000);

/** persistenceNetmask: "255.255.255.0", "24" or "/24" for IPv4; "64", "/64" or "ffff:ffff:ffff:ffff::" for IPv6. */
export function parseNetmask(text: string | undefined, family: Family): number | string {
  const max = family === 4 ? 32 : 128;
  if (text === undefined) return max;
  const t = text.trim().replace(/^\//, '');
  if (/^\d{1,3}$/.test(t)) {
    const n = Number(t);
    return n >= (family === 4 ? 0 : 1) && n <= max ? n : `persistence netmask /${n} out of ${family === 4 ? 0 : 1}..${max}`;
  }
  const b = addressToBytes(t, family);
  if (!b) return `persistence netmask "${text}" is not an IPv${family} netmask or prefix length`;
  const bits = Array.from(b, (x) => x.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return `persistence netmask "${text}" is not contiguous`;
  const n = bits.indexOf('0') < 0 ? max : bits.indexOf('0');
  return family === 6 && n === 0 ? 'an IPv6 persistence netmask needs a prefix of 1..128' : n;
}

export interface DesiredOptions {
  /** Health of a real server (health checks); default every server is healthy. Unhealthy servers are left out. */
  healthy?: (service: string, server: RealServer) => boolean;
  /** The weight a real server gets (health checks: FILE_CHECK adjusts it); default its configured weight. */
  weight?: (service: string, server: RealServer) => number;
}

/**
 * The IPVS table the config asks for: the virtual servers of `instance` (one name or several; services without an
 * `instance` belong to every instance; all services when undefined). Every virtual server of the config is checked,
 * whichever instance it belongs to: IpvsConfigError lists every problem, before anything is touched.
 * A sorry server replaces the real servers when none is healthy with a weight above 0.
 */
export function desiredTable(virtualServers: Readonly<Record<string, VirtualServer>>, instance?: string | readonly string[],
  options: DesiredOptions = {}): DesiredService[] {
  const issues: string[] = [];
  const out: DesiredService[] = [];
  const seen = new Map<string, string>();
  const wanted = instance === undefined ? null : new Set(typeof instance === 'string' ? [instance] : instance);
  for (const [name, vs] of Object.entries(virtualServers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const problems: string[] = [];
    const svc = serviceOf(vs, problems);
    const dests: DestSpec[] = [];
    let sorry = false;
    if (svc) {
      const key = serviceKey(svc);
      if (seen.has(key)) problems.push(`same service (${serviceLabel(svc)}) as virtualServers.${seen.get(key)}`);
      seen.set(key, name);
      const byKey = new Set<string>();
      vs.realServers.forEach((rs, i) => {
        const d = destOf(svc, rs, rs.forwarding ?? vs.forwarding, options.weight?.(name, rs) ?? rs.weight, `realServers[${i}]`, problems);
        if (!d) return;
        if (byKey.has(destKey(d))) problems.push(`realServers[${i}]: ${destLabel(d)} listed twice`);
        byKey.add(destKey(d));
        if (options.healthy?.(name, rs) ?? true) dests.push(d);
      });
      const sorryDest = vs.sorryServer
        ? destOf(svc, { ...vs.sorryServer, upperThreshold: 0, lowerThreshold: 0 }, vs.forwarding, 1, 'sorryServer', problems)
        : null;
      if (sorryDest && byKey.has(destKey(sorryDest))) problems.push(`sorryServer ${destLabel(sorryDest)} is also a real server`);
      if (sorryDest && dests.every((d) => d.weight === 0)) {
        dests.length = 0;
        dests.push(sorryDest);
        sorry = true;
      }
    }
    issues.push(...problems.map((p) => `virtualServers.${name}: ${p}`));
    if (svc && problems.length === 0 && (!wanted || vs.instance === undefined || wanted.has(vs.instance))) {
      out.push({ ...svc, name, dests, sorry });
    }
  }
  if (issues.length > 0) throw new IpvsConfigError(issues);
  return out;
}

function serviceOf(vs: VirtualServer, problems: string[]): ServiceSpec | null {
  if (!(SCHEDULERS as readonly string[]).includes(vs.scheduler)) problems.push(`scheduler "${vs.scheduler}" is not one of ${SCHEDULERS.join(', ')}`);
  const persistS = vs.persistence / 1000;
  if (!Number.isInteger(persistS) || persistS < 0 || persistS > MAX_PERSISTENCE_S) {
    problems.push(`persistence ${vs.persistence} ms is not a whole number of seconds in 0..${MAX_PERSISTENCE_S}`);
  }
  let id: ServiceId | null = null;
  if (vs.fwmark !== undefined) {
    if (vs.address !== undefined || vs.port !== undefined) problems.push('a service has either a fwmark or an address and port, not both');
    id = { family: vs.family, fwmark: vs.fwmark };
  } else if (vs.address === undefined || vs.port === undefined) {
    problems.push('a service needs a fwmark, or an address and a port');
  } else {
    const v4 = isCanonicalIpv4(vs.address); // the common case, without the address library (big tables: 40k addresses)
    const family = v4 ? 4 : familyOf(vs.address);
    if (!family) problems.push(`"${vs.address}" is not an IP address`);
    else if (vs.port === 0 && persistS === 0) problems.push('port 0 (all ports) needs persistence, as in ipvsadm');
    else id = { family, protocol: vs.protocol, address: v4 ? vs.address : canonicalAddress(vs.address)!, port: vs.port };
  }
  if (!id) return null;
  const netmask = parseNetmask(vs.persistenceNetmask, id.family);
  if (typeof netmask === 'string') {
    problems.push(netmask);
    return null;
  }
  return { ...id, scheduler: vs.scheduler, flags: persistS > 0 ? IP_VS_SVC_F_PERSISTENT : 0, timeout: persistS, netmask };
}

function destOf(svc: ServiceId, rs: { address: string; port: number; upperThreshold: number; lowerThreshold: number },
  forwarding: 'dr' | 'nat' | 'tun', weight: number, where: string, problems: string[]): DestSpec | null {
  const v4 = isCanonicalIpv4(rs.address);
  const family = v4 ? 4 : familyOf(rs.address);
  if (!family) {
    problems.push(`${where}: "${rs.address}" is not an IP address`);
    return null;
  }
  if (family !== svc.family && forwarding !== 'tun') {
    problems.push(`${where}: an IPv${family} server in an IPv${svc.family} service needs tun forwarding`);
    return null;
  }
  if (rs.lowerThreshold > rs.upperThreshold) {
    problems.push(`${where}: lowerThreshold ${rs.lowerThreshold} above upperThreshold ${rs.upperThreshold} (the kernel refuses it, ERANGE)`);
  }
  let port = rs.port;
  if (!isFwmark(svc)) {
    // ipvsadm: DR and TUN cannot change the port, so the server's port is the service's; NAT maps 0 to it too.
    if (forwarding !== 'nat' && port !== 0 && port !== svc.port) {
      problems.push(`${where}: port ${port} differs from the service's ${svc.port}, which ${forwarding} forwarding cannot remap`);
    }
    if (forwarding !== 'nat' || port === 0) port = svc.port;
  }
  return {
    address: v4 ? rs.address : canonicalAddress(rs.address)!, family, port, forwarding: forwarding as Forwarding, weight,
    upperThreshold: rs.upperThreshold, lowerThreshold: rs.lowerThreshold,
  };
}

// ---------------------------------------------------------------------------------------------
// Planning

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

// ---------------------------------------------------------------------------------------------
// Applying

export interface ApplyResult {
  /** Operations the kernel acknowledged. */
  applied: number;
  failed: { op: PlanOp; error: Error }[];
  /** What still differs after the read-back (empty when verified). */
  residual: PlanOp[];
  /** The kernel's table as read back. */
  table: ServiceEntry[];
  /** Nothing failed and the read-back matches the desired table. */
  ok: boolean;
}

/**
 * Encode every operation once without sending: an add or edit the codec refuses fails the whole plan before anything
 * is sent (IpvsConfigError). Returns the encoded requests, in plan order, for applyPlan to send as they are.
 */
export function checkPlan(plan: Plan): (IpvsRequest | undefined)[] {
  const issues: string[] = [];
  const out: (IpvsRequest | undefined)[] = new Array<IpvsRequest | undefined>(plan.ops.length);
  encodeRequests(() => plan.ops.forEach((op, i) => {
    try {
      out[i] = encodeOp(op);
    } catch (e) {
      // A delete the codec refuses (it cannot be: its identity came from the kernel) fails alone, when it is sent.
      if (op.op !== 'delete-service' && op.op !== 'delete-dest') issues.push(`${describeOp(op)}: ${(e as Error).message}`);
    }
  }));
  if (issues.length > 0) throw new IpvsConfigError(issues);
  return out;
}

function encodeOp(op: PlanOp): IpvsRequest {
  switch (op.op) {
    case 'add-service': return newServiceRequest(op.service);
    case 'edit-service': return setServiceRequest(op.service);
    case 'delete-service': return delServiceRequest(op.service);
    case 'add-dest': return newDestRequest(op.service, op.dest);
    case 'edit-dest': return setDestRequest(op.service, op.dest);
    case 'delete-dest': return delDestRequest(op.service, op.dest);
  }
}

/** An operation's label for errors, as the client's own methods name it. */
function opContext(op: PlanOp): () => string {
  return op.op === 'add-service' || op.op === 'edit-service' || op.op === 'delete-service'
    ? () => serviceLabel(op.service)
    : () => `${serviceLabel(op.service)} -> ${destLabel(op.dest)}`;
}

function run(client: IpvsOps, op: PlanOp): Promise<void> {
  switch (op.op) {
    case 'add-service': return client.addService(op.service);
    case 'edit-service': return client.editService(op.service);
    case 'delete-service': return client.deleteService(op.service);
    case 'add-dest': return client.addDest(op.service, op.dest);
    case 'edit-dest': return client.editDest(op.service, op.dest);
    case 'delete-dest': return client.deleteDest(op.service, op.dest);
  }
}

/**
 * Operations handed to the client at once, at most. The socket keeps its own window of requests on the wire
 * (maxInFlight, 256); this bounds what waits queued behind it. Handing 40,000 operations over in one synchronous
 * loop kept the event loop busy for seconds (each is encoded as it is queued) while the first window's timeouts were
 * already running: their acks sat unread in the socket and they failed with ETIMEDOUT (bench/ipvs, in the test VM).
 */
export const APPLY_WINDOW = 1024;

/**
 * Every operation, in order, with at most `window` outstanding; settles like Promise.allSettled. With `prepared`
 * (checkPlan's requests) and a client that takes them, the bytes already encoded are sent.
 */
function runAll(client: IpvsOps, ops: readonly PlanOp[], prepared?: readonly (IpvsRequest | undefined)[], window = APPLY_WINDOW): Promise<PromiseSettledResult<void>[]> {
  const send = client.sendPrepared?.bind(client);
  const one = (i: number): Promise<void> => {
    const op = ops[i]!;
    const r = prepared?.[i];
    if (!send || !r) return run(client, op);
    return send(r, opContext(op), op.op === 'add-service' || op.op === 'edit-service' ? op.service.scheduler : undefined);
  };
  const results: PromiseSettledResult<void>[] = new Array<PromiseSettledResult<void>>(ops.length);
  if (ops.length === 0) return Promise.resolve(results);
  return new Promise((resolve) => {
    let next = 0;
    let active = 0;
    const launch = (): void => {
      while (active < window && next < ops.length) {
        const i = next++;
        active += 1;
        let p: Promise<void>;
        try {
          p = one(i);
        } catch (e) {
          p = Promise.reject(e as Error);
        }
        const settle = (r: PromiseSettledResult<void>): void => {
          results[i] = r;
          active -= 1;
          if (next < ops.length) launch();
          else if (active === 0) resolve(results);
        };
        p.then(() => settle({ status: 'fulfilled', value: undefined }), (reason: unknown) => settle({ status: 'rejected', reason }));
      }
    };
    launch();
  });
}

/**
 * The kernel's table after a plan ran: with the table read before it (`current`) and a client that can read one
 * service, only the services the plan touched are read again (a one-weight change on a big table reads one service,
 * not the whole table); otherwise, or when the plan touched most services, one full dump.
 */
async function readBack(client: IpvsOps, plan: Plan, current?: readonly ServiceEntry[]): Promise<ServiceEntry[]> {
  const touched = new Map<string, ServiceId>();
  for (const op of plan.ops) touched.set(op.key, op.service);
  if (!current || !client.getService || touched.size > Math.max(8, current.length / 4)) return client.listServices();
  const get = client.getService.bind(client);
  const fresh = await Promise.all([...touched].map(async ([key, id]) => [key, await get(id)] as const));
  const byKey = new Map(fresh);
  // In the kernel's order where known (the services read again in place, the new ones after).
  const table: ServiceEntry[] = [];
  for (const s of current) {
    const key = serviceKey(s);
    const f = byKey.get(key);
    if (f === undefined) table.push(s);
    else if (f) table.push(f);
    byKey.delete(key);
  }
  for (const s of byKey.values()) if (s) table.push(s);
  return table;
}

/**
 * Send every operation in order (the netlink socket pipelines them in windows, without waiting on each reply; the
 * kernel applies one socket's messages in order, so a service exists before its destinations are added), then read
 * the table back (see readBack) and plan again: `residual` is what still differs.
 */
export async function applyPlan(client: IpvsOps, plan: Plan, current?: readonly ServiceEntry[]): Promise<ApplyResult> {
  const prepared = checkPlan(plan);
  const settled = await runAll(client, plan.ops, prepared);
  const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [{ op: plan.ops[i]!, error: r.reason as Error }] : []));
  const table = await readBack(client, plan, current);
  const residual = planReconcile(plan.desired, table, new Set(plan.managed)).ops;
  return { applied: plan.ops.length - failed.length, failed, residual, table, ok: failed.length === 0 && residual.length === 0 };
}

/**
 * Keeps the kernel's table at the desired one. Ownership: the keys of services it configured; a service dropped from
 * the config is deleted only if owned. After a restart the set is empty: configured keys found in the kernel are ours
 * again at the first reconcile; a service dropped from the config while vrrpd was down is left as foreign.
 */
export class IpvsReconciler {
  private readonly owned = new Set<string>();

  constructor(private readonly client: IpvsOps) {}

  get ownedKeys(): ReadonlySet<string> {
    return this.owned;
  }

  /** The plan against the kernel's current table, without applying it. */
  async plan(desired: readonly DesiredService[]): Promise<Plan> {
    return planReconcile(desired, await this.client.listServices(), this.owned);
  }

  /** Plan, apply, read back. Idempotent: a second call with the same desired table sends nothing. */
  async reconcile(desired: readonly DesiredService[]): Promise<ApplyResult & { plan: Plan }> {
    const current = await this.client.listServices();
    const plan = planReconcile(desired, current, this.owned);
    const result: ApplyResult = plan.ops.length > 0
      ? await applyPlan(this.client, plan, current)
      : { applied: 0, failed: [], residual: [], table: current, ok: true };
    const present = new Set(result.table.map(serviceKey));
    for (const key of plan.managed) {
      if (present.has(key)) this.owned.add(key);
      else this.owned.delete(key);
    }
    return { ...result, plan };
  }
}
