// ldirectord checktype/service/request/receive of a virtual section -> vrrpd health checks of its real servers.
import type { ConfigInput } from './schema.js';
import { duration } from './keepalived-ctx.js';
import { schemaAccepts, type InputContext } from './input-ctx.js';
import type { LdLine } from './ldirectord-parse.js';
import { PORT_BY_SERVICE, type RealDraft } from './ldirectord.js';

type VsIn = NonNullable<ConfigInput['virtualServers']>[string];
type RsIn = NonNullable<VsIn['realServers']>[number];
type CheckIn = NonNullable<RsIn['check']>;

/** A virtual section's settings after ldirectord's defaults (read_config, ld_setup). */
export interface Effective {
  checktype: string;
  protocol: 'tcp' | 'udp' | 'fwm';
  service: string | undefined;
  request: string;
  receive: string;
  httpmethod: string;
  checkcommand: string;
  checkport?: number | undefined;
  virtualhost?: string;
  checktimeout?: number;
  negotiatetimeout?: number;
  interval?: number;
  failurecount?: number;
  checkcount?: number;
  /** The line that set each check-related keyword, for diagnostics. */
  lines: Record<string, LdLine>;
  reals: LdLine[];
}

const rsProbe = (check: Record<string, unknown>) => schemaAccepts({ realServers: [{ address: '192.0.2.2', check }] });
/** Field names other branches add to checks, probed on this build's schema. */
const HTTP_REGEX = rsProbe({ type: 'http', urls: [{ path: '/', regex: 'x' }] });
const MISC_RETRIES = rsProbe({ type: 'misc', script: 'x', retries: 1 });

const REFUSED_SERVICES: Record<string, string> = {
  ftp: 'an FTP login and RETR', imap: 'an IMAP login', imaps: 'an IMAP login over TLS', pop: 'a POP3 login', pops: 'a POP3 login over TLS',
  ldap: 'an LDAP bind and search', ldaps: 'an LDAP bind and search over TLS', nntp: 'an NNTP greeting', mysql: 'a MySQL query',
  pgsql: 'a PostgreSQL query', oracle: 'an Oracle query', radius: 'a RADIUS Access-Request', sip: 'a SIP OPTIONS request',
  simpletcp: 'a send/expect exchange over TCP', http_proxy: 'an HTTP request through the server as a proxy',
};
/** Services vrrpd's checker framework gains in another branch (smtp, dns): refused until this build has them. */
const PENDING_SERVICES: Record<string, string> = { smtp: 'smtp', submission: 'smtp', dns: 'dns' };

