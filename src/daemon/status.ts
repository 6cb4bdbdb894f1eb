// Status report and config translation for the director: the JSON shape of `vrrpd status --json`, primary address choice.
import type { InstanceConfig, VrrpState } from '../engine/types.js';
import type { InstanceSettings } from '../config/schema.js';
import type { DropReason } from '../protocol/drop.js';
import type { Addr } from './io.js';
import type { Runner } from './runner.js';
import type { IpvsStatus } from './ipvs.js';

const IFA_F_SECONDARY = 0x01;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;

export interface StatusReport {
  daemon: { pid: number; startedAt: string; drops: Partial<Record<DropReason, number>> };
  /** Present when the config has virtual servers. */
  ipvs?: IpvsStatus;
  instances: {
    name: string; vrid: number; version: number; interface: string; state: VrrpState; priority: number;
    effectivePriority: number; master: string | null; masterPriority: number | null; primaryAddress: string;
    vips: string[]; configuredVips: { address: string; dev: string }[]; since: string; reason: string | null;
    reasonDetail: string; held: boolean; faults: string[]; advertIntervalMs: number; masterAdverIntervalMs: number;
    counters: Record<string, unknown>;
  }[];
}

export function nonZero<K extends string>(o: Record<K, number>): Partial<Record<K, number>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => (v as number) > 0)) as Partial<Record<K, number>>;
}

/** keepalived's choice: the interface's first primary global IPv4, or its IPv6 link-local. */
export function primaryAddress(addrs: Addr[], ifindex: number, family: 4 | 6): string | null {
  const mine = addrs.filter((a) => a.index === ifindex && a.family === family);
  const pick = family === 4
    ? mine.find((a) => a.scope === RT_SCOPE_UNIVERSE && !(a.flags & IFA_F_SECONDARY))
    : mine.find((a) => a.scope === RT_SCOPE_LINK);
  return pick?.address ?? null;
}

export function toEngineConfig(name: string, s: InstanceSettings, family: 4 | 6, primary: string, syncGroup?: string): InstanceConfig {
  return {
    name,
    ...(syncGroup !== undefined ? { syncGroup } : {}),
    vrid: s.vrid,
    version: s.version,
    family,
    priority: s.priority,
    advertIntervalCs: s.advertInterval / 10,
    preempt: s.preempt,
    preemptDelayMs: s.preemptDelay,
    initialState: s.state,
    primaryAddress: primary,
    advertAddresses: s.vips.map((v) => v.address),
    authType: s.auth?.type === 'pass' ? 1 : 0,
    authPassword: s.auth?.password ?? '',
    strictAddressCheck: s.strictAddressCheck,
    garp: {
      masterDelayMs: s.garp.masterDelay,
      masterRepeat: s.garp.masterRepeat,
      masterRefreshMs: s.garp.masterRefresh,
      refreshRepeat: s.garp.refreshRepeat,
      lowerPriorityRepeat: s.garp.lowerPriorityRepeat,
    },
  };
}

/** The `vrrpd status --json` object. */
export function buildStatus(runners: readonly Runner[], drops: Record<DropReason, number>, startedAt: number, wallOffset: number): StatusReport {
  return {
    daemon: { pid: process.pid, startedAt: new Date(startedAt).toISOString(), drops: nonZero(drops) },
    instances: runners.map((r) => {
      const st = r.inst.state;
      return {
        name: r.name,
        vrid: r.settings.vrid,
        version: r.settings.version,
        interface: r.settings.interface,
        state: st.state,
        priority: r.settings.priority,
        effectivePriority: st.effectivePriority,
        master: st.master,
        masterPriority: st.masterPriority,
        primaryAddress: r.engineCfg.primaryAddress,
        vips: st.state === 'MASTER' ? r.vips.map((p) => `${p.vip.address}/${p.vip.prefixLen}`) : [],
        configuredVips: r.vips.map((p) => ({ address: `${p.vip.address}/${p.vip.prefixLen}`, dev: p.dev })),
        since: new Date(wallOffset + st.since).toISOString(),
        reason: st.reason,
        reasonDetail: st.reasonDetail,
        held: st.held,
        faults: [...st.faults],
        advertIntervalMs: r.settings.advertInterval,
        masterAdverIntervalMs: st.masterAdverIntervalCs * 10,
        counters: { ...st.counters, garpSent: r.garpSent },
      };
    }),
  };
}
