// Simulated LAN segment (pure): N routers, a virtual clock, latency, loss and partitions; for tests, demos and what-ifs.
// Adverts really cross the codec: encodeAdvert on send, decodeAdvert on receive.
import { decodeAdvert, encodeAdvert, VRRP_MCAST_V4, VRRP_MCAST_V6 } from '../protocol/advert.js';
import { addressToBytes } from '../protocol/addr.js';
import { VrrpInstance } from '../engine/instance.js';
import type { Action, EngineEvent, InstanceConfig } from '../engine/types.js';
import { SyncGroupCoordinator, type GroupAction } from '../engine/sync-group.js';

/** Deterministic PRNG (mulberry32) so every scenario is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Logged {
  at: number;
  router: string;
  action: Action;
}

export interface SegmentOptions {
  seed?: number;
  /** One-way delay; a [min, max] range draws uniformly. */
  latencyMs?: number | [number, number];
  /** Probability each delivery is lost. */
  loss?: number;
}

export class Router {
  instance: VrrpInstance;
  alive = true;
  holdsVips = false;
  /** How long this router's shell takes to program its services (awaitServices instances). */
  servicesDelayMs = 0;
  constructor(readonly name: string, config: InstanceConfig, now: number) {
    this.instance = new VrrpInstance(config, now);
  }
  get config(): InstanceConfig {
    return this.instance.config;
  }
  get state() {
    return this.instance.state.state;
  }
}

interface Pending {
  at: number;
  seq: number;
  run: () => void;
}

export class Segment {
  now = 0;
  readonly routers: Router[] = [];
  readonly log: Logged[] = [];
  /** Intervals with no holder / with several holders, for outage and overlap measurements. */
  readonly holderChanges: { at: number; holders: string[] }[] = [];
  private queue: Pending[] = [];
  private seq = 0;
  private readonly random: () => number;
  private readonly blocked = new Set<string>();
  latency: number | [number, number];
  loss: number;
  delivered = 0;
  lost = 0;
  /** Sync groups: one coordinator per group per host, over that host's member routers. */
  readonly groups: { coord: SyncGroupCoordinator; routers: Router[] }[] = [];
  readonly groupLog: { at: number; action: GroupAction }[] = [];
  private settling = false;

  constructor(opts: SegmentOptions = {}) {
    this.random = rng(opts.seed ?? 1);
    this.latency = opts.latencyMs ?? 0.1;
    this.loss = opts.loss ?? 0;
  }

  add(name: string, config: InstanceConfig): Router {
    const r = new Router(name, config, this.now);
    this.routers.push(r);
    return r;
  }

  router(name: string): Router {
    const r = this.routers.find((x) => x.name === name);
    if (!r) throw new Error(`no router ${name}`);
    return r;
  }

  /** Feed an event to a router now and execute its actions; then let its sync group (if any) settle. */
  send(r: Router | string, ev: EngineEvent): Action[] {
    const router = typeof r === 'string' ? this.router(r) : r;
    if (!router.alive) return [];
    const actions = router.instance.step(this.now, ev);
    for (const a of actions) this.execute(router, a);
    if (!this.settling) this.settleGroups(router);
    return actions;
  }

  /**
   * A sync group on one host: the routers are that host's member instances (their configs carry
   * syncGroup = name; the coordinator knows them by instance name, config.name). The daemon does the
   * same with its runners.
   */
  syncGroup(name: string, routerNames: string[]): SyncGroupCoordinator {
    const routers = routerNames.map((n) => this.router(n));
    const coord = new SyncGroupCoordinator({ name, members: routers.map((r) => r.config.name) });
    this.groups.push({ coord, routers });
    return coord;
  }

  private settleGroups(router: Router): void {
    const g = this.groups.find((x) => x.routers.includes(router));
    if (!g) return;
    this.settling = true;
    try {
      const byName = new Map(g.routers.map((r) => [r.config.name, r]));
      const actions = g.coord.settle(
        () => new Map(g.routers.map((r) => [r.config.name, r.instance.state])),
        (d) => { this.send(byName.get(d.member)!, d.event); },
      );
      for (const action of actions) this.groupLog.push({ at: this.now, action });
    } finally {
      this.settling = false;
    }
  }

  /** A reload on one router: new settings applied live, actions executed. */
  reconfigure(name: string, config: InstanceConfig): Action[] {
    const router = this.router(name);
    const actions = router.instance.reconfigure(this.now, config);
    for (const a of actions) this.execute(router, a);
    return actions;
  }

  startAll(): void {
    for (const r of this.routers) this.send(r, { type: 'startup' });
  }

  /** Schedule a callback at an absolute virtual time. */
  at(time: number, run: () => void): void {
    this.queue.push({ at: time, seq: this.seq++, run });
  }

  /** Cut (or restore) the path between two routers, both directions. */
  partition(a: string, b: string, cut = true): void {
    for (const k of [`${a}>${b}`, `${b}>${a}`]) {
      if (cut) this.blocked.add(k);
      else this.blocked.delete(k);
    }
  }

  /** Isolate one router from everyone (a cable pull, the host stays up). */
  isolate(name: string, cut = true): void {
    for (const r of this.routers) if (r.name !== name) this.partition(name, r.name, cut);
  }

  /** SIGKILL: the router stops at once, sends nothing, and its host (and VIPs) vanish. */
  kill(name: string): void {
    const r = this.router(name);
    r.alive = false;
    this.setHolds(r, false);
  }

  /** Start a fresh process on a killed (or running) router: new state, then startup. */
  restart(name: string): void {
    const r = this.router(name);
    r.alive = true;
    this.setHolds(r, false);
    r.instance = new VrrpInstance(r.config, this.now);
    this.send(r, { type: 'startup' });
  }

