// The shell around the engine: feeds it packets, ticks, link events and requests; executes its actions.
import type { Logger } from 'pino';
import { VrrpInstance } from '../engine/instance.js';
import type { Action, VrrpState } from '../engine/types.js';
import { decodeAdvert, encodeAdvert, isMulticast } from '../protocol/advert.js';
import { bytesToAddress } from '../protocol/addr.js';
import { emptyDropCounters, type DropReason } from '../protocol/drop.js';
import type { Config, InstanceSettings } from '../config/schema.js';
import { Scheduler, monotonicMs, type Waker } from './clock.js';
import { checkScripts, TrackerSet } from './trackers.js';
import { planReload, type ReloadReport } from './reload.js';
import { buildStatus, type StatusReport } from './status.js';
import { buildRunner, type Runner } from './runner.js';
import { VipOps } from './vips.js';
import { TickPreparer } from './tick.js';
import { HealthChecks } from '../checks/index.js';
import { IpvsController, ipvsInstances, wantsIpvs, type IpvsStatus } from './ipvs.js';
export type { StatusReport } from './status.js';
export type { ReloadReport } from './reload.js';
import type { Addr, Link, NetIO, PacketChannel, VrrpChannel, VrrpRx } from './io.js';

export interface YieldResult {
  instance: string;
  outcome: 'taken-over' | 'reclaimed' | 'refused' | 'timeout';
  by?: string;
  afterMs?: number;
  detail?: string;
}

export interface DirectorOptions {
  /** The running config; replaced by reload(). */
  config: Config;
  io: NetIO;
  log: Logger;
  now?: () => number;
  /** A precise wake-up source (the daemon passes timerfd); tests may leave it out. */
  makeWaker?: (onFire: () => void) => Waker;
  /** VRRP only, whatever the config says (`vrrpd run --no-ipvs`). */
  noIpvs?: boolean;
  /** How to reach IPVS (tests inject a double); default the kernel over generic netlink. */
  openIpvs?: (cfg: Config, log: Logger) => Promise<IpvsLike>;
}

/** What the director needs of the IPVS controller (src/daemon/ipvs.ts). */
export interface IpvsLike {
  setConfig(cfg: Config): void;
  setHealth?(fn: (service: string, rs: { address: string; port: number }) => boolean,
    weight?: (service: string, rs: { address: string; port: number; weight: number }) => number): void;
  sync(states: ReadonlyMap<string, VrrpState>): Promise<void>;
  refresh(): Promise<void>;
  status(): IpvsStatus;
  close(): Promise<void>;
}

export class Director {
  private readonly runners: Runner[] = [];
  private readonly channels = new Map<string, VrrpChannel>();
  private readonly packetChannels = new Map<number, PacketChannel>();
  private readonly links = new Map<number, Link>();
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly log: Logger;
  readonly drops: Record<DropReason, number> = emptyDropCounters();
  private unwatch: (() => void) | null = null;
  private readonly trackers: TrackerSet;
  private readonly vipOps: VipOps;
  private ipvs: IpvsLike | null = null;
  private checks: HealthChecks | null = null;
  /** While a timer tick is being handled: its deadline and when the first advert left. */
  private tickTiming: { deadline: number; firedAt: number; sentAt: number | null } | null = null;
  /** The next timer's outcome, computed ahead (see tick.ts). */
  private readonly preparer = new TickPreparer();
  private ipvsError: string | null = null;
  /** Transitions by instance, from, to, reason (tab-joined), for metrics. */
  readonly transitions = new Map<string, number>();
  private readonly startedAt: number;
  private readonly wallOffset: number;
  private stopping = false;

  constructor(private readonly opts: DirectorOptions) {
    this.now = opts.now ?? monotonicMs;
    this.log = opts.log;
    this.scheduler = new Scheduler(this.now, (t) => this.onTimer(t), opts.makeWaker);
    this.vipOps = new VipOps(opts.io, this.packetChannels, this.log);
    this.trackers = new TrackerSet(this.log, () => { for (const r of this.runners) this.applyLinkState(r); });
    this.startedAt = Date.now();
    // Wall time = monotonic + offset, fixed once: timestamps in status do not jitter between calls.
    this.wallOffset = this.startedAt - this.now();
  }

