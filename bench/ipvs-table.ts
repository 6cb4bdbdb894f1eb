// bench/ipvs: the benchmark's IPVS table, generated deterministically: vrrpd virtualServers (the config's shape) and
// the same table as an `ipvsadm -R` rules file (written from the table desiredTable() derives, so both are identical).
import type { DesiredService } from '../src/ipvs/reconcile.js';
import { prng } from './lib/stats.js';

/** The size keepalived users reported (2,284 virtual services, 37,298 real servers). */
export const DEFAULT_SERVICES = 2284;
export const DEFAULT_DESTS = 37298;

/** Real servers per service: skewed (most small, some large pools), summing exactly to `total`, each 1..POOL. */
function destCounts(services: number, total: number, rnd: () => number): number[] {
  if (total < services) throw new RangeError(`${total} real servers cannot give each of ${services} services one`);
  const raw = Array.from({ length: services }, () => {
    const r = rnd();
    return r < 0.6 ? 2 + rnd() * 10 : r < 0.9 ? 10 + rnd() * 30 : 40 + rnd() * 160;
  });
  const scale = total / raw.reduce((a, b) => a + b, 0);
  const counts = raw.map((x) => Math.max(1, Math.min(POOL, Math.round(x * scale))));
  let diff = total - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % services) {
    if (diff > 0 && counts[i]! < POOL) { counts[i]! += 1; diff -= 1; }
    else if (diff < 0 && counts[i]! > 1) { counts[i]! -= 1; diff += 1; }
  }
  return counts;
}

/** Backend hosts shared by the services (as in real farms: the same servers behind several VIPs and ports). */
const POOL = 4096;
const poolAddress = (k: number): string => `10.16.${(k >> 8) & 255}.${k & 255}`;

export interface TableStats {
  services: number;
  dests: number;
  tcp: number;
  fwmark: number;
  persistent: number;
  byScheduler: Record<string, number>;
  byForwarding: Record<string, number>;
  maxDests: number;
}

/**
 * `services` virtual services (4 of 5 TCP address:port, 1 of 5 fwmark; wlc or rr; DR or NAT; some persistent) with
 * `dests` real servers in all, as config input (fed to virtualServerSchema.parse by the caller for the defaults).
 */
export function generateVirtualServers(services = DEFAULT_SERVICES, dests = DEFAULT_DESTS, seed = 1): Record<string, Record<string, unknown>> {
  const rnd = prng(seed);
  const counts = destCounts(services, dests, rnd);
  const out: Record<string, Record<string, unknown>> = {};
  const ports = [80, 443, 8080, 8443, 25, 3306];
  for (let i = 0; i < services; i++) {
    const fwmark = i % 5 === 4;
    const scheduler = rnd() < 0.6 ? 'wlc' : 'rr';
    const forwarding = rnd() < 0.7 ? 'dr' : 'nat';
    const persistent = fwmark ? rnd() < 0.5 : rnd() < 0.2;
    const port = ports[Math.floor(rnd() * ports.length)]!;
    const start = Math.floor(rnd() * POOL);
    const realServers = Array.from({ length: counts[i]! }, (_, j) => {
      const w = rnd();
      const rs: Record<string, unknown> = { address: poolAddress((start + j) % POOL), weight: w < 0.02 ? 0 : 1 + Math.floor(w * 100) };
      // NAT may remap the port (TCP services only; a fwmark service keeps the packet's port).
      if (forwarding === 'nat' && !fwmark && j % 3 === 0) rs.port = 8000 + (j % 100);
      return rs;
    });
    const vs: Record<string, unknown> = fwmark
      ? { fwmark: 1000 + i }
      : { address: `10.0.${(i >> 8) & 255}.${i & 255}`, port, protocol: 'tcp' };
    Object.assign(vs, { scheduler, forwarding, realServers });
    if (persistent) vs.persistence = fwmark ? '300s' : '600s';
    out[`vs-${String(i).padStart(4, '0')}`] = vs;
  }
  return out;
}

export function tableStats(desired: readonly DesiredService[]): TableStats {
  const s: TableStats = { services: desired.length, dests: 0, tcp: 0, fwmark: 0, persistent: 0, byScheduler: {}, byForwarding: {}, maxDests: 0 };
  for (const d of desired) {
    s.dests += d.dests.length;
    s.maxDests = Math.max(s.maxDests, d.dests.length);
    if ('fwmark' in d) s.fwmark += 1;
    else s.tcp += 1;
    if (d.timeout > 0) s.persistent += 1;
    s.byScheduler[d.scheduler] = (s.byScheduler[d.scheduler] ?? 0) + 1;
    for (const x of d.dests) s.byForwarding[x.forwarding] = (s.byForwarding[x.forwarding] ?? 0) + 1;
  }
  return s;
}

const FWD_FLAG: Record<string, string> = { dr: '-g', nat: '-m', tun: '-i' };

/** The same table as `ipvsadm -R` input, in `ipvsadm -Sn`'s own line format. */
export function ipvsadmRules(desired: readonly DesiredService[]): string {
  const lines: string[] = [];
  for (const d of desired) {
    if (d.family !== 4) throw new RangeError('the benchmark table is IPv4 only');
    const svc = 'fwmark' in d ? `-f ${d.fwmark}` : `${d.protocol === 'udp' ? '-u' : d.protocol === 'sctp' ? '--sctp-service' : '-t'} ${d.address}:${d.port}`;
    let line = `-A ${svc} -s ${d.scheduler}`;
    if (d.timeout > 0) line += ` -p ${d.timeout}`;
    if (d.netmask !== 32) throw new RangeError('the benchmark table keeps the default persistence netmask');
    lines.push(line);
    for (const x of d.dests) {
      let l = `-a ${svc} -r ${x.address}:${x.port} ${FWD_FLAG[x.forwarding]} -w ${x.weight}`;
      if (x.upperThreshold) l += ` -x ${x.upperThreshold}`;
      if (x.lowerThreshold) l += ` -y ${x.lowerThreshold}`;
      lines.push(l);
    }
  }
  return `${lines.join('\n')}\n`;
}
