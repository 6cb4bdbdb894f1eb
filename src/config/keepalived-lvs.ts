// keepalived virtual_server, real_server and their health checkers -> vrrpd virtualServers (keepalived's defaults made explicit).
import type { z } from 'zod';
import type { virtualServerSchema } from './schema.js';
import { duration, type KeywordTable, type MapContext } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';

type VsIn = z.input<typeof virtualServerSchema>;
type RsIn = NonNullable<VsIn['realServers']>[number];
type CheckIn = NonNullable<RsIn['check']>;

/** connect_timeout, retry, delay_before_retry, delay_loop: set on the service, a real server or a checker. */
interface Timing { connectTimeout?: number; retries?: number; delayBeforeRetry?: number; delayLoop?: number }

interface VsDraft { ctx: MapContext; path: string; out: Partial<VsIn>; timing: Timing; servers: RsDraft[] }
interface RsDraft { ctx: MapContext; path: string; stmt: Statement; out: Partial<RsIn>; timing: Timing; virtualHost?: string; check?: CheckDraft }
interface CheckDraft {
  ctx: MapContext;
  path: string;
  stmt: Statement;
  type: 'http' | 'https' | 'tcp' | 'misc';
  timing: Timing;
  urls: { path?: string; digest?: string; status?: number }[];
  port?: number;
  virtualHost?: string;
  script?: string;
  timeout?: number;
}

function timing(key: keyof Timing, how: 'seconds' | 'int') {
  return (s: Statement, t: { ctx: MapContext; timing: Timing }): void => {
    const v = how === 'seconds' ? t.ctx.seconds(s) : t.ctx.int(s);
    t.ctx.extra(s, 1);
    if (v !== undefined) t.timing[key] = v;
  };
}

function method(ctx: MapContext, s: Statement): 'dr' | 'nat' | 'tun' | undefined {
  const v = ctx.arg(s)?.toUpperCase();
  if (v === undefined) return undefined;
  const m = ({ DR: 'dr', NAT: 'nat', TUN: 'tun' } as const)[v];
  if (!m) ctx.error(s, `"${s.args[0]!.text}" is not NAT, DR or TUN`);
  else if (s.args.length > 1) ctx.warn(s, `tunnel options ignored (vrrpd has no tunnel type setting): ${s.args.slice(1).map((t) => t.text).join(' ')}`);
  return m;
}

const GENERIC_CHECK_IGNORED: Record<string, string> = {
  connect_ip: 'a vrrpd check connects to the real server\'s own address',
  bindto: 'a vrrpd check has no source address setting',
  bind_if: 'a vrrpd check has no source interface setting',
  bind_port: 'a vrrpd check has no source port setting',
  fwmark: 'a vrrpd check has no fwmark setting',
  alpha: 'no alpha mode in vrrpd',
  warmup: 'no warmup setting in vrrpd',
  delay_loop: 'per-checker delay_loop is not supported: the virtual server\'s delay_loop applies',
  log_all_failures: 'no per-check logging setting in vrrpd',
};

const CHECK_TIMING = {
  connect_timeout: timing('connectTimeout', 'seconds'),
  retry: timing('retries', 'int'),
  nb_get_retry: timing('retries', 'int'),
  delay_before_retry: timing('delayBeforeRetry', 'seconds'),
};

const connectPort = (s: Statement, c: CheckDraft): void => {
  c.port = c.ctx.int(s);
  c.ctx.extra(s, 1);
  c.ctx.at(`${c.path}.port`, s);
};

