// The vrrpd YAML config schema (zod): the single source of config types and defaults.
import { z } from 'zod';
import { duration, ifname, ipAddress, vip } from './fields.js';
import { announceSchema, activeActiveSchema } from './announce-schema.js';

import { snmpSchema } from './snmp.js';

export { duration, vip, type Vip } from './fields.js';

export const garpSchema = z.strictObject({
  /** Second burst after becoming MASTER (keepalived garp_master_delay, default 5 s; 0 = none). */
  masterDelay: duration.default(5000),
  /** GARPs per VIP in each burst (garp_master_repeat, default 5). */
  masterRepeat: z.number().int().min(0).max(255).default(5),
  /** Periodic refresh while MASTER (garp_master_refresh, default 0 = off). */
  masterRefresh: duration.default(0),
  /** GARPs per VIP per refresh (garp_master_refresh_repeat, default 1). */
  refreshRepeat: z.number().int().min(1).max(255).default(1),
  /** GARPs per VIP when a lower-priority master is heard (split-brain heal, default 5; 0 = none). */
  lowerPriorityRepeat: z.number().int().min(0).max(255).default(5),
  /** Gap between packets of a burst (vrrp_garp_interval, default 0). */
  interval: duration.default(0),
});

const trackInterface = z.union([ifname, z.strictObject({ name: ifname, weight: z.number().int().min(-254).max(254).default(0) })])
  .transform((v) => (typeof v === 'string' ? { name: v, weight: 0 } : v));

const weighted = (name: z.ZodString) => z.union([name, z.strictObject({ name, weight: z.number().int().min(-254).max(254).optional() })])
  .transform((v) => (typeof v === 'string' ? { name: v, weight: undefined as number | undefined } : v));

/** A command line: program and arguments, split on spaces ("..." and '...' quote). Run without a shell. */
const command = z.string().min(1);

/** keepalived notify_* scripts; `any` is keepalived's plain "notify": gets INSTANCE name state priority. */
const notifySchema = z.strictObject({
  master: command.optional(),
  backup: command.optional(),
  fault: command.optional(),
  stop: command.optional(),
  any: command.optional(),
  /** Each run is killed after this long (keepalived script_timeout is 5 s by default for notify too). */
  timeout: duration.default(10_000),
});

/** vrrp_script: a check run every interval; rise/fall successes/failures change its state. */
export const trackScriptSchema = z.strictObject({
  script: command,
  interval: duration.default(1000),
  timeout: duration.default(5000),
  rise: z.number().int().min(1).max(100).default(1),
  fall: z.number().int().min(1).max(100).default(1),
  /** 0: failing puts the instance in FAULT; >0 added while it succeeds; <0 added while it fails. */
  weight: z.number().int().min(-254).max(254).default(0),
  /** Start failed, not unknown: `rise` successes are needed before it counts as OK (keepalived init_fail). */
  initFail: z.boolean().default(false),
});

/** track_file: an integer read from the file, times weight, added to the priority (0 weight: nonzero = FAULT). */
export const trackFileSchema = z.strictObject({
  file: z.string().min(1),
  weight: z.number().int().min(-254).max(254).default(1),
});

