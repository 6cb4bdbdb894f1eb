// keepalived's real-server checkers (HTTP_GET, SSL_GET, TCP_CHECK, MISC_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK, FILE_CHECK) -> vrrpd checks.
import type { z } from 'zod';
import { DNS_TYPES, type checkSchema } from './schema.js';
import { duration, type KeywordTable, type MapContext } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';

export type CheckIn = z.input<typeof checkSchema>;
type CheckType = CheckIn['type'];

/** Settings a checker inherits from its real server, which inherits them from its virtual server (keepalived). */
export interface Timing {
  connectTimeout?: number;
  retries?: number;
  delayBeforeRetry?: number;
  delayLoop?: number;
  warmup?: number;
  alpha?: boolean;
}

interface UrlDraft {
  path?: string; digest?: string; status?: number;
  regex?: string; regexNoMatch?: boolean; regexOptions?: string[]; regexMinOffset?: number; regexMaxOffset?: number;
}

export interface CheckDraft {
  ctx: MapContext;
  path: string;
  stmt: Statement;
  type: CheckType;
  timing: Timing;
  urls: UrlDraft[];
  port?: number;
  address?: string;
  sourceAddress?: string;
  virtualHost?: string;
  script?: string;
  timeout?: number;
  queryType?: string;
  name?: string;
  payload?: string;
  requireReply?: boolean;
  replyData?: string;
  minReplyLength?: number;
  maxReplyLength?: number;
  heloName?: string;
  file?: string;
  weight?: number;
  reverse?: boolean;
  /** SMTP_CHECK host { } blocks (deprecated in keepalived): each one more checker. */
  hosts?: CheckDraft[];
}

/** A track_file block by name, as defined so far in the file (keepalived looks it up when it reads FILE_CHECK). */
export type TrackFileLookup = (name: string) => { file?: string; weight?: number } | undefined;

function timing(key: 'connectTimeout' | 'delayBeforeRetry' | 'delayLoop' | 'warmup' | 'retries', how: 'seconds' | 'int') {
  return (s: Statement, t: { ctx: MapContext; timing: Timing }): void => {
    const v = how === 'seconds' ? t.ctx.seconds(s) : t.ctx.int(s);
    t.ctx.extra(s, 1);
    if (v !== undefined) t.timing[key] = v;
  };
}

const alpha = (s: Statement, t: { ctx: MapContext; timing: Timing }): void => {
  const v = t.ctx.bool(s);
  t.ctx.extra(s, 1);
  if (v !== undefined) t.timing.alpha = v;
};

/** connect_timeout, retry, delay_before_retry, delay_loop, warmup, alpha: on a checker, real server or virtual server. */
export const CHECK_TIMING = {
  connect_timeout: timing('connectTimeout', 'seconds'),
  retry: timing('retries', 'int'),
  nb_get_retry: timing('retries', 'int'),
  delay_before_retry: timing('delayBeforeRetry', 'seconds'),
  warmup: timing('warmup', 'seconds'),
};
/** The same on a checker or a real server, where delay_loop and alpha belong to the checkers. */
export const CHECKER_TIMING = { ...CHECK_TIMING, delay_loop: timing('delayLoop', 'seconds'), alpha };

const REFUSED_CONN = {
  bind_if: 'a vrrpd check cannot be bound to an interface; the kernel\'s route applies (use bindto for the source address)',
  bind_port: 'a vrrpd check has no source port setting',
  fwmark: 'a vrrpd check cannot mark its packets (SO_MARK): policy routing by mark would not apply',
};

