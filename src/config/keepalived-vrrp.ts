// keepalived vrrp_instance, vrrp_script and track_file -> vrrpd instances, trackScripts, trackFiles (vrrp_sync_group: keepalived-sync.ts).
import type { z } from 'zod';
import type { instanceSchema, trackFileSchema, trackScriptSchema } from './schema.js';
import { duration, type KeywordTable, type MapContext } from './keepalived-ctx.js';
import type { GlobalDefs } from './keepalived-global.js';
import type { Statement } from './keepalived-parse.js';

type InstanceIn = z.input<typeof instanceSchema>;
type TrackScriptIn = z.input<typeof trackScriptSchema>;
type TrackFileIn = z.input<typeof trackFileSchema>;

export interface TrackRef { name: string; weight?: number; stmt: Statement }

export interface InstanceDraft {
  ctx: MapContext;
  name: string;
  stmt: Statement;
  /** "instances.NAME" */
  path: string;
  interface?: string;
  vrid?: number;
  state?: 'MASTER' | 'BACKUP';
  priority?: number;
  version?: 2 | 3;
  advert?: { sec: number; stmt: Statement };
  nopreempt?: Statement;
  preemptDelay?: { sec: number; stmt: Statement };
  auth?: { type?: string; pass?: string; stmt: Statement };
  sourceAddress?: string;
  unicastPeers: string[];
  checksumAsV2?: boolean;
  vips: string[];
  excludedVips: string[];
  garp: { masterDelay?: number; masterRepeat?: number; masterRefresh?: number; refreshRepeat?: number; lowerPrioRepeat?: number };
  trackInterfaces: (string | { name: string; weight: number })[];
  dontTrackPrimary?: boolean;
  higherPrioSendAdvert?: boolean;
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  notify: { master?: string; backup?: string; fault?: string; stop?: string; any?: string };
  /** lvs_sync_daemon_interface (keepalived 1.x): the sync daemon follows this instance. */
  syncInterface?: { iface: string; stmt: Statement };
}

export function newInstance(ctx: MapContext, s: Statement, name: string): InstanceDraft {
  return { ctx, name, stmt: s, path: `instances.${name}`, unicastPeers: [], vips: [], excludedVips: [], garp: {},
    trackInterfaces: [], trackScripts: [], trackFiles: [], notify: {} };
}