  /** Run the virtual clock until `until` (absolute ms), bounded in steps. */
  runUntil(until: number, maxSteps = 2_000_000): void {
    for (let i = 0; i < maxSteps; i++) {
      let next: number | null = null;
      let who: Router | null = null;
      for (const r of this.routers) {
        if (!r.alive) continue;
        const d = r.instance.nextDeadline();
        if (d !== null && (next === null || d < next)) {
          next = d;
          who = r;
        }
      }
      this.queue.sort((x, y) => x.at - y.at || x.seq - y.seq);
      const head = this.queue[0];
      if (head && (next === null || head.at <= next)) {
        if (head.at > until) break;
        this.queue.shift();
        this.now = Math.max(this.now, head.at);
        head.run();
        continue;
      }
      if (next === null || next > until || !who) break;
      this.now = Math.max(this.now, next);
      this.send(who, { type: 'tick' });
    }
    this.now = Math.max(this.now, until);
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  holders(): string[] {
    return this.routers.filter((r) => r.alive && r.holdsVips).map((r) => r.name);
  }

  /** Total time in [from, to) with exactly `count` holders (0 = outage, 2+ = overlap when count < 0). */
  timeWithHolders(from: number, to: number, pred: (n: number) => boolean): number {
    let total = 0;
    let cur = 0;
    let t = from;
    for (const c of this.holderChanges) {
      if (c.at <= from) {
        cur = c.holders.length;
        continue;
      }
      if (c.at >= to) break;
      if (pred(cur)) total += c.at - t;
      t = c.at;
      cur = c.holders.length;
    }
    if (pred(cur)) total += to - t;
    return total;
  }

  transitions(name?: string) {
    return this.log
      .filter((l) => (name === undefined || l.router === name) && l.action.type === 'transition')
      .map((l) => ({ at: l.at, router: l.router, ...(l.action as Extract<Action, { type: 'transition' }>) }));
  }

  actions<T extends Action['type']>(type: T, name?: string): (Logged & { action: Extract<Action, { type: T }> })[] {
    return this.log.filter((l) => l.action.type === type && (name === undefined || l.router === name)) as (Logged & {
      action: Extract<Action, { type: T }>;
    })[];
  }

  /**
   * Someone else deletes (holds false) or adds (true) a router's VIPs, and its shell reports the
   * change to the engine (daemon/addresses.ts does this from rtnetlink).
   */
  tamper(name: string, holds: boolean, addresses: string[] = ['192.168.1.250']): Action[] {
    const r = this.router(name);
    this.setHolds(r, holds);
    return this.send(r, { type: holds ? 'vipsPresent' : 'vipsLost', addresses, seen: 'simulated' });
  }

  private setHolds(r: Router, holds: boolean): void {
    if (r.holdsVips === holds) return;
    r.holdsVips = holds;
    this.holderChanges.push({ at: this.now, holders: this.holders() });
  }

  private delay(): number {
    const l = this.latency;
    return typeof l === 'number' ? l : l[0] + this.random() * (l[1] - l[0]);
  }

  private execute(r: Router, a: Action): void {
    this.log.push({ at: this.now, router: r.name, action: a });
    switch (a.type) {
      case 'addVips':
        this.setHolds(r, true);
        break;
      case 'removeVips':
        this.setHolds(r, false);
        break;
      case 'sendAdvert':
        this.broadcast(r, a.priority, a.intervalCs);
        break;
      case 'hook':
        // The shell's IPVS gate: services programmed, then the engine is told (it adds the VIPs).
        if (a.hook === 'master' && r.config.awaitServices) this.at(this.now + r.servicesDelayMs, () => this.send(r, { type: 'servicesReady' }));
        break;
      default:
        break;
    }
  }

  private broadcast(from: Router, priority: number, intervalCs: number): void {
    const c = from.config;
    const dst = c.family === 4 ? VRRP_MCAST_V4 : VRRP_MCAST_V6;
    const bytes = encodeAdvert({
      version: c.version, family: c.family, vrid: c.vrid, priority, intervalCs,
      addresses: c.advertAddresses, authType: c.authType, authPassword: c.authPassword,
      src: c.primaryAddress, dst,
    });
    const src = addressToBytes(c.primaryAddress)!;
    const dstBytes = addressToBytes(dst)!;
    for (const to of this.routers) {
      if (to === from || this.blocked.has(`${from.name}>${to.name}`)) continue;
      if (this.loss > 0 && this.random() < this.loss) {
        this.lost++;
        continue;
      }
      const copy = bytes.slice();
      this.at(this.now + this.delay(), () => {
        if (!to.alive) return;
        this.delivered++;
        const res = decodeAdvert(copy, { family: c.family, src, dst: dstBytes, ttl: 255 });
        if (!res.ok) {
          this.log.push({ at: this.now, router: to.name, action: { type: 'drop', reason: res.reason, detail: res.detail } });
          return;
        }
        this.send(to, { type: 'advert', advert: res.advert, src: c.primaryAddress, ttl: 255 });
      });
    }
  }
}

/** A v2 or v3 instance config with production-like defaults; override what a scenario needs. */
export function cfg(over: Partial<InstanceConfig> & { primaryAddress: string }): InstanceConfig {
  return {
    name: 'vi_100',
    vrid: 100,
    version: 3,
    family: 4,
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    initialState: 'BACKUP',
    advertAddresses: ['192.168.1.250'],
    authType: 0,
    authPassword: '',
    strictAddressCheck: false,
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, refreshRepeat: 1, lowerPriorityRepeat: 5 },
    ...over,
  };
}
