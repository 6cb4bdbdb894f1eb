// keepalived.conf input, mapping: the seed 001 pair equals conf/lvs1.yaml, the capture fixtures import, every mapping rule.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, loadConfig, type AnyLoadResult, type LoadResult } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { isKeepalivedConfig, parseKeepalivedConfig } from '../../src/config/keepalived.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SEED = `${ROOT}test/fixtures/keepalived-conf/seed-001`;
const SEED_CONF = `${SEED}/etc/keepalived/keepalived.conf`;
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-ka-'));
let n = 0;

/** Write files (name -> text) into a fresh directory; returns the path of the first. */
function files(spec: Record<string, string>): string {
  const dir = join(TMP, String(++n));
  for (const [name, text] of Object.entries(spec)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, Object.keys(spec)[0]!);
}
const conf = (text: string) => files({ 'keepalived.conf': text });
const load = (text: string, opts: { strict?: boolean } = {}) => loadAnyConfig(conf(text), { format: 'keepalived', ...opts });
const inst = (body: string, name = 'VI_1') => `vrrp_instance ${name} {\n    interface eth1\n    virtual_router_id 10\n${body}}\n`;
const ok = (r: LoadResult): Config => {
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return r.config;
};
const msgs = (r: AnyLoadResult) => (r.ok ? r.warnings : [...r.errors, ...(r.warnings ?? [])]).map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);

/** What a YAML and a keepalived config may legitimately differ in (see the seed tests). */
function normalize(c: Config): Config {
  const x = structuredClone(c);
  delete x.global.routerId;
  for (const vs of Object.values(x.virtualServers)) delete vs.instance;
  // keepalived checks advert address lists (strictAddressCheck: true); the YAML samples keep vrrpd's default.
  for (const i of Object.values(x.instances)) i.strictAddressCheck = false;
  return x;
}

