// The shell around the engines: feeds them packets, ticks, link events and requests; hands their actions to the executor.
import type { Logger } from 'pino';
import type { EngineEvent, TransitionReason, VrrpState } from '../engine/types.js';
import { decodeAdvert, isMulticast } from '../protocol/advert.js';
import { bytesToAddress } from '../protocol/addr.js';
import { emptyDropCounters, type DropReason } from '../protocol/drop.js';
import type { Config, InstanceSettings } from '../config/schema.js';
import type { Addr, Link, NetIO, VrrpRx } from '../net/ports.js';
import { Channels } from './channels.js';
import { Links } from './links.js';
import { Scheduler, monotonicMs, type Waker } from './clock.js';
import { checkScripts, TrackerSet } from './trackers.js';
import { planReload, type ReloadReport } from './reload.js';
import { buildStatus, type StatusReport } from './status.js';
import { buildRunner, type Runner, type YieldResult } from './runner.js';
import { VipOps } from './vips.js';
import { VrrpTiming } from './timing.js';
import { Executor } from './executor.js';
import { Services, type OpenIpvs } from './services.js';
import { applyLive, removeStaleVips } from './lifecycle.js';
import { earliest } from '../engine/timers.js';
import { resumeInstances, yieldInstances } from './requests.js';
import { SyncGroups } from './groups.js';
import { groupOfInstance } from '../config/sync-groups.js';
import { AddressWatch } from './addresses.js';
import { AnnounceGroups, type AnnounceHost } from './announce.js';

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
  openIpvs?: OpenIpvs;
  /** Announce mode's IPVS sysctls (tests inject a double); default /proc/sys/net/ipv4/vs (daemon/sysctl.ts). */
  applySysctls?: AnnounceHost['applySysctls'];
}

/** Who wants to hear of transitions and drops as they happen (the SNMP subagent); a throwing observer is logged, never fatal. */
export interface DirectorObserver {
  transition?(instance: string, from: VrrpState, to: VrrpState, reason: TransitionReason): void;
  /** A received VRRP packet was dropped; instance: the one it was meant for, when known. */
  drop?(reason: DropReason, instance: string | undefined): void;
}

export class Director {
  private readonly runners: Runner[] = [];
  private readonly channels: Channels;
  private readonly links: Links;
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly log: Logger;
  readonly drops: Record<DropReason, number> = emptyDropCounters();
  private unwatch: (() => void) | null = null;
  private readonly trackers: TrackerSet;
  private readonly vipOps: VipOps;
  private readonly services: Services;
  private readonly executor: Executor;
  private readonly groups: SyncGroups;
  /** Self-healing VIPs: address changes not made by us → engine facts. */
  private readonly addresses: AddressWatch;
  private readonly vrrpTiming: VrrpTiming;
  /** Announce mode: groups of VIPs on lb0 while fit, exported by BIRD. */
  private readonly announce: AnnounceGroups;
  private readonly startedAt: number;
  private readonly wallOffset: number;
  private stopping = false;
  private readonly observers = new Set<DirectorObserver>();

  constructor(private readonly opts: DirectorOptions) {
    this.now = opts.now ?? monotonicMs;
    this.log = opts.log;
    this.startedAt = Date.now();
    // Wall time = monotonic + offset, fixed once: timestamps in status do not jitter between calls.
    this.wallOffset = this.startedAt - this.now();
    // One clock for everything that runs on time: VRRP timers, track scripts, health checks.
    this.scheduler = new Scheduler(this.now, (t) => this.onTimer(t), opts.makeWaker);
    const timed = { clock: { now: this.now, wallOffset: this.wallOffset }, onDeadlinesChanged: () => this.rearm() };
    this.groups = new SyncGroups(this.log);
    this.channels = new Channels(opts.io, this.log, (rx) => this.onPacket(rx));
    this.vipOps = new VipOps(opts.io, this.channels.packet, this.log);
    this.addresses = new AddressWatch({
      log: this.log, now: this.now, runners: () => this.runners, feed: (r, ev) => this.feed(r, ev),
      linkName: (i) => this.links.all().find((l) => l.index === i)?.name, addresses: () => opts.io.addresses(),
    });
    this.vipOps.observer = this.addresses;
    this.trackers = new TrackerSet(this.log, () => { for (const r of this.runners) this.applyLinkState(r); }, timed);
    this.links = new Links(this.trackers);
    this.services = new Services(this.log, opts.noIpvs ?? false, opts.openIpvs,
      () => new Map(this.runners.map((r) => [r.name, r.inst.state.state])), timed);
    this.executor = new Executor({
      log: this.log, now: this.now, vipOps: this.vipOps,
      targets: (r) => this.channels.targets(r),
      syncServices: (tableReady) => this.services.sync(tableReady),
      feed: (r, ev) => { if (this.runners.includes(r)) this.feed(r, ev); },
      countDrop: (reason, fields) => this.countDrop(reason, fields),
      transitioned: (r, t) => this.tell((o) => o.transition?.(r.name, t.from, t.to, t.reason)),
    });
    this.announce = new AnnounceGroups({
      log: this.log, now: this.now, wallOffset: this.wallOffset, io: opts.io, onDeadlinesChanged: () => this.rearm(),
      table: () => this.services.table(), refresh: (ms) => this.services.refresh(ms),
      ...(opts.applySysctls ? { applySysctls: opts.applySysctls } : {}),
    });
    this.services.onTable = () => this.announce.evaluate();
    this.vrrpTiming = new VrrpTiming({
      log: this.log, now: this.now, runners: () => this.runners, channels: this.channels, executor: this.executor, scheduler: this.scheduler,
    });
  }