/** The checks of a virtual section's real servers; `off` leaves no real server in the table (as ldirectord). */
export function mapChecks(ctx: InputContext, e: Effective, vs: Partial<VsIn>, reals: RealDraft[]): { checked: boolean; realServers: RsIn[] } {
  const ct = e.lines.checktype;
  const where = (k: string) => e.lines[k] ?? ct ?? e.lines.service;
  const head = () => (e.reals[0] ?? ct)!;
  const t = e.checktype;
  if (t === 'off') {
    if (reals.length) ctx.notes.push(`${ct!.file}:${ct!.line}: checktype = off: no real server is put in the table (ldirectord activates none); only the fallback serves`);
    return { checked: false, realServers: [] };
  }
  if (t === 'on') return { checked: false, realServers: reals.map((r) => r.rs) };
  if (/^\d+$/.test(t)) {
    ctx.error(ct!, `checktype = ${t} (connect checks with a negotiate check every ${t}th time) is not supported: use negotiate or connect`);
    return { checked: false, realServers: reals.map((r) => r.rs) };
  }
  if (t === 'external-perl') ctx.error(ct!, 'checktype = external-perl (Perl evaluated inside ldirectord) is not supported: use checktype = external with the same script');
  else if (!['negotiate', 'connect', 'ping', 'external'].includes(t)) {
    ctx.error(ct!, `checktype must be connect, negotiate, on, off, ping, external, external-perl or a number, got "${t}"`);
  }
  const svc = e.service ?? 'none';
  const svcLine = e.lines.service;
  if (t === 'negotiate' && !['none', 'http', 'https'].includes(svc)) {
    if (Object.hasOwn(REFUSED_SERVICES, svc)) ctx.error(svcLine ?? ct ?? head(), `service = ${svc}${svcLine ? '' : ' (the default for this port)'} is not supported: vrrpd has no check doing ${REFUSED_SERVICES[svc]}; use checktype = connect or external`);
    else if (Object.hasOwn(PENDING_SERVICES, svc)) ctx.error(svcLine ?? ct ?? head(), `service = ${svc}${svcLine ? '' : ' (the default for this port)'} needs the ${PENDING_SERVICES[svc]} check, which this build lacks; use checktype = connect or external`);
    else ctx.error(svcLine ?? head(), `unknown service "${svc}"`);
    return { checked: false, realServers: reals.map((r) => r.rs) };
  }
  if (e.httpmethod !== 'GET') {
    const l = e.lines.httpmethod!;
    if (e.httpmethod === 'HEAD') ctx.error(l, 'httpmethod = HEAD is not supported: vrrpd checks with GET');
    else ctx.error(l, `httpmethod must be GET or HEAD, got "${l.value}"`);
  }
  if ((e.checkcount ?? 1) > 1) {
    const l = e.lines.checkcount;
    if (t === 'ping' || (t === 'connect' && e.protocol === 'udp')) ctx.error(l ?? ct ?? head(), 'checkcount > 1 (several pings per check, deprecated) is not supported: use failurecount');
    else if (l) ctx.warn(l, 'checkcount has no effect on this checktype (ldirectord uses it for ping checks only)');
  }
  const retries = (e.failurecount ?? 1) - 1;
  const spacing = { retries, delayBeforeRetry: duration(e.interval ?? 10) };
  const realServers: RsIn[] = [];
  let checked = false;
  const reported = new Set<LdLine>();
  for (const r of reals) {
    const rs = { ...r.rs };
    realServers.push(rs);
    let check: CheckIn | undefined;
    const checkPort = e.checkport ?? (r.configuredPort > 0 ? r.configuredPort : PORT_BY_SERVICE[svc]);
    const needPort = (): number | undefined => {
      if (checkPort === undefined) ctx.error(where('checkport') ?? r.line, `no port to check ${rs.address} on: set checkport or the real server's port`);
      return checkPort;
    };
    if (t === 'negotiate' && (svc === 'http' || svc === 'https')) {
      const path = r.request ?? e.request;
      const receive = r.request !== undefined ? r.receive ?? '' : e.receive;
      if (/^https?:\/\//.test(path.replace(/^\//, ''))) ctx.error(r.request !== undefined ? r.line : where('request')!, 'a request with an absolute http:// URL (another host or port) is not supported: give the path');
      const url: Record<string, unknown> = { path };
      if (receive !== '') {
        let ok = true;
        try { new RegExp(receive); } catch (err) { ok = false; ctx.error(r.request !== undefined ? r.line : where('receive')!, `receive is not a regular expression vrrpd can use: ${(err as Error).message}`); }
        const at = r.request !== undefined ? r.line : where('receive')!;
        if (!HTTP_REGEX) {
          if (!reported.has(at)) ctx.error(at, 'receive (a regular expression the page must match) needs the HTTP body regex check, which this build lacks');
          reported.add(at);
        } else if (ok) url.regex = receive;
      }
      const p = needPort();
      check = {
        type: svc, urls: [url as { path: string }], ...(p !== undefined ? { port: p } : {}),
        connectTimeout: duration(e.negotiatetimeout ?? 30), ...spacing,
        ...(e.virtualhost !== undefined ? { virtualHost: e.virtualhost } : {}),
      };
    } else if (t === 'connect' && e.protocol !== 'udp') {
      const p = needPort();
      check = { type: 'tcp', ...(p !== undefined ? { port: p } : {}), connectTimeout: duration(e.checktimeout ?? 5), ...spacing };
    } else if (t === 'ping' || t === 'connect') {
      ctx.error(ct!, `${t === 'connect' ? 'checktype = connect on a UDP service (an ICMP ping in ldirectord)' : 'checktype = ping'} needs the ping check, which this build lacks`);
      break;
    } else if (t === 'external') {
      const vip = vs.fwmark !== undefined ? String(vs.fwmark) : vs.address!;
      if (retries > 0 && !MISC_RETRIES) { ctx.error(e.lines.failurecount ?? ct!, 'failurecount > 1 with an external check is not supported in this build (misc checks have no retries)'); break; }
      check = {
        type: 'misc', script: `${e.checkcommand} ${vip} ${vs.port ?? 0} ${rs.address} ${r.configuredPort}`,
        timeout: duration(e.checktimeout ?? 5), ...(retries > 0 ? { retries } : {}),
      } as CheckIn;
    }
    if (check) { rs.check = check; checked = true; }
  }
  return { checked, realServers };
}
