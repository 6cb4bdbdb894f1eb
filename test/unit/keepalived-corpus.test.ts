// keepalived.conf corpus: keepalived's own samples, a config per feature of issue 9, and an error corpus (file:line, nothing applied).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, type AnyLoadResult, type ConfigIssue } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SAMPLES = `${ROOT}test/fixtures/keepalived-conf/samples/`;
const FEATURES = `${ROOT}test/fixtures/keepalived-conf/features/`;

const ok = (r: AnyLoadResult): Config => {
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return r.config;
};
/** Warnings that drop a setting ("ignored", "unknown keyword") rather than apply keepalived's own correction. */
const dropped = (ws: ConfigIssue[] = []) => ws.filter((w) => /^ignored: |^unknown keyword/.test(w.message));

/**
 * The keywords whose setting changes which real server gets traffic, how a server is checked, which address a
 * director holds or when it fails over (the rule of issue 9). None of them may be dropped with a warning.
 */
const TRAFFIC = new Set(`
  interface virtual_router_id priority state nopreempt preempt preempt_delay advert_int version authentication auth_type auth_pass
  virtual_ipaddress virtual_ipaddress_excluded track_interface track_script track_file track_process track_bfd dont_track_primary
  mcast_src_ip unicast_src_ip unicast_peer mcast_dst_ip down_timer_adverts vrrp_down_timer_adverts vrrp_mcast_group4 vrrp_mcast_group6
  use_vmac use_ipvlan vmac_xmit_base use_vmac_addr virtual_routes virtual_rules static_ipaddress static_routes static_rules track_group
  check_unicast_src vrrp_check_unicast_src skip_check_adv_addr vrrp_startup_delay interface_up_down_delays vrrp_sync_group group
  sync_group_tracking_weight global_tracking net_namespace net_namespace_ipvs vrf vrrp_version v3_checksum_as_v2 vrrp_script script
  interval timeout weight rise fall
  virtual_server virtual_server_group real_server sorry_server sorry_server_lvs_method sorry_server_inhibit lb_algo lvs_sched lb_kind
  lvs_method protocol persistence_timeout persistence_granularity persistence_engine ip_family inhibit_on_failure quorum hysteresis
  quorum_up quorum_down omega alpha warmup ops flag-1 flag-2 flag-3 sh-port sh-fallback mh-port mh-fallback lvs_timeouts lvs_flush
  lvs_sync_daemon delay_loop connect_timeout retry nb_get_retry delay_before_retry uthreshold lthreshold
  HTTP_GET SSL_GET TCP_CHECK MISC_CHECK SMTP_CHECK DNS_CHECK PING_CHECK UDP_CHECK FILE_CHECK BFD_CHECK url path digest status_code
  regex regex_no_match virtualhost connect_ip connect_port bindto bind_if bind_port fwmark misc_path misc_timeout misc_dynamic
`.split(/\s+/).filter(Boolean));

describe('keepalived\'s own samples (Debian keepalived 2.2.7, doc/samples, copied as fixtures)', () => {
  const files = readdirSync(SAMPLES).filter((f) => f.startsWith('keepalived.conf.')).sort();
  /**
   * Refused samples and the keyword each is refused for, all deliberate non-features (docs/keepalived-keywords.md):
   * AH authentication, VMACs, static and virtual routes/rules, and a status_code list with ranges (vrrpd judges one
   * status code per URL). keepalived.conf.vrrp.lvs_syncd lists its members without "group { }": keepalived 2.2.7
   * itself drops that group ("Unknown keyword 'VI_2'"); vrrpd refuses it.
   */
  const REFUSED: Record<string, string[]> = {
    'keepalived.conf.SSL_GET': ['auth_type'],
    'keepalived.conf.conditional_conf': ['use_vmac'],
    'keepalived.conf.status_code': ['status_code'],
    'keepalived.conf.track_interface': ['static_routes', 'virtual_routes'],
    'keepalived.conf.vrrp.lvs_syncd': ['vrrp_sync_group'],
    'keepalived.conf.vrrp.routes': ['static_routes', 'virtual_routes'],
    'keepalived.conf.vrrp.rules': ['static_rules', 'virtual_rules'],
    'keepalived.conf.vrrp.static_ipaddress': ['static_ipaddress', 'virtual_routes'],
  };
  it('are all there (25)', () => expect(files.length).toBe(25));
  for (const f of files) {
    it(`${f}: ${REFUSED[f] ? `refused for ${REFUSED[f].join(', ')}` : 'valid, no traffic-affecting setting dropped'}`, async () => {
      const r = await loadAnyConfig(SAMPLES + f, { format: 'keepalived' });
      const traffic = dropped(r.warnings).filter((w) => TRAFFIC.has(w.path));
      expect(traffic.map(formatIssue)).toEqual([]);
      if (REFUSED[f]) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect([...new Set(r.errors.map((e) => e.path).filter((p) => !p.includes('.')))].sort()).toEqual([...REFUSED[f]].sort());
      } else ok(r);
    });
  }
});