  /** Hear transitions and drops as they happen; returns the unsubscribe. */
  observe(o: DirectorObserver): () => void {
    this.observers.add(o);
    return () => { this.observers.delete(o); };
  }

  private tell(f: (o: DirectorObserver) => void): void {
    for (const o of this.observers) {
      try { f(o); } catch (e) { this.log.error({ err: (e as Error).message }, 'observer failed'); }
    }
  }

  /** Transitions by instance, from, to, reason (tab-joined), for metrics. */
  get transitions(): ReadonlyMap<string, number> { return this.executor.transitions; }

  /** Resolve interfaces and addresses, remove stale VIPs, open sockets and IPVS, start every instance. */
  async start(): Promise<void> {
    const { io, config } = this.opts;
    await checkScripts(config);
    this.links.load(await io.links());
    this.addresses.loadLinks(this.links.all());
    const addrs = await io.addresses();
    await this.services.open(config);
    const built = Object.entries(config.instances).map(([name, s]) => this.buildRunner(name, s, config, addrs));
    await removeStaleVips(built, addrs, io, this.log);
    await this.trackers.sync(config);
    this.unwatch = await io.watch((e) => {
      if (e.type === 'link') this.onLink(e.link);
      else if (e.type === 'addr') this.addresses.onAddress(e.op, e.addr, e.sender);
      else if (e.type === 'overrun') void this.resyncLinks();
    });
    this.groups.configure(config);
    await this.announce.start(config); // its interfaces made and its groups withdrawn before any service is programmed
    // Every instance warmed first, then all started at one instant: instances with the same timers stay in phase and
    // share each wake-up (started one by one, the warm-ups spread them over milliseconds: up to one wake-up each).
    for (const r of built) this.prepareRunner(r);
    const t0 = this.now();
    for (const r of built) this.startRunner(r, t0);
    this.settleGroups();
    if (built.length === 0) await this.services.sync(); // a standalone director: its services, at once
    this.rearm();
  }

  private buildRunner(name: string, s: InstanceSettings, cfg: Config, addrs: Addr[]): Runner {
    return buildRunner(name, s, addrs, this.links.all(), this.now(), this.log,
      { awaitServices: this.services.carries(cfg, name), syncGroup: groupOfInstance(cfg, name) });
  }

  /** Open what a runner needs, then start it. */
  private launch(r: Runner): void {
    this.prepareRunner(r);
    this.startRunner(r, this.now());
  }

  /** Its sockets open and its hot path warmed (tick.ts warmUp, VipOps.warm): nothing sent, no state yet. */
  private prepareRunner(r: Runner): void {
    this.runners.push(r);
    this.channels.open(r);
    this.vrrpTiming.warm(r);
  }

  /** Its faults and links, then the RFC 5798 §6.4.1 Startup event, at `t0`. */
  private startRunner(r: Runner, t0: number): void {
    if (r.noSource) this.feed(r, { type: 'fault', source: `no IPv${r.family} source address on ${r.settings.interface}`, active: true }, t0, false);
    const ipvsFault = this.services.fault(this.opts.config, r.name);
    if (ipvsFault) this.feed(r, { type: 'fault', source: ipvsFault, active: true }, t0, false);
    this.applyLinkState(r, t0);
    this.feed(r, { type: 'startup' }, t0);
  }

