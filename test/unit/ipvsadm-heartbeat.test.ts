// ipvsadm rule sets (seeds 000/003, ipvsadm-save dumps, init scripts) and heartbeat imports (seed 002) -> vrrpd configs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, type AnyLoadResult } from '../../src/config/load.js';
import { IPVSADM_OPTION_LIST } from '../../src/config/ipvsadm-options.js';
import { importHeartbeat } from '../../src/config/heartbeat.js';
import { importForeign } from '../../src/config/import-render.js';
import { desiredTable } from '../../src/ipvs/reconcile.js';
import { main } from '../../src/cli.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-ipvsadm-'));
let n = 0;
const write = (text: string, name = 'rules.sh') => { const p = join(TMP, `${++n}-${name}`); writeFileSync(p, text); return p; };
const ok = (r: AnyLoadResult) => { if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n')); return r.config; };
const errs = (r: AnyLoadResult) => (r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col} ${e.message}`));
const table = (vs: Parameters<typeof desiredTable>[0]) => desiredTable(vs).map((s) =>
  `${'fwmark' in s ? `FWM ${s.fwmark}` : `${s.protocol} ${s.address}:${s.port}`} ${s.scheduler}${s.timeout ? ` persistent ${s.timeout}` : ''} | ${s.dests.map((d) => `${d.address}:${d.port} ${d.forwarding} ${d.weight}`).join(', ')}`);

describe('the seeds\' ipvsadm rules', () => {
  it('seed 000: fwmark 1, wrr, DR weights 1 and 2; iptables and ifconfig skipped with warnings, the VIP a hint', async () => {
    const r = await loadAnyConfig(`${FIX}ipvsadm/seed-000.sh`);
    expect(r.format).toBe('ipvsadm');
    expect(table(ok(r).virtualServers)).toEqual(['FWM 1 wrr | 192.168.0.108:0 dr 1, 192.168.0.109:0 dr 2']);
    expect(r.warnings!.map((w) => `${w.line} ${w.path}`)).toEqual(['3 ifconfig', '4 iptables', '5 iptables', '6 iptables', '7 iptables', '8 iptables']);
    expect(r.notes!.join('\n')).toContain('192.168.0.50 on eth0:0 is set up by the script');
    expect(r.notes!.join('\n')).toContain('no health checks');
  });
  it('seed 003: SMTP with lblc, persistence (ipvsadm default 300 s) and NAT to the service port', async () => {
    const r = await loadAnyConfig(`${FIX}ipvsadm/seed-003.sh`);
    expect(table(ok(r).virtualServers)).toEqual(['tcp 10.0.0.5:25 lblc persistent 360 | 10.0.1.5:25 nat 1']);
    expect(r.notes!.join('\n')).toContain('10.0.0.5/24 on eth0');
  });
  it('seed 002: wlc with weights 3/2/1 and the director itself as a real server', async () => {
    const r = await loadAnyConfig(`${FIX}ipvsadm/seed-002.sh`);
    expect(table(ok(r).virtualServers)).toEqual(['tcp 192.168.0.100:80 wlc | 192.168.0.2:80 dr 3, 192.168.0.3:80 dr 2, 192.168.0.1:80 dr 1']);
  });
});

describe('rule sets in the shape operators carry', () => {
  it('an ipvsadm-save dump: TCP/UDP/fwmark/IPv6, thresholds, -M, NAT port maps', async () => {
    const r = await loadAnyConfig(`${FIX}ipvsadm/operators/ipvsadm-save.rules`);
    expect(table(ok(r).virtualServers)).toEqual([
      'tcp 198.51.100.10:443 sh | 10.3.0.11:443 dr 1, 10.3.0.12:443 dr 1',
      'udp 198.51.100.10:53 rr | 10.3.0.53:53 nat 1, 10.3.0.54:5353 nat 1',
      'tcp 198.51.100.10:80 wlc persistent 360 | 10.3.0.11:80 dr 100, 10.3.0.12:80 dr 100',
      'tcp 2001:db8::10:80 rr | 2001:db8:1::11:80 dr 1',
      'FWM 42 lblcr persistent 1800 | 10.3.0.21:0 tun 5',
    ]);
    const dns = ok(r).virtualServers['ipvs-198_51_100_10-53-udp']!;
    expect(dns.realServers[0]).toMatchObject({ upperThreshold: 1000, lowerThreshold: 800 });
    expect(ok(r).virtualServers['ipvs-fwm-42']!.persistenceNetmask).toBe('255.255.255.0');
  });
  it('an init script: variables, $IPVSADM, bundled -At/-at, -w2, long options with =, :https, only the start branch', async () => {
    const r = await loadAnyConfig(`${FIX}ipvsadm/operators/lvs-init.sh`);
    expect(table(ok(r).virtualServers)).toEqual([
      'tcp 192.0.2.80:443 sh | 10.4.0.11:443 dr 1',
      'tcp 192.0.2.80:80 wrr | 10.4.0.11:80 dr 3, 10.4.0.12:80 dr 2',
    ]);
    const w = r.warnings!.map((x) => `${x.line} ${x.path}`);
    expect(w).toEqual(expect.arrayContaining(['4 .', '14 echo', '15 /sbin/ifconfig', '16 echo', '22 echo', '24 stop', '28 status', '31 *']));
    expect(r.notes!.join('\n')).toContain('192.0.2.80 on eth0:1');
  });
});

describe('error corpus: file:line, nothing applied', () => {
  const cases: [string, string, string][] = [
    ['unknown option', 'ipvsadm -A -t 10.0.0.1:80 --frobnicate\n', '1:1 unknown ipvsadm option --frobnicate'],
    ['unknown bundled option', 'ipvsadm -Aq -t 10.0.0.1:80\n', '1:1 unknown ipvsadm option -q (in -Aq)'],
    ['missing value', 'ipvsadm -A -t\n', '1:1 --tcp-service needs a value'],
    ['two commands', 'ipvsadm -A -a -t 10.0.0.1:80\n', '1:1 two commands (--add-service and --add-server)'],
    ['server before service', 'ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2\n', '1:1 no service 10.0.0.1:80 (add it with -A first)'],
    ['service twice', '-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n', '2:1 service already exists (added at line 1)'],
    ['impossible weight', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000\n', '2:1 --weight needs a whole number 0-65535'],
    ['host name', '-A -t www.example.com:http -s wlc\n', '1:1 "www.example.com" is a host name'],
    ['unset variable', 'ipvsadm -A -t $VIP:80\n', '1:1 variable $VIP is not set'],
    ['restore from stdin', 'ipvsadm -R < /etc/ipvsadm.rules\n', '1:1 not supported: reads rules from standard input'],
    ['sync daemon', 'ipvsadm --start-daemon master --mcast-interface eth1\n', '1:1 not supported: in vrrpd the connection sync daemon follows VRRP'],
    ['timeouts', 'ipvsadm --set 900 120 300\n', '1:1 not supported: IPVS connection timeouts'],
    ['in a loop', 'ipvsadm -A -t 10.0.0.1:80\nfor r in 10.0.0.2 10.0.0.3; do\n  ipvsadm -a -t 10.0.0.1:80 -r $r\ndone\n', '3:1 ipvsadm inside for at line 2'],
    ['port 0 without persistence', '-A -t 10.0.0.1:0 -s rr\n', '1:1 a port-zero service needs persistence'],
    ['unknown scheduler', '-A -t 10.0.0.1:80 -s fastest\n-a -t 10.0.0.1:80 -r 10.0.0.2\n', '1:1 '],
  ];
  for (const [name, text, expected] of cases) {
    it(name, async () => {
      const r = await loadAnyConfig(write(text), { format: 'ipvsadm' });
      expect(r.ok).toBe(false);
      expect(errs(r).some((e) => e.startsWith(expected)), errs(r).join('\n')).toBe(true);
    });
  }
});

describe('docs/ipvsadm-options.md', () => {
  const doc = readFileSync(new URL('../../docs/ipvsadm-options.md', import.meta.url), 'utf8');
  const rows = new Map([...doc.matchAll(/^\| `([^`]+)` \| [^|]* \| (\w+) \| (yes|no) \|/gm)].map((m) => [m[1]!, { class: m[2], traffic: m[3] === 'yes' }]));
  it('lists every option with the class the reader applies; no traffic-affecting one is only warned', () => {
    expect([...rows.keys()].sort()).toEqual(IPVSADM_OPTION_LIST.map((o) => o.canonical).sort());
    for (const o of IPVSADM_OPTION_LIST) expect(rows.get(o.canonical), o.canonical).toEqual({ class: o.class, traffic: o.traffic });
    expect(IPVSADM_OPTION_LIST.filter((o) => o.class === 'warned' && o.traffic).map((o) => o.canonical)).toEqual([]);
  });
  it('says for each option what the reader says (the note column is the table\'s note)', () => {
    const notes = new Map([...doc.matchAll(/^\| `([^`]+)` \|.*\| (?:yes|no) \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!.replace(/\\\|/g, '|')]));
    for (const o of IPVSADM_OPTION_LIST) expect(notes.get(o.canonical), o.canonical).toBe(o.note);
  });
});

describe('heartbeat (seed 002)', () => {
  const hbDir = () => {
    const dir = mkdtempSync(join(TMP, 'hb-'));
    for (const f of ['ha.cf', 'haresources', 'authkeys']) writeFileSync(join(dir, f), readFileSync(`${FIX}ldirectord/seed-002/${f}`));
    return dir;
  };
  it('imports to a pair: the VIP, the preferred node higher, the advert path, auto_failback, authkeys and deadtime said', () => {
    const r = importHeartbeat(`${FIX}ldirectord/seed-002/ha.cf`);
    expect(r.nodes.map((x) => [x.node, x.config.instances!.vi_1])).toEqual([
      ['director1.foo.com', { interface: 'eth0', vrid: 1, priority: 150, advertInterval: '1s', preempt: true, vips: ['192.168.1.100/24 dev eth0'] }],
      ['director2.foo.com', { interface: 'eth0', vrid: 1, priority: 100, advertInterval: '1s', preempt: true, vips: ['192.168.1.100/24 dev eth0'] }],
    ]);
    expect(r.nodes[0]!.config.virtualServersFrom).toEqual([{ ldirectord: `${FIX}ldirectord/seed-002/ldirectord.cf`, instance: 'vi_1' }]);
    const notes = r.notes.join('\n');
    expect(notes).toContain('≈ 3.61 s on the backup, against heartbeat\'s deadtime 20 s');
    expect(notes).toContain('sha1 (a keyed hash) has no VRRP equivalent');
  });
  it('the imported pair validates (with an ldirectord.cf this build runs) and the CLI prints one document per node', async () => {
    const dir = hbDir();
    writeFileSync(join(dir, 'ldirectord.cf'), readFileSync(`${FIX}ldirectord/seed-002/ldirectord.cf`, 'utf8').replace(/^\s*receive=.*\n/m, '').replace('quiescent=yes', 'quiescent=no'));
    const r = await importForeign(join(dir, 'ha.cf'), 'heartbeat', false);
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    const docs = r.text!.split(/^---$/m).slice(1);
    expect(docs).toHaveLength(2);
    for (const [i, node] of ['director1.foo.com', 'director2.foo.com'].entries()) {
      const p = write(docs[i]!, 'node.yaml');
      const v = await loadAnyConfig(p);
      const cfg = ok(v);
      expect(docs[i]).toContain(`# node ${node}`);
      expect(cfg.instances.vi_1!.priority).toBe(i === 0 ? 150 : 100);
      expect(Object.values(cfg.virtualServers)[0]).toMatchObject({ instance: 'vi_1', address: '192.168.1.100' });
    }
    let out = '';
    let err = '';
    const code = await main(['import', '--format', 'heartbeat', '-f', join(dir, 'ha.cf')], { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, readStdin: async () => new Uint8Array() });
    expect([code, out.split(/^---$/m).length - 1]).toEqual([0, 2]);
    expect(err).toContain('udpport: ignored');
  });
  it('refuses what it cannot carry over, with file:line', () => {
    const dir = hbDir();
    writeFileSync(join(dir, 'haresources'), 'director1.foo.com IPaddr::192.168.1.100/24/eth0 httpd\n');
    writeFileSync(join(dir, 'ha.cf'), 'keepalive 1\ndeadtime 10\nucast eth1 10.0.0.2\nping 10.0.0.254\nnode director1.foo.com director2.foo.com\nauto_failback maybe\n');
    const r = importHeartbeat(join(dir, 'ha.cf'));
    expect(r.ok).toBe(false);
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file.endsWith('ha.cf') ? 'ha.cf' : 'haresources'}:${d.line} ${d.message.split(':')[0]}`)).toEqual([
      'ha.cf:4 not supported', 'ha.cf:6 auto_failback is on, off or legacy, got "maybe"', 'haresources:1 resource httpd is a script heartbeat starts on the active node',
    ]);
  });
});
