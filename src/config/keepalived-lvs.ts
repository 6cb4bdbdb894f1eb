// keepalived virtual_server, real_server and their health checkers -> vrrpd virtualServers (keepalived's defaults made explicit).
import type { z } from 'zod';
import type { virtualServerSchema } from './schema.js';
import {
  CHECK_TIMING, CHECKER_KEYWORDS, CHECKER_TIMING, defined, finishCheck, readChecker,
  type CheckDraft, type CheckIn, type Timing, type TrackFileLookup,
} from './keepalived-checkers.js';
import { duration, type KeywordTable, type MapContext } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';
import { entryName, type GroupDraft, type GroupEntry } from './keepalived-vsg.js';

type VsIn = z.input<typeof virtualServerSchema>;
type RsIn = NonNullable<VsIn['realServers']>[number];

interface VsDraft {
  ctx: MapContext; path: string; out: Partial<VsIn>; timing: Timing; servers: RsDraft[]; lookup: TrackFileLookup;
  /** Statements to report keepalived's own corrections at. */
  at: Partial<Record<'protocol' | 'quorum' | 'hysteresis' | 'sorryMethod' | 'forwarding', Statement>>;
  sorryMethod?: 'dr' | 'nat' | 'tun';
}
interface RsDraft {
  ctx: MapContext; path: string; stmt: Statement; out: Partial<RsIn>; timing: Timing; virtualHost?: string; checks: CheckDraft[];
  lookup: TrackFileLookup;
}

function method(ctx: MapContext, s: Statement): 'dr' | 'nat' | 'tun' | undefined {
  const v = ctx.arg(s)?.toUpperCase();
  if (v === undefined) return undefined;
  const m = ({ DR: 'dr', NAT: 'nat', TUN: 'tun' } as const)[v];
  if (!m) ctx.error(s, `"${s.args[0]!.text}" is not NAT, DR or TUN`);
  else if (s.args.length > 1) {
    // "type ipip" is the kernel's default tunnel; GUE/GRE and checksum options change the packets sent.
    const opts = s.args.slice(1).map((t) => t.text);
    if (m === 'tun' && opts.length === 2 && opts[0] === 'type' && opts[1] === 'ipip') return m;
    ctx.error(s, `not supported: tunnel options ${opts.join(' ')} (vrrpd tunnels with IPIP only)`);
  }
  return m;
}

/** A checker block: several per real server, all must pass (keepalived). */
const checker = (s: Statement, r: RsDraft): void => {
  r.checks.push(...readChecker(r.ctx, s, `${r.path}.checks.${r.checks.length}`, r.lookup));
};

export const REAL_SERVER: KeywordTable<RsDraft> = {
  handlers: {
    weight: (s, r) => { r.out.weight = r.ctx.int(s); r.ctx.extra(s, 1); r.ctx.at(`${r.path}.weight`, s); },
    lvs_method: (s, r) => { r.out.forwarding = method(r.ctx, s); r.ctx.at(`${r.path}.forwarding`, s); },
    lb_kind: (s, r) => REAL_SERVER.handlers.lvs_method!(s, r),
    uthreshold: (s, r) => { r.out.upperThreshold = r.ctx.int(s); r.ctx.extra(s, 1); r.ctx.at(`${r.path}.upperThreshold`, s); },
    lthreshold: (s, r) => { r.out.lowerThreshold = r.ctx.int(s); r.ctx.extra(s, 1); r.ctx.at(`${r.path}.lowerThreshold`, s); },
    virtualhost: (s, r) => { r.virtualHost = r.ctx.arg(s); r.ctx.extra(s, 1); },
    inhibit_on_failure: (s, r) => {
      const b = r.ctx.bool(s);
      r.ctx.extra(s, 1);
      if (b !== undefined) r.out.inhibitOnFailure = b;
      r.ctx.at(`${r.path}.inhibitOnFailure`, s);
    },
    ...CHECKER_TIMING,
    ...Object.fromEntries(CHECKER_KEYWORDS.map((k) => [k, checker])),
  },
  ignored: {
    notify_up: 'no real-server notify scripts in vrrpd (they run after the change; the table is the same)',
    notify_down: 'no real-server notify scripts in vrrpd (they run after the change; the table is the same)',
    smtp_alert: 'vrrpd sends no e-mail', snmp_name: 'no checker MIB in vrrpd (it serves the VRRPv3-MIB only)',
  },
  refused: {
    BFD_CHECK: 'BFD is not supported: the real server would go unchecked by it',
  },
};

