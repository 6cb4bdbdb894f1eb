// Runs an instance's actions in the order the engine returned them: adverts, VIP requests, GARPs, IPVS, logs, notify.
import type { Logger } from 'pino';
import type { Action, EngineEvent } from '../engine/types.js';
import { encodeAdvert } from '../protocol/advert.js';
import type { DropReason } from '../protocol/drop.js';
import type { AdvertTarget } from './channels.js';
import type { Runner, YieldResult } from './runner.js';
import type { VipOps } from './vips.js';

type SendAdvert = Extract<Action, { type: 'sendAdvert' }>;

/** What the executor needs of the director around it. */
export interface ExecutorHost {
  readonly log: Logger;
  now(): number;
  /** Where a runner's adverts leave (its interface's destinations, then its extra paths). */
  targets(r: Runner): AdvertTarget[];
  readonly vipOps: VipOps;
  /**
   * Bring IPVS in line with every instance's state; null when IPVS is not in use. `tableReady`, when given, is called
   * once the table is settled, possibly before the returned promise (the sync daemon may still be switching).
   */
  syncServices(tableReady?: () => void): Promise<void> | null;
  /** Feed an event back into a runner's engine (servicesReady once the IPVS gate opened). */
  feed(r: Runner, ev: EngineEvent): void;
  countDrop(reason: DropReason, fields: Record<string, unknown>): void;
  /** A transition the engine decided, once it is logged (the director tells its observers: SNMP notifications). */
  transitioned?(r: Runner, t: Extract<Action, { type: 'transition' }>): void;
}

/** The timer tick being handled: its deadline, when it fired, when its first advert left. */
interface TickTiming { deadline: number; firedAt: number; sentAt: number | null }

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * The engine decides the order (src/engine/instance.ts: wire work, then the transition record,
 * hooks and notify); this runs it as returned. Sends and VIP requests leave synchronously; their
 * completion, GARP bursts with a gap, and IPVS work are tracked on the runner's queue.
 */
export class Executor {
  /** Transitions by instance, from, to, reason (tab-joined), for metrics. */
  readonly transitions = new Map<string, number>();
  private tick: TickTiming | null = null;
  /** instance/src/dst whose last send failed: logged at error once, then at debug until one succeeds. */
  private readonly failing = new Set<string>();

  constructor(private readonly host: ExecutorHost) {}

  /** Execute one step's actions; `tick`: they came from a timer; `advertsSent`: a prepared tick already sent them. */
  run(r: Runner, actions: readonly Action[], tick?: TickTiming, advertsSent = false): void {
    this.tick = tick ?? null;
    try {
      for (const a of actions) {
        if (a.type === 'sendAdvert' && advertsSent) continue;
        this.execute(r, a);
      }
    } finally {
      this.tick = null;
    }
  }

  private execute(r: Runner, a: Action): void {
    const { log } = this.host;
    switch (a.type) {
      case 'sendAdvert':
        this.sendAdvert(r, a);
        if (this.tick && this.tick.sentAt === null) this.tick.sentAt = this.host.now();
        return;
      case 'addVips':
        return this.track(r, this.host.vipOps.setList(r, r.vips, true));
      case 'removeVips':
        return this.track(r, this.host.vipOps.setList(r, r.vips, false));
      case 'announce':
        return this.track(r, this.host.vipOps.announce(r, r.vips, a.count));
      case 'hook':
        return this.hook(r, a.hook);
      case 'transition': {
        const key = `${r.name}\t${a.from}\t${a.to}\t${a.reason}`;
        this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
        // A timer-driven transition says how close to its deadline it acted (and sent its advert).
        const tt = this.tick;
        const timing = tt ? { timerLateMs: round3(tt.firedAt - tt.deadline), ...(tt.sentAt !== null ? { advertLateMs: round3(tt.sentAt - tt.deadline) } : {}) } : {};
        log.info({ instance: r.name, from: a.from, to: a.to, reason: a.reason, detail: a.detail, ...timing }, `${r.name}: ${a.from} -> ${a.to} (${a.reason})`);
        this.host.transitioned?.(r, a);
        return;
      }
      case 'notify':
        r.notifier.notify(r.settings.notify, a.state, a.priority);
        return;
      case 'drop':
        return this.host.countDrop(a.reason, { instance: r.name, detail: a.detail });
      case 'yieldOutcome': {
        const res: YieldResult = a.outcome === 'taken-over'
          ? { instance: r.name, outcome: a.outcome, by: a.by, afterMs: a.afterMs }
          : { instance: r.name, outcome: a.outcome, afterMs: a.afterMs };
        log.info(res, 'yield outcome');
        for (const w of r.yieldWaiters.splice(0)) w(res);
        return;
      }
      case 'yieldRefused':
        for (const w of r.yieldWaiters.splice(0)) w({ instance: r.name, outcome: 'refused', detail: a.detail });
        return;
      case 'addressMismatch':
        log.warn({ instance: r.name, src: a.src, theirs: a.theirs, ours: a.ours }, 'advert VIP list differs from ours');
        return;
      case 'priorityChanged':
        log.info({ instance: r.name, from: a.from, to: a.to }, 'effective priority changed');
        return;
      case 'holdEnded':
        log.info({ instance: r.name, cause: a.cause }, 'yield hold ended');
        return;
      case 'vipsHealed':
        log.warn({ instance: r.name, heal: a.heal, vips: a.addresses, seen: a.seen, ...(a.deferredMs !== undefined ? { deferredMs: a.deferredMs } : {}) },
          a.heal === 'restored' ? `${r.name}: VIPs deleted by someone else put back (MASTER)` : `${r.name}: VIPs added by someone else removed (${r.inst.state.state})`);
        return;
      case 'wantMaster':
        log.info({ instance: r.name, group: r.engineCfg.syncGroup, cause: a.cause }, `${r.name}: ready for MASTER, waiting for sync group ${r.engineCfg.syncGroup}`);
        return;
    }
  }