export const instanceSchema = z.strictObject({
  /** Interface the adverts are sent and received on (the crossover, eth1 in the seeds). */
  interface: ifname,
  vrid: z.number().int().min(1).max(255),
  /** VRRP version; 2 is keepalived's default. */
  version: z.union([z.literal(2), z.literal(3)]).default(2),
  priority: z.number().int().min(1).max(255).default(100),
  /** Advertisement interval: v2 whole seconds 1-255, v3 10 ms steps from 10 ms to 40.95 s. */
  advertInterval: duration.default(1000),
  /** Initial state; MASTER waits one interval instead of three for a better master. */
  state: z.enum(['BACKUP', 'MASTER']).default('BACKUP'),
  /** false = keepalived's nopreempt. */
  preempt: z.boolean().default(true),
  preemptDelay: duration.default(0),
  /** VRRPv2 only. */
  auth: z.strictObject({ type: z.enum(['none', 'pass']), password: z.string().default('') }).optional(),
  /** Source address of our adverts; default: the interface's primary address. */
  sourceAddress: ipAddress.optional(),
  /** Unicast to these peers instead of multicast. */
  unicastPeers: z.array(ipAddress).default([]),
  /**
   * Redundant advert paths (a vrrpd-to-vrrpd feature, off by default): every advert is also sent unicast
   * to `peer` over `interface`, and an advert from that peer on that link counts as one on the primary
   * interface, so only the silence of every path is a dead master. The primary interface's own carrier
   * loss FAULTs the instance only while every extra path's link is down too.
   */
  extraPaths: z.array(z.strictObject({
    interface: ifname,
    /** The peer director's address on that link. */
    peer: ipAddress,
    /** Our source on that link; default: the interface's primary address. */
    sourceAddress: ipAddress.optional(),
  })).default([]),
  /** VRRPv3 IPv4 checksum form we send: with the pseudo-header (keepalived/FRR) or without (RFC 9568). */
  checksum: z.enum(['pseudo-header', 'no-pseudo-header']).default('pseudo-header'),
  vips: z.array(vip).default([]),
  /** Held and announced, but not listed in adverts (keepalived virtual_ipaddress_excluded). */
  excludedVips: z.array(vip).default([]),
  garp: garpSchema.prefault({}),
  trackInterfaces: z.array(trackInterface).default([]),
  /** Names from the top-level trackScripts, optionally with a weight overriding the script's. */
  trackScripts: z.array(weighted(z.string().min(1))).default([]),
  /** Names from the top-level trackFiles, optionally with a weight overriding the file's. */
  trackFiles: z.array(weighted(z.string().min(1))).default([]),
  notify: notifySchema.optional(),
  /** Do not go FAULT when the advert interface itself goes down. */
  dontTrackPrimary: z.boolean().default(false),
  /** Drop adverts whose VIP list differs from ours (keepalived does); default: log and accept. */
  strictAddressCheck: z.boolean().default(false),
  /**
   * A MASTER yielding to a better master first sends one advert at its own priority (keepalived's
   * higher_prio_send_advert, off there by default): after a split brain heals, the winner hears it and
   * re-announces the VIPs (garp.lowerPriorityRepeat), whichever advert crossed first.
   */
  higherPrioritySendAdvert: z.boolean().default(true),
});

/**
 * A VRRP sync group (keepalived vrrp_sync_group): the member instances move together. One member's
 * FAULT puts the others in FAULT, one member leaving MASTER takes the others to BACKUP, and a member
 * becomes MASTER only when every member can. The group's tracking applies to every member.
 */
export const syncGroupSchema = z.strictObject({
  instances: z.array(z.string().min(1)).min(1),
  /** Group notify scripts: `any` gets GROUP name state 0 (keepalived's generic notify for groups). */
  notify: notifySchema.optional(),
  trackInterfaces: z.array(trackInterface).default([]),
  trackScripts: z.array(weighted(z.string().min(1))).default([]),
  trackFiles: z.array(weighted(z.string().min(1))).default([]),
});

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;

/** keepalived's hex strings ("Ab12f 3 456": pairs of hex digits, a lone digit before a space or the end is one byte). */
const HEX_RE = /^[ \t]*[0-9a-fA-F][ \t0-9a-fA-F]*$/;
const HEX_MASK_RE = /^[ \t]*[0-9a-fA-FxX][ \t0-9a-fA-FxX]*$/;
const hexString = z.string().regex(HEX_RE, 'hex bytes, e.g. "01 02 ab" or "0102ab"');
const hexMaskString = z.string().regex(HEX_MASK_RE, 'hex bytes, "x" for a nibble that may be anything, e.g. "01 xx ab"');

const port = z.number().int().min(1).max(65535);

/** What every checker shares: when it runs (keepalived delay_loop, warmup, alpha). */
const timingFields = {
  /** Pause between rounds; default the virtual server's delayLoop (keepalived per-checker delay_loop). */
  delayLoop: duration.optional(),
  /** A random delay, up to this, before the first attempt (keepalived warmup); none by default. */
  warmup: duration.optional(),
  /** Starts failed until its first pass; default the virtual server's alpha (keepalived alpha). */
  alpha: z.boolean().optional(),
};