  /** Resolve interfaces and addresses, remove stale VIPs, open sockets, start every instance. */
  async start(): Promise<void> {
    const { io, config } = this.opts;
    await checkScripts(config);
    for (const l of await io.links()) this.links.set(l.index, l);
    const addrs = await io.addresses();
    const built = Object.entries(config.instances).map(([name, s]) => this.buildRunner(name, s, addrs));
    await this.removeStaleVips(built, addrs);
    await this.trackers.sync(config);
    this.unwatch = await io.watch((e) => {
      if (e.type === 'link') this.onLink(e.link);
      else if (e.type === 'overrun') void this.resyncLinks();
    });
    await this.openIpvs(config);
    for (const r of built) this.launch(r);
    this.rearm();
  }

  /**
   * IPVS when the config has virtual servers. Without IPVS in the kernel, every instance carrying a
   * service goes FAULT ("IPVS unavailable"): a director that cannot balance must not take the VIP.
   */
  private async openIpvs(cfg: Config): Promise<void> {
    if (this.ipvs || !wantsIpvs(cfg, this.opts.noIpvs ?? false)) return;
    try {
      this.ipvs = await (this.opts.openIpvs ?? ((c, l) => IpvsController.open(c, l)))(cfg, this.log);
      this.ipvsError = null;
      // Real servers failing their checks leave the table (the sorry server steps in when none is left).
      let pending = false;
      this.checks = new HealthChecks(cfg.virtualServers, this.log, () => {
        if (pending) return; // several servers changing at once: one reconcile
        pending = true;
        queueMicrotask(() => { pending = false; void this.syncIpvs(); });
      });
      this.ipvs.setHealth?.((svc, rs) => this.checks?.healthy(svc, rs) ?? true, (svc, rs) => this.checks?.weight(svc, rs) ?? rs.weight);
      this.checks.start();
    } catch (e) {
      if (!IpvsController.isUnavailable(e)) throw e; // a bad table: refuse to start
      this.ipvsError = 'IPVS unavailable: the kernel has no ip_vs (modprobe ip_vs)';
      this.log.error({ err: this.ipvsError, instances: [...ipvsInstances(cfg)] },
        'IPVS unavailable: instances with virtual servers stay in FAULT (use --no-ipvs or ipvs.enabled: false for VRRP only)');
    }
  }

  private ipvsFault(r: Runner): boolean {
    return this.ipvsError !== null && ipvsInstances(this.opts.config).has(r.name);
  }

  /** Bring IPVS in line with every instance's state; resolves when done. */
  private syncIpvs(): Promise<void> {
    if (!this.ipvs) return Promise.resolve();
    return this.ipvs.sync(new Map(this.runners.map((r) => [r.name, r.inst.state.state])));
  }

  private buildRunner(name: string, s: InstanceSettings, addrs: Addr[]): Runner {
    return buildRunner(name, s, addrs, [...this.links.values()], this.now(), this.log);
  }

  /**
   * Reconcile: an instance that starts is master of nothing, so its VIPs found on the box are
   * leftovers (a SIGKILLed predecessor). keepalived would keep the duplicate forever.
   */
  private async removeStaleVips(rs: Runner[], addrs: Addr[]): Promise<void> {
    for (const r of rs) {
      for (const p of r.vips) {
        if (!addrs.some((a) => a.index === p.ifindex && a.address === p.vip.address)) continue;
        this.log.warn({ instance: r.name, vip: p.vip.address, dev: p.dev }, 'removing stale VIP left by a previous run');
        await this.opts.io.deleteAddress({ ifindex: p.ifindex, family: p.vip.family, address: p.vip.address, prefixLen: p.vip.prefixLen })
          .catch((e: Error) => this.log.error({ err: e.message, vip: p.vip.address }, 'cannot remove stale VIP'));
      }
    }
  }

  /** Open what a runner needs, then start it. */
  private launch(r: Runner): void {
    const io = this.opts.io;
    this.runners.push(r);
    const key = `${r.family}/${r.ifindex}`;
    if (!this.channels.has(key)) {
      this.channels.set(key, io.openVrrp(r.family, r.settings.interface, r.ifindex,
        (rx) => this.onPacket(rx), (e) => this.log.error({ err: e.message, interface: r.settings.interface }, 'VRRP socket error')));
    }
    for (const p of r.vips) {
      if (!this.packetChannels.has(p.ifindex)) this.packetChannels.set(p.ifindex, io.openPacket(p.dev, p.ifindex));
    }
    if (r.noSource) this.feed(r, { type: 'fault', source: `no IPv${r.family} source address on ${r.settings.interface}`, active: true }, this.now(), false);
    if (this.ipvsFault(r)) this.feed(r, { type: 'fault', source: 'IPVS unavailable', active: true }, this.now(), false);
    this.applyLinkState(r);
    this.feed(r, { type: 'startup' });
  }