  /**
   * IPVS follows every state change. A new MASTER that carries services (awaitServices) holds its
   * VIPs until the table is programmed: the engine adds them on servicesReady, so no client reaches
   * a VIP without its service (the kernel would answer with a reset).
   */
  private hook(r: Runner, hook: string): void {
    this.host.log.debug({ instance: r.name, hook }, 'hook');
    if (hook === 'master' && r.engineCfg.awaitServices) {
      // servicesReady once the table is settled, or when the whole sync is done at the latest; never twice.
      let fed = false;
      const ready = (): void => {
        if (fed) return;
        fed = true;
        this.host.feed(r, { type: 'servicesReady' });
      };
      this.track(r, (this.host.syncServices(ready) ?? Promise.resolve()).then(ready));
      return;
    }
    const work = this.host.syncServices();
    if (work) {
      this.track(r, work);
    }
  }

  /** Before an instance starts: its takeover's VIP requests and GARPs prepared once (VipOps.warm). */
  warm(r: Runner): void {
    this.host.vipOps.warm(r);
  }

  /** Remember outstanding work (stop and retire wait for it); failures are logged where they happen. */
  track(r: Runner, work: Promise<void>): void {
    r.queue = Promise.all([r.queue, work]).then(() => undefined,
      (e: Error) => this.host.log.error({ instance: r.name, err: e.message }, 'action failed'));
  }

  /** An advert depends only on the settings, the priority, the interval and the destination: built once. */
  advertPayload(r: Runner, a: SendAdvert, dst: string, src = r.engineCfg.primaryAddress): Uint8Array {
    const key = `${a.priority}/${a.intervalCs}/${src}/${dst}`;
    let payload = r.adverts.get(key);
    if (!payload) {
      const s = r.settings;
      payload = encodeAdvert({
        version: s.version, family: r.family, vrid: s.vrid, priority: a.priority, intervalCs: a.intervalCs,
        addresses: s.vips.map((v) => v.address), authType: s.auth?.type === 'pass' ? 1 : 0,
        authPassword: s.auth?.password ?? '', checksumForm: s.checksum, src, dst,
      });
      r.adverts.set(key, payload);
    }
    return payload;
  }

  private sendAdvert(r: Runner, a: SendAdvert): void {
    const targets = this.host.targets(r);
    if (!targets.length) return;
    r.ipId = (r.ipId % 0xffff) + 1; // keepalived: per instance, from 1, never 0 (the kernel would fill it in)
    for (const t of targets) {
      const key = `${r.name}/${t.src}/${t.dst}`;
      try {
        t.ch.send(this.advertPayload(r, a, t.dst, t.src), t.src, t.dst, r.ipId);
        if (this.failing.delete(key)) this.host.log.info({ instance: r.name, dst: t.dst }, 'adverts leave again');
      } catch (e) {
        // Once at error per outage (a cut path fails every interval while another path carries the pair).
        const first = !this.failing.has(key);
        this.failing.add(key);
        this.host.log[first ? 'error' : 'debug']({ instance: r.name, err: (e as Error).message, dst: t.dst }, 'advert send failed');
      }
    }
  }
}