/** What every network checker shares: where it connects (connect_ip, bindto), how long it waits, its retries. */
const netFields = (retries: number, delayBeforeRetry: number) => ({
  ...timingFields,
  /** The address probed; default the real server's (keepalived connect_ip). */
  address: ipAddress.optional(),
  /** Source address of the probe (keepalived bindto); default: chosen by the kernel. */
  sourceAddress: ipAddress.optional(),
  connectTimeout: duration.default(5000),
  retries: z.number().int().min(0).max(100).default(retries),
  delayBeforeRetry: duration.default(delayBeforeRetry),
});

const REGEX_OPTIONS = ['caseless', 'multiline', 'dotall', 'utf'] as const;

const httpUrl = z.strictObject({
  path: z.string().startsWith('/'),
  /** MD5 of the body, as genhash prints it. */
  digest: z.string().regex(/^[0-9a-fA-F]{32}$/, 'an MD5 hex digest (32 hex digits)').optional(),
  status: z.number().int().min(100).max(599).optional(),
  /** The body must match this regular expression (JavaScript syntax; keepalived url regex). */
  regex: z.string().min(1).optional(),
  /** Inverts regex: a match fails the check (keepalived regex_no_match). */
  regexNoMatch: z.boolean().default(false),
  /** keepalived regex_options that have a JavaScript equivalent: caseless (i), multiline (m), dotall (s), utf (u). */
  regexOptions: z.array(z.enum(REGEX_OPTIONS)).default([]),
  /** The match may start no earlier than this byte of the body (keepalived regex_min_offset). */
  regexMinOffset: z.number().int().min(0).optional(),
  /** The match must start at or before this byte of the body (keepalived regex_max_offset). */
  regexMaxOffset: z.number().int().min(0).optional(),
}).superRefine((u, ctx) => {
  if (u.regex === undefined) {
    if (u.regexNoMatch || u.regexOptions.length || u.regexMinOffset !== undefined || u.regexMaxOffset !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'regexNoMatch, regexOptions and the regex offsets need a regex' });
    }
    return;
  }
  try {
    new RegExp(u.regex, regexFlags(u.regexOptions));
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: ['regex'], message: `not a valid regular expression: ${(e as Error).message}` });
  }
  if (u.regexMinOffset !== undefined && u.regexMaxOffset !== undefined && u.regexMinOffset > u.regexMaxOffset) {
    ctx.addIssue({ code: 'custom', path: ['regexMinOffset'], message: 'regexMinOffset is beyond regexMaxOffset: the check could never pass' });
  }
});

/** JavaScript RegExp flags for keepalived's regex_options. */
export function regexFlags(options: readonly (typeof REGEX_OPTIONS)[number][]): string {
  const f: Record<(typeof REGEX_OPTIONS)[number], string> = { caseless: 'i', multiline: 'm', dotall: 's', utf: 'u' };
  return options.map((o) => f[o]).join('');
}

export const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'] as const;

/**
 * A health check of a real server (keepalived HTTP_GET / SSL_GET / TCP_CHECK / MISC_CHECK / DNS_CHECK / UDP_CHECK /
 * PING_CHECK / SMTP_CHECK / FILE_CHECK).
 */
