// IPVS follows VRRP: services and the sync daemon are made to match the instances' states (serialized, reconciled).
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { VrrpState } from '../engine/types.js';
import { IpvsClient } from '../ipvs/client.js';
import { IpvsUnavailableError } from '../ipvs/genl.js';
import { desiredTable, type DesiredService } from '../ipvs/desired.js';
import { evaluateQuorum, quorumAtStop, type QuorumTransition } from '../ipvs/quorum.js';
import { describeOp, IpvsReconciler } from '../ipvs/reconcile.js';
import { setSyncRole, type SyncRole } from '../ipvs/sync.js';
import { isFwmark, serviceLabel, type ServiceEntry } from '../ipvs/codec.js';

export interface IpvsStatus {
  available: boolean;
  /** Health-check state of every checked real server. */
  checks?: { service: string; address: string; port: number; healthy: boolean; lastError: string | null; lastChange: string | null }[];
  error: string | null;
  syncRole: SyncRole;
  /** Audits (ipvs.auditInterval) that found our services or sync daemon altered from outside, and restored them. */
  restores?: number;
  services: {
    service: string; scheduler: string; persistent: boolean; timeout: number;
    dests: { address: string; port: number; forwarding: string; weight: number; activeConns: number; inactConns: number }[];
  }[];
}

/** Does the config ask for IPVS at all? */
export function wantsIpvs(cfg: Config, noIpvs: boolean): boolean {
  return !noIpvs && cfg.ipvs.enabled && Object.keys(cfg.virtualServers).length > 0;
}

/** A standalone director: virtual servers and no VRRP instance (an ldirectord.cf or ipvsadm rules alone). */
export function isStandalone(cfg: Config): boolean {
  return Object.keys(cfg.instances).length === 0;
}

/** The instances whose MASTER state carries at least one virtual server (all of them for untied services). */
export function ipvsInstances(cfg: Config): Set<string> {
  const out = new Set<string>();
  for (const vs of Object.values(cfg.virtualServers)) {
    if (vs.instance === undefined) for (const n of Object.keys(cfg.instances)) out.add(n);
    else out.add(vs.instance);
  }
  return out;
}

export class IpvsController {
  private chain: Promise<void> = Promise.resolve();
  private role: SyncRole = 'none';
  private table: ServiceEntry[] = [];
  private lastError: string | null = null;
  /** Real-server health (health checks); every server healthy until set. */
  private healthy: ((service: string, rs: { address: string; port: number }) => boolean) | undefined;
  /** Real-server weight as the health checks set it (FILE_CHECK); the configured weight until set. */
  private weight: ((service: string, rs: { address: string; port: number; weight: number }) => number) | undefined;
  /** Quorum state of every virtual server (evaluated at each sync, from the health). */
  private quorum: ReadonlyMap<string, boolean> = new Map();
  private onQuorum: ((transitions: QuorumTransition[]) => void) | undefined;
  /** The ipvs.timeouts last applied (JSON), null before. */
  private timeoutsApplied: string | null = null;
  /** close() has begun: every service goes. */
  private closing = false;

  private readonly reconciler: IpvsReconciler;
  /** Syncs requested and not yet started (an audit behind one of them stands down). */
  private queued = 0;
  /** The reconcile in progress: an audit's, a sync's, or none. */
  private running: 'audit' | 'sync' | null = null;
  /** Bumped at every health-check change (healthChanged): part of what a desired table is derived from. */
  private healthGen = 0;
  /** What the verified table was derived from (inputsKey), null when there is none to trust. */
  private verifiedInputs: string | null = null;
  /** Audits that found the table or the sync daemon altered from outside and restored it. */
  private restores = 0;

  private constructor(private readonly client: IpvsClient, private cfg: Config, private readonly log: Logger) {
    this.reconciler = new IpvsReconciler(client);
  }

  /** Opens the IPVS client; IpvsUnavailableError when the kernel has no IPVS (the caller FAULTs). */
  static async open(cfg: Config, log: Logger, client?: IpvsClient): Promise<IpvsController> {
    // Refuse a bad table before anything is touched (unknown scheduler, bad port...).
    desiredTable(cfg.virtualServers);
    client ??= await IpvsClient.open();
    return new IpvsController(client, cfg, log);
  }

  setHealth(fn: (service: string, rs: { address: string; port: number }) => boolean,
    weight?: (service: string, rs: { address: string; port: number; weight: number }) => number): void {
    this.healthy = fn;
    this.weight = weight;
    this.healthGen++;
  }

  /** A real server's health or check weight changed (called synchronously by the checks, before their sync). */
  healthChanged(): void {
    this.healthGen++;
  }

  /** Everything a desired table is derived from besides the config (which setConfig watches). */
  private inputsKey(standalone: boolean, holders: readonly string[], quorum: ReadonlyMap<string, boolean>): string {
    return JSON.stringify([standalone, [...holders].sort(), [...quorum].sort(), this.healthGen]);
  }

