// Announce groups in the daemon: the interface made, VIPs on it only while fit, withdrawn into a drain, BIRD's view, status.
import type { Logger } from 'pino';
import type { AnnounceSettings, Config } from '../config/schema.js';
import { groupServices } from '../config/announce.js';
import {
  announceDeadline, initialAnnounce, stepAnnounce, type AnnounceAction, type AnnounceEvent, type AnnounceState, type AnnounceTiming,
} from '../engine/announce.js';
import { groupFitness, groupTraffic, serviceKeys } from '../ipvs/fitness.js';
import type { ServiceEntry } from '../ipvs/types.js';
import type { NetIO } from '../net/ports.js';
import { BirdWatch, type BirdView } from './bird-watch.js';
import type { YieldResult } from './runner.js';
import { applyActiveActive } from './sysctl.js';

/** While a group drains, its services' counters are read this often. */
const DRAIN_SAMPLE_MS = 500;

export interface AnnounceHost {
  log: Logger;
  now(): number;
  /** Monotonic → wall clock, for status. */
  wallOffset: number;
  io: NetIO;
  /** The kernel's IPVS table as last read back; null without IPVS. */
  table(): readonly ServiceEntry[] | null;
  /** Read the table again (bounded). */
  refresh(timeoutMs: number): Promise<void>;
  onDeadlinesChanged(): void;
  /** Set the active-active sysctls; the problems left (default: daemon/sysctl.ts on /proc/sys). */
  applySysctls?: (s: Config['ipvs']['activeActive'], log: Logger) => string[];
}

interface Group {
  name: string;
  cfg: AnnounceSettings;
  timing: AnnounceTiming;
  services: string[];
  state: AnnounceState;
  ifindex: number;
  queue: Promise<void>;
  waiters: ((r: YieldResult) => void)[];
  /** The VIPs were last seen (or put) on the announce interface. */
  onInterface: boolean;
  lastError: string | null;
}

export interface AnnounceStatus {
  name: string; interface: string; vips: string[]; services: string[];
  phase: AnnounceState['phase']; fit: boolean; why: string[]; announced: boolean; held: boolean; since: string; reason: string;
  drain: { cause: string; startedAt: string; activeConns: number | null } | null;
  lastDrain: AnnounceState['lastDrain'];
  error: string | null;
  bird: { socket: string; state: 'ok' | 'unknown'; error: string | null; lastOk: string | null; version: string | null;
    peers: { name: string; state: string; info: string; up: boolean }[];
    /** VIP prefix → the BGP protocols exporting it (from BIRD); empty while BIRD's state is unknown. */
    exportedTo: Record<string, string[]> };
}

const prefixOf = (v: AnnounceSettings['vips'][number]): string => `${v.address}/${v.prefixLen}`;
const timingOf = (g: AnnounceSettings): AnnounceTiming => ({
  upDelayMs: g.upDelay, downDelayMs: g.downDelay, holdDownMs: g.holdDown, drainTimeoutMs: g.drainTimeout, drainQuietMs: g.drainQuiet,
});

export class AnnounceGroups {
  private groups: Group[] = [];
  private readonly birds = new Map<string, BirdWatch>();
  private cfg: Config | null = null;
  private keys = new Map<string, string>();
  private blockers: string[] = [];
  private loIndex = 0;
  private sampler: NodeJS.Timeout | null = null;
  private healing = false;

  constructor(private readonly host: AnnounceHost) {}

  get active(): boolean {
    return this.groups.length > 0;
  }

  /** At start (after IPVS is open): interfaces made, leftovers removed, sysctls set, every group withdrawn. */
  async start(cfg: Config): Promise<void> {
    this.cfg = cfg;
    if (Object.keys(cfg.announce).length === 0) return;
    this.blockers = (this.host.applySysctls ?? applyActiveActive)(cfg.ipvs.activeActive, this.host.log);
    await this.configure(cfg, []);
  }

  /** Every group's interface exists and is up (a dummy is created when missing); throws when one cannot be made. */
  async prepare(cfg: Config): Promise<void> {
    const io = this.host.io;
    const wanted = new Set(Object.values(cfg.announce).map((g) => g.interface));
    const links = await io.links();
    for (const name of wanted) {
      const l = links.find((x) => x.name === name);
      if (!l) {
        if (!io.createLink) throw new Error(`announce interface ${name} does not exist and cannot be created here`);
        await io.createLink(name, 'dummy');
        this.host.log.info({ interface: name }, 'announce interface created (dummy)');
      } else if (!l.up) {
        await io.setLinkUp?.(l.index);
      }
    }
  }