describe('keepalived\'s checker samples, as keepalived reads them', () => {
  const load = async (f: string) => ok(await loadAnyConfig(SAMPLES + f, { format: 'keepalived' }));

  it('PING_CHECK, UDP_CHECK: one check each, retries from the checker', async () => {
    expect((await load('keepalived.conf.PING_CHECK')).virtualServers['vs-10.10.10.2-1358-udp']!.realServers[0]!.checks)
      .toMatchObject([{ type: 'ping', retries: 4 }]);
    expect((await load('keepalived.conf.UDP_CHECK')).virtualServers['vs-10.10.10.2-1358-udp']!.realServers[0]!.checks)
      .toMatchObject([{ type: 'udp', connectTimeout: 3000, retries: 3, delayBeforeRetry: 3000 }]);
  });

  it('SMTP_CHECK: each host { } is one more check (all must pass); IPv6: an SMTP check on an IPv6 service', async () => {
    const rs = (await load('keepalived.conf.SMTP_CHECK')).virtualServers['vs-192.168.200.100-25']!.realServers;
    expect(rs[0]!.checks).toMatchObject([{ type: 'smtp', heloName: 'foo.bar.com', connectTimeout: 30_000, retries: 2, delayBeforeRetry: 5000 }]);
    expect(rs[1]!.checks.map((c) => c.type === 'smtp' && c.address)).toEqual(['172.16.1.11', '192.168.155.10', '64.233.167.99']);
    expect(rs[2]!.checks.map((c) => c.type === 'smtp' && `${c.address}:${c.port}`)).toEqual(['172.16.1.12:25', '192.168.155.11:25', '64.233.167.100:587']);
    const v6 = (await load('keepalived.conf.IPv6')).virtualServers['vs-ae00__1-80']!;
    expect(v6).toMatchObject({ address: 'ae00::1', port: 80, protocol: 'tcp', realServers: [{ address: 'ae00::10', port: 25 }] });
    expect(v6.realServers[0]!.checks).toMatchObject([{ type: 'smtp', heloName: 'foo.bar.com', retries: 3, connectTimeout: 3000 }]);
  });

  it('quorum: alpha, omega, quorum/hysteresis and their scripts carried over', async () => {
    const vs = (await load('keepalived.conf.quorum')).virtualServers['vs-10.0.1.1-80']!;
    expect(vs).toMatchObject({ alpha: true, omega: true, quorum: 7, hysteresis: 2, quorumUp: '/usr/local/sbin/quorum-up.sh',
      quorumDown: '/usr/local/sbin/quorum-down.sh', scheduler: 'wrr', forwarding: 'nat' });
    expect(vs.realServers[0]!.checks).toMatchObject([{ type: 'tcp', port: 80, connectTimeout: 3000 }]);
  });
});

