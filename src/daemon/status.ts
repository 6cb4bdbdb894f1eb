// The status report: the JSON shape of `vrrpd status --json`, built from the running instances.
import type { VrrpState } from '../engine/types.js';
import type { DropReason } from '../protocol/drop.js';
import type { Runner } from './runner.js';
import type { IpvsStatus } from './ipvs.js';
import type { SyncGroupStatus } from './groups.js';
import type { AnnounceStatus } from './announce.js';

export interface StatusReport {
  daemon: {
    pid: number; startedAt: string; drops: Partial<Record<DropReason, number>>;
    /** Packets the kernel dropped on full VRRP receive queues, by socket "family/ifindex" (the socket filter's drops are not counted by the kernel). */
    socketDrops?: Record<string, number>;
  };
  /** Present when the config has virtual servers. */
  ipvs?: IpvsStatus;
  /** Present when the config has announce groups. */
  announce?: AnnounceStatus[];
  /** Present when the config has sync groups. */
  syncGroups?: SyncGroupStatus[];
  instances: {
    name: string; vrid: number; version: number; interface: string; ifindex?: number; state: VrrpState; priority: number;
    effectivePriority: number; master: string | null; masterPriority: number | null; primaryAddress: string;
    vips: string[]; configuredVips: { address: string; dev: string }[]; since: string; reason: string | null;
    reasonDetail: string; held: boolean; faults: string[]; advertIntervalMs: number; masterAdverIntervalMs: number;
    counters: Record<string, unknown>;
    /** The sync group, and whether this BACKUP waits for its group to become MASTER. */
    syncGroup?: string; wantsMaster?: boolean;
  }[];
}

export function nonZero<K extends string>(o: Record<K, number>): Partial<Record<K, number>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => (v as number) > 0)) as Partial<Record<K, number>>;
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
        ifindex: r.ifindex,
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
        counters: { ...st.counters, garpSent: r.garpSent, rxErrors: { ...r.rxErrors } },
        ...(r.engineCfg.syncGroup !== undefined ? { syncGroup: r.engineCfg.syncGroup, wantsMaster: st.wantsMaster } : {}),
      };
    }),
  };
}