  private async configure(cfg: Config, keep: Group[]): Promise<void> {
    const io = this.host.io;
    await this.prepare(cfg);
    const links = await io.links();
    this.loIndex = links.find((l) => l.name === 'lo')?.index ?? 1;
    const addrs = await io.addresses();
    this.cfg = cfg;
    this.keys = serviceKeys(cfg);
    const now = this.host.now();
    for (const [name, g] of Object.entries(cfg.announce)) {
      const ifindex = links.find((l) => l.name === g.interface)!.index;
      const old = keep.find((x) => x.name === name);
      if (old) {
        Object.assign(old, { cfg: g, timing: timingOf(g), services: groupServices(cfg, name), ifindex });
        this.groups.push(old);
        continue;
      }
      // A group starts withdrawn: its VIPs found on its interface or on lo are a previous run's (fail closed).
      for (const v of g.vips) {
        for (const a of addrs.filter((x) => x.address === v.address && (x.index === ifindex || x.index === this.loIndex))) {
          this.host.log.warn({ group: name, vip: v.address, ifindex: a.index }, 'removing announce VIP left by a previous run (a group starts withdrawn)');
          await io.deleteAddress({ ifindex: a.index, family: v.family, address: v.address, prefixLen: a.prefixLen }).catch(() => undefined);
        }
      }
      this.groups.push({
        name, cfg: g, timing: timingOf(g), services: groupServices(cfg, name), state: initialAnnounce(now), ifindex,
        queue: Promise.resolve(), waiters: [], onInterface: false, lastError: null,
      });
    }
    for (const [socket, w] of this.birds) if (!this.groups.some((g) => g.cfg.bird.socket === socket)) { w.stop(); this.birds.delete(socket); }
    for (const g of this.groups) {
      const w = this.birds.get(g.cfg.bird.socket);
      if (w) { w.configure(g.cfg.bird.protocols, g.cfg.bird.pollInterval); continue; }
      const nw = new BirdWatch(g.cfg.bird.socket, g.cfg.bird.protocols, g.cfg.bird.pollInterval, this.host.log);
      this.birds.set(g.cfg.bird.socket, nw);
      nw.start();
    }
    this.evaluate();
  }

  /**
   * Reload: groups whose VIPs or interface changed, and removed ones, are withdrawn and released first; the others keep
   * their state with the new settings; new ones start withdrawn. Throws before changing anything if an interface cannot be made.
   */
  async reload(next: Config): Promise<void> {
    const same = (g: Group) => {
      const n = next.announce[g.name];
      return n !== undefined && n.interface === g.cfg.interface && JSON.stringify(n.vips) === JSON.stringify(g.cfg.vips);
    };
    const keep = this.groups.filter(same);
    const gone = this.groups.filter((g) => !same(g));
    for (const g of gone) {
      this.feed(g, { type: 'stop' });
      this.run(g, [{ type: 'release' }]);
      await g.queue;
    }
    this.groups = [];
    if (Object.keys(next.announce).length) {
      this.blockers = (this.host.applySysctls ?? applyActiveActive)(next.ipvs.activeActive, this.host.log);
      await this.configure(next, keep);
    } else {
      this.cfg = next;
      for (const w of this.birds.values()) w.stop();
      this.birds.clear();
    }
  }

  /** The IPVS table was read back: fitness of every group again, and the addresses checked against the phase. */
  evaluate(): void {
    if (!this.cfg || this.groups.length === 0) return;
    void this.heal();
    const table = this.host.table();
    for (const g of this.groups) {
      const f = groupFitness(this.cfg, g.services, g.cfg.minHealthy, this.keys, table, this.blockers);
      if (f.fit !== g.state.fit || f.why.join('\n') !== g.state.why.join('\n')) this.feed(g, { type: 'fitness', fit: f.fit, why: f.why });
      if (g.state.drain && table) this.feed(g, { type: 'traffic', ...groupTraffic(g.services, this.keys, table) });
    }
  }