  /** Stop one runner for good: priority 0 if MASTER, VIPs released; returns when its actions ran. */
  private async retire(r: Runner): Promise<void> {
    this.feed(r, { type: 'shutdown' });
    this.runners.splice(this.runners.indexOf(r), 1);
    await r.queue;
    await this.channels.closeUnused(this.runners);
  }

  /**
   * Reload: the new config was validated whole by the caller. Anything that can fail (a missing
   * interface, a table IPVS cannot take) is checked before anything changes. Unchanged instances are
   * not touched (no gap, no GARP); live-changeable settings are applied in place; identity changes
   * and removed instances release with priority 0; new ones start.
   */
  async reload(next: Config): Promise<ReloadReport> {
    const io = this.opts.io;
    this.links.load(await io.links());
    const addrs = await io.addresses();
    await checkScripts(next);
    await this.announce.prepare(next); // announce interfaces made (or a refusal) before anything changes
    this.services.update(next); // throws on a table IPVS cannot take: nothing changed yet
    await this.services.open(next);
    await this.announce.reload(next);
    const plan = planReload(this.opts.config, next);
    const fresh = [...plan.added, ...plan.restarted].map((n) => this.buildRunner(n, next.instances[n]!, next, addrs));
    const liveBuilt = plan.updated.map((n) => this.buildRunner(n, next.instances[n]!, next, addrs));
    for (const n of [...plan.removed, ...plan.restarted]) {
      const r = this.runners.find((x) => x.name === n);
      if (r) await this.retire(r);
    }
    for (const b of liveBuilt) {
      const r = this.runners.find((x) => x.name === b.name)!;
      this.channels.open(b); // before the new VIPs are announced
      applyLive(r, b, this.executor, this.vipOps, this.now());
      this.applyLinkState(r);
    }
    await this.channels.closeUnused(this.runners); // sockets of extra paths a live change dropped
    await removeStaleVips(fresh, addrs, io, this.log);
    await this.trackers.sync(next);
    this.opts.config = next;
    this.groups.configure(next);
    for (const r of fresh) this.launch(r);
    this.settleGroups();
    await this.services.sync();
    this.rearm();
    this.log.info(plan, 'configuration reloaded');
    return plan;
  }

  /** Graceful stop: priority 0 from every MASTER, VIPs removed, sockets closed. */
  async stop(): Promise<void> {
    // Announce groups withdraw first (BGP stops sending here) and keep serving for their stopGrace.
    await this.announce.withdrawAll();
    this.stopping = true;
    this.scheduler.stop();
    // The priority-0 adverts first (RFC 5798 §6.4.3): closing netlink and the trackers can wait.
    for (const r of this.runners) this.feed(r, { type: 'shutdown' });
    this.unwatch?.();
    this.addresses.stop();
    this.trackers.stop();
    this.settleGroups(); // the groups' STOP notify
    await Promise.all([...this.runners.map((r) => r.queue), ...this.channels.flush()]);
    await this.services.close();
    await this.announce.close();
    this.channels.close();
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
    if (!d.ok) {
      // Charged to the instance its VRID names on this link too (per-instance SNMP statistics); the VRID byte of a
      // packet that did not decode is read as it stands.
      const vrid = d.advert?.vrid ?? rx.payload[1];
      const to = vrid === undefined ? null : this.channels.route(this.runners, rx, vrid, src);
      const r = to && 'runner' in to ? to.runner : undefined;
      if (r) r.rxErrors[d.reason] = (r.rxErrors[d.reason] ?? 0) + 1;
      return this.countDrop(d.reason, { src, detail: d.detail, ...(r ? { instance: r.name } : {}) });
    }
    const to = this.channels.route(this.runners, rx, d.advert.vrid, src); // an extra path's too (instance extraPaths)
    if ('drop' in to) return this.countDrop(to.drop, { src, vrid: d.advert.vrid, detail: to.detail });
    this.feed(to.runner, { type: 'advert', advert: d.advert, src, ttl: rx.ttl, unicast: !isMulticast(rx.dst), ...('local' in to ? { local: to.local } : {}) }, now);
  }