const connection = {
  ...CHECKER_TIMING,
  connect_port: (s: Statement, c: CheckDraft) => { c.port = c.ctx.int(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.port`, s); },
  connect_ip: (s: Statement, c: CheckDraft) => { c.address = c.ctx.arg(s, 0, 'an address'); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.address`, s); },
  bindto: (s: Statement, c: CheckDraft) => { c.sourceAddress = c.ctx.arg(s, 0, 'an address'); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.sourceAddress`, s); },
};
const LOGGING = { log_all_failures: 'no per-check logging setting in vrrpd (failures are logged at debug level)' };

const regexOption = (ctx: MapContext, e: Statement): string[] => {
  const ok = ['caseless', 'multiline', 'dotall', 'utf'];
  const out: string[] = [];
  for (const t of e.args) {
    if (ok.includes(t.text)) out.push(t.text);
    else ctx.error(e, `not supported: regex option "${t.text}" (vrrpd matches with JavaScript regular expressions: ${ok.join(', ')} only)`);
  }
  return out;
};

export const HTTP_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    ...connection,
    virtualhost: (s, c) => { c.virtualHost = c.ctx.arg(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.virtualHost`, s); },
    url: (s, c) => {
      const u: UrlDraft = {};
      const at = `${c.path}.urls.${c.urls.length}`;
      c.ctx.at(at, s);
      c.urls.push(u);
      for (const e of c.ctx.needBlock(s)) {
        c.ctx.noBlock(e);
        const k = e.keyword;
        if (k === 'path') { u.path = c.ctx.arg(e); c.ctx.at(`${at}.path`, e); }
        else if (k === 'digest') { u.digest = c.ctx.arg(e); c.ctx.at(`${at}.digest`, e); }
        else if (k === 'status_code') {
          if (e.args.length === 1 && /^\d+$/.test(e.args[0]!.text)) { u.status = Number(e.args[0]!.text); c.ctx.at(`${at}.status`, e); }
          else c.ctx.error(e, 'not supported: several status codes or a range; vrrpd accepts one status code per URL (or the default 200-299)');
          continue;
        } else if (k === 'virtualhost') {
          if (c.virtualHost !== undefined && c.virtualHost !== e.args[0]?.text) c.ctx.error(e, 'not supported: a per-URL virtualhost different from the check\'s');
          else { c.virtualHost = e.args[0]?.text; c.ctx.at(`${c.path}.virtualHost`, e); }
          continue;
        } else if (k === 'regex') { u.regex = c.ctx.arg(e, 0, 'a regular expression'); c.ctx.at(`${at}.regex`, e); }
        else if (k === 'regex_no_match') { u.regexNoMatch = true; c.ctx.at(`${at}.regexNoMatch`, e); c.ctx.extra(e, 0); continue; }
        else if (k === 'regex_options') { u.regexOptions = regexOption(c.ctx, e); c.ctx.at(`${at}.regexOptions`, e); continue; }
        else if (k === 'regex_min_offset') { u.regexMinOffset = c.ctx.int(e); c.ctx.at(`${at}.regexMinOffset`, e); }
        else if (k === 'regex_max_offset') { u.regexMaxOffset = c.ctx.int(e); c.ctx.at(`${at}.regexMaxOffset`, e); }
        else if (k === 'regex_stack') { c.ctx.warn(e, 'ignored: a PCRE2 JIT stack size; vrrpd\'s JavaScript regular expressions need none'); continue; }
        else if (k === 'tls_compliant') { c.ctx.warn(e, 'ignored: no TLS shutdown setting in vrrpd'); continue; }
        else { c.ctx.warn(e, 'unknown keyword in url; ignored'); continue; }
        c.ctx.extra(e, 1);
      }
    },
  },
  ignored: {
    ...LOGGING,
    http_protocol: 'vrrpd sends HTTP/1.0 with Connection: close (keepalived\'s 1.0C); the status and body are judged the same',
    fast_recovery: 'vrrpd checks every URL in one round (keepalived\'s fast_recovery behaviour)',
    enable_sni: 'vrrpd sends SNI whenever the virtualhost is a name',
    sni_name: 'vrrpd sends the virtualhost as SNI',
    tls_compliant: 'no TLS shutdown setting in vrrpd',
  },
  refused: REFUSED_CONN,
};

export const TCP_CHECK: KeywordTable<CheckDraft> = { handlers: connection, ignored: LOGGING, refused: REFUSED_CONN };
const { connect_port: _port, ...pingConnection } = connection;
export const PING_CHECK: KeywordTable<CheckDraft> = {
  handlers: pingConnection,
  ignored: { ...LOGGING, connect_port: 'an ICMP echo has no port' }, refused: REFUSED_CONN,
};