/** `ADDR [PORT]` of a real_server or sorry_server. */
function addrPort(ctx: MapContext, s: Statement): { address: string; port: number } | undefined {
  const address = ctx.arg(s, 0, 'an address');
  const port = s.args[1] === undefined ? 0 : ctx.int(s, 1);
  ctx.extra(s, 2);
  return address === undefined || port === undefined ? undefined : { address, port };
}

const flag = (f: NonNullable<VsIn['schedulerFlags']>[number]) => (s: Statement, v: VsDraft): void => {
  v.ctx.extra(s, 0);
  v.out.schedulerFlags = [...(v.out.schedulerFlags ?? []).filter((x) => x !== f), f];
  v.ctx.at(`${v.path}.schedulerFlags`, s);
};

const count = (key: 'quorum' | 'hysteresis', min: number) => (s: Statement, v: VsDraft): void => {
  const n = v.ctx.int(s);
  v.ctx.extra(s, 1);
  if (n !== undefined && n < min) v.ctx.error(s, `${key} must be at least ${min}`);
  else if (n !== undefined) v.out[key] = n;
  v.at[key] = s;
  v.ctx.at(`${v.path}.${key}`, s);
};

export const VIRTUAL_SERVER: KeywordTable<VsDraft> = {
  handlers: {
    delay_loop: (s, v) => {
      const d = v.ctx.seconds(s);
      v.ctx.extra(s, 1);
      if (d !== undefined && d < 1) v.ctx.error(s, 'delay_loop must be at least 1 s');
      else if (d !== undefined) { v.out.delayLoop = duration(d); v.timing.delayLoop = d; }
      v.ctx.at(`${v.path}.delayLoop`, s);
    },
    lvs_sched: (s, v) => { v.out.scheduler = v.ctx.arg(s)?.toLowerCase() as VsIn['scheduler']; v.ctx.extra(s, 1); v.ctx.at(`${v.path}.scheduler`, s); },
    lb_algo: (s, v) => VIRTUAL_SERVER.handlers.lvs_sched!(s, v),
    lvs_method: (s, v) => { v.out.forwarding = method(v.ctx, s); v.at.forwarding = s; v.ctx.at(`${v.path}.forwarding`, s); },
    lb_kind: (s, v) => VIRTUAL_SERVER.handlers.lvs_method!(s, v),
    protocol: (s, v) => {
      v.out.protocol = v.ctx.arg(s)?.toLowerCase() as VsIn['protocol'];
      v.ctx.extra(s, 1);
      v.at.protocol = s;
      v.ctx.at(`${v.path}.protocol`, s);
    },
    persistence_timeout: (s, v) => {
      // keepalived: without a value, 6 minutes.
      const t = s.args.length ? v.ctx.int(s) : 360;
      v.ctx.extra(s, 1);
      if (t !== undefined) v.out.persistence = duration(t);
      v.ctx.at(`${v.path}.persistence`, s);
    },
    persistence_granularity: (s, v) => { v.out.persistenceNetmask = v.ctx.arg(s); v.ctx.extra(s, 1); v.ctx.at(`${v.path}.persistenceNetmask`, s); },
    persistence_engine: (s, v) => {
      const e = v.ctx.arg(s, 0, 'an engine name');
      v.ctx.extra(s, 1);
      if (e === 'sip') v.out.persistenceEngine = 'sip';
      else if (e !== undefined) v.ctx.error(s, `"${e}" is not a persistence engine vrrpd knows (sip)`);
      v.ctx.at(`${v.path}.persistenceEngine`, s);
    },
    virtualhost: (s, v) => { v.out.virtualHost = v.ctx.arg(s); v.ctx.extra(s, 1); v.ctx.at(`${v.path}.virtualHost`, s); },
    sorry_server: (s, v) => {
      const ap = addrPort(v.ctx, s);
      if (ap) v.out.sorryServer = ap;
      v.ctx.at(`${v.path}.sorryServer`, s);
    },
    sorry_server_lvs_method: (s, v) => { v.sorryMethod = method(v.ctx, s); v.at.sorryMethod = s; },
    ip_family: (s, v) => {
      const f = v.ctx.arg(s);
      if (f === 'inet' || f === 'inet6') v.out.family = f === 'inet' ? 4 : 6;
      else if (f !== undefined) v.ctx.error(s, `"${f}" is not inet or inet6`);
      v.ctx.at(`${v.path}.family`, s);
    },
    inhibit_on_failure: (s, v) => {
      const b = v.ctx.bool(s);
      v.ctx.extra(s, 1);
      if (b !== undefined) v.out.inhibitOnFailure = b;
      v.ctx.at(`${v.path}.inhibitOnFailure`, s);
    },
    quorum: count('quorum', 1),
    hysteresis: count('hysteresis', 0),
    quorum_up: (s, v) => { const c = v.ctx.command(s); if (c !== undefined) v.out.quorumUp = c; v.ctx.at(`${v.path}.quorumUp`, s); },
    quorum_down: (s, v) => { const c = v.ctx.command(s); if (c !== undefined) v.out.quorumDown = c; v.ctx.at(`${v.path}.quorumDown`, s); },
    omega: (s, v) => { v.ctx.extra(s, 0); v.out.omega = true; v.ctx.at(`${v.path}.omega`, s); },
    'flag-1': flag('flag-1'), 'flag-2': flag('flag-2'), 'flag-3': flag('flag-3'),
    'sh-port': flag('sh-port'), 'sh-fallback': flag('sh-fallback'), 'mh-port': flag('mh-port'), 'mh-fallback': flag('mh-fallback'),
    ops: (s, v) => { v.ctx.extra(s, 0); v.out.onePacket = true; v.ctx.at(`${v.path}.onePacket`, s); },
    ...CHECK_TIMING,
    alpha: (s, v) => {
      const a = v.ctx.bool(s);
      v.ctx.extra(s, 1);
      if (a !== undefined) v.out.alpha = a;
      v.ctx.at(`${v.path}.alpha`, s);
    },
    real_server: (s, v) => {
      const path = `${v.path}.realServers.${v.servers.length}`;
      const r: RsDraft = { ctx: v.ctx, path, stmt: s, out: {}, timing: {}, checks: [], lookup: v.lookup };
      const ap = addrPort(v.ctx, s);
      if (ap) r.out = { address: ap.address, port: ap.port };
      v.ctx.at(path, s);
      v.ctx.at(`${path}.address`, s);
      v.ctx.dispatch(v.ctx.needBlock(s), REAL_SERVER, r, 'real_server');
      v.servers.push(r);
    },
  },
  ignored: {
    ha_suspend: 'vrrpd checks the real servers whether or not it holds the address (the table a MASTER programs is the same)',
    smtp_alert: 'vrrpd sends no e-mail', snmp_name: 'no checker MIB in vrrpd (it serves the VRRPv3-MIB only)',
    nat_mask: 'obsolete (keepalived 1.x); keepalived 2 ignores it too',
  },
  refused: {
    sorry_server_inhibit: 'the sorry server is removed, not kept at weight 0, when quorum returns (established connections to it would be cut)',
  },
};

