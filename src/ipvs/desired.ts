// The IPVS table the config asks for, pure: services and destinations from the config, real-server health and quorum;
// validateIpvsTable checks every virtual server as the kernel will take it (what `vrrpd check` and run refuse).
import type { Config, RealServer, SchedulerFlag, VirtualServer } from '../config/schema.js';
import { addressToBytes, canonicalAddress, familyOf, type Family } from '../protocol/addr.js';
import { isCanonicalIpv4 } from './encode.js';
import {
  destLabel, isFwmark, serviceLabel, SCHEDULERS, type DestId, type DestSpec, type Forwarding, type ServiceId, type ServiceSpec,
} from './types.js';
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3,
} from './uapi.js';
import { liveWeight, nextQuorum, type Healthy } from './quorum.js';

export type { RealServer } from '../config/schema.js';

/** A service as vrrpd wants it: the kernel's spec, its destinations, and where it came from. */
export type DesiredService = ServiceSpec & {
  /** The virtualServers key in the config. */
  name: string;
  dests: DestSpec[];
  /** True when the sorry server stands in for the real servers. */
  sorry: boolean;
};

/** Virtual servers the kernel would refuse or misread; nothing was touched. */
export class IpvsConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`IPVS configuration refused: ${issues.join('; ')}`);
    this.name = 'IpvsConfigError';
  }
}

/** A service's identity in the kernel: fwmark and family, or protocol, address and port. */
export function serviceKey(id: ServiceId): string {
  return isFwmark(id) ? `fwmark:${id.family}:${id.fwmark}` : `${id.protocol}:${id.family === 6 ? `[${id.address}]` : id.address}:${id.port}`;
}

/** A destination's identity within its service. */
export const destKey = (d: DestId): string => destLabel(d);

/** Whole seconds above this overflow the kernel's jiffies timeout (u32) at HZ=1000. */
const MAX_PERSISTENCE_S = Math.floor(0xffffffff / 1000);

/** IP_VS_SVC_F_SCHED1..3 by name (linux/ip_vs.h IP_VS_SVC_F_SCHED_SH_FALLBACK = SCHED1, _SH_PORT = SCHED2; mh the same). */
const SCHED_FLAG_BITS: Record<SchedulerFlag, number> = {
  'sh-fallback': IP_VS_SVC_F_SCHED1, 'sh-port': IP_VS_SVC_F_SCHED2, 'mh-fallback': IP_VS_SVC_F_SCHED1, 'mh-port': IP_VS_SVC_F_SCHED2,
  'flag-1': IP_VS_SVC_F_SCHED1, 'flag-2': IP_VS_SVC_F_SCHED2, 'flag-3': IP_VS_SVC_F_SCHED3,
};

