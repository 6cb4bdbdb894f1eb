// Config validation: the samples load, and a corpus of mistakes is refused with file:line:col, field and message.
import { describe, expect, it } from 'vitest';
import { parseConfig, loadConfig, formatIssue } from '../../src/config/load.js';
import { validateIpvsTable } from '../../src/ipvs/desired.js';

const base = (inst: string, global = '') => `${global}instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n${inst}`;

describe('samples', () => {
  for (const f of ['conf/lvs1.yaml', 'conf/lvs2.yaml']) {
    it(`${f} reproduces seed 001`, async () => {
      const r = await loadConfig(f);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const i = r.config.instances.vi_100!;
      expect(i).toMatchObject({ interface: 'eth1', vrid: 100, version: 2, priority: 90, state: 'BACKUP', preempt: false, dontTrackPrimary: true });
      expect(i.auth).toEqual({ type: 'pass', password: '$up3r$3(r37' });
      expect(i.garp.masterDelay).toBe(1000);
      expect(i.vips).toEqual([{ address: '192.168.1.250', family: 4, prefixLen: 32, dev: 'eth0' }]);
      expect(i.excludedVips).toEqual([{ address: '192.168.1.100', family: 4, prefixLen: 32, dev: 'eth0' }]);
      expect(i.trackInterfaces).toEqual([{ name: 'eth0', weight: 0 }]);
      // The 10-character password is a warning (only 8 bytes go on the wire), not an error.
      expect(r.warnings.map((w) => w.path)).toEqual(['instances.vi_100.auth.password']);
    });
  }
  it('fills defaults from the schema', () => {
    const r = parseConfig(base(''), 'x.yaml');
    expect(r.ok && r.config.instances.vi_1).toMatchObject({
      version: 2, priority: 100, advertInterval: 1000, state: 'BACKUP', preempt: true, checksum: 'pseudo-header',
      garp: { masterDelay: 5000, masterRepeat: 5, masterRefresh: 0, refreshRepeat: 1 },
    });
    expect(r.ok && r.config.global.controlSocket).toBe('/run/vrrpd/vrrpd.sock');
  });
  it('reads durations in ms, s, m and plain seconds', () => {
    const r = parseConfig(base('    version: 3\n    advertInterval: 250ms\n    preemptDelay: 1.5\n    garp: { masterRefresh: 2m }\n'), 'x.yaml');
    expect(r.ok && [r.config.instances.vi_1!.advertInterval, r.config.instances.vi_1!.preemptDelay, r.config.instances.vi_1!.garp.masterRefresh]).toEqual([250, 1500, 120000]);
  });
});