export const DNS_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    ...connection,
    type: (s, c) => {
      const t = c.ctx.arg(s, 0, 'a query type')?.toUpperCase();
      c.ctx.extra(s, 1);
      if (t !== undefined && !(DNS_TYPES as readonly string[]).includes(t)) c.ctx.error(s, `"${s.args[0]!.text}" is not one of ${DNS_TYPES.join(', ')}`);
      else c.queryType = t;
      c.ctx.at(`${c.path}.queryType`, s);
    },
    name: (s, c) => { c.name = c.ctx.arg(s, 0, 'a domain name'); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.name`, s); },
  },
  ignored: LOGGING, refused: REFUSED_CONN,
};

export const UDP_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    ...connection,
    payload: (s, c) => {
      if (!s.args.length) c.ctx.error(s, 'needs a hex string');
      c.payload = s.args.map((t) => t.text).join(' ');
      c.ctx.at(`${c.path}.payload`, s);
    },
    require_reply: (s, c) => {
      c.requireReply = true;
      if (s.args.length) c.replyData = s.args.map((t) => t.text).join(' ');
      c.ctx.at(`${c.path}.${s.args.length ? 'replyData' : 'requireReply'}`, s);
    },
    min_reply_length: (s, c) => { c.minReplyLength = c.ctx.int(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.minReplyLength`, s); },
    max_reply_length: (s, c) => { c.maxReplyLength = c.ctx.int(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.maxReplyLength`, s); },
  },
  ignored: LOGGING, refused: REFUSED_CONN,
};

export const SMTP_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    ...connection,
    helo_name: (s, c) => { c.heloName = c.ctx.arg(s, 0, 'a name'); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.heloName`, s); },
    host: (s, c) => {
      // keepalived (deprecated): each host { } is one more SMTP checker with its own connect_ip/connect_port.
      c.ctx.extra(s, 0);
      const h: CheckDraft = { ctx: c.ctx, path: c.path, stmt: s, type: 'smtp', timing: {}, urls: [] };
      c.ctx.dispatch(c.ctx.needBlock(s), { handlers: connection, ignored: LOGGING, refused: REFUSED_CONN }, h, 'host');
      (c.hosts ??= []).push(h);
    },
  },
  ignored: LOGGING, refused: REFUSED_CONN,
};

const miscRetry = (s: Statement, c: CheckDraft): void => {
  const n = c.ctx.int(s);
  c.ctx.extra(s, 1);
  if (n !== undefined) c.timing.retries = n;
  if (n !== undefined && n !== 0) c.ctx.error(s, 'not supported: retries of a misc check (keepalived\'s default is 0)');
};
const { connect_timeout: _timeout, nb_get_retry: _nbGetRetry, ...miscTiming } = CHECKER_TIMING;
/** keepalived's MISC_CHECK has no connection keywords (install_checker_common_keywords(false)): unknown there, no effect. */
const NOT_MISC = 'not a MISC_CHECK keyword in keepalived either (unknown there: no effect)';

export const MISC_CHECK: KeywordTable<CheckDraft> = {
  handlers: {
    ...miscTiming,
    misc_path: (s, c) => { c.script = c.ctx.command(s); c.ctx.at(`${c.path}.script`, s); },
    misc_timeout: (s, c) => { c.timeout = c.ctx.int(s); c.ctx.extra(s, 1); c.ctx.at(`${c.path}.timeout`, s); },
    retry: miscRetry,
    // No effect without retries, in keepalived too (a misc check's retries above 0 are refused).
    delay_before_retry: (s, c) => c.ctx.warn(s, 'ignored: a vrrpd misc check has no retries'),
  },
  ignored: {
    ...LOGGING, user: 'vrrpd runs scripts as its own user', connect_timeout: `a misc check has only misc_timeout; ${NOT_MISC}`,
    nb_get_retry: NOT_MISC, connect_ip: NOT_MISC, connect_port: NOT_MISC, bindto: NOT_MISC, bind_if: NOT_MISC, bind_port: NOT_MISC, fwmark: NOT_MISC,
  },
  refused: {
    misc_dynamic: 'the script\'s exit code setting the weight (misc_dynamic); use a FILE_CHECK to drain a server by weight',
  },
};