  /** Stop one runner for good: priority 0 if MASTER, VIPs released; returns when its actions ran. */
  private async retire(r: Runner): Promise<void> {
    this.feed(r, { type: 'shutdown' });
    this.runners.splice(this.runners.indexOf(r), 1);
    await r.queue;
    const used = new Set(this.runners.map((x) => `${x.family}/${x.ifindex}`));
    for (const [key, ch] of this.channels) {
      if (used.has(key)) continue;
      await ch.flush();
      ch.close();
      this.channels.delete(key);
    }
  }

  /**
   * Reload: the new config was validated whole by the caller. Anything that can fail (a missing
   * interface) is checked before anything changes. Unchanged instances are not touched (no gap,
   * no GARP); live-changeable settings are applied in place; identity changes (interface, VRID,
   * version, family, auth, source) and removed instances release with priority 0; new ones start.
   */
  async reload(next: Config): Promise<ReloadReport> {
    const io = this.opts.io;
    for (const l of await io.links()) this.links.set(l.index, l);
    const addrs = await io.addresses();
    await checkScripts(next);
    this.ipvs?.setConfig(next); // throws on a table IPVS cannot take: nothing changed yet
    this.checks?.update(next.virtualServers);
    const plan = planReload(this.opts.config, next);
    const fresh = [...plan.added, ...plan.restarted].map((n) => this.buildRunner(n, next.instances[n]!, addrs));
    const liveBuilt = plan.updated.map((n) => this.buildRunner(n, next.instances[n]!, addrs));
    for (const n of [...plan.removed, ...plan.restarted]) {
      const r = this.runners.find((x) => x.name === n);
      if (r) await this.retire(r);
    }
    liveBuilt.forEach((b) => this.applyLive(this.runners.find((x) => x.name === b.name)!, b));
    await this.removeStaleVips(fresh, addrs);
    await this.trackers.sync(next);
    this.opts.config = next;
    await this.openIpvs(next);
    for (const r of fresh) this.launch(r);
    await this.syncIpvs();
    this.rearm();
    this.log.info(plan, 'configuration reloaded');
    return plan;
  }

  /** Live changes on a running instance: engine settings through step(), VIP list by delta. */
  private applyLive(r: Runner, b: Runner): void {
    const before = new Map(r.vips.map((p) => [`${p.ifindex}/${p.vip.address}/${p.vip.prefixLen}`, p]));
    const after = new Map(b.vips.map((p) => [`${p.ifindex}/${p.vip.address}/${p.vip.prefixLen}`, p]));
    const gone = [...before].filter(([k]) => !after.has(k)).map(([, p]) => p);
    const added = [...after].filter(([k]) => !before.has(k)).map(([, p]) => p);
    r.settings = b.settings;
    r.adverts.clear();
    r.engineCfg = { ...b.engineCfg, primaryAddress: r.engineCfg.primaryAddress };
    r.advertDsts = b.advertDsts;
    r.vips = b.vips;
    for (const p of r.vips) {
      if (!this.packetChannels.has(p.ifindex)) this.packetChannels.set(p.ifindex, this.opts.io.openPacket(p.dev, p.ifindex));
    }
    if (r.vipsHeld && (gone.length || added.length)) {
      this.track(r, this.vipOps.setList(r, gone, false));
      this.track(r, this.vipOps.setList(r, added, true));
      this.track(r, this.vipOps.announce(r, added, r.settings.garp.masterRepeat));
    }
    for (const a of r.inst.reconfigure(this.now(), r.engineCfg)) this.execute(r, a);
    this.applyLinkState(r);
  }

