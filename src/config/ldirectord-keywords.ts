// Every ldirectord.cf keyword, its class in vrrpd (implemented / warned / refused), scope, and why: docs and tests read it.
export type KeywordClass = 'implemented' | 'warned' | 'refused';

export interface KeywordInfo {
  /** implemented: carried over with ldirectord's meaning (some values may be refused, see note); warned: accepted
   *  and not carried over; refused: the config is refused with file:line. */
  class: KeywordClass;
  scope: 'global' | 'virtual' | 'both';
  /** Changes which server gets traffic, how a server is checked, which address is held, or failover. */
  traffic: boolean;
  note: string;
}

const I = (scope: KeywordInfo['scope'], note: string): KeywordInfo => ({ class: 'implemented', scope, traffic: true, note });
const W = (scope: KeywordInfo['scope'], note: string): KeywordInfo => ({ class: 'warned', scope, traffic: false, note });
const R = (scope: KeywordInfo['scope'], note: string, traffic = true): KeywordInfo => ({ class: 'refused', scope, traffic, note });

export const LDIRECTORD_KEYWORDS: Record<string, KeywordInfo> = {
  virtual: I('global', 'IPv4 address:port (port by number or service name) or fwmark number → a virtual server; a host name is refused (write the address)'),
  virtual6: I('global', '[IPv6]:port or fwmark → a virtual server with family 6'),
  real: I('virtual', 'address[->last][:port] gate|masq|ipip [weight] ["request", "receive"] [l:N] [u:N] → realServers (dr/nat/tun, weight, lowerThreshold/upperThreshold, per-server check strings); ranges expanded'),
  real6: I('virtual', 'as real=, IPv6 in brackets (no ranges, as in ldirectord)'),
  fallback: I('both', 'address[:port] [gate|masq|ipip] → sorryServer (a global one applies to TCP and UDP services, not fwmark ones); a forwarding method other than the service\'s is refused'),
  fallback6: I('both', 'as fallback=, for IPv6 services'),
  checktype: I('virtual', 'negotiate → the service\'s check; connect → tcp (UDP services: ping, as ldirectord); ping → ping (checktimeout); external → misc with checkcommand and its four arguments; on → no check; off → no real server in the table; a number (connect N times, then negotiate) and external-perl are refused'),
  service: I('virtual', 'with checktype = negotiate: http, https → http/https check (request path, receive regex); smtp, submission → smtp check (greeting, HELO, QUIT); dns → dns check (request = the name, type A; receive = the IPv4 address that must be in the answer; UDP only); none → no check; ftp, imap, imaps, pop, pops, ldap, ldaps, nntp, mysql, pgsql, oracle, radius, sip, simpletcp, http_proxy are refused'),
  request: I('virtual', 'the URL path of an http/https check (a leading / added; an absolute http:// URL is refused); the name a dns check looks up (an address, i.e. a PTR lookup, is refused)'),
  receive: I('virtual', 'http/https: a regular expression the body must match (url regex); dns: the IPv4 address expected in the answer (a regular expression or PTR name is refused)'),
  checkcommand: I('virtual', 'the misc check\'s command, run with VIP VPORT RIP RPORT appended'),
  checkport: I('virtual', 'the check\'s port'),
  virtualhost: I('virtual', 'the Host header of http/https checks'),
  httpmethod: I('virtual', 'GET (the check\'s method); HEAD is refused'),
  checkinterval: I('both', 'delayLoop, and the pause between the attempts failurecount counts (a per-virtual value needs fork = yes, as in ldirectord, else it is ignored with a warning)'),
  checktimeout: I('both', 'timeout of connect, ping and external checks (default: negotiatetimeout, else 5 s)'),
  negotiatetimeout: I('both', 'timeout of negotiate checks: http/https, smtp, dns (default: checktimeout, else 30 s)'),
  connecttimeout: I('both', 'heartbeat-era name of the connect-check timeout: same as checktimeout (current ldirectord refuses it)'),
  failurecount: I('both', 'N consecutive failures before a server is down → retries N-1, checkinterval apart; more than 1 with checktype = external is refused (misc checks have no retries)'),
  checkcount: I('both', 'ping attempts per check (deprecated); 1 is accepted, more with a ping check is refused, elsewhere it has no effect in ldirectord (warning)'),
  quiescent: I('both', 'yes → inhibitOnFailure (a failed server stays in the table with weight 0, its connections drain). Default no (current ldirectord; older releases documented yes)'),
  readdquiescent: I('global', 'vrrpd keeps the table as configured: a server removed by hand is put back at the next change (readdquiescent = yes behaviour); no is accepted: it differs only after manual ipvsadm edits'),
  scheduler: I('virtual', 'scheduler (default wrr, as ldirectord)'),
  persistent: I('virtual', 'persistence in seconds'),
  netmask: I('virtual', 'persistenceNetmask (used with persistent only, as ldirectord passes -M only with -p)'),
  protocol: I('virtual', 'tcp, udp (default udp for port 53, as ldirectord), fwm for fwmark services'),
  schedflags: I('virtual', 'schedulerFlags (ipvsadm -b)'),
  ops: I('virtual', 'yes → onePacket (UDP only; no effect on TCP, as in ldirectord)'),
  autoreload: I('global', 'yes → global.autoReload: the file is polled every checkinterval and a changed one reloaded with the usual validation (a bad file is refused, the running config kept)'),
  cleanstop: I('both', 'yes (default): services removed at stop, as vrrpd does; no is refused (vrrpd removes its services when it stops)'),
  fork: I('global', 'yes/no: only decides whether a per-virtual checkinterval applies (vrrpd checks every server on its own timer either way)'),
  execute: R('global', 'starts another ldirectord with another configuration: run or include that configuration instead'),
  maintenancedir: R('global', 'forces servers down by file presence: not supported (set weight 0 or remove the server, then reload)'),
  fallbackcommand: R('both', 'runs a command when every real server is down: not supported'),
  timeout: R('both', 'removed from ldirectord: use checktimeout / negotiatetimeout'),
  login: W('virtual', 'credentials of the ftp/imap/pop/ldap/sql/radius/sip checks, which are refused; no effect on http/https/connect/ping/external'),
  passwd: W('virtual', 'as login'),
  database: W('virtual', 'as login (sql checks)'),
  secret: W('virtual', 'as login (radius)'),
  load: W('virtual', 'parsed and unused by ldirectord'),
  callback: W('global', 'command run after the file changed (copying it to the peer): not run'),
  logfile: W('global', 'vrrpd logs JSON lines to stdout (journald)'),
  supervised: W('global', 'vrrpd always runs in the foreground (systemd)'),
  emailalert: W('both', 'vrrpd sends no e-mail'),
  emailalertfreq: W('both', 'vrrpd sends no e-mail'),
  emailalertstatus: W('both', 'vrrpd sends no e-mail'),
  emailalertfrom: W('global', 'vrrpd sends no e-mail'),
  smtp: W('both', 'the e-mail alerts\' SMTP server (not a check): vrrpd sends no e-mail'),
  monitorfile: W('virtual', 'check results are in the log and vrrpd status'),
  servicename: W('virtual', 'a label for e-mail alerts'),
  comment: W('virtual', 'a note for e-mail alerts'),
};