const VS_ORDER = ['address', 'port', 'fwmark', 'family', 'protocol', 'scheduler', 'schedulerFlags', 'onePacket', 'forwarding', 'persistence',
  'persistenceNetmask', 'persistenceEngine', 'delayLoop', 'virtualHost', 'inhibitOnFailure', 'quorum', 'hysteresis', 'quorumUp', 'quorumDown',
  'omega', 'sorryServer', 'alpha', 'realServers'] as const satisfies readonly (keyof VsIn)[];

/** The virtual server's name: fwm-100, or vs-10.0.0.1-80 (-udp/-sctp when not TCP), made unique. */
function nameOf(s: Statement, used: Set<string>): string {
  const a = s.args.map((t) => t.text);
  const proto = s.block?.find((e) => e.keyword === 'protocol')?.args[0]?.text.toLowerCase();
  let base = a[0] === 'fwmark' ? `fwm-${a[1] ?? ''}` : `vs-${(a[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '_')}${a[1] ? `-${a[1]}` : ''}`;
  if (proto && proto !== 'tcp') base += `-${proto}`;
  return unique(base, used);
}

function unique(base: string, used: Set<string>): string {
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
  used.add(name);
  return name;
}

/**
 * One virtual_server block: one service, or for `virtual_server group NAME` one service per entry of the group,
 * each with the same real servers and checks (keepalived shares one checker per real server among them; vrrpd
 * checks per service, with the same result). Undefined group: an error at the virtual_server line.
 * `lookup` finds a FILE_CHECK's track_file among those defined before this block.
 */