  /** Graceful stop: priority 0 from every MASTER, VIPs removed, sockets closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.scheduler.stop();
    this.unwatch?.();
    this.trackers.stop();
    for (const r of this.runners) this.feed(r, { type: 'shutdown' });
    await Promise.all([...this.runners.map((r) => r.queue), ...[...this.channels.values()].map((c) => c.flush())]);
    this.checks?.stop();
    await this.ipvs?.close().catch((e: Error) => this.log.error({ err: e.message }, 'IPVS cleanup failed'));
    for (const c of this.channels.values()) c.close();
    for (const c of this.packetChannels.values()) c.close();
    this.opts.io.close();
  }

  // ---- inputs ----

  private onPacket(rx: VrrpRx): void {
    // The advert's time is when it arrived, not when we got to it: event-loop latency stays out of
    // the Master_Down_Timer (RFC 5798 §6.4.2 resets it "on receipt").
    const t = this.now();
    const now = rx.arrivalMs != null && rx.arrivalMs <= t && rx.arrivalMs > t - 1000 ? rx.arrivalMs : t;
    const d = decodeAdvert(rx.payload, { family: rx.family, src: rx.src, dst: rx.dst, ttl: rx.ttl });
    const src = rx.src.length === 4 || rx.src.length === 16 ? bytesToAddress(rx.src) : '?';
    if (!d.ok) return this.countDrop(d.reason, { src, detail: d.detail });
    const r = this.runners.find((x) => x.ifindex === rx.ifindex && x.family === rx.family && x.settings.vrid === d.advert.vrid);
    if (!r) return this.countDrop('vrid-not-configured', { src, vrid: d.advert.vrid });
    this.feed(r, { type: 'advert', advert: d.advert, src, ttl: rx.ttl, unicast: !isMulticast(rx.dst) }, now);
  }

  private onTimer(now: number): void {
    // An advert that arrived before the deadline but is still queued must count: read first.
    for (const ch of this.channels.values()) ch.drain?.();
    this.commitPrepared(now);
    if (this.scheduler.lastLatenessMs > 1) {
      this.log.warn({ latenessMs: Number(this.scheduler.lastLatenessMs.toFixed(3)), lag: this.scheduler.eventLoopLag() }, 'timer fired late: event loop lag threatens VRRP deadlines');
    }
    for (const r of this.runners) {
      const d = r.inst.nextDeadline();
      if (d === null || d > now) continue;
      this.tickTiming = { deadline: d, firedAt: now, sentAt: null };
      this.feed(r, { type: 'tick' }, now, false);
      this.tickTiming = null;
    }
    this.rearm();
  }

  private onLink(l: Link): void {
    const prev = this.links.get(l.index);
    this.links.set(l.index, l);
    if (prev && prev.up === l.up && prev.running === l.running && prev.mac === l.mac) return;
    for (const r of this.runners) {
      for (const p of r.vips) if (p.ifindex === l.index) p.mac = l.mac;
      this.applyLinkState(r);
    }
  }

  private async resyncLinks(): Promise<void> {
    this.log.warn('netlink event overrun: re-reading links');
    for (const l of await this.opts.io.links()) this.onLink(l);
  }

  /** Tracked interfaces, scripts and files → engine inputs (faults and one summed weight). */
  private applyLinkState(r: Runner): void {
    const t = this.trackers.evaluate(r.settings, [...this.links.values()]);
    for (const i of t.interfaces) this.feed(r, { type: 'interface', ifname: i.name, up: i.up }, this.now(), false);
    for (const f of t.faults) this.feed(r, { type: 'fault', source: f.source, active: f.active }, this.now(), false);
    if (t.weight !== r.inst.state.trackWeight) this.feed(r, { type: 'trackWeight', weight: t.weight }, this.now(), false);
    this.rearm();
  }

  // ---- requests from the control socket ----

  yield(name: string | undefined, holdMs: number | null, timeoutMs = 30_000): Promise<YieldResult[]> {
    const targets = this.select(name).filter((r) => name !== undefined || r.inst.state.state === 'MASTER');
    return Promise.all(targets.map((r) => new Promise<YieldResult>((resolve) => {
      if (r.inst.state.state !== 'MASTER') {
        resolve({ instance: r.name, outcome: 'refused', detail: `not MASTER (${r.inst.state.state})` });
        return;
      }
      const t = setTimeout(() => resolve({ instance: r.name, outcome: 'timeout' }), timeoutMs);
      r.yieldWaiters.push((res) => { clearTimeout(t); resolve(res); });
      this.feed(r, { type: 'yield', holdMs });
    })));
  }

  resume(name: string | undefined): string[] {
    const done: string[] = [];
    for (const r of this.select(name)) {
      if (r.inst.state.held) {
        this.feed(r, { type: 'resume' });
        done.push(r.name);
      }
    }
    return done;
  }

  private select(name: string | undefined): Runner[] {
    if (name === undefined) return this.runners;
    const r = this.runners.find((x) => x.name === name);
    if (!r) throw new Error(`no instance named "${name}"`);
    return [r];
  }

  // ---- the engine and its actions ----

