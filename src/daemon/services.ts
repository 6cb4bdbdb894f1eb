// The director's IPVS side: the controller, the health checks that drive it, and "IPVS unavailable" as a fault.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { VrrpState } from '../engine/types.js';
import { HealthChecks, type HealthCheckOptions } from '../checks/index.js';
import { IpvsController, ipvsInstances, isStandalone, wantsIpvs, type IpvsStatus } from './ipvs.js';
import type { QuorumTransition } from '../ipvs/quorum.js';
import { runScript } from '../os/scripts.js';
import type { ServiceEntry } from '../ipvs/types.js';

/** Each quorum_up / quorum_down run is killed after this long. */
const QUORUM_SCRIPT_TIMEOUT_MS = 10_000;

/** What the director needs of the IPVS controller (src/daemon/ipvs.ts); tests inject a double. */
export interface IpvsLike {
  setConfig(cfg: Config): void;
  setHealth?(fn: (service: string, rs: { address: string; port: number }) => boolean,
    weight?: (service: string, rs: { address: string; port: number; weight: number }) => number): void;
  /** audit: a periodic check (ipvs.auditInterval); a difference found is someone else's doing. */
  sync(states: ReadonlyMap<string, VrrpState>, audit?: boolean, tableReady?: () => void): Promise<void>;
  /** A real server's health or check weight changed (before the sync it triggers). */
  healthChanged?(): void;
  /** Quorum gained or lost (quorumUp/quorumDown to run), and the omega ones at close. */
  setQuorumHandler?(fn: (transitions: QuorumTransition[]) => void): void;
  refresh(): Promise<void>;
  /** The kernel's table as last read back (announce mode's fitness reads it). */
  entries?(): readonly ServiceEntry[];
  status(): IpvsStatus;
  close(): Promise<void>;
}

/** Audits (full reads of the IPVS table) take at most this share of the time. */
export const AUDIT_SHARE = 0.05;

/**
 * When the next audit may start, one having run from `start` to `end` (ms): ipvs.auditInterval after the start, or
 * later, so that audits take at most AUDIT_SHARE of the time (a 0.5 s audit waits 9.5 s after it ends).
 */
export function nextAuditAt(start: number, end: number, auditMs: number): number {
  const took = Math.max(0, end - start);
  return Math.max(start + auditMs, end + took * (1 / AUDIT_SHARE - 1));
}

export type OpenIpvs = (cfg: Config, log: Logger) => Promise<IpvsLike>;

export class Services {
  private ipvs: IpvsLike | null = null;
  private checks: HealthChecks | null = null;
  private error: string | null = null;
  /** The next audit of the table (ipvs.auditInterval), on the director's clock; null when off. */
  private auditAt: number | null = null;
  private auditMs = 0;
  private auditing = false;
  /** The instances MASTER at the last sync (a new one is a takeover: an audit follows it). */
  private masters = new Set<string>();
  /** Called after every sync, audit and refresh: the kernel's table was read back (announce mode re-evaluates). */
  onTable: (() => void) | null = null;
  /** Quorum scripts started and not yet awaited (close waits for them). */
  private readonly scripts = new Set<Promise<void>>();

  /** states(): every instance's VRRP state, read when a sync runs. */
  constructor(private readonly log: Logger, private readonly noIpvs: boolean, private readonly openIpvs: OpenIpvs | undefined,
    private readonly states: () => ReadonlyMap<string, VrrpState>, private readonly timed: HealthCheckOptions = {}) {}

  /** Health checks run on the director's one clock (Timed). */
  nextDeadline(): number | null {
    const c = this.checks?.nextDeadline() ?? null;
    return c === null ? this.auditAt : this.auditAt === null ? c : Math.min(c, this.auditAt);
  }

  runDue(now: number): void {
    this.checks?.runDue(now);
    if (this.auditAt !== null && this.auditAt <= now) {
      this.auditAt = now + this.auditMs;
      // One audit at a time: a slow kernel dump never stacks them up.
      if (this.ipvs && !this.auditing) {
        this.auditing = true;
        void this.ipvs.sync(this.states(), true).finally(() => {
          this.auditing = false;
          // A big table's audit is long (37k real servers: seconds in the test VM): the next waits long enough that
          // audits take at most AUDIT_SHARE of the time, whatever ipvs.auditInterval says.
          const end = this.timed.clock?.now() ?? performance.now();
          if (this.auditAt !== null) {
            const next = nextAuditAt(now, end, this.auditMs);
            if (next > this.auditAt) {
              this.auditAt = next;
              this.timed.onDeadlinesChanged?.();
            }
          }
          this.onTable?.();
        });
      }
    }
  }

  /** ipvs.auditInterval: start (or change) the periodic read-back; `now` on the director's clock. */
  private armAudit(cfg: Config, now: number): void {
    this.auditMs = cfg.ipvs.auditInterval;
    this.auditAt = this.ipvs && this.auditMs > 0 ? now + this.auditMs : null;
  }