export function mapVirtualServer(
  ctx: MapContext, s: Statement, used: Set<string>, groups: ReadonlyMap<string, GroupDraft>, lookup: TrackFileLookup = () => undefined,
): { name: string; vs: VsIn }[] {
  const a = s.args.map((t) => t.text);
  if (a[0] === 'group') {
    ctx.extra(s, 2);
    const g = a[1] === undefined ? undefined : groups.get(a[1]);
    if (!g) {
      ctx.error(s, a[1] === undefined ? 'virtual_server group needs a group name' : `no virtual_server_group "${a[1]}"`);
      ctx.skipBlock(s);
      return [];
    }
    return g.entries.map((e) => one(ctx, s, unique(entryName(g.name, e), used), e, lookup));
  }
  if (a[0] === 'fwmark') {
    const mark = ctx.int(s, 1);
    ctx.extra(s, 2);
    if (mark === undefined) { ctx.skipBlock(s); return []; }
    return [one(ctx, s, nameOf(s, used), { kind: 'fwmark', fwmark: mark, stmt: s }, lookup)];
  }
  const address = ctx.arg(s, 0, 'an address, or fwmark N, or group NAME');
  const port = a[1] === undefined ? undefined : ctx.int(s, 1);
  ctx.extra(s, 2);
  if (address === undefined) { ctx.skipBlock(s); return []; }
  return [one(ctx, s, nameOf(s, used), { kind: 'addr', address, stmt: s, ...(port !== undefined ? { port } : {}) }, lookup)];
}