  private feed(r: Runner, ev: Parameters<VrrpInstance['step']>[1], now = this.now(), rearm = true): void {
    this.run(r, r.inst.step(now, ev), false);
    if (rearm) this.rearm();
  }

  /** Execute one step's actions; `advertsSent`: a prepared tick already put its adverts on the wire. */
  private run(r: Runner, actions: readonly Action[], advertsSent: boolean): void {
    // Adverts are what the deadline was for: put them on the wire before any logging, netlink
    // or GARP work (the engine's order among the rest is kept; RFC 5798 §6.4.1: advert, then GARP).
    if (!advertsSent) for (const a of actions) if (a.type === 'sendAdvert') this.execute(r, a);
    const hooked = actions.some((a) => a.type === 'hook');
    const master = actions.some((a) => a.type === 'hook' && a.hook === 'master');
    if (this.ipvs && master && ipvsInstances(this.opts.config).has(r.name)) {
      // A new MASTER programs IPVS before it takes the VIPs: no client reaches a VIP without its
      // service (the kernel would answer with a reset).
      const gate = this.syncIpvs();
      const deferred: Action[] = actions.filter((a) => a.type === 'addVips' || a.type === 'announce');
      for (const a of actions) if (a.type !== 'sendAdvert' && !deferred.includes(a)) this.execute(r, a);
      r.vipsHeld = true;
      this.track(r, gate.then(() => {
        if (r.inst.state.state !== 'MASTER') return;
        for (const a of deferred) this.execute(r, a);
      }));
    } else {
      // Wire work (VIP requests, GARPs) before bookkeeping (the transition log, notify scripts).
      const late = (a: Action) => a.type === 'transition' || a.type === 'notify';
      for (const a of actions) if (a.type !== 'sendAdvert' && !late(a)) this.execute(r, a);
      for (const a of actions) if (late(a)) this.execute(r, a);
      if (hooked) this.track(r, this.syncIpvs());
    }
  }

  private rearm(): void {
    if (this.stopping) return;
    let next: number | null = null;
    let who: Runner | null = null;
    for (const r of this.runners) {
      const d = r.inst.nextDeadline();
      if (d !== null && (next === null || d < next)) {
        next = d;
        who = r;
      }
    }
    this.scheduler.arm(next);
    this.prepareTick(who, next);
  }

  private prepareTick(r: Runner | null, deadline: number | null): void {
    const ch = r ? this.channels.get(`${r.family}/${r.ifindex}`) : undefined;
    this.preparer.prepare(r, deadline, ch, (x, prio, dst) => this.advertPayload(x, prio, dst));
  }

  /** Commit a prepared tick: its adverts leave first, then the rest of its actions run. */
  private commitPrepared(now: number): void {
    const done = this.preparer.commit(now, this.runners, () => this.now());
    if (!done) return;
    this.tickTiming = { deadline: done.deadline, firedAt: now, sentAt: done.sentAt };
    this.run(done.runner, done.actions, true);
    this.tickTiming = null;
  }

  private countDrop(reason: DropReason, fields: Record<string, unknown>): void {
    this.drops[reason]++;
    this.log.debug({ reason, ...fields }, 'VRRP packet dropped');
  }