describe('seed 001: keepalived.conf + conf.d/fwm-100.conf, unmodified', () => {
  it('is detected as keepalived syntax and loads with only the auth_pass truncation warning', async () => {
    expect(isKeepalivedConfig(readFileSync(SEED_CONF, 'utf8'))).toBe(true);
    expect(isKeepalivedConfig(readFileSync(`${ROOT}conf/lvs1.yaml`, 'utf8'))).toBe(false);
    const r = await loadAnyConfig(SEED_CONF, { includeRoot: SEED });
    expect(r.format).toBe('keepalived');
    ok(r);
    expect(msgs(r)).toEqual(['19:17 instances.vi_100.auth.password: only the first 8 bytes of a PASS password are sent (as keepalived does)']);
    expect(r.warnings![0]!.file).toBe(SEED_CONF);
  });

  it('gives the config of conf/lvs1.yaml, but for the persistence the seed adds later and the implicit instance', async () => {
    const ka = ok(await loadAnyConfig(SEED_CONF, { includeRoot: SEED }));
    const yaml = ok(await loadConfig(`${ROOT}conf/lvs1.yaml`));
    expect(ka.global.routerId).toBe('LVS1');
    // fwm-100.conf as first listed has no persistence_timeout; the seed's "Other Considerations" add
    // "persistence_timeout 3600" (its ipvsadm output shows "persistent 3600"), and lvs1.yaml carries it.
    expect(ka.virtualServers['fwm-100']!.persistence).toBe(0);
    expect(yaml.virtualServers['fwm-100']!.persistence).toBe(3_600_000);
    // keepalived ties no virtual server to an instance: vrrpd's default (every instance) = vi_100, the only one.
    expect(ka.virtualServers['fwm-100']!.instance).toBeUndefined();
    expect(yaml.virtualServers['fwm-100']!.instance).toBe('vi_100');
    const k = normalize(ka);
    k.virtualServers['fwm-100']!.persistence = 3_600_000;
    expect(k).toEqual(normalize(yaml));
  });

  it('with the "Other Considerations" persistence_timeout 3600 it equals lvs1.yaml and lvs2.yaml (routerId aside)', async () => {
    const root = join(TMP, 'seed-persistent');
    cpSync(SEED, root, { recursive: true });
    const fwm = join(root, 'etc/keepalived/conf.d/fwm-100.conf');
    writeFileSync(fwm, readFileSync(fwm, 'utf8').replace('        protocol TCP\n', '        protocol TCP\n        persistence_timeout 3600\n'));
    const ka = ok(await loadAnyConfig(join(root, 'etc/keepalived/keepalived.conf'), { includeRoot: root }));
    for (const sample of ['lvs1', 'lvs2']) expect(normalize(ka)).toEqual(normalize(ok(await loadConfig(`${ROOT}conf/${sample}.yaml`))));
  });

  it('without the include root, the absolute include is used as it is (here: nothing matches, a warning)', async () => {
    const r = await parseKeepalivedConfig(SEED_CONF, { includeRoot: join(TMP, 'empty-root') });
    expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.keyword} ${d.severity}: ${d.message}`))
      .toEqual([`29:1 include warning: no file matches /etc/keepalived/conf.d/*.conf (${join(TMP, 'empty-root')}/etc/keepalived/conf.d/*.conf)`]);
    expect(r.config.virtualServers).toBeUndefined();
  });
});

describe('the capture fixtures (test/fixtures/keepalived/*.conf)', () => {
  const dir = `${ROOT}test/fixtures/keepalived/`;
  const confs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.conf')) : [];
  it('are all there', () => expect(confs.length).toBeGreaterThanOrEqual(10));
  for (const f of confs) {
    it(`${f} imports without errors`, async () => {
      const r = await loadAnyConfig(dir + f);
      expect(r.format).toBe('keepalived');
      const c = ok(r);
      const i = c.instances.VI_1 ?? c.instances.VI_6!;
      expect(i).toMatchObject({ interface: 'eth1', vrid: 100, priority: 100, state: 'MASTER', version: f.startsWith('v3') ? 3 : 2 });
      if (f === 'v3-nopseudo.conf') expect(i.checksum).toBe('no-pseudo-header');
      if (f === 'v3-100ms.conf') expect(i.advertInterval).toBe(100);
      if (f === 'v2-pass.conf') expect(i.auth).toEqual({ type: 'pass', password: '$up3r$3(r37' });
      if (f === 'v2.conf') expect(i.excludedVips.map((v) => v.address)).toEqual(['192.168.1.99']);
      if (f.includes('unicast')) expect([i.sourceAddress, i.unicastPeers]).toEqual(['172.16.1.251', ['172.16.1.252']]);
      if (f === 'v3-ipv6.conf') expect(i.vips[0]).toMatchObject({ address: 'fd00:1::250', prefixLen: 64, family: 6 });
      if (f === 'v3-unicast-oldchksum.conf') expect(msgs(r).join('\n')).toContain('old_unicast_checksum: ignored');
    });
  }
});

describe('vrrp_instance mapping', () => {
  it('version: 2 by default, global vrrp_version, per instance, and 3 for IPv6 VIPs', async () => {
    const c = ok(await load(`global_defs {\n  vrrp_version 3\n}\n${inst('', 'a')}${inst('  version 2\n', 'b').replace('id 10', 'id 11')}`
      + inst('  virtual_ipaddress {\n    fd00::1/64\n  }\n', 'c').replace('id 10', 'id 12')));
    expect([c.instances.a!.version, c.instances.b!.version, c.instances.c!.version]).toEqual([3, 2, 3]);
    expect(ok(await load(inst(''))).instances.VI_1!.version).toBe(2);
    expect(ok(await load(inst('  virtual_ipaddress {\n    fd00::1\n  }\n'))).instances.VI_1!.version).toBe(3);
  });

  it('state MASTER without a priority means 255; priority 255 without a state means MASTER', async () => {
    expect(ok(await load(inst('  state MASTER\n'))).instances.VI_1).toMatchObject({ state: 'MASTER', priority: 255 });
    expect(ok(await load(inst('  priority 255\n'))).instances.VI_1).toMatchObject({ state: 'MASTER', priority: 255 });
    expect(ok(await load(inst(''))).instances.VI_1).toMatchObject({ state: 'BACKUP', priority: 100 });
    expect(ok(await load(inst('  state BACKUP\n  priority 150\n'))).instances.VI_1).toMatchObject({ state: 'BACKUP', priority: 150 });
  });

  it('advert_int in seconds: fractional for v3 (0.1 -> 100 ms); v2 rounds to whole seconds with a warning', async () => {
    expect(ok(await load(inst('  version 3\n  advert_int 0.1\n'))).instances.VI_1!.advertInterval).toBe(100);
    expect(ok(await load(inst('  advert_int 3\n'))).instances.VI_1!.advertInterval).toBe(3000);
    const r = await load(inst('  advert_int 1.6\n'));
    expect(ok(r).instances.VI_1!.advertInterval).toBe(2000);
    expect(msgs(r)).toEqual(['4:3 advert_int: VRRPv2 carries whole seconds up to 255: 1.6 s becomes 2 s, as in keepalived']);
  });

  it('authentication PASS (truncated to 8 with a warning at auth_pass); ignored with v3; AH refused', async () => {
    const r = await load(inst('  authentication {\n    auth_type PASS\n    auth_pass 0123456789\n  }\n'));
    expect(ok(r).instances.VI_1!.auth).toEqual({ type: 'pass', password: '0123456789' });
    expect(msgs(r)).toEqual(['6:5 instances.VI_1.auth.password: only the first 8 bytes of a PASS password are sent (as keepalived does)']);
    const v3 = await load(inst('  version 3\n  authentication {\n    auth_type PASS\n    auth_pass x\n  }\n'));
    expect(ok(v3).instances.VI_1!.auth).toBeUndefined();
    expect(msgs(v3)).toEqual(['5:3 authentication: VRRPv3 has no authentication: ignored, as keepalived does']);
    const ah = await load(inst('  authentication {\n    auth_type AH\n    auth_pass x\n  }\n'));
    expect(ah.ok).toBe(false);
    expect(msgs(ah)).toContain('5:5 auth_type: not supported: IPsec AH authentication (vrrpd speaks PASS or none)');
  });

  it('virtual_ipaddress with prefix, dev and label; brd/scope warned and ignored; excluded VIPs', async () => {
    const r = await load(inst(`  virtual_ipaddress {
    192.168.1.250/24 dev eth0 label eth0:1
    192.168.1.251 brd 192.168.1.255 scope global
  }
  virtual_ipaddress_excluded {
    10.0.0.1/32 dev eth2
  }
`));
    const i = ok(r).instances.VI_1!;
    expect(i.vips).toEqual([
      { address: '192.168.1.250', family: 4, prefixLen: 24, dev: 'eth0', label: 'eth0:1' },
      { address: '192.168.1.251', family: 4, prefixLen: 32 },
    ]);
    expect(i.excludedVips).toEqual([{ address: '10.0.0.1', family: 4, prefixLen: 32, dev: 'eth2' }]);
    expect(msgs(r)).toEqual([
      '6:5 brd: VIP option "brd 192.168.1.255" ignored: vrrpd adds the address with the kernel defaults',
      '6:5 scope: VIP option "scope global" ignored: vrrpd adds the address with the kernel defaults',
    ]);
  });

  it('track_interface with weights, dont_track_primary, unicast_src_ip and unicast_peer, mcast_src_ip', async () => {
    const i = ok(await load(inst(`  track_interface {
    eth0 weight -20
    eth2
  }
  dont_track_primary
  unicast_src_ip 172.16.1.251
  unicast_peer {
    172.16.1.252
    172.16.1.253
  }
`))).instances.VI_1!;
    expect(i.trackInterfaces).toEqual([{ name: 'eth0', weight: -20 }, { name: 'eth2', weight: 0 }]);
    expect(i.dontTrackPrimary).toBe(true);
    expect([i.sourceAddress, i.unicastPeers]).toEqual(['172.16.1.251', ['172.16.1.252', '172.16.1.253']]);
    expect(ok(await load(inst('  mcast_src_ip 172.16.1.9\n'))).instances.VI_1!.sourceAddress).toBe('172.16.1.9');
  });

  it('GARP: per instance, global vrrp_garp_* defaults, instance overrides, vrrp_min_garp', async () => {
    const c = ok(await load(`global_defs {
  vrrp_garp_master_delay 10
  vrrp_garp_master_repeat 3
  vrrp_garp_master_refresh 60
  vrrp_garp_master_refresh_repeat 2
  vrrp_garp_interval 0.001
}
${inst('  garp_master_delay 1\n  garp_master_repeat 2\n  garp_lower_prio_repeat 4\n')}`));
    expect(c.instances.VI_1!.garp).toEqual({ masterDelay: 1000, masterRepeat: 2, masterRefresh: 60_000, refreshRepeat: 2, lowerPriorityRepeat: 4, interval: 1 });
    // keepalived: the lower-priority repeat defaults to the global vrrp_garp_master_repeat.
    const g = ok(await load(`global_defs {\n  vrrp_garp_master_repeat 3\n}\n${inst('')}`)).instances.VI_1!.garp;
    expect([g.masterRepeat, g.lowerPriorityRepeat, g.masterDelay]).toEqual([3, 3, 5000]);
    const m = ok(await load(`global_defs {\n  vrrp_min_garp\n}\n${inst('')}`)).instances.VI_1!.garp;
    expect([m.masterRepeat, m.masterDelay, m.lowerPriorityRepeat]).toEqual([1, 0, 1]);
    expect(ok(await load(inst('  garp_master_refresh 30\n  garp_master_refresh_repeat 3\n'))).instances.VI_1!.garp)
      .toMatchObject({ masterRefresh: 30_000, refreshRepeat: 3 });
  });

  it('nopreempt, preempt_delay, and keepalived\'s resets (owner, nopreempt + preempt_delay)', async () => {
    expect(ok(await load(inst('  nopreempt\n'))).instances.VI_1!.preempt).toBe(false);
    expect(ok(await load(inst('  preempt_delay 300\n'))).instances.VI_1!.preemptDelay).toBe(300_000);
    const r = await load(inst('  nopreempt\n  preempt_delay 5\n'));
    expect(ok(r).instances.VI_1).toMatchObject({ preempt: false, preemptDelay: 0 });
    expect(msgs(r)).toEqual(['5:3 preempt_delay: preempt_delay has no effect with nopreempt: dropped, as keepalived does']);
    const owner = await load(inst('  priority 255\n  nopreempt\n'));
    expect(ok(owner).instances.VI_1).toMatchObject({ preempt: true, state: 'MASTER' });
    expect(msgs(owner)[0]).toMatch(/^5:3 nopreempt: nopreempt has no effect for the address owner/);
  });

  it('notify scripts: quoted with arguments, plain notify = notify.any, a user is warned about', async () => {
    const r = await load(inst(`  notify_master "/etc/keepalived/master.sh 'two words' x"
  notify_backup /etc/keepalived/backup.sh
  notify_fault "/etc/keepalived/fault.sh"
  notify_stop /etc/keepalived/stop.sh
  notify /etc/keepalived/notify.sh root
`));
    expect(ok(r).instances.VI_1!.notify).toEqual({
      master: "/etc/keepalived/master.sh 'two words' x", backup: '/etc/keepalived/backup.sh', fault: '/etc/keepalived/fault.sh',
      stop: '/etc/keepalived/stop.sh', any: '/etc/keepalived/notify.sh', timeout: 10_000,
    });
    expect(msgs(r)).toEqual(['8:3 notify: runs as vrrpd\'s user: "root" (user/group) ignored']);
  });

  it('v3_checksum_as_v2 (instance or global) selects the no-pseudo-header checksum', async () => {
    expect(ok(await load(inst('  version 3\n  v3_checksum_as_v2\n'))).instances.VI_1!.checksum).toBe('no-pseudo-header');
    expect(ok(await load(`global_defs {\n  v3_checksum_as_v2\n  vrrp_version 3\n}\n${inst('')}`)).instances.VI_1!.checksum).toBe('no-pseudo-header');
    expect(ok(await load(inst('  version 3\n'))).instances.VI_1!.checksum).toBe('pseudo-header');
  });
});

describe('vrrp_script and track_script', () => {
  it('track_file init_file: 0 or no value is a warning (a missing file reads as 0); a non-zero value or overwrite is refused', async () => {
    const tf = (arg: string) => `track_file tf {\n  file /run/tf\n  init_file${arg}\n}\n${inst('  track_file {\n    tf\n  }\n')}`;
    for (const arg of ['', ' 0']) {
      const r = await load(tf(arg));
      ok(r);
      expect(msgs(r).some((m) => m.startsWith('3:3 init_file:') && m.includes('reads as 0'))).toBe(true);
    }
    for (const arg of [' 5', ' 0 overwrite', ' overwrite']) {
      const r = await load(tf(arg));
      expect(r.ok, arg).toBe(false);
      expect(msgs(r).some((m) => m.startsWith('3:3 init_file:') && m.includes('not supported')), msgs(r).join('; ')).toBe(true);
    }
  });

  it('maps script, interval, timeout (default: the interval), rise, fall, weight; track_script weights override', async () => {
    const r = await load(`vrrp_script chk_haproxy {
  script "/usr/bin/killall -0 haproxy"
  interval 2
  rise 2
  fall 3
  weight -10
}
vrrp_script chk_file {
  script /usr/local/bin/check
  timeout 0.5
  init_fail
}
vrrp_script unused {
  script /bin/true
}
${inst('  track_script {\n    chk_haproxy\n    chk_file weight 20\n    missing\n  }\n')}`);
    const c = ok(r);
    expect(c.trackScripts).toEqual({
      chk_haproxy: { script: '/usr/bin/killall -0 haproxy', interval: 2000, timeout: 2000, rise: 2, fall: 3, weight: -10, initFail: false },
      chk_file: { script: '/usr/local/bin/check', interval: 1000, timeout: 500, rise: 1, fall: 1, weight: 0, initFail: true },
    });
    expect(c.instances.VI_1!.trackScripts).toEqual([{ name: 'chk_haproxy', weight: undefined }, { name: 'chk_file', weight: 20 }]);
    expect(msgs(r)).toEqual([
      '22:5 missing: no vrrp_script "missing": not tracked, as keepalived does',
      '13:1 vrrp_script: vrrp_script "unused" is tracked by no vrrp_instance: keepalived never runs it; not imported',
    ]);
  });

  it('track_file blocks and instance track_file', async () => {
    const c = ok(await load(`track_file tf {\n  file "/run/prio"\n  weight 5\n}\n${inst('  track_file {\n    tf weight 2\n  }\n')}`));
    expect(c.trackFiles).toEqual({ tf: { file: '/run/prio', weight: 5 } });
    expect(c.instances.VI_1!.trackFiles).toEqual([{ name: 'tf', weight: 2 }]);
  });

  it('"reverse" weights are refused', async () => {
    const r = await load(`vrrp_script s {\n  script /bin/true\n}\n${inst('  track_script {\n    s weight 10 reverse\n  }\n')}`);
    expect(r.ok).toBe(false);
    expect(msgs(r)).toContain('8:5 reverse: not supported: "reverse" weights');
  });
});

describe('LVS sync daemon', () => {
  it('lvs_sync_daemon_interface in an instance: the interface, sync id = the VRID', async () => {
    expect(ok(await load(inst('  lvs_sync_daemon_interface eth1\n'))).ipvs.syncDaemon).toEqual({ interface: 'eth1', syncId: 10 });
  });
  it('global lvs_sync_daemon IF INSTANCE id N (and options); without id the instance\'s VRID', async () => {
    const c = ok(await load(`global_defs {\n  lvs_sync_daemon eth1 VI_1 id 100 port 8848 ttl 2 group 224.0.0.81 maxlen 1400\n}\n${inst('')}`));
    expect(c.ipvs.syncDaemon).toEqual({ interface: 'eth1', syncId: 100, port: 8848, ttl: 2, multicastGroup: '224.0.0.81', maxLen: 1400 });
    expect(ok(await load(`global_defs {\n  lvs_sync_daemon eth2 inst VI_1\n}\n${inst('')}`)).ipvs.syncDaemon).toEqual({ interface: 'eth2', syncId: 10 });
    expect(ok(await load(`global_defs {\n  lvs_sync_daemon eth2\n}\n${inst('')}`)).ipvs.syncDaemon).toEqual({ interface: 'eth2', syncId: 0 });
  });
});

describe('virtual_server mapping', () => {
  it('address and port, lvs_sched/lvs_method, persistence, protocol, virtualhost, sorry_server, checks', async () => {
    const r = await load(`${inst('')}
virtual_server 10.0.0.1 443 {
  delay_loop 10
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  persistence_timeout
  persistence_granularity 255.255.255.0
  virtualhost www.example.com
  sorry_server 10.0.1.99 8080
  connect_timeout 3
  real_server 10.0.1.1 8443 {
    weight 5
    uthreshold 100
    lthreshold 10
    SSL_GET {
      url {
        path /health
        status_code 200
      }
      url {
        path /ready
        digest 0123456789abcdef0123456789ABCDEF
      }
      connect_port 8443
    }
  }
  real_server 10.0.1.2 8443 {
    TCP_CHECK {
      connect_timeout 2
      retry 4
    }
  }
  real_server 10.0.1.3 443 {
    lvs_method DR
    MISC_CHECK {
      misc_path "/usr/local/bin/check 10.0.1.3"
    }
  }
}
`);
    const vs = ok(r).virtualServers['vs-10.0.0.1-443']!;
    expect(vs).toMatchObject({ address: '10.0.0.1', port: 443, protocol: 'tcp', scheduler: 'rr', forwarding: 'nat', persistence: 360_000,
      persistenceNetmask: '255.255.255.0', delayLoop: 10_000, virtualHost: 'www.example.com', sorryServer: { address: '10.0.1.99', port: 8080 } });
    expect(vs.realServers[0]).toEqual({ address: '10.0.1.1', port: 8443, weight: 5, upperThreshold: 100, lowerThreshold: 10, checks: [{
      type: 'https', urls: [{ path: '/health', status: 200, regexNoMatch: false, regexOptions: [] },
        { path: '/ready', digest: '0123456789abcdef0123456789ABCDEF', regexNoMatch: false, regexOptions: [] }],
      port: 8443, connectTimeout: 3000, retries: 1, delayBeforeRetry: 3000 }] });
    expect(vs.realServers[1]!.checks).toEqual([{ type: 'tcp', connectTimeout: 2000, retries: 4, delayBeforeRetry: 1000 }]);
    // keepalived: a misc script's timeout defaults to the delay_loop.
    expect(vs.realServers[2]).toMatchObject({ forwarding: 'dr', checks: [{ type: 'misc', script: '/usr/local/bin/check 10.0.1.3', timeout: 10_000 }] });
    expect(msgs(r)).toEqual([]);
  });

  it('fwmark, lb_algo/lb_kind (old names), UDP, persistence_timeout N, MISC timeout, keepalived\'s NAT default', async () => {
    const c = ok(await load(`${inst('')}
virtual_server fwmark 7 {
  lb_algo sh
  lb_kind TUN
  protocol UDP
  persistence_timeout 50
  real_server 10.0.1.1 0 {
    MISC_CHECK {
      misc_path /bin/check
      misc_timeout 4
    }
  }
}
virtual_server 10.0.0.2 80 {
  real_server 10.0.1.1 80 {
  }
}
`));
    expect(c.virtualServers['fwm-7-udp']).toMatchObject({ fwmark: 7, family: 4, scheduler: 'sh', forwarding: 'tun', protocol: 'udp', persistence: 50_000 });
    expect(c.virtualServers['fwm-7-udp']!.realServers[0]!.checks).toEqual([{ type: 'misc', script: '/bin/check', timeout: 4000 }]);
    // keepalived 2.2: no protocol = UDP (check_data.c: "the kernel defaults to UDP, so set it explicitly").
    expect(c.virtualServers['vs-10.0.0.2-80']).toMatchObject({ forwarding: 'nat', scheduler: 'wlc', delayLoop: 60_000, protocol: 'udp' });
    expect(c.virtualServers['vs-10.0.0.2-80']!.realServers).toEqual([{ address: '10.0.1.1', port: 80, weight: 1, upperThreshold: 0, lowerThreshold: 0, checks: [] }]);
  });

  it('HTTP_GET with several urls, nb_get_retry, virtualhost on the real server, vs-level retry inherited', async () => {
    const c = ok(await load(`${inst('')}
virtual_server 10.0.0.1 80 {
  retry 2
  real_server 10.0.1.1 80 {
    virtualhost a.example
    HTTP_GET {
      url {
        path /a
      }
      url {
        path /b
      }
    }
  }
  real_server 10.0.1.2 80 {
    HTTP_GET {
      url {
        path /
      }
      nb_get_retry 5
      virtualhost b.example
    }
  }
}
`));
    const [a, b] = c.virtualServers['vs-10.0.0.1-80']!.realServers;
    expect(a!.checks).toMatchObject([{ type: 'http', urls: [{ path: '/a' }, { path: '/b' }], retries: 2, virtualHost: 'a.example' }]);
    expect(b!.checks).toMatchObject([{ retries: 5, virtualHost: 'b.example' }]);
  });

  it('several checkers on one real server are all kept (all must pass, as keepalived)', async () => {
    const r = await load(`${inst('')}virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n    PING_CHECK {\n    }\n    HTTP_GET {\n      url {\n        path /\n      }\n    }\n  }\n}\n`);
    expect(ok(r).virtualServers['vs-10.0.0.1-80']!.realServers[0]!.checks.map((c) => c.type)).toEqual(['tcp', 'ping', 'http']);
    expect(msgs(r)).toEqual([]);
  });
});