export const checkSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.enum(['http', 'https']),
    /** url { path digest status_code regex }: one or more. */
    urls: z.array(httpUrl).min(1),
    port: port.optional(),
    ...netFields(3, 3000),
    virtualHost: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('tcp'),
    port: port.optional(),
    ...netFields(1, 1000),
  }),
  z.strictObject({
    type: z.literal('misc'),
    script: command,
    timeout: duration.default(5000),
    ...timingFields,
  }),
  /** keepalived DNS_CHECK: a query over UDP; any answer with RCODE 0 (NOERROR) passes. */
  z.strictObject({
    type: z.literal('dns'),
    port: port.optional(),
    ...netFields(3, 0),
    /** Default the checker's delay loop (keepalived). */
    delayBeforeRetry: duration.optional(),
    /** The query type (keepalived `type`, default SOA). */
    queryType: z.enum(DNS_TYPES).default('SOA'),
    /** The name asked for (keepalived `name`, default the root "."). */
    name: z.string().min(1).max(253).regex(/^(\.|([^.\s]{1,63}\.)*[^.\s]{1,63}\.?)$/, 'a domain name like "www.example.com" or "."').default('.'),
    /** vrrpd extension: every one of these addresses must be in the answer's A/AAAA records. */
    expect: z.array(ipAddress).optional(),
  }),
  /** keepalived UDP_CHECK: a datagram is sent; an ICMP error fails; with requireReply a fitting reply must come back. */
  z.strictObject({
    type: z.literal('udp'),
    port: port.optional(),
    ...netFields(1, 1000),
    /** Bytes sent (keepalived payload); default 32 bytes of filler. */
    payload: hexString.optional(),
    /** A reply must arrive within connectTimeout (keepalived require_reply); otherwise silence passes. */
    requireReply: z.boolean().default(false),
    /** The reply's first bytes must be these (x: any nibble); compared up to the shorter length (keepalived). */
    replyData: hexMaskString.optional(),
    minReplyLength: z.number().int().min(0).max(65535).default(0),
    maxReplyLength: z.number().int().min(0).max(65535).default(255),
  }),
  /** keepalived PING_CHECK: an ICMP/ICMPv6 echo request; the matching echo reply within connectTimeout passes. */
  z.strictObject({
    type: z.literal('ping'),
    ...netFields(1, 1000),
  }),
  /** keepalived SMTP_CHECK: banner 220, HELO -> 250, QUIT. */
  z.strictObject({
    type: z.literal('smtp'),
    port: port.optional(),
    ...netFields(1, 1000),
    /** The HELO argument (keepalived helo_name). */
    heloName: z.string().min(1).regex(/^\S+$/, 'one word (no spaces)').default('smtpchecker.keepalived.org'),
  }),
  /**
   * keepalived FILE_CHECK (with its track_file): the number in the file times weight is added to the real server's
   * weight; weight 0: any non-zero number fails the server (reverse: zero fails it). Re-read when the file changes.
   */
  z.strictObject({
    type: z.literal('file'),
    file: z.string().min(1).startsWith('/', 'an absolute path'),
    weight: z.number().int().min(-2147483647).max(2147483647).default(1),
    /** The number counts negatively (keepalived `weight N reverse`). */
    reverse: z.boolean().default(false),
  }),
]).superRefine((c, ctx) => {
  if (c.type !== 'udp') return;
  if (c.replyData !== undefined && !c.requireReply) ctx.addIssue({ code: 'custom', path: ['replyData'], message: 'replyData needs requireReply: true' });
  if (c.minReplyLength > c.maxReplyLength) {
    ctx.addIssue({ code: 'custom', path: ['minReplyLength'], message: `minReplyLength ${c.minReplyLength} > maxReplyLength ${c.maxReplyLength}: the check could never pass` });
  }
});

export type Check = z.output<typeof checkSchema>;

const realServerSchema = z.strictObject({
  address: ipAddress,
  /** 0 for fwmark services (the packet's port is kept). */
  port: z.number().int().min(0).max(65535).default(0),
  weight: z.number().int().min(0).max(65535).default(1),
  /** Per-server forwarding; default the service's. */
  forwarding: z.enum(['dr', 'nat', 'tun']).optional(),
  upperThreshold: z.number().int().min(0).default(0),
  lowerThreshold: z.number().int().min(0).default(0),
  /** Health checks: the server is healthy only while every one passes (keepalived: all its checkers). */
  checks: z.array(checkSchema).default([]),
  /** Shorthand for a one-element `checks`. */
  check: checkSchema.optional(),
  /** Overrides the service's inhibitOnFailure for this server. */
  inhibitOnFailure: z.boolean().optional(),
}).superRefine((rs, ctx) => {
  if (rs.check && rs.checks.length) ctx.addIssue({ code: 'custom', path: ['check'], message: 'give either check or checks (a list), not both' });
}).transform(({ check, ...rs }) => ({ ...rs, checks: check ? [check] : rs.checks }));