  /**
   * The VIPs where the phase says they are: an announced group's VIP removed from its interface from outside is added
   * back, a VIP put there while the group is not announced is removed (fail closed). Once per table read at most,
   * serialized with each group's own address requests.
   */
  private async heal(): Promise<void> {
    if (this.healing) return;
    this.healing = true;
    try {
      const io = this.host.io;
      const misplaced = (g: Group, addrs: Awaited<ReturnType<NetIO['addresses']>>) =>
        g.cfg.vips.filter((v) => addrs.some((a) => a.index === g.ifindex && a.address === v.address) !== (g.state.phase === 'announced'));
      const first = await io.addresses();
      for (const g of this.groups) {
        if (!misplaced(g, first).length) continue;
        // Looked at again behind the group's own requests: one under way when the table was read is not a difference.
        g.queue = g.queue.then(async () => {
          const want = g.state.phase === 'announced';
          for (const v of misplaced(g, await io.addresses())) {
            this.host.log.warn({ group: g.name, vip: v.address, interface: g.cfg.interface, phase: g.state.phase },
              want ? 'announce VIP removed from outside: added back' : 'announce VIP added from outside while not announced: removed');
            const a = { ifindex: g.ifindex, family: v.family, address: v.address, prefixLen: v.prefixLen };
            await (want ? io.addAddress(a) : io.deleteAddress(a)).catch((e: Error) => {
              g.lastError = `${want ? 're-adding' : 'removing'} ${v.address}: ${e.message}`;
            });
          }
        });
      }
    } catch { /* the next table read tries again */ } finally {
      this.healing = false;
    }
  }

  nextDeadline(): number | null {
    let d: number | null = null;
    for (const g of this.groups) {
      const t = announceDeadline(g.state, g.timing);
      if (t !== null && (d === null || t < d)) d = t;
    }
    return d;
  }

  runDue(now: number): void {
    for (const g of this.groups) {
      const t = announceDeadline(g.state, g.timing);
      if (t !== null && t <= now) this.feed(g, { type: 'tick' }, now);
    }
  }

  private feed(g: Group, ev: AnnounceEvent, now = this.host.now()): void {
    const step = stepAnnounce(g.state, g.timing, now, ev);
    g.state = step.state;
    this.run(g, step.actions);
    this.arm();
    this.host.onDeadlinesChanged();
  }

  /** Actions in order, per group serialized: an address request waits for the one before it. */
  private run(g: Group, actions: readonly AnnounceAction[]): void {
    const { io, log } = this.host;
    const set = async (ifindex: number, add: boolean): Promise<void> => {
      for (const v of g.cfg.vips) {
        const a = { ifindex, family: v.family, address: v.address, prefixLen: v.prefixLen };
        try {
          await (add ? io.addAddress(a) : io.deleteAddress(a));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if ((add && code === 'EEXIST') || (!add && (code === 'EADDRNOTAVAIL' || code === 'ENOENT' || code === 'ENODEV'))) continue;
          g.lastError = `${add ? 'adding' : 'removing'} ${v.address}: ${(e as Error).message}`;
          log.error({ group: g.name, vip: v.address, ifindex, err: (e as Error).message }, 'announce VIP request failed');
        }
      }
    };
    for (const a of actions) {
      g.queue = g.queue.then(async () => {
        switch (a.type) {
          case 'announce':
            g.lastError = null;
            await set(g.ifindex, true);
            g.onInterface = true;
            await set(this.loIndex, false);
            log.info({ group: g.name, vips: g.cfg.vips.map(prefixOf), interface: g.cfg.interface }, `announce group ${g.name}: announced (${a.reason})`);
            break;
          case 'withdraw':
            // Local first (lo), then off the announce interface: BIRD withdraws the route, IPVS keeps serving what arrives.
            await set(this.loIndex, true);
            await set(g.ifindex, false);
            g.onInterface = false;
            log.warn({ group: g.name, cause: a.cause, why: g.state.why }, `announce group ${g.name}: withdrawn (${a.reason}), draining`);
            break;
          case 'release':
            await set(this.loIndex, false);
            break;
          case 'drained': {
            log.info({ group: g.name, cause: a.cause, outcome: a.outcome, afterMs: a.afterMs, activeConns: a.activeConns }, `announce group ${g.name}: drain over (${a.outcome})`);
            const r: YieldResult = {
              instance: g.name, outcome: a.outcome === 'timeout' ? 'drain-timeout' : 'drained', afterMs: a.afterMs,
              detail: a.outcome === 'nothing-announced' ? 'nothing was announced; held withdrawn until resume'
                : `${a.outcome}${a.activeConns !== null ? `, ${a.activeConns} active connection(s)` : ''}`,
            };
            for (const w of g.waiters.splice(0)) w(r);
            break;
          }
        }
      }).catch((e: Error) => log.error({ group: g.name, err: e.message }, 'announce action failed'));
    }
  }