/** persistenceNetmask: "255.255.255.0", "24" or "/24" for IPv4; "64", "/64" or "ffff:ffff:ffff:ffff::" for IPv6. */
export function parseNetmask(text: string | undefined, family: Family): number | string {
  const max = family === 4 ? 32 : 128;
  if (text === undefined) return max;
  const t = text.trim().replace(/^\//, '');
  if (/^\d{1,3}$/.test(t)) {
    const n = Number(t);
    return n >= (family === 4 ? 0 : 1) && n <= max ? n : `persistence netmask /${n} out of ${family === 4 ? 0 : 1}..${max}`;
  }
  const b = addressToBytes(t, family);
  if (!b) return `persistence netmask "${text}" is not an IPv${family} netmask or prefix length`;
  const bits = Array.from(b, (x) => x.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return `persistence netmask "${text}" is not contiguous`;
  const n = bits.indexOf('0') < 0 ? max : bits.indexOf('0');
  return family === 6 && n === 0 ? 'an IPv6 persistence netmask needs a prefix of 1..128' : n;
}

export interface DesiredOptions {
  /** Health of a real server (health checks); default every server is healthy. */
  healthy?: Healthy;
  /** The weight a real server gets (health checks: FILE_CHECK adjusts it); default its configured weight. */
  weight?: (service: string, server: RealServer) => number;
  /**
   * A service's quorum state as last evaluated (evaluateQuorum); undefined (or no function): the state a start
   * gives, live weight >= quorum + hysteresis.
   */
  quorumUp?: (service: string) => boolean | undefined;
}

/** One problem of a virtual server: its name and what is wrong. */
interface Problem { name: string; message: string }

/** A server failing its checks stays at weight 0 (inhibitOnFailure: its own setting, else its service's). */
const inhibits = (vs: VirtualServer, rs: RealServer): boolean => rs.inhibitOnFailure ?? vs.inhibitOnFailure;

/**
 * The services the config asks for, each with its destinations: a healthy real server at its weight, a failing one
 * left out, or kept at weight 0 with inhibitOnFailure (its established connections drain). Without quorum (live weight
 * below it, see quorum.ts) a sorry server replaces the live real servers; failing inhibited ones stay at weight 0.
 * `problems` gets every problem; a service with one is left out.
 */
function buildTable(virtualServers: Readonly<Record<string, VirtualServer>>, options: DesiredOptions, problems: Problem[]): DesiredService[] {
  const out: DesiredService[] = [];
  const seen = new Map<string, string>();
  for (const [name, vs] of Object.entries(virtualServers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const mine: string[] = [];
    const svc = serviceOf(vs, mine);
    const dests: DestSpec[] = [];
    let sorry = false;
    if (svc) {
      const key = serviceKey(svc);
      if (seen.has(key)) mine.push(`same service (${serviceLabel(svc)}) as virtualServers.${seen.get(key)}`);
      seen.set(key, name);
      const byKey = new Set<string>();
      const kept: { d: DestSpec; live: boolean }[] = []; // in config order, as keepalived adds them
      vs.realServers.forEach((rs, i) => {
        const d = destOf(svc, rs, rs.forwarding ?? vs.forwarding, options.weight?.(name, rs) ?? rs.weight, `realServers[${i}]`, mine);
        if (!d) return;
        if (byKey.has(destKey(d))) mine.push(`realServers[${i}]: ${destLabel(d)} listed twice`);
        byKey.add(destKey(d));
        if (options.healthy?.(name, rs) ?? true) kept.push({ d, live: true });
        else if (inhibits(vs, rs)) kept.push({ d: { ...d, weight: 0 }, live: false });
      });
      const sorryDest = vs.sorryServer
        ? destOf(svc, { ...vs.sorryServer, upperThreshold: 0, lowerThreshold: 0 }, vs.forwarding, 1, 'sorryServer', mine)
        : null;
      if (sorryDest && byKey.has(destKey(sorryDest))) mine.push(`sorryServer ${destLabel(sorryDest)} is also a real server`);
      const up = options.quorumUp?.(name) ?? nextQuorum(undefined, liveWeight(name, vs, options.healthy), vs.quorum, vs.hysteresis);
      sorry = sorryDest !== null && !up;
      for (const k of kept) if (!sorry || !k.live) dests.push(k.d);
      if (sorry) dests.push(sorryDest!);
    }
    problems.push(...mine.map((message) => ({ name, message })));
    if (svc && mine.length === 0) out.push({ ...svc, name, dests, sorry });
  }
  return out;
}

/**
 * The IPVS table the config asks for: the virtual servers of `instance` (one name or several; services without an
 * `instance` belong to every instance; all services when undefined). Every virtual server of the config is checked,
 * whichever instance it belongs to: IpvsConfigError lists every problem, before anything is touched.
 */
export function desiredTable(virtualServers: Readonly<Record<string, VirtualServer>>, instance?: string | readonly string[],
  options: DesiredOptions = {}): DesiredService[] {
  const problems: Problem[] = [];
  const all = buildTable(virtualServers, options, problems);
  if (problems.length > 0) throw new IpvsConfigError(problems.map((p) => `virtualServers.${p.name}: ${p.message}`));
  const wanted = instance === undefined ? null : new Set(typeof instance === 'string' ? [instance] : instance);
  return wanted ? all.filter((s) => { const i = virtualServers[s.name]!.instance; return i === undefined || wanted.has(i); }) : all;
}

/** A config problem at a field path, as config/load.ts reports it with file and line. */
export interface TableIssue { path: (string | number)[]; message: string }

/**
 * Every virtual server checked as the kernel will take it (ports vs forwarding, thresholds, duplicates, flags and
 * scheduler, timeouts...): the same check `vrrpd run` makes before touching IPVS, so `vrrpd check` never passes what
 * run refuses. Pass it to loadConfig / loadAnyConfig as a validator. Empty when the table is good.
 */
export function validateIpvsTable(cfg: Config): TableIssue[] {
  const problems: Problem[] = [];
  buildTable(cfg.virtualServers, {}, problems);
  const out: TableIssue[] = problems.map((p) => ({ path: ['virtualServers', p.name], message: `virtualServers.${p.name}: ${p.message}` }));
  const t = cfg.ipvs.timeouts;
  for (const k of ['tcp', 'tcpFin', 'udp'] as const) {
    const ms = t?.[k];
    if (ms === undefined) continue;
    if (ms % 1000 !== 0 || ms < 1000 || ms > MAX_TIMEOUT_S * 1000) {
      out.push({ path: ['ipvs', 'timeouts', k], message: `a timeout is whole seconds from 1 s to ${MAX_TIMEOUT_S} s, got ${ms} ms` });
    }
  }
  return out;
}
const MAX_TIMEOUT_S = Math.floor(0x7fffffff / 1000); // INT_MAX / HZ at HZ=1000 (ip_vs_set_timeout)

/** The flags a virtual server asks for; problems for combinations the scheduler or the kernel would ignore. */
function flagsOf(vs: VirtualServer, persistent: boolean, problems: string[]): number {
  let flags = persistent ? IP_VS_SVC_F_PERSISTENT : 0;
  for (const f of vs.schedulerFlags) {
    const only = f.startsWith('sh-') ? 'sh' : f.startsWith('mh-') ? 'mh' : null;
    // ip_vs_sh.c / ip_vs_mh.c read these bits; any other scheduler ignores them (keepalived ignores them, with a log).
    if (only && vs.scheduler !== only) problems.push(`scheduler flag ${f} applies to the ${only} scheduler only, not ${vs.scheduler}`);
    flags |= SCHED_FLAG_BITS[f];
  }
  const udpOnly = vs.fwmark === undefined && vs.protocol !== 'udp';
  if (vs.onePacket) {
    // ip_vs_core.c: one-packet scheduling applies to UDP only (IP_VS_SVC_F_ONEPACKET && protocol == IPPROTO_UDP).
    if (udpOnly) problems.push(`onePacket (one-packet scheduling) applies to UDP only, not to a ${vs.protocol} service`);
    flags |= IP_VS_SVC_F_ONEPACKET;
  }
  if (vs.persistenceEngine !== undefined) {
    // The engine is consulted only for persistent services (ip_vs_sched_persist); ip_vs_pe_sip parses UDP only.
    if (!persistent) problems.push(`persistenceEngine ${vs.persistenceEngine} needs persistence (the engine only acts on persistent services)`);
    if (udpOnly) problems.push(`persistenceEngine ${vs.persistenceEngine} reads SIP over UDP only, not a ${vs.protocol} service`);
  }
  return flags;
}

function serviceOf(vs: VirtualServer, problems: string[]): ServiceSpec | null {
  if (!(SCHEDULERS as readonly string[]).includes(vs.scheduler)) problems.push(`scheduler "${vs.scheduler}" is not one of ${SCHEDULERS.join(', ')}`);
  const persistS = vs.persistence / 1000;
  if (!Number.isInteger(persistS) || persistS < 0 || persistS > MAX_PERSISTENCE_S) {
    problems.push(`persistence ${vs.persistence} ms is not a whole number of seconds in 0..${MAX_PERSISTENCE_S}`);
  }
  let id: ServiceId | null = null;
  if (vs.fwmark !== undefined) {
    if (vs.address !== undefined || vs.port !== undefined) problems.push('a service has either a fwmark or an address and port, not both');
    id = { family: vs.family, fwmark: vs.fwmark };
  } else if (vs.address === undefined || vs.port === undefined) {
    problems.push('a service needs a fwmark, or an address and a port');
  } else {
    const v4 = isCanonicalIpv4(vs.address); // the common case, without the address library (big tables: 40k addresses)
    const family = v4 ? 4 : familyOf(vs.address);
    if (!family) problems.push(`"${vs.address}" is not an IP address`);
    else if (vs.port === 0 && persistS === 0) problems.push('port 0 (all ports) needs persistence, as in ipvsadm');
    else id = { family, protocol: vs.protocol, address: v4 ? vs.address : canonicalAddress(vs.address)!, port: vs.port };
  }
  const flags = flagsOf(vs, persistS > 0, problems);
  if (vs.quorum < 1) problems.push('quorum must be at least 1 (as keepalived: Quorum >= 1): with 0, quorum would be lost and gained at once');
  if (!id) return null;
  const netmask = parseNetmask(vs.persistenceNetmask, id.family);
  if (typeof netmask === 'string') {
    problems.push(netmask);
    return null;
  }
  const spec: ServiceSpec = { ...id, scheduler: vs.scheduler, flags, timeout: persistS, netmask };
  if (vs.persistenceEngine !== undefined) spec.pe = vs.persistenceEngine;
  return spec;
}

function destOf(svc: ServiceId, rs: { address: string; port: number; upperThreshold: number; lowerThreshold: number },
  forwarding: 'dr' | 'nat' | 'tun', weight: number, where: string, problems: string[]): DestSpec | null {
  const v4 = isCanonicalIpv4(rs.address);
  const family = v4 ? 4 : familyOf(rs.address);
  if (!family) {
    problems.push(`${where}: "${rs.address}" is not an IP address`);
    return null;
  }
  if (family !== svc.family && forwarding !== 'tun') {
    problems.push(`${where}: an IPv${family} server in an IPv${svc.family} service needs tun forwarding`);
    return null;
  }
  if (rs.lowerThreshold > rs.upperThreshold) {
    problems.push(`${where}: lowerThreshold ${rs.lowerThreshold} above upperThreshold ${rs.upperThreshold} (the kernel refuses it, ERANGE)`);
  }
  let port = rs.port;
  if (!isFwmark(svc)) {
    // ipvsadm: DR and TUN cannot change the port, so the server's port is the service's; NAT maps 0 to it too.
    if (forwarding !== 'nat' && port !== 0 && port !== svc.port) {
      problems.push(`${where}: port ${port} differs from the service's ${svc.port}, which ${forwarding} forwarding cannot remap`);
    }
    if (forwarding !== 'nat' || port === 0) port = svc.port;
  }
  return {
    address: v4 ? rs.address : canonicalAddress(rs.address)!, family, port, forwarding: forwarding as Forwarding, weight,
    upperThreshold: rs.upperThreshold, lowerThreshold: rs.lowerThreshold,
  };
}