  private onTimer(now: number): void {
    if (this.vrrpTiming.fire(now)) this.settleGroups();
    // Then what is less urgent: starting a probe or a script costs milliseconds.
    this.trackers.runDue(now);
    this.services.runDue(now);
    this.announce.runDue(now);
    this.rearm();
  }

  private onLink(l: Link): void {
    this.addresses.onLink(l);
    if (this.links.update(l, this.runners)) for (const r of this.runners) this.applyLinkState(r);
  }

  private async resyncLinks(): Promise<void> {
    this.log.warn('netlink event overrun: re-reading links');
    for (const l of await this.opts.io.links()) this.onLink(l);
    await this.addresses.reconcile('netlink event overrun');
  }

  /** Tracked interfaces, scripts and files → engine inputs (faults and one summed weight). */
  private applyLinkState(r: Runner, now = this.now()): void {
    for (const ev of this.links.events(r)) this.feed(r, ev, now, false);
    this.rearm();
  }

  // ---- requests from the control socket ----

  /** VRRP instances hand MASTER over; announce groups (by name, or all without one) withdraw and drain. */
  async yield(name: string | undefined, holdMs: number | null, timeoutMs = 30_000): Promise<YieldResult[]> {
    const groups = this.announce.names();
    if (name !== undefined && groups.includes(name)) return this.announce.yield(name);
    const [vrrp, drained] = await Promise.all([
      yieldInstances(this.runners, name, holdMs, timeoutMs, (r, ev) => this.feed(r, ev)),
      name === undefined ? this.announce.yield(undefined) : Promise.resolve([]),
    ]);
    return [...vrrp, ...drained];
  }

  resume(name: string | undefined): string[] {
    const groups = this.announce.names();
    if (name !== undefined && groups.includes(name)) return this.announce.resume(name);
    return [...resumeInstances(this.runners, name, (r, ev) => this.feed(r, ev)), ...(name === undefined ? this.announce.resume(undefined) : [])];
  }

  // ---- the engine ----

  /** One event into one engine; its actions run in the order returned. */
  private feed(r: Runner, ev: EngineEvent, now = this.now(), rearm = true): void {
    this.executor.run(r, r.inst.step(now, ev));
    this.groups.settle(r.engineCfg.syncGroup, this.runners, (m, e) => this.feed(m, e, now, false));
    if (rearm) this.rearm();
  }

  /** Members of a sync group move together (engine/sync-group.ts): settled after their steps. */
  private settleGroups(): void {
    this.groups.settleAll(this.runners, (m, e) => this.feed(m, e, this.now(), false));
  }

  /** One timer for the nearest deadline of everything that runs on time (VRRP, track scripts, health checks). */
  private rearm(): void {
    if (this.stopping) return;
    this.vrrpTiming.arm(earliest(this.trackers.nextDeadline(), this.services.nextDeadline(), this.announce.nextDeadline()));
  }

  private countDrop(reason: DropReason, fields: Record<string, unknown>): void {
    this.drops[reason]++;
    this.log.debug({ reason, ...fields }, 'VRRP packet dropped');
    if (this.observers.size) this.tell((o) => o.drop?.(reason, typeof fields.instance === 'string' ? fields.instance : undefined));
  }

  // ---- status ----

  /** Timer and event-loop health, for metrics. */
  timing(): { lastLatenessMs: number; maxLatenessMs: number; lag: { p50: number; p99: number; max: number } } {
    return { lastLatenessMs: this.scheduler.lastLatenessMs, maxLatenessMs: this.scheduler.maxLatenessMs, lag: this.scheduler.eventLoopLag() };
  }

  status(): StatusReport {
    const st = buildStatus(this.runners, this.drops, this.startedAt, this.wallOffset);
    st.daemon.socketDrops = this.channels.socketDrops();
    const groups = this.groups.status(this.runners);
    if (groups.length) st.syncGroups = groups;
    const ipvs = this.services.status();
    if (ipvs) st.ipvs = ipvs;
    if (this.announce.active) st.announce = this.announce.status();
    return st;
  }

  /** Status with the IPVS table read fresh from the kernel (bounded). */
  async statusFresh(timeoutMs = 1000): Promise<StatusReport> {
    await Promise.all([this.services.refresh(timeoutMs), this.announce.refresh(timeoutMs)]);
    return this.status();
  }

  /** Test hook: the state of one instance. */
  stateOf(name: string): VrrpState | undefined {
    return this.runners.find((r) => r.name === name)?.inst.state.state;
  }
}