export const FILE_CHECK: KeywordTable<CheckDraft & { lookup: TrackFileLookup }> = {
  handlers: {
    track_file: (s, c) => {
      const name = c.ctx.arg(s, 0, 'a track_file name');
      c.ctx.extra(s, 1);
      if (name === undefined) return;
      const tf = c.lookup(name);
      if (!tf) c.ctx.error(s, `track_file "${name}" is not defined before this FILE_CHECK (keepalived looks it up here)`);
      else if (tf.file === undefined) c.ctx.error(s, `track_file "${name}" has no file`);
      else {
        c.file = tf.file;
        c.weight ??= tf.weight;
        c.ctx.at(`${c.path}.file`, s);
      }
    },
    weight: (s, c) => {
      c.weight = c.ctx.int(s);
      const opt = s.args[1]?.text;
      if (opt === 'reverse') c.reverse = true;
      else if (opt !== undefined && opt !== 'noreverse') c.ctx.error(s, `"${opt}" is not reverse or noreverse`);
      c.ctx.extra(s, 2);
      c.ctx.at(`${c.path}.weight`, s);
    },
  },
  ignored: { dynamic: 'a FILE_CHECK always adds the file\'s value × weight to the weight (keepalived parses no "dynamic" either)' },
  refused: {},
};

const TABLES: Record<string, { type: CheckType; table: KeywordTable<CheckDraft> }> = {
  HTTP_GET: { type: 'http', table: HTTP_CHECK },
  SSL_GET: { type: 'https', table: HTTP_CHECK },
  TCP_CHECK: { type: 'tcp', table: TCP_CHECK },
  MISC_CHECK: { type: 'misc', table: MISC_CHECK },
  DNS_CHECK: { type: 'dns', table: DNS_CHECK },
  UDP_CHECK: { type: 'udp', table: UDP_CHECK },
  PING_CHECK: { type: 'ping', table: PING_CHECK },
  SMTP_CHECK: { type: 'smtp', table: SMTP_CHECK },
};

/** A checker block of a real_server: its draft(s) (SMTP host blocks add more). */
export function readChecker(ctx: MapContext, s: Statement, path: string, lookup: TrackFileLookup): CheckDraft[] {
  ctx.extra(s, 0);
  if (s.keyword === 'FILE_CHECK') {
    const c: CheckDraft & { lookup: TrackFileLookup } = { ctx, path, stmt: s, type: 'file', timing: {}, urls: [], lookup };
    ctx.at(path, s);
    ctx.dispatch(ctx.needBlock(s), FILE_CHECK, c, 'FILE_CHECK');
    if (c.file === undefined && !s.block?.some((e) => e.keyword === 'track_file')) ctx.error(s, 'FILE_CHECK needs a track_file');
    return [c];
  }
  const { type, table } = TABLES[s.keyword]!;
  const c: CheckDraft = { ctx, path, stmt: s, type, timing: {}, urls: [] };
  ctx.at(path, s);
  ctx.dispatch(ctx.needBlock(s), table, c, s.keyword);
  // keepalived: with host blocks and no connection settings of its own, the checker takes the first host's.
  const hosts = c.hosts ?? [];
  if (hosts.length && c.address === undefined && c.port === undefined) {
    const first = hosts.shift()!;
    Object.assign(c, { address: first.address, port: first.port, sourceAddress: first.sourceAddress, timing: { ...c.timing, ...defined(first.timing) } });
  }
  return [c, ...hosts.map((h) => ({ ...c, hosts: undefined, stmt: h.stmt, address: h.address, port: h.port, sourceAddress: h.sourceAddress, timing: { ...c.timing, ...defined(h.timing) } }))];
}

export const CHECKER_KEYWORDS = [...Object.keys(TABLES), 'FILE_CHECK'];

export function defined(t: Timing): Timing {
  return Object.fromEntries(Object.entries(t).filter(([, x]) => x !== undefined)) as Timing;
}

/**
 * keepalived's defaults (retries, delays) made explicit, and the inherited timing applied. `inherited`: the virtual
 * server's timing overridden by the real server's; delay_loop and alpha only from the real server (the virtual
 * server's are its delayLoop and alpha); `vsDelayLoop` in seconds.
 */
