// ldirectord checktype/service/request/receive of a virtual section -> vrrpd health checks of its real servers.
import { duration } from './keepalived-ctx.js';
import type { InputContext } from './input-ctx.js';
import type { LdLine } from './ldirectord-parse.js';
import { PORT_BY_SERVICE, type RealDraft, type RsIn } from './ldirectord-tables.js';

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

/** The virtual server fields a check needs: the VIP for external checks. */
interface VsFields { fwmark?: number | undefined; address?: string | undefined; port?: number | undefined }

const REFUSED_SERVICES: Record<string, string> = {
  ftp: 'an FTP login and RETR', imap: 'an IMAP login', imaps: 'an IMAP login over TLS', pop: 'a POP3 login', pops: 'a POP3 login over TLS',
  ldap: 'an LDAP bind and search', ldaps: 'an LDAP bind and search over TLS', nntp: 'an NNTP greeting', mysql: 'a MySQL query',
  pgsql: 'a PostgreSQL query', oracle: 'an Oracle query', radius: 'a RADIUS Access-Request', sip: 'a SIP OPTIONS request',
  simpletcp: 'a send/expect exchange over TCP', http_proxy: 'an HTTP request through the server as a proxy',
};
/** Services a negotiate check runs with one of vrrpd's checks (ldirectord _check_real). */
const NEGOTIATED = ['none', 'http', 'https', 'smtp', 'submission', 'dns'];

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** The checks of a virtual section's real servers; `off` leaves no real server in the table (as ldirectord). */
export function mapChecks(ctx: InputContext, e: Effective, vs: VsFields, reals: RealDraft[]): { checked: boolean; realServers: RsIn[] } {
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
  if (t === 'negotiate' && !NEGOTIATED.includes(svc)) {
    if (Object.hasOwn(REFUSED_SERVICES, svc)) ctx.error(svcLine ?? ct ?? head(), `service = ${svc}${svcLine ? '' : ' (the default for this port)'} is not supported: vrrpd has no check doing ${REFUSED_SERVICES[svc]}; use checktype = connect or external`);
    else ctx.error(svcLine ?? head(), `unknown service "${svc}"`);
    return { checked: false, realServers: reals.map((r) => r.rs) };
  }
  if (e.httpmethod !== 'GET') {
    const l = e.lines.httpmethod!;
    if (e.httpmethod === 'HEAD') ctx.error(l, 'httpmethod = HEAD is not supported: vrrpd checks with GET');
    else ctx.error(l, `httpmethod must be GET or HEAD, got "${l.value}"`);
  }
  const pinged = t === 'ping' || (t === 'connect' && e.protocol === 'udp');
  if ((e.checkcount ?? 1) > 1) {
    const l = e.lines.checkcount;
    if (pinged) ctx.error(l ?? ct ?? head(), 'checkcount > 1 (several pings per check, deprecated) is not supported: use failurecount');
    else if (l) ctx.warn(l, 'checkcount has no effect on this checktype (ldirectord uses it for ping checks only)');
  }
  if (t === 'external' && (e.failurecount ?? 1) > 1) {
    ctx.error(e.lines.failurecount ?? ct!, 'failurecount > 1 with an external check is not supported (misc checks have no retries)');
  }
  if (t === 'negotiate' && svc === 'dns' && e.protocol === 'tcp') {
    ctx.error(e.lines.protocol ?? ct ?? head(), 'service = dns over protocol = tcp (a DNS query over TCP) is not supported: vrrpd\'s DNS check asks over UDP');
  }
  // failurecount N: down after N failed checks, checkinterval apart.
  const spacing = { retries: (e.failurecount ?? 1) - 1, delayBeforeRetry: duration(e.interval ?? 10) };
  const negotiate = { connectTimeout: duration(e.negotiatetimeout ?? 30), ...spacing };
  const connect = { connectTimeout: duration(e.checktimeout ?? 5), ...spacing };
  const realServers: RsIn[] = [];
  let checked = false;
  const reported = new Set<string>();
  const once = (l: LdLine, msg: string) => {
    const k = `${l.file}:${l.line}:${msg}`;
    if (!reported.has(k)) ctx.error(l, msg);
    reported.add(k);
  };
  for (const r of reals) {
    const rs = { ...r.rs };
    realServers.push(rs);
    const own = r.request !== undefined;
    const request = own ? r.request! : e.request;
    const receive = own ? r.receive ?? '' : e.receive;
    const at = (k: 'request' | 'receive') => (own ? r.line : where(k) ?? r.line);
    const checkPort = e.checkport ?? (r.configuredPort > 0 ? r.configuredPort : PORT_BY_SERVICE[svc]);
    const needPort = (): { port?: number } => {
      if (checkPort === undefined) ctx.error(where('checkport') ?? r.line, `no port to check ${rs.address} on: set checkport or the real server's port`);
      return checkPort !== undefined ? { port: checkPort } : {};
    };
    let check: CheckIn | undefined;
    if (t === 'negotiate' && (svc === 'http' || svc === 'https')) {
      // check_http: GET the request; up when the status is 2xx and the body matches the receive regex (if any).
      if (/^https?:\/\//.test(request.replace(/^\//, ''))) once(at('request'), 'a request with an absolute http:// URL (another host or port) is not supported: give the path');
      const url: { path: string; regex?: string } = { path: request };
      if (receive !== '') {
        try {
          new RegExp(receive);
          url.regex = receive;
        } catch (err) { once(at('receive'), `receive is not a regular expression vrrpd can use: ${(err as Error).message}`); }
      }
      check = { type: svc as 'http' | 'https', urls: [url], ...needPort(), ...negotiate, ...(e.virtualhost !== undefined ? { virtualHost: e.virtualhost } : {}) };
    } else if (t === 'negotiate' && (svc === 'smtp' || svc === 'submission')) {
      // check_smtp: Net::SMTP's greeting and hello, then QUIT.
      check = { type: 'smtp', ...needPort(), ...negotiate };
    } else if (t === 'negotiate' && svc === 'dns') {
      check = dnsCheck(once, request, receive, at) ?? undefined;
      if (check) Object.assign(check, needPort(), negotiate);
    } else if (t === 'connect' && e.protocol !== 'udp') {
      check = { type: 'tcp', ...needPort(), ...connect };
    } else if (pinged) {
      // check_ping (also what connect does on a UDP service): an ICMP echo within checktimeout.
      check = { type: 'ping', ...connect };
    } else if (t === 'external') {
      const vip = vs.fwmark !== undefined ? String(vs.fwmark) : vs.address!;
      check = { type: 'misc', script: `${e.checkcommand} ${vip} ${vs.port ?? 0} ${rs.address} ${r.configuredPort}`, timeout: duration(e.checktimeout ?? 5) };
    }
    if (check) { rs.check = check; checked = true; }
  }
  return { checked, realServers };
}

/**
 * check_dns: the request (a name, leading / dropped) is looked up (type A) at the real server; up when an A record
 * of the answer matches receive. vrrpd takes receive as the one IPv4 address that must be in the answer.
 */
function dnsCheck(once: (l: LdLine, msg: string) => void, request: string, receive: string, at: (k: 'request' | 'receive') => LdLine): CheckIn | null {
  const name = request.replace(/^\/+/, '');
  let ok = true;
  if (name === '') { once(at('request'), 'service = dns needs request = the name to look up'); ok = false; }
  else if (IPV4.test(name) || name.includes(':')) { once(at('request'), `request "${name}" is an address: a reverse (PTR) lookup check is not supported; give a name`); ok = false; }
  if (receive === '') { once(at('receive'), 'service = dns needs receive = the IPv4 address expected in the answer (ldirectord marks the server down without one)'); ok = false; }
  else if (!IPV4.test(receive)) {
    once(at('receive'), `receive "${receive}" for service = dns: vrrpd needs the IPv4 address expected in the answer's A records (a regular expression or a PTR name is not supported)`);
    ok = false;
  }
  return ok ? { type: 'dns', queryType: 'A', name, expect: [receive] } : null;
}
