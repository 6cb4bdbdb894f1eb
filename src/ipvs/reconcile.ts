// IPVS apply: a plan (plan.ts) sent over generic netlink, pipelined, then verified by reading the table back.
// Never flushes: only services vrrpd configures, or configured before, are touched; foreign services stay.
import { encodeRequests, newDestRequest, newServiceRequest, setDestRequest, setServiceRequest, delDestRequest, delServiceRequest } from './encode.js';
import { destLabel, serviceLabel, type IpvsRequest, type ServiceEntry, type ServiceId } from './types.js';
import { IpvsConfigError, serviceKey, type DesiredService } from './desired.js';
import { describeOp, planReconcile, type Plan, type PlanOp } from './plan.js';
import type { IpvsOps } from './client.js';

// What callers used to import from here.
export { desiredTable, destKey, IpvsConfigError, parseNetmask, serviceKey, validateIpvsTable } from './desired.js';
export type { DesiredOptions, DesiredService, RealServer, TableIssue } from './desired.js';
export { describeOp, planIpvs, planReconcile } from './plan.js';
export type { Plan, PlanInput, PlanOp } from './plan.js';

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
  if (!current || !client.getService || touched.size > targetedLimit(current.length)) return client.listServices();
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

/** How a reconcile learnt the kernel's table before planning (for logs, tests and the bench). */
export type ReadMode = 'dump' | 'cached' | 'targeted';

/**
 * Keeps the kernel's table at the desired one. Ownership: the keys of services it configured; a service dropped from
 * the config is deleted only if owned. After a restart the set is empty: configured keys found in the kernel are ours
 * again at the first reconcile; a service dropped from the config while vrrpd was down is left as foreign.
 *
 * The table last verified (a reconcile that applied with no failure and a read-back matching the desired table) is
 * kept: the next reconcile plans against it. Nothing to do: no request at all. A few services to change: only those
 * are read from the kernel first (GET_SERVICE + GET_DEST each), planned, applied and read back. Everything else, and
 * every reconcile after a failure, a refused plan, an error or invalidate(), dumps the whole table first. A change
 * made from outside is not seen by the cached path: the periodic audit (`full`) dumps and restores it.
 */
export class IpvsReconciler {
  private readonly owned = new Set<string>();
  /** The kernel's table as last verified, by service key; null: unknown (the next reconcile dumps). */
  private verified: Map<string, ServiceEntry> | null = null;

  constructor(private readonly client: IpvsOps) {}

  get ownedKeys(): ReadonlySet<string> {
    return this.owned;
  }

  /** Is there a verified table the next reconcile can plan against? */
  get cached(): boolean {
    return this.verified !== null;
  }

  /** Forget the verified table: the next reconcile dumps the whole table. */
  invalidate(): void {
    this.verified = null;
  }

  /**
   * Does the verified table already hold `desired` (a reconcile would plan nothing)? No request; false without a
   * verified table. While a reconcile runs this answers for the table verified before it (see IpvsController).
   */
  matches(desired: readonly DesiredService[]): boolean {
    return this.verified !== null && planReconcile(desired, [...this.verified.values()], this.owned).ops.length === 0;
  }

  /** The plan against the kernel's current table (a dump), without applying it. */
  async plan(desired: readonly DesiredService[]): Promise<Plan> {
    return planReconcile(desired, await this.client.listServices(), this.owned);
  }

  /**
   * Plan, apply, read back. Idempotent: a second call with the same desired table sends nothing. `full`: dump the
   * whole table first whatever is cached (an audit looking for changes made from outside).
   */
  async reconcile(desired: readonly DesiredService[], options: { full?: boolean } = {}): Promise<ApplyResult & { plan: Plan; read: ReadMode }> {
    try {
      const r = await this.reconcileFrom(desired, options.full ? null : this.verified);
      this.verified = r.ok ? new Map(r.table.map((s) => [serviceKey(s), s])) : null;
      return r;
    } catch (e) {
      this.verified = null; // an error or a throw leaves the next reconcile a full dump
      throw e;
    }
  }

  private async reconcileFrom(desired: readonly DesiredService[], known: Map<string, ServiceEntry> | null): Promise<ApplyResult & { plan: Plan; read: ReadMode }> {
    let read: ReadMode = 'dump';
    let current: ServiceEntry[] | null = null;
    let plan: Plan | null = null;
    if (known) {
      const cachedTable = [...known.values()];
      const guess = planReconcile(desired, cachedTable, this.owned);
      const touched = new Map<string, ServiceId>();
      for (const op of guess.ops) touched.set(op.key, op.service);
      if (touched.size === 0) {
        read = 'cached';
        current = cachedTable;
        plan = guess;
      } else if (this.client.getService && touched.size <= targetedLimit(known.size)) {
        // The services to change, read from the kernel (what the cache holds of them may be stale), the rest as cached.
        read = 'targeted';
        const get = this.client.getService.bind(this.client);
        const fresh = new Map(await Promise.all([...touched].map(async ([key, id]) => [key, await get(id)] as const)));
        current = [];
        for (const [key, s] of known) {
          const f = fresh.get(key);
          if (f === undefined) current.push(s);
          else if (f) current.push(f);
          fresh.delete(key);
        }
        for (const f of fresh.values()) if (f) current.push(f);
        plan = planReconcile(desired, current, this.owned);
      }
    }
    if (!current || !plan) {
      current = await this.client.listServices();
      plan = planReconcile(desired, current, this.owned);
    }
    const result: ApplyResult = plan.ops.length > 0
      ? await applyPlan(this.client, plan, current)
      : { applied: 0, failed: [], residual: [], table: current, ok: true };
    const present = new Set(result.table.map(serviceKey));
    for (const key of plan.managed) {
      if (present.has(key)) this.owned.add(key);
      else this.owned.delete(key);
    }
    return { ...result, plan, read };
  }
}

/** Services read one by one before planning, at most, rather than one dump (as the read-back decides). */
export function targetedLimit(tableSize: number): number {
  return Math.max(8, tableSize / 4);
}
