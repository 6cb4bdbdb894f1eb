// Service names for ports (":http", ":www"), built in: the same answer on every host, no /etc/services at run time.
/**
 * The names /etc/services (Debian netbase) gives the ports LVS directors balance, plus the ldirectord service names
 * (its own table: "dns", "pop", "oracle", "http_proxy", "pgsql"). One port per name for TCP and UDP alike, as in
 * /etc/services for these entries. A name not listed is refused with file:line: write the number.
 */
const PORTS: Record<string, number> = {
  ftp: 21, 'ftp-data': 20, ssh: 22, telnet: 23, smtp: 25, domain: 53, dns: 53, tftp: 69, gopher: 70, finger: 79,
  http: 80, www: 80, 'www-http': 80, kerberos: 88, pop3: 110, pop: 110, 'pop-3': 110, sunrpc: 111, ident: 113, auth: 113,
  nntp: 119, ntp: 123, imap: 143, imap2: 143, snmp: 161, 'snmp-trap': 162, bgp: 179, irc: 194, ldap: 389, https: 443,
  'microsoft-ds': 445, kpasswd: 464, urd: 465, smtps: 465, syslog: 514, submission: 587, ipp: 631, ldaps: 636,
  rsync: 873, 'ftps-data': 989, ftps: 990, telnets: 992, imaps: 993, pop3s: 995, pops: 995, socks: 1080, openvpn: 1194,
  'ms-sql-s': 1433, 'ms-sql-m': 1434, oracle: 1521, 'l2tp': 1701, radius: 1812, 'radius-acct': 1813, nfs: 2049,
  http_proxy: 3128, squid: 3128, mysql: 3306, 'ms-wbt-server': 3389, svn: 3690, sip: 5060, 'sip-tls': 5061,
  xmpp_client: 5222, 'xmpp-client': 5222, 'xmpp-server': 5269, postgresql: 5432, pgsql: 5432, amqp: 5672,
  'x11': 6000, 'ircd': 6667, 'http-alt': 8080, webcache: 8080, 'tproxy': 8081, memcache: 11211, redis: 6379,
};

/** A port given as a number or a service name; undefined when neither. */
export function resolvePort(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n <= 65535 ? n : undefined;
  }
  return Object.hasOwn(PORTS, text.toLowerCase()) ? PORTS[text.toLowerCase()] : undefined;
}
