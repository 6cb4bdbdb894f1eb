// Is this director fit to announce a group, pure: each of its services programmed in the kernel with enough real servers in service.
import type { Config } from '../config/schema.js';
import { canonicalAddress } from '../protocol/addr.js';
import { desiredTable, serviceKey } from './desired.js';
import type { ServiceEntry } from './types.js';

export interface Fitness { fit: boolean; why: string[] }

/** The kernel key of every virtual server (`serviceKey`), by virtualServers name. */
export function serviceKeys(cfg: Config): Map<string, string> {
  return new Map(desiredTable(cfg.virtualServers).map((d) => [d.name, serviceKey(d)]));
}

/**
 * Fit when IPVS is in use and, for every service, the kernel's table (as last read back) has the service with at
 * least `minHealthy` of its configured real servers at a weight above 0 (failed ones are gone, or at weight 0 with
 * inhibitOnFailure; a sorry server does not count). `blockers`: other reasons to be unfit (a sysctl not set...).
 */
export function groupFitness(cfg: Config, services: readonly string[], minHealthy: number, keys: ReadonlyMap<string, string>,
  table: readonly ServiceEntry[] | null, blockers: readonly string[] = []): Fitness {
  const why = [...blockers];
  if (table === null) return { fit: false, why: [...why, 'IPVS not in use or unavailable'] };
  const byKey = new Map(table.map((s) => [serviceKey(s), s]));
  for (const name of services) {
    const vs = cfg.virtualServers[name];
    const key = keys.get(name);
    if (!vs || !key) { why.push(`${name}: not configured`); continue; }
    const entry = byKey.get(key);
    if (!entry) { why.push(`${name}: not programmed`); continue; }
    const real = new Set(vs.realServers.map((r) => `${canonicalAddress(r.address) ?? r.address}|${r.port || vs.port || 0}`));
    const serving = entry.dests.filter((d) => d.weight > 0 && (real.has(`${d.address}|${d.port}`) || real.has(`${d.address}|0`))).length;
    if (serving < minHealthy) why.push(`${name}: ${serving} real server(s) in service, ${minHealthy} needed`);
  }
  return { fit: why.length === 0, why };
}

/** Active connections and packets in over a group's services (the drain watches them). */
export function groupTraffic(services: readonly string[], keys: ReadonlyMap<string, string>, table: readonly ServiceEntry[]): { activeConns: number; packets: number } {
  const wanted = new Set(services.map((s) => keys.get(s)).filter((k): k is string => k !== undefined));
  let activeConns = 0;
  let packets = 0;
  for (const s of table) {
    if (!wanted.has(serviceKey(s))) continue;
    packets += s.stats.inPkts;
    for (const d of s.dests) activeConns += d.activeConns;
  }
  return { activeConns, packets };
}
