// IPVS objects as the codec reads and writes them (services, destinations, sync daemons, info) and their log labels.
import type { Family } from '../protocol/addr.js';

// linux/ip_vs.h: IPVS_STATS_ATTR_* order (inside *_ATTR_STATS and *_ATTR_STATS64)
export const STATS_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
/** IPPROTO_* numbers of the protocols a service can have. */
export const PROTOCOLS = { tcp: 6, udp: 17, sctp: 132 } as const;
/** Every scheduler this kernel interface names (net/netfilter/ipvs/ip_vs_*.c), as the config allows them. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
export type Protocol = keyof typeof PROTOCOLS;
/** dr = "gate" (IP_VS_CONN_F_DROUTE), nat = "masq" (IP_VS_CONN_F_MASQ), tun = "ipip" (IP_VS_CONN_F_TUNNEL). */
export type Forwarding = 'nat' | 'local' | 'tun' | 'dr' | 'bypass';
/** Indexed by IP_VS_CONN_F_* forwarding method. */
export const FORWARDING: readonly Forwarding[] = ['nat', 'local', 'tun', 'dr', 'bypass'];
/** linux/ip_vs.h: IP_VS_CONN_F_TUNNEL_TYPE_IPIP / _GUE / _GRE. */
export type TunType = 'ipip' | 'gue' | 'gre';
/** Indexed by IP_VS_CONN_F_TUNNEL_TYPE_*. */
export const TUN_TYPES: readonly TunType[] = ['ipip', 'gue', 'gre'];

export const fwdMethod = (f: Forwarding): number => FORWARDING.indexOf(f);

/** A service by firewall mark (the kernel keeps protocol TCP for it, and no address or port). */
export interface FwmarkServiceId { family: Family; fwmark: number }
/** A service by protocol, address and port. */
export interface AddrServiceId { family: Family; protocol: Protocol; address: string; port: number }
export type ServiceId = FwmarkServiceId | AddrServiceId;
export const isFwmark = (id: ServiceId): id is FwmarkServiceId => 'fwmark' in id;

export interface ServiceOptions {
  scheduler: string;
  /** IP_VS_SVC_F_* bits, IP_VS_SVC_F_HASHED excluded. */
  flags: number;
  /** Persistence timeout in seconds (IPVS_SVC_ATTR_TIMEOUT). */
  timeout: number;
  /** Persistence granularity as a prefix length: 0-32 for IPv4 (sent as a netmask), 1-128 for IPv6. */
  netmask: number;
  /** Persistence engine (IPVS_SVC_ATTR_PE_NAME, e.g. "sip"); none when absent. */
  pe?: string;
}
export type ServiceSpec = ServiceId & ServiceOptions;

export interface DestId {
  address: string;
  /** The address's family: differs from the service's only for tunnelled dests (IPVS_DEST_ATTR_ADDR_FAMILY). */
  family: Family;
  port: number;
}
export interface DestSpec extends DestId {
  forwarding: Forwarding;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Tunnel encapsulation (Linux 5.2+); absent: the kernel's default, ipip. */
  tunType?: TunType;
  tunPort?: number;
  tunFlags?: number;
}

/** Counters (totals) and rates (per second); 64-bit values beyond 2^53 lose precision, as in Prometheus. */
export type Stats = Record<(typeof STATS_FIELDS)[number], number>;
export interface DestEntry extends DestSpec {
  activeConns: number;
  inactConns: number;
  persistConns: number;
  stats: Stats;
}
export type ServiceEntry = ServiceSpec & { stats: Stats; dests: DestEntry[] };

export type SyncState = 'master' | 'backup';
export interface DaemonSpec {
  state: SyncState;
  /** Multicast interface (IPVS_DAEMON_ATTR_MCAST_IFN). */
  interface: string;
  syncId: number;
  /** UDP payload size (Linux 4.3+, as are the group, port and TTL; the kernel clamps it to the MTU). */
  maxLen?: number;
  /** IPv4 or IPv6 multicast group; kernel default 224.0.0.81. */
  group?: string;
  /** Base UDP port; kernel default 8848. */
  port?: number;
  ttl?: number;
}

export interface IpvsInfo {
  /** IP_VS_VERSION_CODE, e.g. 0x010201. */
  versionCode: number;
  /** "1.2.1" */
  version: string;
  /** Connection hash table size (ip_vs_conn_tab_size). */
  connTableSize: number;
}

/** One request: the command and the attributes after the genlmsghdr. */
export interface IpvsRequest {
  cmd: number;
  attrs: Uint8Array;
  dump: boolean;
}


/** IPVS connection timeouts in seconds (IPVS_CMD_SET_CONFIG / GET_CONFIG; ipvsadm --set tcp tcpfin udp); 0 = unchanged. */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

// Labels for logs and errors, in ipvsadm's spelling.
const hostPort = (address: string, family: Family, port: number): string => (family === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** "fwmark 100", "fwmark 100 IPv6", "tcp 192.168.1.100:80", "udp [2001:db8::1]:53". */
export function serviceLabel(id: ServiceId): string {
  if (isFwmark(id)) return `fwmark ${id.fwmark}${id.family === 6 ? ' IPv6' : ''}`;
  return `${id.protocol} ${hostPort(id.address, id.family, id.port)}`;
}

/** "192.168.1.10:80", "[2001:db8::10]:80". */
export const destLabel = (d: DestId): string => hostPort(d.address, d.family, d.port);
