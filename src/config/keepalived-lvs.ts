// keepalived virtual_server, real_server and their health checkers -> vrrpd virtualServers (keepalived's defaults made explicit).
import type { z } from 'zod';
import type { virtualServerSchema } from './schema.js';
import {
  CHECK_TIMING, CHECKER_KEYWORDS, CHECKER_TIMING, defined, finishCheck, readChecker,
  type CheckDraft, type CheckIn, type Timing, type TrackFileLookup,
} from './keepalived-checkers.js';
import { duration, type KeywordTable, type MapContext } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';

type VsIn = z.input<typeof virtualServerSchema>;
type RsIn = NonNullable<VsIn['realServers']>[number];

interface VsDraft { ctx: MapContext; path: string; out: Partial<VsIn>; timing: Timing; servers: RsDraft[]; lookup: TrackFileLookup }
interface RsDraft {
  ctx: MapContext; path: string; stmt: Statement; out: Partial<RsIn>; timing: Timing; virtualHost?: string; checks: CheckDraft[];
  lookup: TrackFileLookup;
}

function method(ctx: MapContext, s: Statement): 'dr' | 'nat' | 'tun' | undefined {
  const v = ctx.arg(s)?.toUpperCase();
  if (v === undefined) return undefined;
  const m = ({ DR: 'dr', NAT: 'nat', TUN: 'tun' } as const)[v];
  if (!m) ctx.error(s, `"${s.args[0]!.text}" is not NAT, DR or TUN`);
  else if (s.args.length > 1) ctx.warn(s, `tunnel options ignored (vrrpd has no tunnel type setting): ${s.args.slice(1).map((t) => t.text).join(' ')}`);
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
    ...CHECKER_TIMING,
    ...Object.fromEntries(CHECKER_KEYWORDS.map((k) => [k, checker])),
  },
  ignored: {
    notify_up: 'no real-server notify scripts in vrrpd', notify_down: 'no real-server notify scripts in vrrpd',
    smtp_alert: 'vrrpd sends no e-mail', snmp_name: 'no SNMP in vrrpd',
    inhibit_on_failure: 'no inhibit-on-failure setting in vrrpd',
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

export const VIRTUAL_SERVER: KeywordTable<VsDraft> = {
  handlers: {
    delay_loop: (s, v) => {
      const d = v.ctx.seconds(s);
      v.ctx.extra(s, 1);
      if (d !== undefined) { v.out.delayLoop = duration(d); v.timing.delayLoop = d; }
      v.ctx.at(`${v.path}.delayLoop`, s);
    },
    lvs_sched: (s, v) => { v.out.scheduler = v.ctx.arg(s)?.toLowerCase() as VsIn['scheduler']; v.ctx.extra(s, 1); v.ctx.at(`${v.path}.scheduler`, s); },
    lb_algo: (s, v) => VIRTUAL_SERVER.handlers.lvs_sched!(s, v),
    lvs_method: (s, v) => { v.out.forwarding = method(v.ctx, s); v.ctx.at(`${v.path}.forwarding`, s); },
    lb_kind: (s, v) => VIRTUAL_SERVER.handlers.lvs_method!(s, v),
    protocol: (s, v) => { v.out.protocol = v.ctx.arg(s)?.toLowerCase() as VsIn['protocol']; v.ctx.extra(s, 1); v.ctx.at(`${v.path}.protocol`, s); },
    persistence_timeout: (s, v) => {
      // keepalived: without a value, 6 minutes.
      const t = s.args.length ? v.ctx.int(s) : 360;
      v.ctx.extra(s, 1);
      if (t !== undefined) v.out.persistence = duration(t);
      v.ctx.at(`${v.path}.persistence`, s);
    },
    persistence_granularity: (s, v) => { v.out.persistenceNetmask = v.ctx.arg(s); v.ctx.extra(s, 1); v.ctx.at(`${v.path}.persistenceNetmask`, s); },
    virtualhost: (s, v) => { v.out.virtualHost = v.ctx.arg(s); v.ctx.extra(s, 1); v.ctx.at(`${v.path}.virtualHost`, s); },
    sorry_server: (s, v) => {
      const ap = addrPort(v.ctx, s);
      if (ap) v.out.sorryServer = ap;
      v.ctx.at(`${v.path}.sorryServer`, s);
    },
    ip_family: (s, v) => {
      const f = v.ctx.arg(s);
      if (f === 'inet' || f === 'inet6') v.out.family = f === 'inet' ? 4 : 6;
      else if (f !== undefined) v.ctx.error(s, `"${f}" is not inet or inet6`);
      v.ctx.at(`${v.path}.family`, s);
    },
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
    ha_suspend: 'no ha_suspend setting in vrrpd',
    omega: 'no omega mode in vrrpd',
    quorum: 'no quorum settings in vrrpd', hysteresis: 'no quorum settings in vrrpd',
    quorum_up: 'no quorum notify scripts in vrrpd', quorum_down: 'no quorum notify scripts in vrrpd',
    smtp_alert: 'vrrpd sends no e-mail', snmp_name: 'no SNMP in vrrpd',
    sorry_server_inhibit: 'no such setting in vrrpd', sorry_server_lvs_method: 'the vrrpd sorry server has no forwarding setting',
    inhibit_on_failure: 'no inhibit-on-failure setting in vrrpd',
    'flag-1': 'scheduler flags are not supported', 'flag-2': 'scheduler flags are not supported',
    'flag-3': 'scheduler flags are not supported', 'sh-port': 'scheduler flags are not supported',
    'sh-fallback': 'scheduler flags are not supported', 'mh-port': 'scheduler flags are not supported',
    'mh-fallback': 'scheduler flags are not supported', ops: 'one-packet scheduling is not supported',
    persistence_engine: 'persistence engines (sip) are not supported',
    nat_mask: 'no such setting in vrrpd',
  },
  refused: {},
};

const VS_ORDER = ['address', 'port', 'fwmark', 'family', 'protocol', 'scheduler', 'forwarding', 'persistence', 'persistenceNetmask',
  'delayLoop', 'virtualHost', 'sorryServer', 'alpha', 'realServers'] as const satisfies readonly (keyof VsIn)[];

/** The virtual server's name: fwm-100, or vs-10.0.0.1-80 (-udp/-sctp when not TCP), made unique. */
function nameOf(s: Statement, used: Set<string>): string {
  const a = s.args.map((t) => t.text);
  const proto = s.block?.find((e) => e.keyword === 'protocol')?.args[0]?.text.toLowerCase();
  let base = a[0] === 'fwmark' ? `fwm-${a[1] ?? ''}` : `vs-${(a[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '_')}${a[1] ? `-${a[1]}` : ''}`;
  if (proto && proto !== 'tcp') base += `-${proto}`;
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
  used.add(name);
  return name;
}

/** One virtual_server block; undefined when it cannot be imported (virtual_server group). */
export function mapVirtualServer(ctx: MapContext, s: Statement, used: Set<string>, lookup: TrackFileLookup = () => undefined):
  { name: string; vs: VsIn } | undefined {
  const a = s.args.map((t) => t.text);
  if (a[0] === 'group') {
    ctx.warn(s, `not supported: virtual_server group ${a[1] ?? ''} (virtual_server_group); this virtual server is not imported`);
    ctx.skipBlock(s);
    return undefined;
  }
  const name = nameOf(s, used);
  const v: VsDraft = { ctx, path: `virtualServers.${name}`, out: {}, timing: {}, servers: [], lookup };
  ctx.at(v.path, s);
  if (a[0] === 'fwmark') {
    v.out.fwmark = ctx.int(s, 1);
    ctx.extra(s, 2);
    ctx.at(`${v.path}.fwmark`, s);
  } else {
    v.out.address = ctx.arg(s, 0, 'an address, or fwmark N');
    if (a[1] !== undefined) v.out.port = ctx.int(s, 1);
    ctx.extra(s, 2);
    ctx.at(`${v.path}.address`, s);
    ctx.at(`${v.path}.port`, s);
  }
  ctx.dispatch(ctx.needBlock(s), VIRTUAL_SERVER, v, 'virtual_server');
  // keepalived's defaults where vrrpd's differ: NAT forwarding.
  const o = { ...v.out, forwarding: v.out.forwarding ?? 'nat', realServers: v.servers.map((r) => finishServer(r, v)) };
  const out = Object.fromEntries(VS_ORDER.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return { name, vs: out as VsIn };
}

function finishServer(r: RsDraft, v: VsDraft): RsIn {
  const out = { ...r.out } as RsIn;
  if (r.virtualHost !== undefined && !r.checks.some((c) => c.type === 'http' || c.type === 'https')) {
    r.ctx.warn(r.stmt, 'virtualhost without an HTTP_GET/SSL_GET check: ignored', 'virtualhost');
  }
  // The virtual server's delay_loop and alpha are its own fields; a real server's apply to each of its checkers.
  const { delayLoop: vsDelayLoop, alpha: _alpha, ...vsTiming } = v.timing;
  const inherited: Timing = { ...vsTiming, ...defined(r.timing) };
  const checks = r.checks.map((c) => finishCheck(c, inherited, vsDelayLoop, r.virtualHost)).filter((c): c is CheckIn => c !== undefined);
  if (checks.length) out.checks = checks;
  return out;
}
