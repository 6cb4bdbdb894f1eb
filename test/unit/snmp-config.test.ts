// global.snmp: the YAML field (off unless present, the AgentX address forms) and keepalived's enable_snmp_* / snmp_socket / enable_traps.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, parseConfig, type AnyLoadResult } from '../../src/config/load.js';
import { parseAgentxAddress } from '../../src/config/agentx-address.js';

const yaml = (global: string) => parseConfig(`global:\n${global}\ninstances:\n  vi_1: { interface: eth1, vrid: 1 }\n`, 'x.yaml');
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-snmp-'));
let n = 0;
async function keepalived(globalDefs: string): Promise<AnyLoadResult> {
  const f = join(TMP, `${++n}.conf`);
  writeFileSync(f, `global_defs {\n${globalDefs}\n}\nvrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 10\n}\n`);
  return loadAnyConfig(f, { format: 'keepalived' });
}
const warnings = (r: AnyLoadResult) => (r.ok ? r.warnings : r.errors).map(formatIssue).join('\n');

describe('global.snmp (YAML)', () => {
  it('is off when absent; {} takes the defaults: /var/agentx/master, traps on', () => {
    const off = yaml('  routerId: a');
    expect(off.ok && off.config.global.snmp).toBeUndefined();
    const on = yaml('  snmp: {}');
    expect(on.ok && on.config.global.snmp).toEqual({ agentx: '/var/agentx/master', traps: true });
  });

  it('takes a socket path or tcp:HOST:PORT; refuses UDP, relative paths and unknown keys with the field', () => {
    expect(parseAgentxAddress('/run/agentx')).toEqual({ path: '/run/agentx' });
    expect(parseAgentxAddress('unix:/run/agentx')).toEqual({ path: '/run/agentx' });
    expect(parseAgentxAddress('tcp:localhost:705')).toEqual({ host: 'localhost', port: 705 });
    expect(parseAgentxAddress('tcp:[::1]:705')).toEqual({ host: '::1', port: 705 });
    for (const bad of ['udp:127.0.0.1:705', 'agentx', 'tcp:localhost:0', 'tcp:localhost']) expect(parseAgentxAddress(bad)).toBeNull();
    const r = yaml('  snmp: { agentx: "udp:127.0.0.1:705" }');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map(formatIssue).join()).toMatch(/global\.snmp\.agentx/);
    const k = yaml('  snmp: { agentx: /a, trap: true }');
    expect(!k.ok && k.errors.map(formatIssue).join()).toMatch(/trap/);
  });
});

describe('keepalived global_defs → global.snmp', () => {
  it('enable_snmp_rfcv3 with snmp_socket and enable_traps', async () => {
    const r = await keepalived('  enable_snmp_rfcv3\n  snmp_socket tcp:127.0.0.1:705\n  enable_traps');
    expect(r.ok && r.config.global.snmp).toEqual({ agentx: 'tcp:127.0.0.1:705', traps: true });
    expect(warnings(r)).toBe('');
  });

  it('enable_snmp_vrrp and enable_snmp_rfc turn it on with a warning naming the MIB not served; traps off without enable_traps', async () => {
    const v = await keepalived('  enable_snmp_vrrp');
    expect(v.ok && v.config.global.snmp).toEqual({ agentx: '/var/agentx/master', traps: false });
    expect(warnings(v)).toMatch(/KEEPALIVED-MIB/);
    const rfc = await keepalived('  enable_snmp_rfc');
    expect(warnings(rfc)).toMatch(/RFC 2787/);
  });

  it('snmp_socket or enable_traps alone leave it off; a UDP socket is warned and keeps it off; rfcv2 and checker stay warnings', async () => {
    const s = await keepalived('  snmp_socket /var/agentx/master\n  enable_traps');
    expect(s.ok && s.config.global.snmp).toBeUndefined();
    const u = await keepalived('  enable_snmp_rfcv3\n  snmp_socket udp:127.0.0.1:705');
    expect(u.ok && u.config.global.snmp).toBeUndefined();
    expect(warnings(u)).toMatch(/udp:127\.0\.0\.1:705.*SNMP stays off/);
    const w = await keepalived('  enable_snmp_rfcv2\n  enable_snmp_checker');
    expect(w.ok && w.config.global.snmp).toBeUndefined();
    expect(warnings(w)).toMatch(/VRRPv3-MIB \(RFC 6527\) only/);
  });
});