  /** While a group drains, sample its services' counters (a fresh IPVS read) so the drain can end when traffic does. */
  private arm(): void {
    const draining = this.groups.some((g) => g.state.drain !== null && !g.state.stopped);
    if (draining && !this.sampler) {
      this.sampler = setInterval(() => void this.host.refresh(DRAIN_SAMPLE_MS * 2), DRAIN_SAMPLE_MS); // refresh → evaluate
    } else if (!draining && this.sampler) {
      clearInterval(this.sampler);
      this.sampler = null;
    }
  }

  names(): string[] {
    return this.groups.map((g) => g.name);
  }

  /** `vrrpd yield GROUP`: withdraw at once, hold until resume; resolves when the drain is over (or its timeout). */
  yield(name: string | undefined): Promise<YieldResult[]> {
    const gs = this.groups.filter((g) => name === undefined || g.name === name);
    return Promise.all(gs.map((g) => new Promise<YieldResult>((res) => {
      g.waiters.push(res);
      this.feed(g, { type: 'yield' });
    })));
  }

  /** `vrrpd resume GROUP`: announce again as soon as fit (no hold-down). */
  resume(name: string | undefined): string[] {
    const gs = this.groups.filter((g) => (name === undefined || g.name === name) && g.state.held);
    for (const g of gs) this.feed(g, { type: 'resume' });
    return gs.map((g) => g.name);
  }

  /** Stop, step one: withdraw every announced group, then serve for its stopGrace. */
  async withdrawAll(): Promise<void> {
    const announced = this.groups.filter((g) => g.state.phase === 'announced');
    for (const g of this.groups) this.feed(g, { type: 'stop' });
    await Promise.all(this.groups.map((g) => g.queue));
    const grace = Math.max(0, ...announced.map((g) => g.cfg.stopGrace));
    if (grace > 0) await new Promise((r) => setTimeout(r, grace));
  }

  /** Stop, last step (IPVS gone): VIPs off lo, BIRD polls stopped. */
  async close(): Promise<void> {
    for (const g of this.groups) this.run(g, [{ type: 'release' }]);
    await Promise.all(this.groups.map((g) => g.queue));
    for (const g of this.groups) for (const w of g.waiters.splice(0)) w({ instance: g.name, outcome: 'refused', detail: 'daemon stopping' });
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    for (const w of this.birds.values()) w.stop();
  }

  /** Fresh facts for status: the interfaces' addresses, and BIRD read now (bounded by its own timeout). */
  async refresh(timeoutMs: number): Promise<void> {
    if (!this.groups.length) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); });
    const addrs = await this.host.io.addresses().catch(() => null);
    if (addrs) {
      for (const g of this.groups) g.onInterface = g.cfg.vips.every((v) => addrs.some((a) => a.index === g.ifindex && a.address === v.address));
    }
    await Promise.race([Promise.all([...this.birds.values()].map((w) => w.poll())), bound]);
    clearTimeout(timer);
  }

  status(): AnnounceStatus[] {
    const wall = (t: number) => new Date(this.host.wallOffset + t).toISOString();
    return this.groups.map((g) => {
      const s = g.state;
      const bird: BirdView = this.birds.get(g.cfg.bird.socket)?.current()
        ?? { socket: g.cfg.bird.socket, state: 'unknown', error: 'not polled', lastOk: null, version: null, peers: [] };
      const exportedTo: Record<string, string[]> = {};
      for (const v of g.cfg.vips) exportedTo[prefixOf(v)] = bird.peers.filter((p) => p.exported.includes(prefixOf(v))).map((p) => p.name);
      return {
        name: g.name, interface: g.cfg.interface, vips: g.cfg.vips.map(prefixOf), services: g.services,
        phase: s.phase, fit: s.fit, why: s.why, announced: g.onInterface, held: s.held, since: wall(s.since), reason: s.reason,
        drain: s.drain && { cause: s.drain.cause, startedAt: wall(s.drain.startedAt), activeConns: s.drain.activeConns },
        lastDrain: s.lastDrain, error: g.lastError,
        bird: {
          socket: bird.socket, state: bird.state, error: bird.error, lastOk: bird.lastOk, version: bird.version,
          peers: bird.peers.map((p) => ({ name: p.name, state: p.state, info: p.info, up: p.up })), exportedTo,
        },
      };
    });
  }
}