  /** Called with the quorum changes of each sync (quorumUp/quorumDown to run), and the omega ones at close. */
  setQuorumHandler(fn: (transitions: QuorumTransition[]) => void): void {
    this.onQuorum = fn;
  }

  /** Every virtual server's quorum state (true = up), as of the last sync. */
  quorumStates(): ReadonlyMap<string, boolean> {
    return this.quorum;
  }

  static isUnavailable(e: unknown): boolean {
    return e instanceof IpvsUnavailableError;
  }

  /** A reload: validated by the caller; the next sync applies it. Throws on a table the kernel can't take. */
  setConfig(cfg: Config): void {
    desiredTable(cfg.virtualServers);
    // Another table or other IPVS settings: the next sync dumps the whole table rather than trust the cached one.
    const key = (c: Config) => JSON.stringify([c.virtualServers, c.ipvs]);
    if (key(cfg) !== key(this.cfg)) {
      this.reconciler.invalidate();
      this.verifiedInputs = null;
    }
    this.cfg = cfg;
  }

  /**
   * Make IPVS match the states: services of the MASTER instances installed; those of BACKUP instances removed, or
   * with ipvs.onBackup: keep installed too (keepalived's way: the table is there before a takeover, which then
   * adds nothing; a BACKUP holds no VIP, so its services get no traffic); the sync daemon master while any instance is MASTER, backup
   * while any is BACKUP, stopped otherwise. A standalone director (no instance) wants every virtual
   * server and never runs a sync daemon. Serialized; resolves when this sync is done.
   *
   * The table is planned against the last verified one (IpvsReconciler: no dump when nothing changed, only the
   * services that change read otherwise); an audit dumps the whole table. `tableReady` is called once, as soon as
   * the table is settled (before the sync daemon switches role), or when the sync fails: a new MASTER's VIPs wait
   * for the table, not for the sync daemon's kernel threads. When nothing of ours is queued or running (an audit may
   * be: it only looks for changes from outside) and the verified table already holds what this sync wants (a
   * takeover with onBackup: keep), tableReady is called at once, without waiting for the chain.
   */
  sync(states: ReadonlyMap<string, VrrpState>, audit = false, tableReady?: () => void): Promise<void> {
    let readyCalled = false;
    const ready = (): void => {
      if (readyCalled) return;
      readyCalled = true;
      tableReady?.();
    };
    const cfg = this.cfg;
    const standalone = !this.closing && isStandalone(cfg);
    const masters = [...states].filter(([, s]) => s === 'MASTER').map(([n]) => n);
    const anyBackup = [...states.values()].some((s) => s === 'BACKUP');
    const backups = [...states].filter(([, s]) => s === 'BACKUP').map(([n]) => n);
    const holders = cfg.ipvs.onBackup === 'keep' ? [...masters, ...backups] : masters;
    const role: SyncRole = standalone ? 'none' : masters.length ? 'master' : anyBackup ? 'backup' : 'none';
    const want = (quorumUp: (svc: string) => boolean | undefined): DesiredService[] => {
      const options = {
        ...(this.healthy ? { healthy: this.healthy } : {}), ...(this.weight ? { weight: this.weight } : {}), quorumUp,
      };
      if (standalone) return desiredTable(cfg.virtualServers, undefined, options);
      return holders.length ? desiredTable(cfg.virtualServers, holders, options) : [];
    };
    if (tableReady && !audit && this.queued === 0 && this.running !== 'sync' && this.reconciler.cached) {
      // The same inputs as the verified table (a takeover with keep: BACKUP and MASTER hold the same services):
      // nothing to compute. Otherwise the new desired table, planned against the verified one (CPU, no request).
      const quorum = this.quorum;
      const same = this.verifiedInputs === this.inputsKey(standalone, holders, quorum);
      if (same || this.reconciler.matches(want((svc) => quorum.get(svc)))) {
        this.log.debug({ instances: holders, same }, 'IPVS table already verified for this state: ready at once');
        ready();
      }
    }
    if (!audit) this.queued++;
    const run = async () => {
      if (!audit) this.queued--;
      // A sync of ours is waiting: it reconciles anyway, and a difference now would be ours, not someone else's.
      else if (this.queued > 0) return; // (an audit has no tableReady)
      // A refused timeout is logged and shown in status; the table still follows the state.
      const timeoutError = await this.applyTimeouts(cfg).then(() => null, (e: Error) => {
        this.log.error({ err: e.message }, 'IPVS connection timeouts not set');
        return `IPVS connection timeouts not set: ${e.message}`;
      });
      // Quorum follows health whatever the VRRP state (keepalived's checker does not know VRRP).
      const q = evaluateQuorum(cfg.virtualServers, this.healthy, this.quorum);
      this.quorum = q.states;
      this.reportQuorum(q.transitions);
      const desired = want((svc) => q.states.get(svc));
      const inputs = this.inputsKey(standalone, holders, q.states);
      // A table the kernel partly refused is logged and shown in status; the sync daemon still
      // follows the role (a MASTER must sync its connections to the peer whatever else failed).
      this.running = audit ? 'audit' : 'sync';
      const tableOk = await this.reconcile(desired, audit).finally(() => { this.running = null; });
      this.verifiedInputs = this.reconciler.cached ? inputs : null;
      ready();
      // An audit checks the daemons too (one dump); the role it finds changed from outside is restarted.
      if (role !== this.role || (audit && cfg.ipvs.syncDaemon)) {
        const t0 = performance.now();
        const res = await setSyncRole(this.client, cfg.ipvs.syncDaemon, role);
        const ms = Math.round(performance.now() - t0);
        const changed = res.stop.length + res.start.length > 0;
        if (!res.ok) this.log.error({ role }, 'IPVS sync daemon did not reach the wanted state');
        else if (role !== this.role || changed) {
          this.log[role === this.role ? 'warn' : 'info']({ role, daemons: res.running.map((d) => `${d.state}:${d.interface}/${d.syncId}`), ms },
            role === this.role ? 'IPVS sync daemon stopped or altered from outside: restored' : 'IPVS sync daemon');
          if (role === this.role) this.restores++;
        }
        this.role = role;
      }
      this.lastError = tableOk ? timeoutError : 'the IPVS table does not match the config (see the log)';
    };
    const p = this.chain.then(run).catch((e: Error) => {
      this.verifiedInputs = null;
      this.lastError = e.message;
      this.log.error({ err: e.message }, 'IPVS update failed');
    }).finally(ready);
    this.chain = p;
    return p;
  }