export const HTTP_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    ...CHECK_TIMING,
    connect_port: connectPort,
    virtualhost: (s, c) => { c.virtualHost = c.ctx.arg(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.virtualHost`, s); },
    url: (s, c) => {
      const u: CheckDraft['urls'][number] = {};
      const at = `${c.path}.urls.${c.urls.length}`;
      c.ctx.at(at, s);
      c.urls.push(u);
      for (const e of c.ctx.needBlock(s)) {
        c.ctx.noBlock(e);
        if (e.keyword === 'path') { u.path = c.ctx.arg(e); c.ctx.at(`${at}.path`, e); }
        else if (e.keyword === 'digest') { u.digest = c.ctx.arg(e); c.ctx.at(`${at}.digest`, e); }
        else if (e.keyword === 'status_code') {
          if (e.args.length === 1 && /^\d+$/.test(e.args[0]!.text)) { u.status = Number(e.args[0]!.text); c.ctx.at(`${at}.status`, e); }
          else c.ctx.warn(e, 'one status code per URL in vrrpd: this list or range is not carried over (the URL gets no status)');
          continue;
        } else if (e.keyword === 'virtualhost') {
          c.ctx.warn(e, 'a per-URL virtualhost is not supported: it applies to the whole check');
          c.virtualHost ??= e.args[0]?.text;
          continue;
        } else if (/^regex/.test(e.keyword)) {
          c.ctx.warn(e, 'regex checks of the body are not supported; ignored');
          continue;
        } else {
          c.ctx.warn(e, 'unknown keyword in url; ignored');
          continue;
        }
        c.ctx.extra(e, 1);
      }
    },
  },
  ignored: {
    ...GENERIC_CHECK_IGNORED,
    http_protocol: 'no HTTP version setting in the vrrpd check',
    fast_recovery: 'no fast-recovery setting in vrrpd',
    enable_sni: 'no SNI setting in the vrrpd check',
    sni_name: 'no SNI setting in the vrrpd check',
    tls_compliant: 'no TLS shutdown setting in vrrpd',
  },
  refused: {},
};

export const TCP_CHECK: KeywordTable<CheckDraft> = {
  handlers: { ...CHECK_TIMING, connect_port: connectPort },
  ignored: GENERIC_CHECK_IGNORED,
  refused: {},
};

export const MISC_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    misc_path: (s, c) => { c.script = c.ctx.command(s); c.ctx.at(`${c.path}.script`, s); },
    misc_timeout: (s, c) => { c.timeout = c.ctx.int(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.timeout`, s); },
  },
  ignored: {
    ...GENERIC_CHECK_IGNORED,
    misc_dynamic: 'a vrrpd misc check is up or down (exit 0 or not); its exit code does not set the weight',
    user: 'vrrpd runs scripts as its own user',
    retry: 'a vrrpd misc check has no retries (keepalived\'s default is retry 0)',
    delay_before_retry: 'a vrrpd misc check has no retries',
    connect_timeout: 'a misc check has only misc_timeout',
  },
  refused: {},
};

const checker = (type: CheckDraft['type'], table: KeywordTable<CheckDraft>, kw: string) => (s: Statement, r: RsDraft): void => {
  r.ctx.extra(s, 0);
  const c: CheckDraft = { ctx: r.ctx, path: `${r.path}.check`, stmt: s, type, timing: {}, urls: [] };
  r.ctx.dispatch(r.ctx.needBlock(s), table, c, kw);
  if (r.check) r.ctx.warn(s, `one health check per real server: this ${kw} is ignored (the ${r.check.stmt.keyword} at line ${r.check.stmt.line} is used)`);
  else {
    r.check = c;
    r.ctx.at(c.path, s);
  }
};

const UNSUPPORTED_CHECK = 'this checker type is not supported: the real server is not checked by it';

