// keepalived global_defs: router id, VRRP defaults (version, GARP, checksum), the LVS sync daemon, SNMP; the rest ignored or refused.
import type { MapContext, KeywordTable } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';
import { parseAgentxAddress } from './agentx-address.js';

/** What global_defs contributes: the router id and the defaults every vrrp_instance starts from. */
export interface GlobalDefs {
  ctx: MapContext;
  routerId?: string;
  version?: 2 | 3;
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpMasterRefresh?: number;
  garpRefreshRepeat?: number;
  garpLowerPrioRepeat?: number;
  garpInterval?: number;
  gnaInterval?: number;
  checksumAsV2?: boolean;
  higherPrioSendAdvert?: boolean;
  syncDaemon?: SyncDaemonDef;
  /** lvs_timeouts, in seconds. */
  timeouts?: { tcp?: number; tcpFin?: number; udp?: number };
  netNamespace?: string;
  /** enable_snmp_vrrp / enable_snmp_rfc / enable_snmp_rfcv3, snmp_socket, enable_traps → global.snmp. */
  snmp?: { enabled: boolean; agentx?: string; traps: boolean };
  /** snmp_socket named a transport vrrpd cannot use: the subagent stays off whatever enables it. */
  snmpRefused?: boolean;
  /** vrrp_rt_priority, vrrp_no_swap, vrrp_cpu_affinity → global.scheduling. */
  scheduling?: { realtimePriority?: number; lockMemory?: boolean; cpuAffinity?: number[] };
}