/** IP_VS_SVC_F_SCHED1..3 by name, as ipvsadm -b spells them (sh-*, mh-* are aliases of flag-1 / flag-2). */
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3'] as const;

/** An IPVS virtual service: by address and port (TCP/UDP, IPv4/IPv6) or by firewall mark. */
export const virtualServerSchema = z.strictObject({
  address: ipAddress.optional(),
  port: z.number().int().min(0).max(65535).optional(),
  fwmark: z.number().int().min(1).max(0xffffffff).optional(),
  /** With fwmark: the family of the marked packets. */
  family: z.union([z.literal(4), z.literal(6)]).default(4),
  protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
  scheduler: z.enum(SCHEDULERS).default('wlc'),
  forwarding: z.enum(['dr', 'nat', 'tun']).default('dr'),
  /** keepalived persistence_timeout; 0 = no persistence. */
  persistence: duration.default(0),
  persistenceNetmask: z.string().optional(),
  /** Health-check period (keepalived delay_loop). */
  delayLoop: duration.default(60_000),
  virtualHost: z.string().optional(),
  sorryServer: z.strictObject({ address: ipAddress, port: z.number().int().min(0).max(65535).default(0) }).optional(),
  /** VRRP instance whose MASTER state carries this service; default: every instance. */
  instance: z.string().optional(),
  realServers: z.array(realServerSchema).default([]),
  /** Real servers start failed until their checks first pass (keepalived alpha); default they start healthy. */
  alpha: z.boolean().default(false),
  /** Scheduler flags (ipvsadm -b, keepalived sh-port/sh-fallback/mh-port/mh-fallback/flag-1..3). */
  schedulerFlags: z.array(z.enum(SCHEDULER_FLAGS)).default([]),
  /** One-packet scheduling (keepalived ops, ipvsadm -o): UDP only; every datagram scheduled on its own. */
  onePacket: z.boolean().default(false),
  /** Persistence engine (keepalived persistence_engine); needs persistence. */
  persistenceEngine: z.enum(['sip']).optional(),
  /** A failing real server stays in the table with weight 0 (keepalived inhibit_on_failure, ldirectord quiescent=yes). */
  inhibitOnFailure: z.boolean().default(false),
  /** Sum of the weights of the live real servers needed for the service to be up (keepalived quorum). */
  quorum: z.number().int().min(0).default(1),
  /** Quorum is lost below quorum - hysteresis and gained again at quorum + hysteresis (keepalived hysteresis). */
  hysteresis: z.number().int().min(0).default(0),
  /** Run when quorum is gained (keepalived quorum_up). */
  quorumUp: command.optional(),
  /** Run when quorum is lost (keepalived quorum_down). */
  quorumDown: command.optional(),
  /** quorumDown also runs at shutdown (keepalived omega). */
  omega: z.boolean().default(false),
});

export const ipvsSchema = z.strictObject({
  /** false: VRRP only (labs, VRRP-only uses); same as `vrrpd run --no-ipvs`. */
  enabled: z.boolean().default(true),
  /** IPVS connection timeouts (keepalived lvs_timeouts, ipvsadm --set): whole seconds; unset ones are left as they are. */
  timeouts: z.strictObject({ tcp: duration.optional(), tcpFin: duration.optional(), udp: duration.optional() }).optional(),
  /**
   * On BACKUP: keep the services installed (default, as keepalived: a takeover finds the table in place and does
   * not wait for it, whatever its size; README "IPVS on a BACKUP") or remove them.
   */
  onBackup: z.enum(['remove', 'keep']).default('keep'),
  /**
   * Read the kernel's table (and sync daemons) back this often and restore what someone else deleted or altered
   * (`ipvsadm -C`, `-D`, `-e`); 0 = never. Nothing is sent when nothing changed: one dump per period.
   */
  auditInterval: duration.default(2000),
  /** net.ipv4.vs sysctls for active-active directors: applied when there is an announce group. */
  activeActive: activeActiveSchema.prefault({}),
  syncDaemon: z.strictObject({
    interface: ifname,
    syncId: z.number().int().min(0).max(255).default(0),
    multicastGroup: ipAddress.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    ttl: z.number().int().min(1).max(255).optional(),
    maxLen: z.number().int().min(1).max(65535).optional(),
  }).optional(),
});

