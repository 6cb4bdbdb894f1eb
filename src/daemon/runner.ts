// A running instance as the director holds it: engine, settings, resolved interfaces, per-instance shell state.
import type { Logger } from 'pino';
import { VrrpInstance } from '../engine/instance.js';
import type { InstanceConfig } from '../engine/types.js';
import type { InstanceSettings, Vip } from '../config/schema.js';
import { instanceFamily } from '../config/family.js';
import { advertDestinations, toEngineConfig, type EngineOptions } from '../config/engine-config.js';
import type { Addr, Link } from '../net/ports.js';
import { canonicalAddress } from '../protocol/addr.js';
import type { DropReason } from '../protocol/drop.js';
import { Notifier } from './notify.js';

/** The outcome of `vrrpd yield` for one instance or announce group (a control-socket reply). */
export interface YieldResult {
  instance: string;
  /** drained / drain-timeout: an announce group withdrawn, then drained (or not) of its traffic. */
  outcome: 'taken-over' | 'reclaimed' | 'refused' | 'timeout' | 'drained' | 'drain-timeout';
  by?: string;
  afterMs?: number;
  detail?: string;
}

export interface VipPlace {
  vip: Vip;
  dev: string;
  ifindex: number;
  mac: string | null;
}

/** A redundant advert path (InstanceSettings.extraPaths), resolved: adverts go unicast to `peer` from `src`. */
export interface AdvertPath {
  interface: string;
  ifindex: number;
  peer: string;
  /** Our address on that link; null when it has none (nothing is sent there, adverts are still accepted). */
  src: string | null;
}

/**
 * One configured instance with what the shell needs around its engine. The engine's state
 * (`inst.state`: VRRP state, whether the VIPs are held) is the only truth about the instance; the
 * fields here are resolved settings and I/O bookkeeping.
 */
export interface Runner {
  name: string;
  settings: InstanceSettings;
  family: 4 | 6;
  ifindex: number;
  engineCfg: InstanceConfig;
  inst: VrrpInstance;
  vips: VipPlace[];
  advertDsts: string[];
  /** Extra advert paths (vrrpd-to-vrrpd): each advert also leaves over these, any path's advert counts. */
  paths: AdvertPath[];
  /** IPv4 ID of the last advert (keepalived: per instance, from 1, never 0). */
  ipId: number;
  /** Outstanding action work (VIP requests, GARP bursts, IPVS): stop and retire wait for it. */
  queue: Promise<void>;
  yieldWaiters: ((r: YieldResult) => void)[];
  garpSent: number;
  /**
   * Packets the decoder refused (bad TTL, checksum, type, length...) whose VRID byte names this instance on its
   * link: counted here as well as in the daemon's drops, for the per-instance SNMP statistics.
   */
  rxErrors: Partial<Record<DropReason, number>>;
  /** No source address was found at start: the instance runs in FAULT. */
  noSource: boolean;
  notifier: Notifier;
  /** Encoded adverts by priority, interval and destination; cleared when the settings change. */
  adverts: Map<string, Uint8Array>;
}

const IFA_F_SECONDARY = 0x01;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;

/** keepalived's choice: the interface's first primary global IPv4, or its IPv6 link-local. */
export function primaryAddress(addrs: Addr[], ifindex: number, family: 4 | 6): string | null {
  const mine = addrs.filter((a) => a.index === ifindex && a.family === family);
  const pick = family === 4
    ? mine.find((a) => a.scope === RT_SCOPE_UNIVERSE && !(a.flags & IFA_F_SECONDARY))
    : mine.find((a) => a.scope === RT_SCOPE_LINK);
  return pick?.address ?? null;
}

/**
 * A runner for one instance; throws (nothing applied yet) when an interface is missing.
 * awaitServices: a new MASTER programs this instance's IPVS services before it takes the VIPs;
 * syncGroup: the group the instance is in (config/sync-groups.ts groupOfInstance), if any.
 */
export function buildRunner(name: string, s: InstanceSettings, addrs: Addr[], links: Link[], now: number, log: Logger,
  opts: EngineOptions = {}): Runner {
  const byName = (n: string) => links.find((l) => l.name === n);
  const link = byName(s.interface);
  if (!link) throw new Error(`instance ${name}: interface ${s.interface} does not exist`);
  const family = instanceFamily(s);
  const primary = s.sourceAddress ?? primaryAddress(addrs, link.index, family);
  const vips: VipPlace[] = [];
  for (const v of [...s.vips, ...s.excludedVips]) {
    const dev = v.dev ?? s.interface;
    const l = byName(dev);
    if (!l) throw new Error(`instance ${name}: VIP ${v.address} device ${dev} does not exist`);
    vips.push({ vip: v, dev, ifindex: l.index, mac: l.mac });
  }
  const paths: AdvertPath[] = s.extraPaths.map((x) => {
    const l = byName(x.interface);
    if (!l) throw new Error(`instance ${name}: extra path interface ${x.interface} does not exist`);
    const src = x.sourceAddress ?? primaryAddress(addrs, l.index, family);
    if (src === null) log.warn({ instance: name, interface: x.interface }, `no IPv${family} address on extra path ${x.interface}: adverts are not sent there`);
    return { interface: x.interface, ifindex: l.index, peer: canonicalAddress(x.peer)!, src: src === null ? null : canonicalAddress(src)! };
  });
  const engineCfg = toEngineConfig(name, s, family, primary ?? (family === 4 ? '0.0.0.0' : '::'), opts);
  return {
    name, settings: s, family, ifindex: link.index, engineCfg, inst: new VrrpInstance(engineCfg, now),
    vips, advertDsts: advertDestinations(s, family), paths, ipId: 0, queue: Promise.resolve(), yieldWaiters: [],
    garpSent: 0, rxErrors: {}, noSource: primary === null, notifier: new Notifier(name, log), adverts: new Map(),
  };
}
