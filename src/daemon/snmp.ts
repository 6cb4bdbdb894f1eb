// The SNMP subagent: the VRRPv3-MIB from the director's status, vrrpv3NewMaster/ProtoError notifications; reconnects with backoff, never in VRRP's way.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { parseAgentxAddress } from '../config/agentx-address.js';
import type { SnmpSettings } from '../config/snmp.js';
import type { DropReason } from '../protocol/drop.js';
import type { TransitionReason, VrrpState } from '../engine/types.js';
import type { DirectorObserver } from './director.js';
import type { StatusReport } from './status.js';
import { AgentxSession } from './agentx.js';
import {
  emptyHistory, historyAfterDrop, historyAfterTransition, mibRows, mibVars, newMasterNotification, protoErrorNotification,
  VRRPV3_OBJECTS, type MibRow, type MibVar, type RowHistory,
} from './snmp-mib.js';

/** What the subagent needs of the daemon. */
export interface SnmpHost {
  status(): StatusReport;
  observe(o: DirectorObserver): () => void;
  /** The running configuration (it changes on reload). */
  config(): Config;
  log: Logger;
}

/** A walk sees one snapshot per this many ms (vrrpv3StatisticsRefreshRate). */
export const REFRESH_MS = 100;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** The agent's clock: ms since the process started, the base of every TimeStamp and of net-snmp's sysUpTime in notifications. */
const clock = (): number => process.uptime() * 1000;

export class SnmpAgent {
  private session: AgentxSession | null = null;
  private readonly histories = new Map<string, RowHistory>();
  private view: { at: number; vars: MibVar[] } | null = null;
  private unobserve: (() => void) | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Bumped when the address changes: the running connection loop ends and a new one starts. */
  private generation = 0;

  constructor(private settings: SnmpSettings, private readonly host: SnmpHost) {}

  /** Observe the director at once (before it starts: the first transitions count), connect in the background. */
  start(): void {
    this.unobserve = this.host.observe({
      transition: (name, from, to, reason) => this.onTransition(name, from, to, reason),
      drop: (reason, name) => this.onDrop(reason, name),
    });
    this.loop = this.connectLoop(this.generation);
  }

  /** Reload: a new master address reconnects; `traps` applies at once. */
  async update(next: SnmpSettings): Promise<void> {
    const moved = next.agentx !== this.settings.agentx;
    this.settings = next;
    if (!moved) return;
    this.host.log.info({ agentx: next.agentx }, 'SNMP: AgentX master changed, reconnecting');
    this.generation++;
    this.wake?.();
    await this.session?.close();
    this.session = null;
    await this.loop;
    this.loop = this.connectLoop(this.generation);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unobserve?.();
    this.wake?.();
    const s = this.session;
    this.session = null;
    await s?.close();
    await this.loop;
    this.host.log.info('SNMP: subagent stopped');
  }

  /** The served variables, rebuilt at most every REFRESH_MS. */
  vars(): readonly MibVar[] {
    const now = clock();
    if (!this.view || now - this.view.at >= REFRESH_MS) {
      const status = this.host.status();
      this.view = { at: now, vars: mibVars(mibRows(status, this.host.config().instances), this.histories, status, now, REFRESH_MS) };
    }
    return this.view.vars;
  }

  private history(name: string): RowHistory {
    return this.histories.get(name) ?? emptyHistory();
  }

  private onTransition(name: string, from: VrrpState, to: VrrpState, reason: TransitionReason): void {
    this.histories.set(name, historyAfterTransition(this.history(name), from, to, reason, clock()));
    this.view = null;
    // Off the engine's step: the status is read once the actions of this transition have run.
    if (to === 'MASTER' && this.settings.traps) setImmediate(() => this.notify(name, (row, h) => newMasterNotification({ ...row, inst: { ...row.inst, state: 'MASTER' } }, h)));
  }

  private onDrop(reason: DropReason, name: string | undefined): void {
    if (name === undefined) return;
    const { history, notify } = historyAfterDrop(this.history(name), reason, clock());
    this.histories.set(name, history);
    if (notify && this.settings.traps) setImmediate(() => this.notify(name, protoErrorNotification));
  }

  private notify(name: string, build: (row: MibRow, h: RowHistory) => { trap: readonly number[]; varbinds: MibVar[] }): void {
    const s = this.session;
    if (!s) {
      this.host.log.debug({ instance: name }, 'SNMP: no AgentX session, notification not sent');
      return;
    }
    try {
      const row = mibRows(this.host.status(), this.host.config().instances).find((r) => r.name === name);
      if (!row) return;
      const n = build(row, this.history(name));
      s.notify(n.trap, n.varbinds).catch((e: Error) => this.host.log.warn({ instance: name, err: e.message }, 'SNMP: notification not sent'));
    } catch (e) {
      this.host.log.error({ instance: name, err: (e as Error).message }, 'SNMP: notification failed');
    }
  }

  /** Connect, serve until the session is lost, wait (1 s doubling to 30 s), again; one warning per outage. */
  private async connectLoop(generation: number): Promise<void> {
    const { log } = this.host;
    let delay = RETRY_MIN_MS;
    let failing = false;
    while (!this.stopped && generation === this.generation) {
      const agentx = this.settings.agentx;
      const addr = parseAgentxAddress(agentx)!;
      let onLost: (reason: string) => void = () => undefined;
      const lost = new Promise<string>((r) => { onLost = r; });
      try {
        this.session = await AgentxSession.open(addr, {
          description: 'vrrpd VRRPv3-MIB (RFC 6527)', subtree: VRRPV3_OBJECTS, view: () => this.vars(),
          onLost: (reason) => onLost(reason), onError: (m) => log.warn({ agentx }, `SNMP: ${m}`),
        });
      } catch (e) {
        const msg = (e as Error).message;
        if (!failing) log.warn({ agentx, err: msg, retryMs: delay }, 'SNMP: cannot reach the AgentX master agent; retrying (VRRP is not affected)');
        else log.debug({ agentx, err: msg, retryMs: delay }, 'SNMP: AgentX master still unreachable');
        failing = true;
        await this.sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        continue;
      }
      if (this.stopped || generation !== this.generation) {
        await this.session?.close();
        this.session = null;
        return;
      }
      log.info({ agentx, subtree: VRRPV3_OBJECTS.join('.'), traps: this.settings.traps }, 'SNMP: AgentX subagent registered the VRRPv3-MIB');
      failing = false;
      delay = RETRY_MIN_MS;
      const reason = await Promise.race([lost, new Promise<string>((r) => { this.wake = () => r('stopping'); })]);
      this.wake = null;
      this.session = null;
      if (this.stopped || generation !== this.generation) return;
      log.warn({ agentx, reason }, 'SNMP: AgentX session lost; reconnecting (VRRP is not affected)');
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }
}
