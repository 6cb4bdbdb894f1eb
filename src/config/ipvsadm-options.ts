// Every ipvsadm(8) command and option, its class in vrrpd (implemented / warned / refused): the reader, docs and tests use it.
import type { KeywordClass } from './ldirectord-keywords.js';

export interface OptionInfo {
  /** The long name every spelling maps to. */
  canonical: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  command?: boolean;
  class: KeywordClass;
  traffic: boolean;
  note: string;
}

type Spec = Omit<OptionInfo, 'canonical'>;
const SPECS: Record<string, Spec> = {
  '--add-service': { short: '-A', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'adds a virtual server (ipvsadm defaults: wlc, no persistence)' },
  '--edit-service': { short: '-E', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'replaces the service\'s settings (options not given take ipvsadm\'s defaults, as ipvsadm sends them)' },
  '--delete-service': { short: '-D', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'removes a virtual server read before' },
  '--clear': { short: '-C', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'forgets every service read before (vrrpd then owns only the services of this file; others in the kernel are left alone)' },
  '--add-server': { short: '-a', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'adds a real server' },
  '--edit-server': { short: '-e', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'replaces a real server\'s settings' },
  '--delete-server': { short: '-d', arg: 'none', command: true, class: 'implemented', traffic: true, note: 'removes a real server' },
  '--restore': { short: '-R', arg: 'none', command: true, class: 'refused', traffic: true, note: 'reads rules from standard input: import that file with --format ipvsadm instead' },
  '--save': { short: '-S', arg: 'none', command: true, class: 'warned', traffic: false, note: 'prints the table' },
  '--list': { short: '-L', arg: 'none', command: true, class: 'warned', traffic: false, note: 'prints the table' },
  '-l': { arg: 'none', command: true, class: 'warned', traffic: false, note: 'prints the table' },
  '--zero': { short: '-Z', arg: 'none', command: true, class: 'warned', traffic: false, note: 'zeroes counters' },
  '--set': { arg: 'required', command: true, class: 'refused', traffic: true, note: 'IPVS connection timeouts (tcp tcpfin udp) are not part of the config this reader makes: set ipvs.timeouts in YAML once available' },
  '--start-daemon': { arg: 'required', command: true, class: 'refused', traffic: true, note: 'in vrrpd the connection sync daemon follows VRRP: set ipvs.syncDaemon in a YAML config with instances' },
  '--stop-daemon': { arg: 'required', command: true, class: 'refused', traffic: true, note: 'in vrrpd the connection sync daemon follows VRRP' },
  '--help': { short: '-h', arg: 'none', command: true, class: 'warned', traffic: false, note: 'prints help' },
  '--version': { short: '-v', arg: 'none', command: true, class: 'warned', traffic: false, note: 'prints the version' },
  '--tcp-service': { short: '-t', arg: 'required', class: 'implemented', traffic: true, note: 'ADDRESS[:PORT] (number or service name, e.g. :http); IPv6 in brackets' },
  '--udp-service': { short: '-u', arg: 'required', class: 'implemented', traffic: true, note: 'as -t, UDP' },
  '--sctp-service': { arg: 'required', class: 'implemented', traffic: true, note: 'as -t, SCTP' },
  '--fwmark-service': { short: '-f', arg: 'required', class: 'implemented', traffic: true, note: 'firewall-mark service (decimal or 0x hex)' },
  '--ipv6': { short: '-6', arg: 'none', class: 'implemented', traffic: true, note: 'with -f: an IPv6 fwmark service' },
  '--scheduler': { short: '-s', arg: 'required', class: 'implemented', traffic: true, note: 'scheduler (default wlc, as ipvsadm)' },
  '--persistent': { short: '-p', arg: 'optional', class: 'implemented', traffic: true, note: 'persistence; without a timeout 360 s, as ipvsadm sets it (its IPVS_SVC_PERSISTENT_TIMEOUT; some man pages say 300)' },
  '--netmask': { short: '-M', arg: 'required', class: 'implemented', traffic: true, note: 'persistence granularity (with -p)' },
  '--sched-flags': { short: '-b', arg: 'required', class: 'implemented', traffic: true, note: 'scheduler flags (sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3) → schedulerFlags' },
  '--ops': { short: '-o', arg: 'none', class: 'implemented', traffic: true, note: 'one-packet scheduling → onePacket' },
  '--pe': { arg: 'required', class: 'implemented', traffic: true, note: 'persistence engine (sip) → persistenceEngine' },
  '--real-server': { short: '-r', arg: 'required', class: 'implemented', traffic: true, note: 'ADDRESS[:PORT]; the port defaults to the service\'s, and -g/-i keep the service\'s port (as the kernel does)' },
  '--gatewaying': { short: '-g', arg: 'none', class: 'implemented', traffic: true, note: 'direct routing (the default)' },
  '--masquerading': { short: '-m', arg: 'none', class: 'implemented', traffic: true, note: 'NAT' },
  '--ipip': { short: '-i', arg: 'none', class: 'implemented', traffic: true, note: 'IP-in-IP tunnelling' },
  '--weight': { short: '-w', arg: 'required', class: 'implemented', traffic: true, note: 'weight 0-65535 (default 1)' },
  '--u-threshold': { short: '-x', arg: 'required', class: 'implemented', traffic: true, note: 'upper connection threshold' },
  '--l-threshold': { short: '-y', arg: 'required', class: 'implemented', traffic: true, note: 'lower connection threshold' },
  '--tun-type': { arg: 'required', class: 'refused', traffic: true, note: 'tunnel types other than ipip (gue, gre) are not supported' },
  '--tun-port': { arg: 'required', class: 'refused', traffic: true, note: 'tunnel options are not supported' },
  '--tun-nocsum': { arg: 'none', class: 'refused', traffic: true, note: 'tunnel options are not supported' },
  '--tun-csum': { arg: 'none', class: 'refused', traffic: true, note: 'tunnel options are not supported' },
  '--tun-remcsum': { arg: 'none', class: 'refused', traffic: true, note: 'tunnel options are not supported' },
  '--mcast-interface': { arg: 'required', class: 'refused', traffic: true, note: 'sync daemon option (see --start-daemon)' },
  '--syncid': { arg: 'required', class: 'refused', traffic: true, note: 'sync daemon option (see --start-daemon)' },
  '--mcast-group': { arg: 'required', class: 'refused', traffic: true, note: 'sync daemon option' },
  '--mcast-port': { arg: 'required', class: 'refused', traffic: true, note: 'sync daemon option' },
  '--mcast-ttl': { arg: 'required', class: 'refused', traffic: true, note: 'sync daemon option' },
  '--sync-maxlen': { arg: 'required', class: 'refused', traffic: true, note: 'sync daemon option' },
  '--numeric': { short: '-n', arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--connection': { short: '-c', arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--timeout': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--daemon': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--stats': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--rate': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--thresholds': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--persistent-conn': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--nosort': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--sort': { arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
  '--exact': { short: '-X', arg: 'none', class: 'warned', traffic: false, note: 'listing option' },
};

/** Lookup by every spelling: "--tcp-service", "-t". */
export const IPVSADM_OPTIONS: Record<string, OptionInfo> = {};
for (const [name, s] of Object.entries(SPECS)) {
  const info: OptionInfo = { canonical: name, ...s };
  IPVSADM_OPTIONS[name] = info;
  if (s.short) IPVSADM_OPTIONS[s.short] = info;
}

/** The documented entries (one per option, long name first). */
export const IPVSADM_OPTION_LIST: OptionInfo[] = Object.entries(SPECS).map(([canonical, s]) => ({ canonical, ...s }));