  private reportQuorum(transitions: QuorumTransition[]): void {
    for (const t of transitions) {
      this.log.info({ service: t.service, weightSum: t.weightSum, threshold: t.threshold, cause: t.cause },
        t.up ? 'virtual server gained quorum' : 'virtual server lost quorum');
    }
    if (transitions.length) this.onQuorum?.(transitions);
  }

  /** ipvs.timeouts, when set and not yet applied: global to the network namespace, left as they are at exit. */
  private async applyTimeouts(cfg: Config): Promise<void> {
    const t = cfg.ipvs.timeouts;
    const key = JSON.stringify(t ?? null);
    if (!t || key === this.timeoutsApplied) return;
    const s = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
    const want = { tcp: s(t.tcp), tcpFin: s(t.tcpFin), udp: s(t.udp) };
    await this.client.setTimeouts(Object.fromEntries(Object.entries(want).filter(([, v]) => v !== undefined)));
    this.timeoutsApplied = key;
    this.log.info({ ...want, now: await this.client.getTimeouts() }, 'IPVS connection timeouts set');
  }

  private async reconcile(desired: DesiredService[], audit: boolean): Promise<boolean> {
    const r = await this.reconciler.reconcile(desired, { full: audit });
    this.table = r.table;
    this.log.debug({ read: r.read, ops: r.plan.ops.length, services: desired.length }, 'IPVS table read');
    if (r.plan.ops.length && audit) {
      // Nothing of ours changed since the last sync: the difference is someone else's doing.
      this.restores++;
      this.log.warn({ ops: r.plan.ops.length, services: desired.length, ok: r.ok, changes: r.plan.ops.slice(0, 10).map(describeOp) },
        'IPVS table altered from outside (ipvsadm -C/-D/-e?): restored');
    } else if (r.plan.ops.length) {
      this.log.info({ ops: r.plan.ops.length, services: desired.length, ok: r.ok }, 'IPVS table reconciled');
    }
    if (!r.ok) {
      this.log.error({ failed: r.failed.map((f) => `${describeOp(f.op)}: ${f.error instanceof Error ? f.error.message : String(f.error)}`), residual: r.residual.length },
        'IPVS table does not match the config');
      return false;
    }
    return true;
  }

  /** The kernel's table as last read back (after a sync, an audit or a refresh), with stats. */
  entries(): readonly ServiceEntry[] {
    return this.table;
  }

  /** Read the kernel's table again (for status), bounded by the caller. */
  async refresh(): Promise<void> {
    this.table = await this.client.listServices();
  }

  status(): IpvsStatus {
    return {
      available: true,
      error: this.lastError,
      syncRole: this.role,
      restores: this.restores,
      services: this.table.map((s) => ({
        service: serviceLabel(s),
        scheduler: s.scheduler,
        persistent: s.timeout > 0 && (s.flags & 1) !== 0,
        timeout: s.timeout,
        dests: s.dests.map((d) => ({
          address: d.address, port: isFwmark(s) ? 0 : d.port, forwarding: d.forwarding, weight: d.weight,
          activeConns: d.activeConns, inactConns: d.inactConns,
        })),
      })),
    };
  }

  /** Stop: our services removed, our sync daemon stopped; quorumDown of the omega services reported. */
  async close(): Promise<void> {
    this.reportQuorum(quorumAtStop(this.cfg.virtualServers, this.healthy));
    this.closing = true; // a standalone director too: nothing is wanted any more
    await this.sync(new Map());
    this.client.close();
  }
}