export const REAL_SERVER: KeywordTable<RsDraft> = {
  handlers: {
    weight: (s, r) => { r.out.weight = r.ctx.int(s); r.ctx.extra(s, 1); r.ctx.at(`${r.path}.weight`, s); },
    lvs_method: (s, r) => { r.out.forwarding = method(r.ctx, s); r.ctx.at(`${r.path}.forwarding`, s); },
    lb_kind: (s, r) => REAL_SERVER.handlers.lvs_method!(s, r),
    uthreshold: (s, r) => { r.out.upperThreshold = r.ctx.int(s); r.ctx.extra(s, 1); r.ctx.at(`${r.path}.upperThreshold`, s); },
    lthreshold: (s, r) => { r.out.lowerThreshold = r.ctx.int(s); r.ctx.extra(s, 1); r.ctx.at(`${r.path}.lowerThreshold`, s); },
    virtualhost: (s, r) => { r.virtualHost = r.ctx.arg(s); r.ctx.extra(s, 1); },
    ...CHECK_TIMING,
    HTTP_GET: checker('http', HTTP_CHECK, 'HTTP_GET'),
    SSL_GET: checker('https', HTTP_CHECK, 'SSL_GET'),
    TCP_CHECK: checker('tcp', TCP_CHECK, 'TCP_CHECK'),
    MISC_CHECK: checker('misc', MISC_CHECK, 'MISC_CHECK'),
  },
  ignored: {
    notify_up: 'no real-server notify scripts in vrrpd', notify_down: 'no real-server notify scripts in vrrpd',
    smtp_alert: 'vrrpd sends no e-mail', snmp_name: 'no SNMP in vrrpd',
    alpha: 'no alpha mode in vrrpd', warmup: 'no warmup setting in vrrpd',
    inhibit_on_failure: 'no inhibit-on-failure setting in vrrpd',
    delay_loop: 'per-server delay_loop is not supported: the virtual server\'s delay_loop applies',
    SMTP_CHECK: UNSUPPORTED_CHECK, DNS_CHECK: UNSUPPORTED_CHECK, PING_CHECK: UNSUPPORTED_CHECK,
    UDP_CHECK: UNSUPPORTED_CHECK, FILE_CHECK: UNSUPPORTED_CHECK, BFD_CHECK: UNSUPPORTED_CHECK,
  },
  refused: {},
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
    real_server: (s, v) => {
      const path = `${v.path}.realServers.${v.servers.length}`;
      const r: RsDraft = { ctx: v.ctx, path, stmt: s, out: {}, timing: {} };
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
    alpha: 'no alpha mode in vrrpd', omega: 'no omega mode in vrrpd',
    quorum: 'no quorum settings in vrrpd', hysteresis: 'no quorum settings in vrrpd',
    quorum_up: 'no quorum notify scripts in vrrpd', quorum_down: 'no quorum notify scripts in vrrpd',
    smtp_alert: 'vrrpd sends no e-mail', snmp_name: 'no SNMP in vrrpd',
    sorry_server_inhibit: 'no such setting in vrrpd', sorry_server_lvs_method: 'the vrrpd sorry server has no forwarding setting',
    inhibit_on_failure: 'no inhibit-on-failure setting in vrrpd',
    warmup: 'no warmup setting in vrrpd',
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
  'delayLoop', 'virtualHost', 'sorryServer', 'realServers'] as const satisfies readonly (keyof VsIn)[];

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
export function mapVirtualServer(ctx: MapContext, s: Statement, used: Set<string>): { name: string; vs: VsIn } | undefined {
  const a = s.args.map((t) => t.text);
  if (a[0] === 'group') {
    ctx.warn(s, `not supported: virtual_server group ${a[1] ?? ''} (virtual_server_group); this virtual server is not imported`);
    ctx.skipBlock(s);
    return undefined;
  }
  const name = nameOf(s, used);
  const v: VsDraft = { ctx, path: `virtualServers.${name}`, out: {}, timing: {}, servers: [] };
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
  const c = r.check;
  if (r.virtualHost !== undefined && c?.type !== 'http' && c?.type !== 'https') r.ctx.warn(r.stmt, 'virtualhost without an HTTP_GET/SSL_GET check: ignored', 'virtualhost');
  if (!c) return out;
  const t: Timing = { ...v.timing, ...defined(r.timing), ...defined(c.timing) };
  let check: CheckIn;
  if (c.type === 'misc') {
    if (c.script === undefined) c.ctx.error(c.stmt, 'MISC_CHECK needs misc_path');
    // keepalived: the script's timeout defaults to the delay_loop (60 s).
    check = { type: 'misc', script: c.script ?? '', timeout: duration(c.timeout ?? t.delayLoop ?? 60) };
  } else {
    const base = {
      ...(c.port !== undefined ? { port: c.port } : {}),
      ...(t.connectTimeout !== undefined ? { connectTimeout: duration(t.connectTimeout) } : {}),
    };
    if (c.type === 'tcp') {
      check = { type: 'tcp', ...base, ...(t.retries !== undefined ? { retries: t.retries } : {}),
        ...(t.delayBeforeRetry !== undefined ? { delayBeforeRetry: duration(t.delayBeforeRetry) } : {}) };
    } else {
      if (!c.urls.length) c.ctx.error(c.stmt, `${c.stmt.keyword} needs at least one url { path ... }`);
      const vh = c.virtualHost ?? r.virtualHost;
      check = {
        type: c.type,
        urls: c.urls.map((u) => ({ path: u.path ?? '', ...(u.digest ? { digest: u.digest } : {}), ...(u.status !== undefined ? { status: u.status } : {}) })),
        ...base,
        // keepalived retries a failed HTTP check once by default (vrrpd's own default is 3).
        retries: t.retries ?? 1,
        ...(t.delayBeforeRetry !== undefined ? { delayBeforeRetry: duration(t.delayBeforeRetry) } : {}),
        ...(vh !== undefined ? { virtualHost: vh } : {}),
      };
    }
  }
  out.check = check;
  return out;
}

function defined(t: Timing): Timing {
  return Object.fromEntries(Object.entries(t).filter(([, x]) => x !== undefined)) as Timing;
}