export interface SyncDaemonDef {
  stmt: Statement;
  interface: string;
  /** The vrrp_instance whose VRID is the default sync id. */
  instance?: string;
  syncId?: number;
  maxLen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

const EMAIL = 'vrrpd sends no e-mail (use notify scripts)';
const SNMP = 'vrrpd serves the VRRPv3-MIB (RFC 6527) only (enable_snmp_rfcv3); no KEEPALIVED-MIB, VRRP-MIB (RFC 2787) or checker MIB';
const DBUS = 'no D-Bus in vrrpd (use `vrrpd status --json` and the Prometheus metrics)';
const PROCESS = "tuning of keepalived's processes and files; vrrpd is one process (set priorities, affinity and limits in its systemd unit)";
const SCRIPTS = "vrrpd runs scripts as its own user, without keepalived's script security checks";
const FIFO = 'notify FIFOs are not supported; use notify scripts (notify.any receives the same INSTANCE name state priority)';
const FIREWALL = 'vrrpd installs no firewall rules';

function each(keywords: string, reason: string): Record<string, string> {
  return Object.fromEntries(keywords.split(/\s+/).filter(Boolean).map((k) => [k, reason]));
}

type NumKey = 'garpMasterDelay' | 'garpMasterRefresh' | 'garpInterval' | 'gnaInterval' | 'garpMasterRepeat' | 'garpRefreshRepeat' | 'garpLowerPrioRepeat';

/** An enable_snmp_* keyword that turns the VRRPv3-MIB subagent on (`note`: what it does not give, as a warning). */
function enableSnmp(note?: string) {
  return (s: Statement, g: GlobalDefs): void => {
    if (g.ctx.bool(s) !== true) return;
    g.snmp = { traps: false, ...g.snmp, enabled: true };
    g.ctx.at('global.snmp', s);
    if (note) g.ctx.warn(s, note);
  };
}

function setNum(key: NumKey, how: 'seconds' | 'int') {
  return (s: Statement, g: GlobalDefs): void => {
    const v = how === 'seconds' ? g.ctx.seconds(s) : g.ctx.int(s);
    g.ctx.extra(s, 1);
    if (v !== undefined) g[key] = v;
  };
}

export const GLOBAL_DEFS: KeywordTable<GlobalDefs> = {
  handlers: {
    router_id: (s, g) => {
      g.routerId = g.ctx.arg(s);
      g.ctx.extra(s, 1);
      if (g.routerId !== undefined) g.ctx.at('global.routerId', s);
    },
    // keepalived 1.x's name for router_id.
    lvs_id: (s, g) => GLOBAL_DEFS.handlers.router_id!(s, g),
    vrrp_version: (s, g) => {
      const v = g.ctx.int(s);
      if (v === 2 || v === 3) g.version = v;
      else if (v !== undefined) g.ctx.error(s, 'must be 2 or 3');
    },
    vrrp_garp_master_delay: setNum('garpMasterDelay', 'seconds'),
    vrrp_garp_master_repeat: setNum('garpMasterRepeat', 'int'),
    vrrp_garp_master_refresh: setNum('garpMasterRefresh', 'seconds'),
    vrrp_garp_master_refresh_repeat: setNum('garpRefreshRepeat', 'int'),
    vrrp_garp_lower_prio_repeat: setNum('garpLowerPrioRepeat', 'int'),
    vrrp_garp_interval: setNum('garpInterval', 'seconds'),
    vrrp_gna_interval: setNum('gnaInterval', 'seconds'),
    vrrp_min_garp: (s, g) => {
      // keepalived: one GARP/NA, no second burst.
      if (g.ctx.bool(s) !== true) return;
      g.garpMasterRepeat = 1;
      g.garpMasterDelay = 0;
      g.garpLowerPrioRepeat ??= 1;
    },
    vrrp_higher_prio_send_advert: (s, g) => {
      const b = g.ctx.bool(s);
      if (b !== undefined) g.higherPrioSendAdvert = b;
    },
    v3_checksum_as_v2: (s, g) => {
      const b = g.ctx.bool(s);
      if (b !== undefined) g.checksumAsV2 = b;
    },
    lvs_sync_daemon: (s, g) => {
      const iface = g.ctx.arg(s, 0, 'an interface');
      if (iface === undefined) return;
      if (g.syncDaemon) g.ctx.warn(s, `a second sync daemon definition replaces the one at line ${g.syncDaemon.stmt.line}`);
      const d: SyncDaemonDef = { stmt: s, interface: iface };
      const a = s.args.map((t) => t.text);
      for (let i = 1; i < a.length; i++) {
        const key = a[i]!;
        const num = (): number | undefined => (i + 1 < a.length ? g.ctx.int(s, ++i) : (g.ctx.error(s, `"${key}" needs a value`), undefined));
        if (key === 'inst') d.instance = a[++i];
        else if (key === 'id') d.syncId = num();
        else if (key === 'maxlen') d.maxLen = num();
        else if (key === 'port') d.port = num();
        else if (key === 'ttl') d.ttl = num();
        else if (key === 'group') d.group = a[++i];
        else if (i === 1) d.instance = key;
        else g.ctx.warn(s, `unknown lvs_sync_daemon option "${key}" ignored`);
      }
      g.syncDaemon = d;
    },
    lvs_timeouts: (s, g) => {
      const a = s.args.map((t) => t.text);
      const t: NonNullable<GlobalDefs['timeouts']> = {};
      const keys: Record<string, keyof typeof t> = { tcp: 'tcp', tcpfin: 'tcpFin', udp: 'udp' };
      for (let i = 0; i < a.length; i += 2) {
        const key = keys[a[i]!];
        const v = i + 1 < a.length ? g.ctx.int(s, i + 1) : undefined;
        if (!key) g.ctx.error(s, `"${a[i]!}" is not tcp, tcpfin or udp`);
        else if (v === undefined) { if (i + 1 >= a.length) g.ctx.error(s, `"${a[i]!}" needs a number of seconds`); }
        else if (v < 1 || v > 2147483) g.ctx.error(s, `${a[i]!} ${v}: a timeout is 1-2147483 s`);
        else t[key] = v;
      }
      if (!a.length) g.ctx.error(s, 'needs at least one of tcp, tcpfin, udp');
      g.timeouts = t;
      g.ctx.at('ipvs.timeouts', s);
    },
    net_namespace: (s, g) => {
      g.netNamespace = g.ctx.arg(s, 0, 'a namespace name');
      g.ctx.extra(s, 1);
      g.ctx.at('global.netNamespace', s);
    },
    enable_snmp_rfcv3: enableSnmp(),
    enable_snmp_rfc: enableSnmp('the VRRPv3-MIB (RFC 6527) is served; VRRP-MIB (RFC 2787) is not'),
    enable_snmp_vrrp: enableSnmp('vrrpd serves the VRRPv3-MIB (RFC 6527) instead of KEEPALIVED-MIB\'s VRRP part'),
    enable_traps: (s, g) => {
      if (g.ctx.bool(s) === true) g.snmp = { enabled: false, ...g.snmp, traps: true };
    },
    snmp_socket: (s, g) => {
      const a = g.ctx.arg(s, 0, 'an AgentX socket');
      g.ctx.extra(s, 1);
      if (a === undefined) return;
      if (parseAgentxAddress(a) === null) {
        g.ctx.warn(s, `"${a}": vrrpd reaches the AgentX master over a Unix socket (PATH, unix:PATH) or tcp:HOST:PORT only; SNMP stays off`);
        g.snmp = { traps: false, ...g.snmp, enabled: false };
        g.snmpRefused = true;
        return;
      }
      g.snmp = { enabled: false, traps: false, ...g.snmp, agentx: a };
    },
    // keepalived runs its VRRP child at SCHED_RR N; vrrpd runs every thread of its one process so.
    vrrp_rt_priority: (s, g) => {
      const v = g.ctx.int(s);
      g.ctx.extra(s, 1);
      if (v === undefined) return;
      if (v < 1 || v > 99) { g.ctx.error(s, `${v}: a real-time priority is 1-99`); return; }
      g.scheduling = { ...g.scheduling, realtimePriority: v };
      g.ctx.at('global.scheduling.realtimePriority', s);
    },
    vrrp_no_swap: (s, g) => {
      g.ctx.extra(s, 0);
      g.scheduling = { ...g.scheduling, lockMemory: true };
      g.ctx.at('global.scheduling.lockMemory', s);
      g.ctx.warn(s, 'vrrpd locks its code and stack (mlock on fault), not its JavaScript heap (V8 aborts on locked heap pages); '
        + 'its unit keeps the heap out of swap with MemorySwapMax=0');
    },
    vrrp_cpu_affinity: (s, g) => {
      const cpus = s.args.map((_, i) => g.ctx.int(s, i));
      if (!cpus.length) { g.ctx.error(s, 'needs one or more CPU numbers'); return; }
      if (cpus.some((c) => c === undefined)) return;
      const bad = cpus.find((c) => c! < 0 || c! > 1023);
      if (bad !== undefined) { g.ctx.error(s, `CPU ${bad}: a CPU number is 0-1023`); return; }
      g.scheduling = { ...g.scheduling, cpuAffinity: cpus as number[] };
      g.ctx.at('global.scheduling.cpuAffinity', s);
    },
    vrrp_skip_check_adv_addr: (s, g) => {
      // keepalived checks every advert's address list by default (vrrpd: strictAddressCheck); skipping is refused.
      if (g.ctx.bool(s) !== false) g.ctx.error(s, 'not supported: vrrpd checks the address list of every advert (keepalived\'s default); skipping it for the same master is not');
    },
    vrrp_mcast_group4: (s, g) => {
      if (g.ctx.arg(s) !== '224.0.0.18') g.ctx.error(s, 'not supported: vrrpd sends and listens on 224.0.0.18 only');
    },
    vrrp_mcast_group6: (s, g) => {
      if (g.ctx.arg(s)?.toLowerCase() !== 'ff02::12') g.ctx.error(s, 'not supported: vrrpd sends and listens on ff02::12 only');
    },
    vrrp_down_timer_adverts: (s, g) => {
      if (g.ctx.int(s) !== 3) g.ctx.error(s, 'not supported: vrrpd uses the RFC Master_Down_Interval of 3 adverts plus skew');
    },
  },
  ignored: {
    ...each(`notification_email notification_email_from smtp_server smtp_helo_name smtp_connect_timeout smtp_alert
      smtp_alert_vrrp smtp_alert_checker no_email_faults no_checker_emails`, EMAIL),
    ...each('enable_snmp_checker enable_snmp_rfcv2 enable_snmp_keepalived snmp_vs_stats_update_interval snmp_rs_stats_update_interval', SNMP),
    ...each('enable_dbus enable_dbus_create_instance dbus_service_name dbus_no_interface_name', DBUS),
    ...each(`vrrp_priority checker_priority bfd_priority checker_no_swap bfd_no_swap
      checker_rt_priority bfd_rt_priority vrrp_rlimit_rttime checker_rlimit_rttime bfd_rlimit_rttime
      checker_cpu_affinity bfd_cpu_affinity max_auto_priority min_auto_priority_delay child_wait_time process_names
      process_name vrrp_process_name checker_process_name bfd_process_name umask use_pid_dir instance
      vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
      vrrp_netlink_monitor_rcv_bufs_force lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force
      lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs
      process_monitor_rcv_bufs_force vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier linkbeat_use_polling
      dynamic_interfaces tmp_config_directory config_save_dir data_use_instance state_file_location
      stats_file_location json_file_location json_version iproute_usr_dir iproute_etc_dir random_seed
      reload_check_config reload_time_file reload_repeat reload_file include_check use_symlink_paths`, PROCESS),
    ...each('script_user enable_script_security set_supplementary_groups', SCRIPTS),
    ...each(`notify_fifo notify_fifo_script vrrp_notify_fifo vrrp_notify_fifo_script lvs_notify_fifo lvs_notify_fifo_script
      fifo_write_vrrp_states_on_reload vrrp_notify_priority_changes`, FIFO),
    ...each(`vrrp_iptables vrrp_ipsets nftables nftables_priority nftables_counters nftables_ifindex nftables_ipvs
      nftables_ipvs_priority nftables_ipvs_start_fwmark disable_local_igmp namespace_with_ipsets`, FIREWALL),
    lvs_flush_on_stop: 'vrrpd removes the services it configured when it stops (the services of this config are gone either way)',
    ...each('rs_init_notifies checker_log_all_failures', 'notifications and logging of the checkers; no effect on the table'),
    vrrp_garp_lower_prio_delay: 'vrrpd answers a lower-priority advert with one GARP burst, without a delayed second one',
    vrrp_garp_extra_if: 'no periodic GARPs on interfaces other than the instances\' own',
    vrrp_lower_prio_no_advert: 'vrrpd always answers a lower-priority advert at once (RFC 9568, keepalived\'s default)',
    vrrp_strict: 'strict mode is not a vrrpd setting; vrrpd applies its own RFC checks',
    log_unknown_vrids: 'adverts for unknown VRIDs are counted in the metrics and logged at debug',
    vmac_prefix: 'VMACs are not supported',
    vmac_addr_prefix: 'VMACs are not supported',
    default_interface: 'a vrrpd instance always names its interface; VIPs default to it',
    startup_script: 'run it from the systemd unit (ExecStartPre=)',
    startup_script_timeout: 'run it from the systemd unit (ExecStartPre=)',
    shutdown_script: 'run it from the systemd unit (ExecStopPost=)',
    shutdown_script_timeout: 'run it from the systemd unit (ExecStopPost=)',
  },
  refused: {
    vrrp_check_unicast_src: 'vrrpd does not filter unicast adverts by source: an advert keepalived drops would be heard',
    net_namespace_ipvs: 'IPVS in another namespace than VRRP: vrrpd programs IPVS where it runs',
    lvs_flush: 'vrrpd never flushes IPVS (services it does not configure stay): run "ipvsadm -C" before vrrpd starts (systemd ExecStartPre=)',
    vrrp_startup_delay: 'vrrpd starts its instances at once: without the delay it could take MASTER before the links are up',
    vrrp_delay_after_boot: 'vrrpd starts its instances at once: without the delay it could take MASTER before the links are up',
  },
};