// [name, yaml, expected "line:col path: message" fragments]
const corpus: [string, string, string[]][] = [
  ['unknown top-level key', 'instance:\n  a: {}\n', ['1:1: instance: unknown key "instance"']],
  ['unknown instance key', base('    priorty: 90\n'), ['5:5: instances.vi_1.priorty: unknown key "priorty"']],
  ['priority out of range', base('    priority: 256\n'), ['5:5: instances.vi_1.priority: expected at most 255, got 256']],
  ['priority zero', base('    priority: 0\n'), ['5:5: instances.vi_1.priority: expected at least 1, got 0']],
  ['VRID missing', 'instances:\n  vi_1:\n    interface: eth1\n', ['2:3: instances.vi_1.vrid:']],
  ['bad VIP', base('    vips: [ "192.168.1.300" ]\n'), ['instances.vi_1.vips.0: "192.168.1.300" is not an IPv4 or IPv6 address']],
  ['bad duration', base('    advertInterval: fast\n'), ['5:5: instances.vi_1.advertInterval: a duration like']],
  ['v2 sub-second interval', base('    advertInterval: 500ms\n'), ['5:5: instances.vi_1.advertInterval: VRRPv2 needs whole seconds from 1 s to 255 s, got 500 ms']],
  ['v3 interval not in 10 ms steps', base('    version: 3\n    advertInterval: 15ms\n'), ['6:5: instances.vi_1.advertInterval: VRRPv3 needs 10 ms steps']],
  ['v3 interval too long', base('    version: 3\n    advertInterval: 41s\n'), ['VRRPv3 needs 10 ms steps from 10 ms to 40.95 s, got 41000 ms']],
  ['auth with v3', base('    version: 3\n    auth: { type: pass, password: x }\n'), ['6:5: instances.vi_1.auth: authentication exists only in VRRPv2']],
  ['IPv6 VIP with v2', base('    vips: [ "fd00::1" ]\n'), ['instances.vi_1.version: VRRPv2 is IPv4 only']],
  ['mixed families', base('    version: 3\n    vips: [ "10.0.0.1", "fd00::1" ]\n'), ['instances.vi_1.vips.1: IPv6 VIP in an IPv4 instance']],
  ['owner with nopreempt', base('    priority: 255\n    preempt: false\n'), ['6:5: instances.vi_1.preempt: the address owner (priority 255) always preempts']],
  ['bad unicast peer', base('    unicastPeers: [ "172.16.1.x" ]\n'), ['instances.vi_1.unicastPeers.0: an IPv4 or IPv6 address']],
  ['peer of another family', base('    vips: [ 10.0.0.1 ]\n    unicastPeers: [ "fd00::2" ]\n'), ['instances.vi_1.unicastPeers.0: IPv6 peer for an IPv4 instance']],
  ['duplicate VRID on an interface', 'instances:\n  a:\n    interface: eth1\n    vrid: 7\n  b:\n    interface: eth1\n    vrid: 7\n',
    ['7:5: instances.b.vrid: VRID 7 on eth1 (IPv4) is already used by instance "a"']],
  ['same VIP in two instances', 'instances:\n  a:\n    interface: eth1\n    vrid: 7\n    vips: [ 10.0.0.1 ]\n  b:\n    interface: eth2\n    vrid: 7\n    vips: [ 10.0.0.1 ]\n',
    ['instances.b.vips.0: VIP 10.0.0.1 is also in instance "a"']],
  ['label not starting with the device', base('    vips: [ "10.0.0.1/32 dev eth0 label vip0" ]\n'), ['label "vip0" must start with the device name "eth0"']],
  ['YAML syntax', 'instances:\n  a: [\n', ['YAML:']],
  ['duplicate key', 'instances:\n  a:\n    interface: eth1\n    interface: eth2\n    vrid: 1\n', ['4:5', 'YAML:']],
  ['wrong type', base('    preempt: "no"\n'), ['5:5: instances.vi_1.preempt: expected boolean, received string']],
  ['empty password', base('    auth: { type: pass }\n'), ['instances.vi_1.auth.password: a PASS password must not be empty']],
  ['DR cannot remap ports (what the kernel would refuse, refused by check too)', base('', 'virtualServers:\n  web:\n    address: 10.0.0.1\n    port: 80\n    realServers: [ { address: 10.0.1.1, port: 8080 } ]\n'),
    ['virtualServers.web: realServers[0]: port 8080 differs from the service\'s 80, which dr forwarding cannot remap']],
  ['multicast real server', base('', 'virtualServers:\n  web:\n    fwmark: 1\n    persistence: 60s\n    realServers: [ { address: 224.0.0.5 } ]\n'),
    ['virtualServers.web.realServers.0.address: 224.0.0.5 cannot be a real server (multicast address)']],
];

describe('config error corpus', () => {
  for (const [name, yaml, fragments] of corpus) {
    it(`refuses: ${name}`, () => {
      // As `vrrpd check` and `run` load it: with the IPVS table rules of src/ipvs.
      const r = parseConfig(yaml, 'bad.yaml', { validators: [validateIpvsTable] });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const text = r.errors.map(formatIssue).join('\n');
      for (const f of fragments) expect(text).toContain(f);
      for (const e of r.errors) expect(e.file).toBe('bad.yaml');
    });
  }
  it('an unreadable file is an error with the reason, not a throw', async () => {
    const r = await loadConfig('/nonexistent/vrrpd.yaml');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0]!.message).toMatch(/cannot read: ENOENT/);
  });
});
