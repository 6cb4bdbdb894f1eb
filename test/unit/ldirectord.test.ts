// ldirectord.cf input: the seeds' files, an operator-shaped file, refusals with file:line, the keyword document.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, parseConfig, type AnyLoadResult } from '../../src/config/load.js';
import { parseLdirectordConfig } from '../../src/config/ldirectord.js';
import { LDIRECTORD_KEYWORDS } from '../../src/config/ldirectord-keywords.js';
import { desiredTable } from '../../src/ipvs/desired.js';

const FIX = new URL('../fixtures/ldirectord/', import.meta.url).pathname;
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-ld-'));
let n = 0;
const write = (text: string, name = 'ldirectord.cf') => { const p = join(TMP, `${++n}-${name}`); writeFileSync(p, text); return p; };
const errs = (r: AnyLoadResult) => (r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col} ${e.message}`));
const load = (text: string) => loadAnyConfig(write(text), { format: 'ldirectord' });

describe('the seeds\' ldirectord.cf', () => {
  it('seed 004 (negotiate with a per-real request/receive, fallback, autoreload) maps to the service ldirectord builds', () => {
    const m = parseLdirectordConfig(`${FIX}seed-004/ldirectord.cf`);
    const vs = m.config.virtualServers!['ld-192_168_2_200-80']!;
    expect(vs).toMatchObject({ address: '192.168.2.200', port: 80, scheduler: 'wrr', forwarding: 'dr', delayLoop: '5s', sorryServer: { address: '127.0.0.1', port: 0 } });
    expect(vs.realServers!.map((r) => [r.address, r.port, r.weight, r.check?.type, r.check && 'urls' in r.check ? r.check.urls[0]!.path : null])).toEqual([
      ['192.168.2.11', 80, 2, 'http', '/.healtcheck.html'], ['192.168.2.12', 80, 2, 'http', '/.healtcheck.html'],
    ]);
    // negotiatetimeout defaults to checktimeout (20), failurecount 1 -> no retry.
    expect(vs.realServers![0]!.check).toMatchObject({ port: 80, connectTimeout: '20s', retries: 0, delayBeforeRetry: '5s' });
    expect(m.config.global).toEqual({ autoReload: '5s' });
    // receive -> the body regex; ldirectord adds a server only after its first passing check -> alpha.
    expect(vs.realServers!.map((r) => r.check && 'urls' in r.check ? r.check.urls[0]!.regex : null)).toEqual(['OKAY', 'OKAY']);
    expect(vs).toMatchObject({ alpha: true });
    expect(vs.inhibitOnFailure).toBeUndefined(); // quiescent=no
  });

  it('seed 002 (negotiate, request/receive, quiescent=yes) loads: http check with the receive regex, alpha, inhibitOnFailure', async () => {
    const r = await loadAnyConfig(`${FIX}seed-002/ldirectord.cf`);
    expect(r.format).toBe('ldirectord');
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    expect(r.config.instances).toEqual({});
    const vs = r.config.virtualServers['ld-192_168_1_100-80']!;
    expect(vs).toMatchObject({ address: '192.168.1.100', port: 80, protocol: 'tcp', scheduler: 'wlc', forwarding: 'dr', delayLoop: 2000, alpha: true, inhibitOnFailure: true });
    // negotiatetimeout defaults to the global checktimeout (10); request gets its leading /.
    for (const s of vs.realServers) {
      expect(s.checks).toEqual([expect.objectContaining({ type: 'http', port: 80, connectTimeout: 10_000, retries: 0, delayBeforeRetry: 2000, urls: [expect.objectContaining({ path: '/alive.html', regex: "I'm alive!" })] })]);
    }
  });

  it('seed 002 gives the IPVS table ldirectord programs; quiescent keeps a failing server at weight 0', async () => {
    const r = await loadAnyConfig(`${FIX}seed-002/ldirectord.cf`);
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    const show = (t: ReturnType<typeof desiredTable>) => t.map((s) => ['protocol' in s ? [s.protocol, s.address, s.port] : [], s.scheduler, s.dests.map((d) => `${d.address}:${d.port} ${d.forwarding} ${d.weight}`)]);
    expect(show(desiredTable(r.config.virtualServers))).toEqual([
      [['tcp', '192.168.1.100', 80], 'wlc', ['192.168.1.11:80 dr 1', '192.168.1.12:80 dr 1']],
    ]);
    const down = (_: string, rs: { address: string }) => rs.address !== '192.168.1.12';
    expect(show(desiredTable(r.config.virtualServers, undefined, { healthy: down }))).toEqual([
      [['tcp', '192.168.1.100', 80], 'wlc', ['192.168.1.11:80 dr 1', '192.168.1.12:80 dr 0']],
    ]);
    // quiescent=no: the failing server leaves the table.
    const r2 = await load(readFileSync(`${FIX}seed-002/ldirectord.cf`, 'utf8').replace('quiescent=yes', 'quiescent=no'));
    if (!r2.ok) throw new Error(r2.errors.map(formatIssue).join('\n'));
    expect(show(desiredTable(r2.config.virtualServers, undefined, { healthy: down }))).toEqual([
      [['tcp', '192.168.1.100', 80], 'wlc', ['192.168.1.11:80 dr 1']],
    ]);
  });
});

describe('configs in the shape operators publish', () => {
  it('service names, ranges, masq port maps, external checks on UDP DNS, fwmark, IPv6, global fallback', async () => {
    const r = await loadAnyConfig(`${FIX}operators/large.cf`);
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    const v = r.config.virtualServers;
    expect(Object.keys(v)).toEqual(['ld-203_0_113_10-80', 'ld-203_0_113_10-443', 'ld-203_0_113_10-8080', 'ld-203_0_113_10-53', 'ld-203_0_113_10-25', 'ld-fwm-7', 'ld-2001_db8__10-80']);
    const web = v['ld-203_0_113_10-80']!;
    expect(web.realServers.map((s) => s.address)).toEqual(['10.1.0.11', '10.1.0.12', '10.1.0.20', '10.1.0.21', '10.1.0.22']);
    expect(web).toMatchObject({ scheduler: 'wlc', persistence: 600_000, persistenceNetmask: '255.255.255.0', sorryServer: { address: '127.0.0.1', port: 0 } });
    // connect: a TCP check with checktimeout; failurecount 3 -> 2 retries checkinterval apart.
    expect(web.realServers[0]!.checks[0]).toMatchObject({ type: 'tcp', port: 80, connectTimeout: 5000, retries: 2, delayBeforeRetry: 10_000 });
    expect(v['ld-203_0_113_10-443']!.realServers[0]!.checks[0]).toMatchObject({ type: 'https', urls: [{ path: '/healthz' }], connectTimeout: 15_000 });
    const nat = v['ld-203_0_113_10-8080']!;
    expect(nat.realServers.map((s) => [s.port, s.weight])).toEqual([[8080, 1], [8081, 3]]);
    expect(nat).toMatchObject({ forwarding: 'nat', sorryServer: { address: '10.1.0.99', port: 8080 } });
    expect(nat.realServers[1]!.checks[0]).toMatchObject({ type: 'http', urls: [{ path: '/status' }], port: 8081 });
    const dns = v['ld-203_0_113_10-53']!;
    expect(dns.protocol).toBe('udp');
    expect(dns.realServers[0]!.checks[0]).toEqual({ type: 'misc', script: '/usr/local/bin/check_dns.sh 203.0.113.10 53 10.1.0.53 53', timeout: 3000 });
    expect(v['ld-fwm-7']).toMatchObject({ fwmark: 7, scheduler: 'rr', persistence: 1_800_000 });
    expect(v['ld-fwm-7']!.sorryServer).toBeUndefined(); // a global fallback is for TCP/UDP services only
    expect(v['ld-fwm-7']!.realServers.every((s) => s.checks.length === 0)).toBe(true);
    expect(v['ld-2001_db8__10-80']!.realServers.map((s) => s.address)).toEqual(['2001:db8:1::11', '2001:db8:1::12']);
    expect(r.config.global.autoReload).toBe(10_000);
    expect(r.warnings.map((w) => `${w.line} ${w.path}`)).toEqual(['7 logfile', '8 emailalert', '9 emailalertfreq', '25 servicename']);
    expect(() => desiredTable(r.config.virtualServers)).not.toThrow();
  });

  it('UDP services: RADIUS refused by name; DNS negotiate -> dns check, ping and connect-on-UDP -> ping check', async () => {
    const r = await loadAnyConfig(`${FIX}operators/udp-refused.cf`);
    expect(r.ok).toBe(false);
    expect(errs(r)).toEqual([expect.stringMatching(/^8:5 service = radius is not supported: vrrpd has no check doing a RADIUS Access-Request/)]);
    const m = parseLdirectordConfig(`${FIX}operators/udp-refused.cf`);
    const v = m.config.virtualServers!;
    // check_dns: request looked up at the real server (A), receive the address in the answer; negotiatetimeout 30 s.
    expect(v['ld-203_0_113_20-53']!.realServers![0]!.check).toEqual({
      type: 'dns', queryType: 'A', name: 'example.com', expect: ['192.0.2.1'], port: 53, connectTimeout: '30s', retries: 0, delayBeforeRetry: '5s',
    });
    expect(v['ld-203_0_113_20-53']!.protocol).toBe('udp'); // port 53: udp by default, as ldirectord
    expect(v['ld-203_0_113_20-5060']!.realServers![0]!.check).toEqual({ type: 'ping', connectTimeout: '5s', retries: 0, delayBeforeRetry: '5s' });
    const c = await load('virtual=10.0.0.1:123\n\treal=10.0.0.2:123 gate\n\tprotocol=udp\n\tchecktype=connect\n\tchecktimeout=2\n\tfailurecount=3\n');
    if (!c.ok) throw new Error(c.errors.map(formatIssue).join('\n'));
    expect(c.config.virtualServers['ld-10_0_0_1-123']!.realServers[0]!.checks).toEqual([expect.objectContaining({ type: 'ping', connectTimeout: 2000, retries: 2, delayBeforeRetry: 10_000 })]);
  });

  it('service = smtp (and submission) -> the smtp check on the service\'s port, negotiatetimeout', async () => {
    const r = await load('negotiatetimeout=7\nvirtual=10.0.0.1:25\n\treal=10.0.0.2 gate\n\treal=10.0.0.3:2525 masq\n\tchecktype=negotiate\nvirtual=10.0.0.1:587\n\treal=10.0.0.4:587 gate\n');
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    const smtp = r.config.virtualServers['ld-10_0_0_1-25']!;
    expect(smtp.realServers.map((s) => s.checks.map((c) => ({ ...c })))).toEqual([
      [expect.objectContaining({ type: 'smtp', port: 25, connectTimeout: 7000 })], [expect.objectContaining({ type: 'smtp', port: 2525, connectTimeout: 7000 })],
    ]);
    expect(r.config.virtualServers['ld-10_0_0_1-587']!.realServers[0]!.checks).toEqual([expect.objectContaining({ type: 'smtp', port: 587 })]);
  });
});

describe('error corpus: file:line, nothing applied', () => {
  const cases: [string, string, string][] = [
    ['unknown global keyword', 'checkintervall=5\n', '1:1 unknown ldirectord keyword "checkintervall"'],
    ['unknown virtual keyword', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tfrobnicate=1\n', '3:5 unknown ldirectord keyword "frobnicate"'],
    ['virtual keyword at the top', 'scheduler=rr\n', '1:1 scheduler is not valid in a global line (ldirectord refuses it too)'],
    ['indented line after a blank line', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\n\tscheduler=rr\n', '4:5 indented line outside a virtual section'],
    ['bad forward method', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 route\n', '2:5 forward method must be gate, masq or ipip, got "route"'],
    ['garbage after a real', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate 1 extra\n', '2:5 invalid real server line, around "extra"'],
    ['host name', 'virtual=www.example.com:80\n', '1:1 "www.example.com" is a host name: write the address'],
    ['unknown port name', 'virtual=10.0.0.1:nosuchsvc\n', '1:1 "nosuchsvc" is not a port number or a known service name'],
    ['impossible octet', 'virtual=10.0.0.300:80\n', '1:1 "10.0.0.300" is not an IPv4 address'],
    ['impossible weight', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate 70000\n\tchecktype=on\n', '2:5 weight 70000 is above 65535'],
    ['bad yes/no', 'quiescent=maybe\n', '1:1 quiescent must be "yes" or "no", got "maybe"'],
    ['zero interval', 'checkinterval=0\n', '1:1 checkinterval needs a whole number above 0, got "0"'],
    ['protocol of a fwmark', 'virtual=5\n\treal=10.0.0.2 gate\n\tprotocol=tcp\n', '3:5 protocol must be fwm if the virtual service is a fwmark'],
    ['combined checktype', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=5\n', '3:5 checktype = 5 (connect checks with a negotiate check every 5th time) is not supported'],
    ['external-perl', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=external-perl\n', '3:5 checktype = external-perl'],
    ['HEAD', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\thttpmethod=HEAD\n', '3:5 httpmethod = HEAD is not supported'],
    ['default service of port 21', 'virtual=10.0.0.1:21\n\treal=10.0.0.2:21 gate\n', '2:5 service = ftp (the default for this port) is not supported'],
    ['maintenancedir', 'maintenancedir=/etc/ha.d/maint\n', '1:1 not supported: forces servers down by file presence'],
    ['execute', 'execute=other.cf\n', '1:1 not supported: starts another ldirectord'],
    ['cleanstop no', 'cleanstop=no\n', '1:1 cleanstop = no is not supported'],
    ['duplicate virtual', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=on\nvirtual=10.0.0.1:http\n\treal=10.0.0.3:80 gate\n\tchecktype=on\n', '4:1 duplicate virtual server (same as line 1)'],
    ['unknown scheduler', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=on\n\tscheduler=xyz\n', '4:5 '],
    ['no check port', 'virtual=10.0.0.1:8000\n\treal=10.0.0.2 gate\n\tchecktype=connect\n', '3:5 no port to check 10.0.0.2 on'],
    ['dns receive regex', 'virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate\n\tservice=dns\n\trequest="example.com"\n\treceive="192\\.0\\..*"\n', '5:5 receive "192\\.0\\..*" for service = dns: vrrpd needs the IPv4 address'],
    ['dns without receive', 'virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate\n\tservice=dns\n\trequest="example.com"\n', '3:5 service = dns needs receive'],
    ['dns reverse lookup', 'virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate "192.0.2.1","host.example."\n', '2:5 request "192.0.2.1" is an address'],
    ['dns over tcp', 'virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate\n\tprotocol=tcp\n\trequest="example.com"\n\treceive="192.0.2.1"\n', '3:5 service = dns over protocol = tcp'],
    ['ping checkcount', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=ping\n\tcheckcount=3\n', '4:5 checkcount > 1'],
    ['external failurecount', 'virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=external\n\tfailurecount=2\n', '4:5 failurecount > 1 with an external check'],
    ['range backwards', 'virtual=10.0.0.1:80\n\treal=10.0.0.9->10.0.0.2:80 gate\n', '2:5 invalid range 10.0.0.9->10.0.0.2'],
  ];
  for (const [name, text, expected] of cases) {
    it(name, async () => {
      const r = await load(text);
      expect(r.ok).toBe(false);
      expect(errs(r).some((e) => e.startsWith(expected)), errs(r).join('\n')).toBe(true);
    });
  }
});

describe('YAML referencing an ldirectord.cf (virtualServersFrom)', () => {
  it('takes its virtual servers, ties them to the instance, and points errors at the ldirectord.cf line', () => {
    const cf = write('virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=connect\n');
    const yaml = (p: string) => `instances:\n  vi_1:\n    interface: eth0\n    vrid: 5\n    vips: [10.0.0.1/24]\nvirtualServersFrom:\n  - ldirectord: ${p}\n    instance: vi_1\n`;
    const r = parseConfig(yaml(cf), join(TMP, 'a.yaml'));
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    expect(r.config.virtualServers['ld-10_0_0_1-80']).toMatchObject({ instance: 'vi_1', realServers: [{ address: '10.0.0.2', checks: [{ type: "tcp" }] }] });
    const bad = write('virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=connect\n\tscheduler=nope\n');
    const r2 = parseConfig(yaml(bad), join(TMP, 'b.yaml'));
    expect(r2.ok ? [] : r2.errors.map((e) => `${e.file}:${e.line}`)).toEqual([`${bad}:4`]);
  });
});

describe('docs/ldirectord-keywords.md', () => {
  const doc = readFileSync(new URL('../../docs/ldirectord-keywords.md', import.meta.url), 'utf8');
  const rows = new Map([...doc.matchAll(/^\| `([^`]+)` \| (\w+) \| (\w+) \| (yes|no) \|/gm)].map((m) => [m[1]!, { class: m[2], scope: m[3], traffic: m[4] === 'yes' }]));
  it('lists every keyword with the class the reader applies', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(LDIRECTORD_KEYWORDS).sort());
    for (const [k, i] of Object.entries(LDIRECTORD_KEYWORDS)) expect(rows.get(k), k).toEqual({ class: i.class, scope: i.scope, traffic: i.traffic });
  });
  it('says for each keyword what the reader says (the note column is the table\'s note)', () => {
    const notes = new Map([...doc.matchAll(/^\| `([^`]+)` \|.*\| (?:yes|no) \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!.replace(/\\\|/g, '|')]));
    for (const [k, i] of Object.entries(LDIRECTORD_KEYWORDS)) expect(notes.get(k), k).toBe(i.note);
  });
  it('no traffic-affecting keyword is only warned about', () => {
    const offenders = Object.entries(LDIRECTORD_KEYWORDS).filter(([, i]) => i.class === 'warned' && i.traffic).map(([k]) => k);
    expect(offenders).toEqual([]);
    // and the reader really refuses a "refused" one, and does not refuse a "warned" one
    for (const [k, i] of Object.entries(LDIRECTORD_KEYWORDS)) {
      if (i.scope === 'virtual' || k.startsWith('virtual') || k.startsWith('fallback')) continue;
      const m = parseLdirectordConfig('x.cf', { text: `${k}=yes\n` });
      const severities = m.diagnostics.filter((d) => d.line === 1).map((d) => d.severity);
      if (i.class === 'warned') expect(severities, k).toEqual(['warning']);
      if (i.class === 'refused') expect(severities, k).toContain('error');
    }
  });
});