const VIP_VALUE_OPTS = new Set(['brd', 'scope', 'peer', 'preferred_lft', 'track_group', 'broadcast']);
const VIP_FLAG_OPTS = new Set(['home', '-nodad', 'nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'no_track']);

/** "192.168.1.250/24 dev eth0 label eth0:1 scope global" -> "192.168.1.250/24 dev eth0 label eth0:1" (+ warnings). */
function vipEntry(ctx: MapContext, s: Statement): string | undefined {
  ctx.noBlock(s);
  let dev: string | undefined;
  let label: string | undefined;
  const a = s.args.map((t) => t.text);
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!;
    if (k === 'dev' || k === 'label') {
      const v = a[++i];
      if (v === undefined) ctx.error(s, `"${k}" needs a value`, s.keyword);
      else if (k === 'dev') dev = v;
      else label = v;
    } else if (k === 'use_vmac') {
      ctx.error(s, 'not supported: VMACs (use_vmac)', 'use_vmac');
    } else if (VIP_VALUE_OPTS.has(k)) {
      ctx.warn(s, `VIP option "${k} ${a[i + 1] ?? ''}" ignored: vrrpd adds the address with the kernel defaults`, k);
      if (k !== 'broadcast') i++;
    } else if (VIP_FLAG_OPTS.has(k)) {
      ctx.warn(s, `VIP option "${k}" ignored: vrrpd adds the address with the kernel defaults`, k);
    } else {
      ctx.warn(s, `unknown VIP option "${k}" ignored`, k);
    }
  }
  return `${s.keyword}${dev ? ` dev ${dev}` : ''}${label ? ` label ${label}` : ''}`;
}

function vipBlock(key: 'vips' | 'excludedVips') {
  return (s: Statement, d: InstanceDraft): void => {
    d.ctx.extra(s, 0);
    for (const e of d.ctx.needBlock(s)) {
      const v = vipEntry(d.ctx, e);
      if (v === undefined) continue;
      d.ctx.at(`${d.path}.${key}.${d[key].length}`, e);
      d[key].push(v);
    }
  };
}

/** Entries "NAME [weight N [reverse|noreverse]]" of track_script / track_file / track_interface. */
export function trackEntries(ctx: MapContext, s: Statement): TrackRef[] {
  const out: TrackRef[] = [];
  ctx.extra(s, 0);
  for (const e of ctx.needBlock(s)) {
    ctx.noBlock(e);
    const ref: TrackRef = { name: e.keyword, stmt: e };
    const a = e.args.map((t) => t.text);
    if (a[0] === 'weight') {
      ref.weight = ctx.int(e, 1);
      if (a[2] === 'reverse') ctx.error(e, 'not supported: "reverse" weights', 'reverse');
      else if (a[2] !== undefined && a[2] !== 'noreverse') ctx.warn(e, `extra arguments ignored: ${a.slice(2).join(' ')}`);
      else if (a.length > 3) ctx.warn(e, `extra arguments ignored: ${a.slice(3).join(' ')}`);
    } else if (a.length) ctx.warn(e, `extra arguments ignored: ${a.join(' ')}`);
    out.push(ref);
  }
  return out;
}

function setNotify(key: keyof InstanceDraft['notify']) {
  return (s: Statement, d: InstanceDraft): void => {
    const cmd = d.ctx.command(s);
    if (cmd === undefined) return;
    d.notify[key] = cmd;
    d.ctx.at(`${d.path}.notify.${key}`, s);
  };
}

function setGarp(key: keyof InstanceDraft['garp'], how: 'seconds' | 'int') {
  return (s: Statement, d: InstanceDraft): void => {
    const v = how === 'seconds' ? d.ctx.seconds(s) : d.ctx.int(s);
    d.ctx.extra(s, 1);
    if (v === undefined) return;
    d.garp[key] = v;
    const field = { masterDelay: 'masterDelay', masterRepeat: 'masterRepeat', masterRefresh: 'masterRefresh',
      refreshRepeat: 'refreshRepeat', lowerPrioRepeat: 'lowerPriorityRepeat' }[key];
    d.ctx.at(`${d.path}.garp.${field}`, s);
  };
}

/** keepalived reads an address up to a "/" or "-" (inet_stosockaddr): "10.0.0.1/24" is 10.0.0.1. The same, with a warning. */
function bareAddress(ctx: MapContext, s: Statement, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const cut = text.search(/[/-]/);
  if (cut < 0) return text;
  ctx.warn(s, `"${text}": the address is ${text.slice(0, cut)} (keepalived drops the "${text.slice(cut)}" part too)`);
  return text.slice(0, cut);
}

const REFUSE_VMAC = 'VMACs/ipvlans: vrrpd puts the VIPs on the interface with its own MAC';
export const REFUSE_TRACK = 'vrrpd cannot track it, and ignoring it would change the election (priority or FAULT)';

export const VRRP_INSTANCE: KeywordTable<InstanceDraft> = {
  handlers: {
    interface: (s, d) => { d.interface = d.ctx.arg(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.interface`, s); },
    virtual_router_id: (s, d) => { d.vrid = d.ctx.int(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.vrid`, s); },
    state: (s, d) => {
      const v = d.ctx.arg(s)?.toUpperCase();
      d.ctx.extra(s, 1);
      if (v === 'MASTER' || v === 'BACKUP') d.state = v;
      else if (v !== undefined) d.ctx.error(s, `"${s.args[0]!.text}" is not MASTER or BACKUP`);
      d.ctx.at(`${d.path}.state`, s);
    },
    priority: (s, d) => { d.priority = d.ctx.int(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.priority`, s); },
    version: (s, d) => {
      const v = d.ctx.int(s);
      if (v === 2 || v === 3) d.version = v;
      else if (v !== undefined) d.ctx.error(s, 'must be 2 or 3');
      d.ctx.at(`${d.path}.version`, s);
    },
    advert_int: (s, d) => {
      const v = d.ctx.seconds(s);
      d.ctx.extra(s, 1);
      if (v !== undefined) d.advert = { sec: v, stmt: s };
      d.ctx.at(`${d.path}.advertInterval`, s);
    },
    nopreempt: (s, d) => { d.ctx.extra(s, 0); d.nopreempt = s; d.ctx.at(`${d.path}.preempt`, s); },
    preempt: (s, d) => { d.ctx.extra(s, 0); d.nopreempt = undefined; },
    preempt_delay: (s, d) => {
      const v = d.ctx.seconds(s);
      d.ctx.extra(s, 1);
      if (v !== undefined) d.preemptDelay = { sec: v, stmt: s };
      d.ctx.at(`${d.path}.preemptDelay`, s);
    },
    authentication: (s, d) => {
      d.ctx.extra(s, 0);
      d.auth = { stmt: s };
      d.ctx.at(`${d.path}.auth`, s);
      for (const e of d.ctx.needBlock(s)) {
        d.ctx.noBlock(e);
        if (e.keyword === 'auth_type') {
          d.auth.type = d.ctx.arg(e)?.toUpperCase();
          if (d.auth.type === 'AH') d.ctx.error(e, 'not supported: IPsec AH authentication (vrrpd speaks PASS or none)');
          else if (d.auth.type !== undefined && d.auth.type !== 'PASS') d.ctx.error(e, `"${e.args[0]!.text}" is not PASS or AH`);
        } else if (e.keyword === 'auth_pass') {
          d.auth.pass = d.ctx.arg(e);
          d.ctx.extra(e, 1);
          d.ctx.at(`${d.path}.auth.password`, e);
        } else d.ctx.warn(e, 'unknown keyword in authentication; ignored');
      }
    },
    mcast_src_ip: (s, d) => { d.sourceAddress = bareAddress(d.ctx, s, d.ctx.arg(s)); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.sourceAddress`, s); },
    unicast_src_ip: (s, d) => VRRP_INSTANCE.handlers.mcast_src_ip!(s, d),
    unicast_peer: (s, d) => {
      d.ctx.extra(s, 0);
      for (const e of d.ctx.needBlock(s)) {
        d.ctx.noBlock(e);
        if (e.args.length) d.ctx.error(e, `not supported: peer options ${e.args.map((t) => t.text).join(' ')} (vrrpd does not filter unicast adverts by TTL or source)`);
        d.ctx.at(`${d.path}.unicastPeers.${d.unicastPeers.length}`, e);
        d.unicastPeers.push(bareAddress(d.ctx, e, e.keyword)!);
      }
    },
    v3_checksum_as_v2: (s, d) => {
      const b = d.ctx.bool(s);
      if (b !== undefined) d.checksumAsV2 = b;
      d.ctx.at(`${d.path}.checksum`, s);
    },
    virtual_ipaddress: vipBlock('vips'),
    virtual_ipaddress_excluded: vipBlock('excludedVips'),
    no_virtual_ipaddress: (s, d) => d.ctx.extra(s, 0),
    track_interface: (s, d) => {
      for (const r of trackEntries(d.ctx, s)) {
        d.ctx.at(`${d.path}.trackInterfaces.${d.trackInterfaces.length}`, r.stmt);
        d.trackInterfaces.push(r.weight === undefined ? r.name : { name: r.name, weight: r.weight });
      }
    },
    higher_prio_send_advert: (s, d) => {
      const b = d.ctx.bool(s);
      if (b !== undefined) d.higherPrioSendAdvert = b;
      d.ctx.at(`${d.path}.higherPrioritySendAdvert`, s);
    },
    dont_track_primary: (s, d) => { d.ctx.extra(s, 0); d.dontTrackPrimary = true; d.ctx.at(`${d.path}.dontTrackPrimary`, s); },
    track_script: (s, d) => { d.trackScripts.push(...trackEntries(d.ctx, s)); },
    track_file: (s, d) => { d.trackFiles.push(...trackEntries(d.ctx, s)); },
    garp_master_delay: setGarp('masterDelay', 'seconds'),
    garp_master_repeat: setGarp('masterRepeat', 'int'),
    garp_master_refresh: setGarp('masterRefresh', 'seconds'),
    garp_master_refresh_repeat: setGarp('refreshRepeat', 'int'),
    garp_lower_prio_repeat: setGarp('lowerPrioRepeat', 'int'),
    notify_master: setNotify('master'),
    notify_backup: setNotify('backup'),
    notify_fault: setNotify('fault'),
    notify_stop: setNotify('stop'),
    notify: setNotify('any'),
    lvs_sync_daemon_interface: (s, d) => {
      const iface = d.ctx.arg(s, 0, 'an interface');
      d.ctx.extra(s, 1);
      if (iface !== undefined) d.syncInterface = { iface, stmt: s };
    },
    mcast_dst_ip: (s, d) => {
      const v = d.ctx.arg(s)?.toLowerCase();
      if (v !== '224.0.0.18' && v !== 'ff02::12') d.ctx.error(s, 'not supported: vrrpd uses the VRRP groups 224.0.0.18 / ff02::12');
    },
    skip_check_adv_addr: (s, d) => {
      if (d.ctx.bool(s) !== false) d.ctx.error(s, 'not supported: vrrpd checks the address list of every advert (keepalived\'s default); skipping it for the same master is not');
    },
    down_timer_adverts: (s, d) => {
      if (d.ctx.int(s) !== 3) d.ctx.error(s, 'not supported: vrrpd uses the RFC Master_Down_Interval of 3 adverts plus skew');
    },
  },
  ignored: {
    garp_lower_prio_delay: 'vrrpd answers a lower-priority advert with one GARP burst, without a delayed second one',
    garp_extra_if: 'no periodic GARPs on interfaces other than the instance\'s',
    smtp_alert: 'vrrpd sends no e-mail (use notify scripts)',
    notify_deleted: 'no DELETED notify state in vrrpd',
    notify_master_rx_lower_pri: 'no notify for a lower-priority advert heard as MASTER (it is logged and counted)',
    notify_priority_changes: 'notify FIFOs are not supported',
    debug: 'use --log-level',
    kernel_rx_buf_size: 'socket buffer sizes are not configurable',
    linkbeat_use_polling: 'vrrpd follows link state through netlink',
    native_ipv6: 'the VIPs decide the address family',
    accept: 'vrrpd installs no firewall rules: VIPs always accept traffic (keepalived\'s default)',
    no_accept: 'vrrpd installs no firewall rules: VIPs always accept traffic',
    strict_mode: 'strict mode is not a vrrpd setting; vrrpd applies its own RFC checks',
    unicast_fault_no_peer: 'a vrrpd instance without unicast peers uses multicast',
    unicast_ttl: 'the advert TTL is not configurable in vrrpd',
    old_unicast_checksum: 'vrrpd sends the current v3 unicast checksum (keepalived peers accept both) and accepts both on receive',
    lower_prio_no_advert: 'vrrpd always answers a lower-priority advert at once (RFC 9568, keepalived\'s default)',
    promote_secondaries: 'set net.ipv4.conf.IF.promote_secondaries with sysctl',
    track_src_ip: 'no source-address tracking in vrrpd',
    timer_expired_backup: 'no such setting in vrrpd',
  },
  refused: {
    use_vmac: REFUSE_VMAC, vmac_xmit_base: REFUSE_VMAC, use_vmac_addr: REFUSE_VMAC, use_ipvlan: REFUSE_VMAC,
    track_process: REFUSE_TRACK, track_bfd: REFUSE_TRACK,
    virtual_routes: 'vrrpd does not add routes on MASTER; the MASTER would lack them',
    virtual_rules: 'vrrpd does not add policy rules on MASTER; the MASTER would lack them',
    auth_hmac: 'HMAC advert authentication (peers would drop vrrpd\'s adverts)',
    vrf: 'VRF binding of unicast instances',
    check_unicast_src: 'vrrpd does not filter unicast adverts by source: an advert keepalived drops would be heard',
  },
};

/** Apply keepalived's completion rules and the global defaults; returns the vrrpd instance (input shape). */
export function finishInstance(d: InstanceDraft, g: GlobalDefs, scripts: Set<string>, files: Set<string>): InstanceIn {
  const { ctx } = d;
  const family = (d.vips[0] ?? '').split(/[\s/]/)[0]!.includes(':') ? 6 : 4;
  // keepalived: IPv6 instances are VRRPv3 unless told otherwise; else global vrrp_version, default 2.
  const version = d.version ?? (family === 6 ? 3 : g.version ?? 2);
  const priority = d.priority ?? (d.state === 'MASTER' ? 255 : 100);
  let preempt = d.nopreempt === undefined;
  if (d.nopreempt && priority === 255) {
    ctx.warn(d.nopreempt, 'nopreempt has no effect for the address owner (priority 255): preempt stays on, as in keepalived');
    preempt = true;
  }
  const state = d.state ?? (priority === 255 && preempt ? 'MASTER' : 'BACKUP');
  if (d.nopreempt && preempt === false && state === 'MASTER') {
    ctx.warn(d.nopreempt, 'nopreempt does not work with "state MASTER" (keepalived warns the same): use state BACKUP');
  }
  // keepalived drops an advert whose address list differs from its own (vrrp.c vrrp_check_packet): so does vrrpd here.
  const out: Partial<InstanceIn> = { interface: d.interface, vrid: d.vrid, version, priority, state, strictAddressCheck: true };
  if (!preempt) out.preempt = false;
  if (d.preemptDelay && d.preemptDelay.sec > 0) {
    if (!preempt) ctx.warn(d.preemptDelay.stmt, 'preempt_delay has no effect with nopreempt: dropped, as keepalived does');
    else out.preemptDelay = duration(d.preemptDelay.sec);
  }
  if (d.advert) out.advertInterval = duration(advertSeconds(ctx, d.advert.sec, d.advert.stmt, version));
  if (d.auth && d.auth.type !== 'AH') {
    if (version === 3) ctx.warn(d.auth.stmt, 'VRRPv3 has no authentication: ignored, as keepalived does');
    else if (d.auth.type === undefined) ctx.warn(d.auth.stmt, 'authentication without auth_type: ignored');
    else if (!d.auth.pass) ctx.warn(d.auth.stmt, 'auth_type PASS without auth_pass: ignored, as keepalived does');
    else out.auth = { type: 'pass', password: d.auth.pass };
  }
  if (d.sourceAddress !== undefined) out.sourceAddress = d.sourceAddress;
  if (d.unicastPeers.length) out.unicastPeers = d.unicastPeers;
  if ((d.checksumAsV2 ?? g.checksumAsV2) === true && version === 3 && family === 4) out.checksum = 'no-pseudo-header';
  if (d.vips.length) out.vips = d.vips;
  if (d.excludedVips.length) out.excludedVips = d.excludedVips;
  const interval = family === 6 ? g.gnaInterval : g.garpInterval;
  const garp: NonNullable<InstanceIn['garp']> = {};
  const delay = d.garp.masterDelay ?? g.garpMasterDelay;
  const refresh = d.garp.masterRefresh ?? g.garpMasterRefresh;
  const repeat = d.garp.masterRepeat ?? g.garpMasterRepeat;
  const refreshRepeat = d.garp.refreshRepeat ?? g.garpRefreshRepeat;
  const lower = d.garp.lowerPrioRepeat ?? g.garpLowerPrioRepeat ?? g.garpMasterRepeat;
  if (delay !== undefined) garp.masterDelay = duration(delay);
  if (repeat !== undefined) garp.masterRepeat = repeat;
  if (refresh !== undefined) garp.masterRefresh = duration(refresh);
  if (refreshRepeat !== undefined) garp.refreshRepeat = refreshRepeat;
  if (lower !== undefined) garp.lowerPriorityRepeat = lower;
  if (interval !== undefined) garp.interval = duration(interval);
  if (Object.keys(garp).length) out.garp = garp;
  if (d.trackInterfaces.length) out.trackInterfaces = d.trackInterfaces;
  if (d.dontTrackPrimary) out.dontTrackPrimary = true;
  const hpsa = d.higherPrioSendAdvert ?? g.higherPrioSendAdvert;
  if (hpsa !== undefined) out.higherPrioritySendAdvert = hpsa;
  const refs = (list: TrackRef[], known: Set<string>, kind: string) => list.filter((r) => {
    if (known.has(r.name)) return true;
    ctx.warn(r.stmt, `no ${kind} "${r.name}": not tracked, as keepalived does`);
    return false;
  }).map((r) => (r.weight === undefined ? r.name : { name: r.name, weight: r.weight }));
  const ts = refs(d.trackScripts, scripts, 'vrrp_script');
  const tf = refs(d.trackFiles, files, 'track_file');
  if (ts.length) out.trackScripts = ts;
  if (tf.length) out.trackFiles = tf;
  if (Object.keys(d.notify).length) out.notify = { ...d.notify };
  return out as InstanceIn;
}

/** keepalived rounds the interval to what the version can carry: whole seconds (v2), centiseconds (v3). */
function advertSeconds(ctx: MapContext, sec: number, s: Statement, version: 2 | 3): number {
  if (sec === 0) {
    ctx.warn(s, 'advert_int 0 means the default, 1 s, as in keepalived');
    return 1;
  }
  const [unit, max] = version === 2 ? [1, 255] : [0.01, 40.95];
  let v = Math.round(sec / unit) * unit;
  v = Math.round(v * 100) / 100;
  if (v > max) v = max;
  if (v === 0) v = unit;
  if (v !== sec) ctx.warn(s, `VRRPv${version} carries ${version === 2 ? 'whole seconds up to 255' : '10 ms steps up to 40.95 s'}: ${sec} s becomes ${v} s, as in keepalived`);
  return v;
}

export interface ScriptDraft { ctx: MapContext; name: string; stmt: Statement; path: string; out: Partial<TrackScriptIn>; interval?: number; timeout?: number }

export const VRRP_SCRIPT: KeywordTable<ScriptDraft> = {
  handlers: {
    script: (s, d) => { const c = d.ctx.command(s); if (c !== undefined) d.out.script = c; d.ctx.at(`${d.path}.script`, s); },
    interval: (s, d) => { d.interval = d.ctx.seconds(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.interval`, s); },
    timeout: (s, d) => { d.timeout = d.ctx.seconds(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.timeout`, s); },
    rise: (s, d) => { d.out.rise = d.ctx.int(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.rise`, s); },
    fall: (s, d) => { d.out.fall = d.ctx.int(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.fall`, s); },
    weight: (s, d) => {
      d.out.weight = d.ctx.int(s);
      if (s.args[1]?.text === 'reverse') d.ctx.error(s, 'not supported: "reverse" weights', 'reverse');
      else d.ctx.extra(s, s.args[1]?.text === 'noreverse' ? 2 : 1);
      d.ctx.at(`${d.path}.weight`, s);
    },
    init_fail: (s, d) => { d.out.initFail = true; d.ctx.at(`${d.path}.initFail`, s); },
  },
  ignored: {
    user: "vrrpd runs scripts as its own user",
  },
  refused: {},
};

/** keepalived runs a check only when an instance tracks it: untracked ones are left out (with a warning). */
export function finishScript(d: ScriptDraft): TrackScriptIn {
  const { script, rise, fall, weight, initFail } = d.out;
  return {
    script: script ?? '',
    ...(d.interval !== undefined ? { interval: duration(d.interval) } : {}),
    // keepalived: the timeout defaults to the interval (vrrpd's own default is 5 s).
    timeout: duration(d.timeout ?? d.interval ?? 1),
    ...(rise !== undefined ? { rise } : {}),
    ...(fall !== undefined ? { fall } : {}),
    ...(weight !== undefined ? { weight } : {}),
    ...(initFail ? { initFail } : {}),
  };
}

export interface FileDraft { ctx: MapContext; name: string; stmt: Statement; path: string; out: Partial<TrackFileIn> }

export const TRACK_FILE: KeywordTable<FileDraft> = {
  handlers: {
    file: (s, d) => { d.out.file = d.ctx.arg(s); d.ctx.extra(s, 1); d.ctx.at(`${d.path}.file`, s); },
    weight: (s, d) => {
      d.out.weight = d.ctx.int(s);
      if (s.args[1]?.text === 'reverse') d.ctx.error(s, 'not supported: "reverse" weights', 'reverse');
      d.ctx.at(`${d.path}.weight`, s);
    },
    // keepalived writes VALUE (default 0) when the file is missing, or always with "overwrite". vrrpd writes no
    // tracked file: a missing one reads as 0, the same only for a value of 0 without overwrite.
    init_file: (s, d) => {
      const [value, over] = [s.args[0]?.text, s.args[1]?.text ?? (s.args[0]?.text === 'overwrite' ? 'overwrite' : undefined)];
      if (over === 'overwrite') d.ctx.error(s, 'not supported: "overwrite" (vrrpd does not write tracked files; the file\'s value at start would differ)');
      else if (value !== undefined && Number(value) !== 0) d.ctx.error(s, `not supported: init_file ${value} (vrrpd does not create tracked files: a missing one reads as 0, not ${value})`);
      else d.ctx.warn(s, 'ignored: vrrpd does not create tracked files; a missing one reads as 0, as init_file 0 would set it');
    },
  },
  ignored: {},
  refused: {},
};