export function finishCheck(c: CheckDraft, inherited: Timing, vsDelayLoop: number | undefined, serverVirtualHost: string | undefined): CheckIn | undefined {
  if (c.type === 'file') {
    if (c.file === undefined) return undefined;
    return { type: 'file', file: c.file, weight: c.weight ?? 1, ...(c.reverse ? { reverse: true } : {}) };
  }
  const t: Timing = { ...inherited, ...defined(c.timing) };
  const common = {
    ...(t.delayLoop !== undefined ? { delayLoop: duration(t.delayLoop) } : {}),
    ...(t.warmup !== undefined ? { warmup: duration(t.warmup) } : {}),
    ...(t.alpha !== undefined ? { alpha: t.alpha } : {}),
  };
  if (c.type === 'misc') {
    if (c.script === undefined) c.ctx.error(c.stmt, 'MISC_CHECK needs misc_path');
    // keepalived: the script's timeout defaults to the delay_loop (60 s).
    return { type: 'misc', script: c.script ?? '', timeout: duration(c.timeout ?? t.delayLoop ?? vsDelayLoop ?? 60), ...common };
  }
  const net = {
    ...common,
    ...(c.address !== undefined ? { address: c.address } : {}),
    ...(c.sourceAddress !== undefined ? { sourceAddress: c.sourceAddress } : {}),
    ...(t.connectTimeout !== undefined ? { connectTimeout: duration(t.connectTimeout) } : {}),
    // keepalived: retry defaults to 1 (DNS_CHECK 3), delay_before_retry to 1 s (HTTP 3 s, DNS the delay_loop).
    retries: t.retries ?? (c.type === 'dns' ? 3 : 1),
    ...(t.delayBeforeRetry !== undefined ? { delayBeforeRetry: duration(t.delayBeforeRetry) } : {}),
  };
  const port = c.port !== undefined ? { port: c.port } : {};
  switch (c.type) {
    case 'tcp': return { type: 'tcp', ...port, ...net };
    case 'ping': return { type: 'ping', ...net };
    case 'smtp': return { type: 'smtp', ...port, ...net, ...(c.heloName !== undefined ? { heloName: c.heloName } : {}) };
    case 'dns':
      return { type: 'dns', ...port, ...net, ...(c.queryType ? { queryType: c.queryType as (typeof DNS_TYPES)[number] } : {}), ...(c.name !== undefined ? { name: c.name } : {}) };
    case 'udp':
      return {
        type: 'udp', ...port, ...net,
        ...(c.payload !== undefined ? { payload: c.payload } : {}), ...(c.requireReply ? { requireReply: true } : {}),
        ...(c.replyData !== undefined ? { replyData: c.replyData } : {}),
        ...(c.minReplyLength !== undefined ? { minReplyLength: c.minReplyLength } : {}),
        ...(c.maxReplyLength !== undefined ? { maxReplyLength: c.maxReplyLength } : {}),
      };
    default: {
      if (!c.urls.length) c.ctx.error(c.stmt, `${c.stmt.keyword} needs at least one url { path ... }`);
      const vh = c.virtualHost ?? serverVirtualHost;
      return {
        type: c.type,
        urls: c.urls.map((u) => ({
          path: u.path ?? '', ...(u.digest ? { digest: u.digest } : {}), ...(u.status !== undefined ? { status: u.status } : {}),
          ...(u.regex !== undefined ? { regex: u.regex } : {}), ...(u.regexNoMatch ? { regexNoMatch: true } : {}),
          ...(u.regexOptions?.length ? { regexOptions: u.regexOptions as ('caseless' | 'multiline' | 'dotall' | 'utf')[] } : {}),
          ...(u.regexMinOffset !== undefined ? { regexMinOffset: u.regexMinOffset } : {}),
          ...(u.regexMaxOffset !== undefined ? { regexMaxOffset: u.regexMaxOffset } : {}),
        })),
        ...port, ...net,
        ...(vh !== undefined ? { virtualHost: vh } : {}),
      };
    }
  }
}