  /**
   * IPVS when the config has virtual servers. Without IPVS in the kernel, every instance carrying a
   * service goes FAULT ("IPVS unavailable"): a director that cannot balance must not take the VIP.
   */
  async open(cfg: Config): Promise<void> {
    if (this.ipvs || !wantsIpvs(cfg, this.noIpvs)) return;
    try {
      this.ipvs = await (this.openIpvs ?? ((c, l) => IpvsController.open(c, l)))(cfg, this.log);
      this.error = null;
      // Real servers failing their checks leave the table (the sorry server steps in when none is left).
      let pending = false;
      this.checks = new HealthChecks(cfg.virtualServers, this.log, () => {
        this.ipvs?.healthChanged?.();
        if (pending) return; // several servers changing at once: one reconcile
        pending = true;
        queueMicrotask(() => { pending = false; void this.sync(); });
      }, this.timed);
      this.ipvs.setQuorumHandler?.((ts) => this.onQuorum(ts));
      this.ipvs.setHealth?.((svc, rs) => this.checks?.healthy(svc, rs) ?? true, (svc, rs) => this.checks?.weight(svc, rs) ?? rs.weight);
      this.checks.start();
      this.armAudit(cfg, this.timed.clock?.now() ?? performance.now());
    } catch (e) {
      if (!IpvsController.isUnavailable(e)) throw e; // a bad table: refuse to start
      // Programming IPVS is all a standalone director does: without it, refuse to run rather than idle.
      if (isStandalone(cfg)) throw new Error('IPVS unavailable: the kernel has no ip_vs (modprobe ip_vs), and a standalone director (no VRRP instance) has nothing else to do', { cause: e });
      this.error = 'IPVS unavailable: the kernel has no ip_vs (modprobe ip_vs)';
      this.log.error({ err: this.error, instances: [...ipvsInstances(cfg)] },
        'IPVS unavailable: instances with virtual servers stay in FAULT (use --no-ipvs or ipvs.enabled: false for VRRP only)');
    }
  }

  /** keepalived quorum_up / quorum_down: logged, and the service's command run (off the VRRP path, bounded). */
  private onQuorum(transitions: readonly QuorumTransition[]): void {
    for (const t of transitions) {
      this.log.warn({ service: t.service, up: t.up, cause: t.cause, weightSum: t.weightSum, threshold: t.threshold },
        `virtual server ${t.service}: quorum ${t.up ? 'gained' : 'lost'} (${t.cause})`);
      if (!t.command) continue;
      const work = runScript(t.command, [], QUORUM_SCRIPT_TIMEOUT_MS).then((r) => {
        if (!r.ok) this.log.error({ service: t.service, script: t.command, code: r.code, timedOut: r.timedOut, stderr: r.stderr }, 'quorum script failed');
      });
      this.scripts.add(work);
      void work.finally(() => this.scripts.delete(work));
    }
  }

  /** Does a new MASTER of this instance program services before it takes the VIPs? */
  carries(cfg: Config, name: string): boolean {
    return this.ipvs !== null && ipvsInstances(cfg).has(name);
  }

  /** The fault this instance must hold (IPVS wanted but unavailable), or null. */
  fault(cfg: Config, name: string): string | null {
    return this.error !== null && ipvsInstances(cfg).has(name) ? 'IPVS unavailable' : null;
  }

  /** Reload, step one: throws on a table IPVS cannot take (nothing changed yet). */
  update(next: Config): void {
    this.ipvs?.setConfig(next);
    this.checks?.update(next.virtualServers);
    if (next.ipvs.auditInterval !== this.auditMs) this.armAudit(next, this.timed.clock?.now() ?? performance.now());
  }

  /**
   * Bring IPVS in line with every instance's state (a standalone director: every virtual server); null when IPVS is
   * not in use. The director calls it on each state change, after a reload, and once at start when there is no
   * instance (nothing else would). `tableReady`: called once the table is settled (before the sync daemon's role).
   */
  sync(tableReady?: () => void): Promise<void> | null {
    if (!this.ipvs) return null;
    const states = this.states();
    // A takeover trusts the table verified while BACKUP (onBackup: keep) and adds its VIPs at once; what someone
    // changed since the last audit is found by an audit brought forward to right after this sync, not at its turn.
    const tookOver = [...states].some(([n, s]) => s === 'MASTER' && !this.masters.has(n));
    this.masters = new Set([...states].filter(([, s]) => s === 'MASTER').map(([n]) => n));
    return this.ipvs.sync(states, false, tableReady).finally(() => {
      if (tookOver && this.auditAt !== null) {
        this.auditAt = Math.min(this.auditAt, this.timed.clock?.now() ?? performance.now());
        this.timed.onDeadlinesChanged?.();
      }
      this.onTable?.();
    });
  }

  /** The kernel's table as last read back; null without IPVS. */
  table(): readonly ServiceEntry[] | null {
    return this.ipvs?.entries?.() ?? null;
  }

  status(): IpvsStatus | undefined {
    if (this.ipvs) return { ...this.ipvs.status(), checks: this.checks?.status() ?? [] };
    if (this.error) return { available: false, error: this.error, syncRole: 'none', services: [] };
    return undefined;
  }

  /** The IPVS table read fresh from the kernel, bounded in time. */
  async refresh(timeoutMs: number): Promise<void> {
    if (!this.ipvs) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ipvs.refresh().catch(() => undefined), new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
    this.onTable?.();
  }

  async close(): Promise<void> {
    this.auditAt = null;
    this.checks?.stop();
    await this.ipvs?.close().catch((e: Error) => this.log.error({ err: e.message }, 'IPVS cleanup failed'));
    await Promise.all([...this.scripts]); // omega's quorumDown runs at close: let it finish
  }
}