  /** Sends happen now (they are what the timers are about); address changes are queued in order. */
  private execute(r: Runner, a: Action): void {
    switch (a.type) {
      case 'sendAdvert':
        this.sendAdvert(r, a.priority);
        if (this.tickTiming && this.tickTiming.sentAt === null) this.tickTiming.sentAt = this.now();
        return;
      case 'transition': {
        const key = `${r.name}\t${a.from}\t${a.to}\t${a.reason}`;
        this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
        // A timer-driven transition says how close to its deadline it acted (and sent its advert).
        const tt = this.tickTiming;
        const timing = tt ? { timerLateMs: round3(tt.firedAt - tt.deadline), ...(tt.sentAt !== null ? { advertLateMs: round3(tt.sentAt - tt.deadline) } : {}) } : {};
        this.log.info({ instance: r.name, from: a.from, to: a.to, reason: a.reason, detail: a.detail, ...timing }, `${r.name}: ${a.from} -> ${a.to} (${a.reason})`);
        return;
      }
      // Requests and GARPs leave now, in the engine's order; only their completion is tracked.
      case 'addVips':
        r.vipsHeld = true;
        return this.track(r, this.vipOps.setList(r, r.vips, true));
      case 'removeVips':
        r.vipsHeld = false;
        return this.track(r, this.vipOps.setList(r, r.vips, false));
      case 'announce':
        return this.track(r, this.vipOps.announce(r, r.vips, a.count));
      case 'drop':
        return this.countDrop(a.reason, { instance: r.name, detail: a.detail });
      case 'yieldOutcome': {
        const res: YieldResult = a.outcome === 'taken-over'
          ? { instance: r.name, outcome: a.outcome, by: a.by, afterMs: a.afterMs }
          : { instance: r.name, outcome: a.outcome, afterMs: a.afterMs };
        this.log.info(res, 'yield outcome');
        for (const w of r.yieldWaiters.splice(0)) w(res);
        return;
      }
      case 'yieldRefused':
        for (const w of r.yieldWaiters.splice(0)) w({ instance: r.name, outcome: 'refused', detail: a.detail });
        return;
      case 'addressMismatch':
        this.log.warn({ instance: r.name, src: a.src, theirs: a.theirs, ours: a.ours }, 'advert VIP list differs from ours');
        return;
      case 'priorityChanged':
        this.log.info({ instance: r.name, from: a.from, to: a.to }, 'effective priority changed');
        return;
      case 'holdEnded':
        this.log.info({ instance: r.name, cause: a.cause }, 'yield hold ended');
        return;
      case 'notify':
        r.notifier.notify(r.settings.notify, a.state, a.priority);
        return;
      case 'hook':
        this.log.debug({ instance: r.name, hook: a.hook }, 'hook');
        return;
    }
  }

  /** Remember outstanding work (stop and retire wait for it); failures are logged where they happen. */
  private track(r: Runner, work: Promise<void>): void {
    r.queue = Promise.all([r.queue, work]).then(() => undefined, (e: Error) => this.log.error({ instance: r.name, err: e.message }, 'action failed'));
  }

  /** An advert depends only on the settings, the priority and the destination: built once. */
  private advertPayload(r: Runner, priority: number, dst: string): Uint8Array {
    const key = `${priority}/${dst}`;
    let payload = r.adverts.get(key);
    if (!payload) {
      const s = r.settings;
      payload = encodeAdvert({
        version: s.version, family: r.family, vrid: s.vrid, priority, intervalCs: s.advertInterval / 10,
        addresses: s.vips.map((v) => v.address), authType: s.auth?.type === 'pass' ? 1 : 0,
        authPassword: s.auth?.password ?? '', checksumForm: s.checksum, src: r.engineCfg.primaryAddress, dst,
      });
      r.adverts.set(key, payload);
    }
    return payload;
  }

  private sendAdvert(r: Runner, priority: number): void {
    const ch = this.channels.get(`${r.family}/${r.ifindex}`);
    if (!ch) return;
    r.ipId = (r.ipId % 0xffff) + 1; // keepalived: per instance, from 1, never 0 (the kernel would fill it in)
    for (const dst of r.advertDsts) {
      try {
        ch.send(this.advertPayload(r, priority, dst), r.engineCfg.primaryAddress, dst, r.ipId);
      } catch (e) {
        this.log.error({ instance: r.name, err: (e as Error).message, dst }, 'advert send failed');
      }
    }
  }

  // ---- status ----

  /** Timer and event-loop health, for metrics. */
  timing(): { lastLatenessMs: number; maxLatenessMs: number; lag: { p50: number; p99: number; max: number } } {
    return { lastLatenessMs: this.scheduler.lastLatenessMs, maxLatenessMs: this.scheduler.maxLatenessMs, lag: this.scheduler.eventLoopLag() };
  }

  status(): StatusReport {
    const st = buildStatus(this.runners, this.drops, this.startedAt, this.wallOffset);
    if (this.ipvs) st.ipvs = { ...this.ipvs.status(), checks: this.checks?.status() ?? [] };
    else if (this.ipvsError) st.ipvs = { available: false, error: this.ipvsError, syncRole: 'none', services: [] };
    return st;
  }

  /** Status with the IPVS table read fresh from the kernel (bounded). */
  async statusFresh(timeoutMs = 1000): Promise<StatusReport> {
    if (this.ipvs) {
      await Promise.race([this.ipvs.refresh().catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs))]);
    }
    return this.status();
  }

  /** Test hook: the state of one instance. */
  stateOf(name: string): VrrpState | undefined {
    return this.runners.find((r) => r.name === name)?.inst.state.state;
  }
}


const round3 = (x: number): number => Math.round(x * 1000) / 1000;