export const configSchema = z.strictObject({
  global: z.strictObject({
    routerId: z.string().optional(),
    controlSocket: z.string().default('/run/vrrpd/vrrpd.sock'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    /** Prometheus /metrics on this host:port (e.g. "127.0.0.1:9650"); off when absent. */
    metricsListen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5}$/, 'host:port, e.g. 127.0.0.1:9650 or [::1]:9650').optional(),
    /** Group allowed to use the control socket (mode 0660); root only (0600) when absent. */
    controlGroup: z.string().optional(),
    /**
     * Run the whole daemon inside this named network namespace (/run/netns/NAME, as `ip netns add`
     * creates it): setns(2) before any socket is opened (keepalived net_namespace).
     */
    netNamespace: z.string().regex(/^(?!\.\.?$)[^/\s\0]{1,255}$/, 'a network namespace name as `ip netns` shows it (no "/")').optional(),
    /**
     * Poll the config file (and the files it reads virtual servers from) this often; a changed file is reloaded
     * as by SIGHUP: validated whole, a bad one refused and the running config kept (ldirectord autoreload).
     */
    autoReload: duration.optional(),
    /** SNMP AgentX subagent serving the VRRPv3-MIB (RFC 6527); off when absent (config/snmp.ts). */
    snmp: snmpSchema.optional(),
    /**
     * Timing on a busy box (keepalived vrrp_rt_priority, vrrp_no_swap, vrrp_cpu_affinity): every thread of the
     * daemon at a real-time priority, its memory locked, its CPUs. `vrrpd run --rt-priority/--lock-memory/
     * --cpu-affinity` override these (conf/vrrpd.service passes them).
     */
    scheduling: z.strictObject({
      realtimePriority: z.number().int().min(0).max(99).default(0),
      policy: z.enum(['rr', 'fifo']).default('rr'),
      // The code (node, libraries, addon) and the stack locked on fault; not the heap: V8 aborts on locked heap pages.
      lockMemory: z.boolean().default(false),
      cpuAffinity: z.array(z.number().int().min(0).max(1023)).default([]),
    }).prefault({}),
  }).prefault({}),
  ipvs: ipvsSchema.prefault({}),
  virtualServers: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), virtualServerSchema).default({}),
  trackScripts: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), trackScriptSchema).default({}),
  trackFiles: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), trackFileSchema).default({}),
  /**
   * Virtual servers read from another format's file (path relative to this file), added to virtualServers: a
   * heartbeat + ldirectord director keeps its ldirectord.cf; `instance` ties them to one VRRP instance.
   */
  virtualServersFrom: z.array(z.strictObject({
    ldirectord: z.string().min(1).optional(),
    ipvsadm: z.string().min(1).optional(),
    instance: z.string().optional(),
  }).refine((v) => (v.ldirectord === undefined) !== (v.ipvsadm === undefined), 'one of ldirectord or ipvsadm')).default([]),
  /** May be empty when virtualServers exist: a standalone director (no VRRP), its services always programmed. */
  instances: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'an instance name of letters, digits, "_", "-", "."'), instanceSchema).default({}),
  syncGroups: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a group name of letters, digits, "_", "-", "."'), syncGroupSchema).default({}),
  /** Announce mode (conf/README.md): groups of VIPs announced by BGP through BIRD while this director is fit. */
  announce: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a group name of letters, digits, "_", "-", "."'), announceSchema).default({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type InstanceSettings = z.output<typeof instanceSchema>;
export type TrackScript = z.output<typeof trackScriptSchema>;
export type TrackFile = z.output<typeof trackFileSchema>;
export type NotifySettings = z.output<typeof notifySchema>;
export type VirtualServer = z.output<typeof virtualServerSchema>;
export type SyncGroup = z.output<typeof syncGroupSchema>;
export type RealServer = VirtualServer['realServers'][number];
export type { AnnounceSettings, ActiveActiveSettings } from './announce-schema.js';
export type SchedulerFlag = (typeof SCHEDULER_FLAGS)[number];