describe('feature configs', () => {
  it('LVS-NAT pair: two-member sync group with group tracking and notify, NAT services with inhibit, quorum, flags, ops/sip', async () => {
    const r = await loadAnyConfig(`${FEATURES}lvs-nat-pair.conf`, { format: 'keepalived' });
    const c = ok(r);
    expect(c.syncGroups.VG_LVS).toMatchObject({ instances: ['VI_PUBLIC', 'VI_GW'], notify: { master: '/usr/local/bin/lvs-notify master',
      backup: '/usr/local/bin/lvs-notify backup', fault: '/usr/local/bin/lvs-notify fault', any: '/usr/local/bin/lvs-notify-any' } });
    expect(c.syncGroups.VG_LVS!.trackScripts.map((t) => t.name)).toEqual(['chk_uplink']);
    expect(c.instances.VI_PUBLIC).toMatchObject({ sourceAddress: '203.0.113.2', unicastPeers: ['203.0.113.3'] });
    expect(c.ipvs.timeouts).toEqual({ tcp: 900_000, tcpFin: 120_000, udp: 300_000 });
    const web = c.virtualServers['vs-203.0.113.10-80']!;
    expect(web).toMatchObject({ scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'], forwarding: 'nat', inhibitOnFailure: true,
      quorum: 2, hysteresis: 1, quorumUp: '/usr/local/bin/quorum up', quorumDown: '/usr/local/bin/quorum down', omega: true, delayLoop: 5000 });
    expect(web.realServers[1]!.inhibitOnFailure).toBe(false);
    expect(web.realServers[0]!.checks[0]).toMatchObject({ type: 'tcp', connectTimeout: 3000, retries: 2, delayBeforeRetry: 2000 });
    expect(web.realServers[1]!.checks[0]).toMatchObject({ type: 'http', retries: 2, delayBeforeRetry: 2000, connectTimeout: 3000 });
    expect(c.virtualServers['vs-203.0.113.10-5060-udp']).toMatchObject({ protocol: 'udp', onePacket: true, persistenceEngine: 'sip' });
    // unicast_src_ip / unicast_peer with a prefix: the address, with a warning (keepalived's inet_stosockaddr drops it too)
    expect(r.warnings!.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([
      '34 unicast_src_ip: "203.0.113.2/24": the address is 203.0.113.2 (keepalived drops the "/24" part too)',
      '36 203.0.113.3/24: "203.0.113.3/24": the address is 203.0.113.3 (keepalived drops the "/24" part too)',
    ]);
  });

  it('virtual_server_group: addresses, a range, IPv6 range, fwmarks, one real-server list and check set each', async () => {
    const r = await loadAnyConfig(`${FEATURES}vsg.conf`, { format: 'keepalived' });
    const c = ok(r);
    expect(Object.keys(c.virtualServers)).toEqual(['WEB-192.168.200.3-80', 'WEB-192.168.200.4-80', 'WEB-192.168.200.5-80', 'WEB-10.0.0.1-8080',
      'WEB-2001_db8__a-443', 'WEB-2001_db8__b-443', 'WEB-2001_db8__c-443', 'WEB-fwm-7', 'WEB-fwm-8']);
    for (const vs of Object.values(c.virtualServers)) {
      expect(vs).toMatchObject({ scheduler: 'rr', forwarding: 'tun', persistence: 60_000, delayLoop: 10_000 });
      expect(vs.realServers.map((x) => [x.address, x.checks[0]?.type])).toEqual([['192.168.201.2', 'tcp']]);
    }
    expect(c.virtualServers['WEB-2001_db8__b-443']).toMatchObject({ address: '2001:db8::b', port: 443, protocol: 'tcp' });
    expect(c.virtualServers['WEB-fwm-8']).toMatchObject({ fwmark: 8, family: 6 });
    expect(r.warnings).toEqual([]);
  });

  it('keepalived\'s corrections, done the same way with a warning: DR port, UDP default, duplicate VIP, port 0, quorum', async () => {
    const r = await loadAnyConfig(`${SAMPLES}keepalived.conf.vrrp`, { format: 'keepalived' });
    expect(ok(r).instances.VI_1!.vips.map((v) => `${v.address}${v.label ? ` ${v.label}` : ''}`)).toEqual(
      ['192.168.200.16', '192.168.200.17', '192.168.200.18', '192.168.200.18 eth0:1']);
    expect(r.warnings!.filter((w) => w.line === 32).map((w) => w.message)).toEqual(['VIP 192.168.200.18 is listed twice in this instance: added once, advertised as listed']);
    const dir = mkdtempSync(join(tmpdir(), 'vrrpd-kac-'));
    writeFileSync(join(dir, 'k.conf'), `virtual_server 10.0.0.1 80 {\n  lb_kind DR\n  quorum 5\n  hysteresis 9\n  real_server 10.0.0.2 8080 {\n    weight 2\n  }\n  real_server 10.0.0.2 8080 {\n  }\n}\nvirtual_server 10.0.0.1 0 {\n  protocol TCP\n  real_server 10.0.0.3 0 {\n  }\n}\n`);
    const k = await loadAnyConfig(join(dir, 'k.conf'), { format: 'keepalived' });
    const c = ok(k);
    expect(c.virtualServers['vs-10.0.0.1-80']).toMatchObject({ protocol: 'udp', quorum: 2, hysteresis: 1, realServers: [{ address: '10.0.0.2', port: 80, weight: 2 }] });
    expect(c.virtualServers['vs-10.0.0.1-80']!.realServers).toHaveLength(1);
    expect(c.virtualServers['vs-10.0.0.1-0']!.persistence).toBe(360_000);
    expect(k.warnings!.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([
      '1 protocol: no protocol: UDP, as keepalived 2.2 defaults (write "protocol TCP" for TCP)',
      '5 real_server: DR cannot change the port: real server port 8080 reset to the service\'s 80, as keepalived does',
      '8 real_server: DR cannot change the port: real server port 8080 reset to the service\'s 80, as keepalived does',
      '8 real_server: real server 10.0.0.2 port 80 is listed twice: the second is dropped, as keepalived does',
      '3 quorum: quorum 5 exceeds the total weight 2 of the real servers: 2, as keepalived sets',
      '4 hysteresis: hysteresis 9 is not below quorum 2: 1, as keepalived sets',
      '11 persistence_timeout: port 0 (all ports) needs persistence: 360 s, as keepalived sets',
    ]);
  });
});

describe('error corpus: file:line, and nothing applied (no config)', () => {
  const EXPECTED: Record<string, string[]> = {
    'sync-unknown-member.conf': ['4 vrrp_sync_group: no vrrp_instance "VI_NOPE" (a member of sync group G)'],
    'sync-two-groups.conf': ['8 vrrp_sync_group: vrrp_instance VI_1 is already in sync group G1 (line 1): an instance is in one group'],
    'sync-track-unknown.conf': ['7 nope: no vrrp_script "nope"'],
    'vsg-undefined.conf': ['1 virtual_server: no virtual_server_group "NOPE"'],
    'vsg-range-backwards.conf': ['2 10.0.0.9-3: "10.0.0.9-3": the range end 3 is below its start 9', '1 virtual_server_group: virtual_server_group G has no entries'],
    'vsg-prefix.conf': ['2 10.0.0.0/29: "10.0.0.0/29": a prefix is not a group entry in keepalived 2.2 (write the range as A.B.C.D-E)', '1 virtual_server_group: virtual_server_group G has no entries'],
    'vsg-fwmark-zero.conf': ['2 fwmark: fwmark 0 is not 1-4294967295', '1 virtual_server_group: virtual_server_group G has no entries'],
    'quorum-zero.conf': ['3 quorum: quorum must be at least 1'],
    'hysteresis-negative.conf': ['3 hysteresis: hysteresis must be at least 0'],
    'persistence-engine-unknown.conf': ['4 persistence_engine: "rtsp" is not a persistence engine vrrpd knows (sip)'],
    'lvs-timeouts-bad.conf': ['2 lvs_timeouts: tcp 0: a timeout is 1-2147483 s', '2 lvs_timeouts: "udp" needs a number of seconds'],
    'inhibit-bad-bool.conf': ['3 inhibit_on_failure: "maybe" is not one of on|off|true|false|yes|no'],
    'misc-inherited-retry.conf': ['5 retry: not supported: 3 retries of a MISC_CHECK, inherited from its server (write retry 0 in it)'],
    'tun-gue.conf': ['3 lb_kind: not supported: tunnel options type gue port 6080 (vrrpd tunnels with IPIP only)'],
  };
  const files = readdirSync(`${FEATURES}errors`).sort();
  it('every file has its expectation', () => expect(files).toEqual(Object.keys(EXPECTED).sort()));
  for (const f of files) {
    it(f, async () => {
      const file = `${FEATURES}errors/${f}`;
      const r = await loadAnyConfig(file, { format: 'keepalived' });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect('config' in r).toBe(false);
      expect(r.errors.filter((e) => e.file === file && e.line > 0).map((e) => `${e.line} ${e.path}: ${e.message}`).slice(0, EXPECTED[f]!.length)).toEqual(EXPECTED[f]);
      expect(readFileSync(file, 'utf8').length).toBeGreaterThan(0);
    });
  }
});