function one(ctx: MapContext, s: Statement, name: string, e: GroupEntry, lookup: TrackFileLookup): { name: string; vs: VsIn } {
  const v: VsDraft = { ctx, path: `virtualServers.${name}`, out: {}, timing: {}, servers: [], at: {}, lookup };
  ctx.at(v.path, s);
  if (e.kind === 'fwmark') {
    v.out.fwmark = e.fwmark;
    if (e.family) v.out.family = e.family;
    ctx.at(`${v.path}.fwmark`, e.stmt);
  } else {
    v.out.address = e.address;
    if (e.port !== undefined) v.out.port = e.port;
    ctx.at(`${v.path}.address`, e.stmt);
    ctx.at(`${v.path}.port`, e.stmt);
  }
  ctx.dispatch(ctx.needBlock(s), VIRTUAL_SERVER, v, 'virtual_server');
  corrections(v, s, e);
  const o = { ...v.out, forwarding: v.out.forwarding ?? 'nat', realServers: v.servers.map((r) => finishServer(r, v)) };
  dedupe(v, o.realServers);
  quorumCorrections(v, o);
  const out = Object.fromEntries(VS_ORDER.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return { name, vs: out as VsIn };
}

/** keepalived's own corrections of a service (check_data.c validate_check_config), applied the same way, with a warning. */
function corrections(v: VsDraft, s: Statement, e: GroupEntry): void {
  const { ctx, out } = v;
  const fwd = out.forwarding ?? 'nat';
  if (e.kind === 'addr') {
    // The kernel takes protocol 0 as UDP: keepalived sets UDP explicitly.
    if (out.protocol === undefined) {
      ctx.warn(s, 'no protocol: UDP, as keepalived 2.2 defaults (write "protocol TCP" for TCP)', 'protocol');
      out.protocol = 'udp';
    }
    if (out.onePacket && out.protocol !== 'udp') {
      ctx.warn(v.at.protocol ?? s, 'ops (one-packet scheduling) needs UDP: dropped, as keepalived does', 'ops');
      delete out.onePacket;
    }
    if ((e.port ?? 0) === 0 && (out.persistence === undefined || out.persistence === '0s')) {
      ctx.warn(s, 'port 0 (all ports) needs persistence: 360 s, as keepalived sets', 'persistence_timeout');
      out.persistence = '360s';
    }
  }
  if (v.sorryMethod !== undefined && v.sorryMethod !== fwd) {
    ctx.error(v.at.sorryMethod!, `not supported: a sorry server forwarded by ${v.sorryMethod.toUpperCase()} while the service uses ${fwd.toUpperCase()}`);
  }
  // DR and TUN cannot change the port: keepalived resets a real server's port to the service's (fwmark: clears it).
  const svcPort = e.kind === 'fwmark' ? 0 : e.port ?? 0;
  for (const r of v.servers) {
    const rf = r.out.forwarding ?? fwd;
    const p = r.out.port ?? 0;
    if (rf === 'nat' || p === 0 || p === svcPort) continue;
    ctx.warn(r.stmt, `${rf.toUpperCase()} cannot change the port: real server port ${p} ${e.kind === 'fwmark' ? 'cleared (fwmark service)' : `reset to the service's ${svcPort}`}, as keepalived does`, 'real_server');
    r.out.port = svcPort;
  }
}

/** keepalived removes a real server listed twice (same address and port) and keeps the first. */
function dedupe(v: VsDraft, servers: RsIn[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < servers.length; i++) {
    const key = `${servers[i]!.address}/${servers[i]!.port ?? 0}`;
    if (!seen.has(key)) { seen.add(key); continue; }
    v.ctx.warn(v.servers[i]!.stmt, `real server ${key.replace('/', ' port ')} is listed twice: the second is dropped, as keepalived does`, 'real_server');
    servers.splice(i, 1);
    v.servers.splice(i, 1);
    i--;
  }
}

/** keepalived lowers a quorum above the total weight (else the service could never come up), and hysteresis below quorum. */
function quorumCorrections(v: VsDraft, o: Partial<VsIn>): void {
  const total = (o.realServers ?? []).reduce((sum, r) => sum + (r.weight ?? 1), 0);
  const quorum = o.quorum ?? 1;
  if (quorum > total && o.realServers?.length) {
    v.ctx.warn(v.at.quorum ?? v.servers[0]!.stmt, `quorum ${quorum} exceeds the total weight ${total} of the real servers: ${total}, as keepalived sets`, 'quorum');
    o.quorum = total;
  }
  const q = o.quorum ?? 1;
  if ((o.hysteresis ?? 0) >= q && q > 0 && o.hysteresis !== undefined) {
    v.ctx.warn(v.at.hysteresis!, `hysteresis ${o.hysteresis} is not below quorum ${q}: ${q - 1}, as keepalived sets`, 'hysteresis');
    o.hysteresis = q - 1;
  }
}

function finishServer(r: RsDraft, v: VsDraft): RsIn {
  const out = { ...r.out } as RsIn;
  if (r.virtualHost !== undefined && !r.checks.some((c) => c.type === 'http' || c.type === 'https')) {
    r.ctx.warn(r.stmt, 'virtualhost without an HTTP_GET/SSL_GET check: ignored', 'virtualhost');
  }
  // The virtual server's delay_loop and alpha are its own fields; a real server's apply to each of its checkers.
  const { delayLoop: vsDelayLoop, alpha: _alpha, ...vsTiming } = v.timing;
  const inherited: Timing = { ...vsTiming, ...defined(r.timing) };
  for (const c of r.checks) {
    // keepalived: a MISC_CHECK takes a retry set on its real or virtual server (its own default is 0); vrrpd's has none.
    if (c.type === 'misc' && c.timing.retries === undefined && (inherited.retries ?? 0) > 0) {
      c.ctx.error(c.stmt, `not supported: ${inherited.retries} retries of a MISC_CHECK, inherited from its server (write retry 0 in it)`, 'retry');
    }
  }
  const checks = r.checks.map((c) => finishCheck(c, inherited, vsDelayLoop, r.virtualHost)).filter((c): c is CheckIn => c !== undefined);
  if (checks.length) out.checks = checks;
  return out;
}
