// IPVS codec at the byte level: requests equal ipvsadm's (captured), hand-computed layouts, Linux 6.1 replies decoded, bad input refused.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { attrMap, decodeAttrs, HOST_LE, type NlAttr } from '../../src/net/nlmsg.js';
import { encodeGenl } from '../../src/ipvs/genl.js';
import {
  decodeDaemon, decodeDest, decodeInfo, decodeService, decodeStats, delDaemonRequest, delDestRequest, delServiceRequest,
  destLabel, flushRequest, getDaemonRequest, getDestRequest, getInfoRequest, getServiceRequest, ipvsCmdName, newDaemonRequest,
  newDestRequest, newServiceRequest, serviceLabel, setDestRequest, setServiceRequest, zeroRequest, IPVS_CMD_FLUSH,
  IPVS_CMD_GET_INFO, IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED2, SCHEDULERS,
  type DestSpec, type IpvsRequest, type ServiceSpec,
} from '../../src/ipvs/codec.js';
import { IPVSADM, KERNEL, bytes, hex } from './fixtures.js';

/** The nlmsg payload we would send: genlmsghdr (version 1) and the attributes. */
const wire = (r: IpvsRequest) => hex(encodeGenl(r.cmd, IPVS_GENL_VERSION, r.attrs));
const fwm100: ServiceSpec = { family: 4, fwmark: 100, scheduler: 'wlc', flags: IP_VS_SVC_F_PERSISTENT, timeout: 3600, netmask: 32 };
const route50: DestSpec = { address: '192.168.1.10', family: 4, port: 0, forwarding: 'dr', weight: 50, upperThreshold: 0, lowerThreshold: 0 };
const udp6 = { family: 6 as const, protocol: 'udp' as const, address: '2001:db8::1', port: 53 };

/** Attributes of a message, nests opened: type path → value hex. */
function flatten(payloadHex: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (b: Uint8Array, prefix: string, depth: number) => {
    const r = decodeAttrs(b);
    if (!r.ok) throw new Error(r.error);
    for (const a of r.value) {
      if (depth === 0) walk(a.value, `${a.type}.`, 1);
      else out.set(prefix + a.type, hex(a.value));
    }
  };
  walk(bytes(payloadHex).subarray(4), '', 0);
  return out;
}

describe.skipIf(!HOST_LE)('requests: byte for byte what ipvsadm sends (test/ipvs/fixtures.ts)', () => {
  it('IPVS_CMD_NEW_SERVICE for the seed: FWM 100 wlc persistent 3600', () => {
    expect(wire(newServiceRequest(fwm100))).toBe(hex(bytes(IPVSADM.newServiceFwmark)));
  });

  it('IPVS_CMD_NEW_SERVICE TCP 192.168.1.100:80 rr: 16-byte address, port in network order', () => {
    const s: ServiceSpec = { family: 4, protocol: 'tcp', address: '192.168.1.100', port: 80, scheduler: 'rr', flags: 0, timeout: 0, netmask: 32 };
    expect(wire(newServiceRequest(s))).toBe(hex(bytes(IPVSADM.newServiceTcp4)));
  });

  it('IPVS_CMD_NEW_SERVICE UDP [2001:db8::1]:53 sh with sh-port: AF_INET6, netmask 128 as a host-order u32', () => {
    expect(wire(newServiceRequest({ ...udp6, scheduler: 'sh', flags: IP_VS_SVC_F_SCHED2, timeout: 0, netmask: 128 })))
      .toBe(hex(bytes(IPVSADM.newServiceUdp6)));
  });

  it('IPVS_CMD_SET_SERVICE rr persistent 600 netmask 255.255.255.0 (network order)', () => {
    expect(wire(setServiceRequest({ ...fwm100, scheduler: 'rr', timeout: 600, netmask: 24 }))).toBe(hex(bytes(IPVSADM.setServiceFwmark)));
  });

  it('sync daemons: master; backup with maxlen, port, TTL and group in ipvsadm\'s order; IPv6 group', () => {
    expect(wire(newDaemonRequest({ state: 'master', interface: 'dsync', syncId: 100 }))).toBe(hex(bytes(IPVSADM.newDaemonMaster)));
    expect(wire(newDaemonRequest({ state: 'backup', interface: 'dsync', syncId: 7, maxLen: 1400, group: '239.1.2.3', port: 9000, ttl: 2 })))
      .toBe(hex(bytes(IPVSADM.newDaemonBackupOptions)));
    expect(wire(newDaemonRequest({ state: 'master', interface: 'dsync', syncId: 7, group: 'ff02::1:2' }))).toBe(hex(bytes(IPVSADM.newDaemonMasterGroup6)));
  });

  it('GET_INFO and ZERO of everything', () => {
    expect(wire(getInfoRequest())).toBe(hex(bytes(IPVSADM.getInfo)));
    expect(wire(zeroRequest())).toBe(hex(bytes(IPVSADM.zeroAll)));
  });

  it('dest and delete commands: every attribute we send is in ipvsadm\'s message with the same bytes (we send the identity only)', () => {
    const cases: [IpvsRequest, string][] = [
      [newDestRequest({ family: 4, fwmark: 100 }, route50), IPVSADM.newDestFwmark],
      [newDestRequest(udp6, { address: '2001:db8::10', family: 6, port: 5353, forwarding: 'nat', weight: 2, upperThreshold: 100, lowerThreshold: 10 }), IPVSADM.newDestUdp6],
      [delDestRequest({ family: 4, fwmark: 100 }, { address: '192.168.1.10', family: 4, port: 0 }), IPVSADM.delDestFwmark],
      [delServiceRequest({ family: 4, fwmark: 100 }), IPVSADM.delServiceFwmark],
      [delDaemonRequest('master'), IPVSADM.delDaemonMaster],
    ];
    for (const [ours, theirs] of cases) {
      expect(wire(ours).slice(0, 8)).toBe(theirs.replace(/\s+/g, '').slice(0, 8)); // cmd, version
      const mine = flatten(wire(ours));
      const adm = flatten(theirs);
      expect(mine.size).toBeGreaterThan(0);
      for (const [k, v] of mine) expect({ k, v }).toEqual({ k, v: adm.get(k) });
    }
  });
});

describe.skipIf(!HOST_LE)('requests: hand-computed layouts', () => {
  it('IPVS_CMD_DEL_SERVICE of a fwmark service carries AF and FWMARK only', () => {
    expect(wire(delServiceRequest({ family: 4, fwmark: 1 }))).toBe('03010000' + '14000180' + '0600010002000000' + '0800050001000000');
  });

  it('a dest of another family than its service (IPv6 server behind an IPv4 tunnel service) adds IPVS_DEST_ATTR_ADDR_FAMILY first', () => {
    const svc = { family: 4 as const, protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
    const r = newDestRequest(svc, { address: '2001:db8::5', family: 6, port: 80, forwarding: 'tun', weight: 3, upperThreshold: 10, lowerThreshold: 2 });
    const dest = hex(r.attrs).slice(hex(r.attrs).indexOf('48000280'));
    expect(dest).toBe('48000280' + '06000b000a000000' + '1400010020010db8000000000000000000000005' + '0600020000500000'
      + '0800030002000000' + '0800040003000000' + '080005000a000000' + '0800060002000000');
    const same = newDestRequest(svc, { ...route50, address: '10.0.0.2', port: 80 });
    expect(hex(same.attrs)).not.toContain('06000b00');
  });

  it('tunnel type, port and flags only when set (Linux 5.2+): u8, be16, u16', () => {
    const r = setDestRequest({ family: 4, fwmark: 1 }, { ...route50, forwarding: 'tun', tunType: 'gue', tunPort: 6080, tunFlags: 1 });
    expect(hex(r.attrs)).toContain('05000d0001000000' + '06000e0017c00000' + '06000f0001000000');
  });

  it('dumps and the flush we never send', () => {
    expect(getServiceRequest()).toMatchObject({ cmd: 4, dump: true, attrs: new Uint8Array(0) });
    expect(getServiceRequest({ family: 4, fwmark: 1 }).dump).toBe(false);
    expect(getDestRequest({ family: 4, fwmark: 1 }).dump).toBe(true);
    expect(getDaemonRequest()).toMatchObject({ cmd: 11, dump: true });
    expect(flushRequest().cmd).toBe(IPVS_CMD_FLUSH);
    expect([ipvsCmdName(IPVS_CMD_NEW_SERVICE), ipvsCmdName(IPVS_CMD_GET_INFO), ipvsCmdName(99)])
      .toEqual(['IPVS_CMD_NEW_SERVICE', 'IPVS_CMD_GET_INFO', 'IPVS_CMD 99']);
  });

  it('persistence netmask: /0../32 as a network-order mask, IPv6 as a prefix', () => {
    const nm = (r: IpvsRequest) => hex(r.attrs).slice(-8);
    expect(nm(newServiceRequest({ ...fwm100, netmask: 16 }))).toBe('ffff0000');
    expect(nm(newServiceRequest({ ...fwm100, netmask: 0 }))).toBe('00000000');
    expect(nm(newServiceRequest({ ...fwm100, family: 6, netmask: 64 }))).toBe('40000000');
  });
});

describe('requests: bad input refused (RangeError) before anything is encoded', () => {
  const bad: [string, () => unknown, RegExp][] = [
    ['address of the wrong family', () => newServiceRequest({ ...udp6, address: '10.0.0.1', scheduler: 'rr', flags: 0, timeout: 0, netmask: 128 }), /not an IPv6 address/],
    ['port 70000', () => delServiceRequest({ family: 4, protocol: 'tcp', address: '10.0.0.1', port: 70000 }), /port 70000/],
    ['fwmark 0', () => delServiceRequest({ family: 4, fwmark: 0 }), /fwmark 0/],
    ['family 5', () => delServiceRequest({ family: 5 as 4, fwmark: 1 }), /family 5/],
    ['scheduler of 16 bytes', () => newServiceRequest({ ...fwm100, scheduler: 'x'.repeat(16) }), /scheduler/],
    ['empty scheduler', () => newServiceRequest({ ...fwm100, scheduler: '' }), /scheduler/],
    ['IPv6 netmask 0', () => newServiceRequest({ ...fwm100, family: 6, netmask: 0 }), /1\.\.128/],
    ['IPv4 netmask 33', () => newServiceRequest({ ...fwm100, netmask: 33 }), /0\.\.32/],
    ['negative weight', () => newDestRequest({ family: 4, fwmark: 1 }, { ...route50, weight: -1 }), /weight -1/],
    ['forwarding "gate"', () => newDestRequest({ family: 4, fwmark: 1 }, { ...route50, forwarding: 'gate' as 'dr' }), /forwarding/],
    ['interface of 16 bytes', () => newDaemonRequest({ state: 'master', interface: 'x'.repeat(16), syncId: 1 }), /interface/],
    ['unicast sync group', () => newDaemonRequest({ state: 'master', interface: 'eth1', syncId: 1, group: '10.1.1.1' }), /multicast/],
    ['TTL 0', () => newDaemonRequest({ state: 'master', interface: 'eth1', syncId: 1, ttl: 0 }), /TTL/],
    ['state "primary"', () => delDaemonRequest('primary' as 'master'), /state/],
  ];
  it.each(bad)('%s', (_name, f, message) => {
    expect(f).toThrow(RangeError);
    expect(f).toThrow(message);
  });
});

describe.skipIf(!HOST_LE)('replies: Linux 6.1 messages decoded (test/ipvs/fixtures.ts)', () => {
  const attrsOf = (h: string) => bytes(h).subarray(4);

  it('IPVS_CMD_SET_INFO: version 1.2.1, table size 4096', () => {
    expect(decodeInfo(attrsOf(KERNEL.info))).toEqual({ ok: true, value: { versionCode: 0x010201, version: '1.2.1', connTableSize: 4096 } });
  });

  it('a fwmark service: HASHED masked off, persistent 3600, netmask /32, stats', () => {
    const r = decodeService(attrsOf(KERNEL.serviceFwmark));
    expect(r.ok && r.value).toMatchObject({ ...fwm100, dests: [] });
    expect(r.ok && r.value.stats).toEqual(decodeStats(undefined));
  });

  it('an IPv6 UDP service with sh-port', () => {
    const r = decodeService(attrsOf(KERNEL.serviceUdp6));
    expect(r.ok && r.value).toMatchObject({ ...udp6, scheduler: 'sh', flags: IP_VS_SVC_F_SCHED2, timeout: 0, netmask: 128 });
  });

  it('destinations: route and masq, thresholds, connection counts, tunnel defaults, ADDR_FAMILY', () => {
    expect(decodeDest(attrsOf(KERNEL.destFwmark), 4)).toMatchObject({ ok: true, value: { ...route50, activeConns: 0, inactConns: 0, persistConns: 0, tunType: 'ipip', tunPort: 0, tunFlags: 0 } });
    expect(decodeDest(attrsOf(KERNEL.destUdp6), 4)).toMatchObject({
      ok: true, value: { address: '2001:db8::10', family: 6, port: 5353, forwarding: 'nat', weight: 2, upperThreshold: 100, lowerThreshold: 10 },
    });
  });

  it('a backup sync daemon with its options', () => {
    expect(decodeDaemon(attrsOf(KERNEL.daemonBackup))).toEqual({
      ok: true, value: { state: 'backup', interface: 'dsync', syncId: 7, maxLen: 1400, group: '239.1.2.3', port: 9000, ttl: 2 },
    });
  });

  it('stats: u32 and u64 counters by size', () => {
    const u64 = (t: number, v: bigint) => [12, 0, t, 0, ...new Uint8Array(new BigUint64Array([v]).buffer)];
    const b = Uint8Array.from([8, 0, 1, 0, 5, 0, 0, 0, ...u64(4, 1n << 40n), ...u64(10, 9n)]);
    expect(decodeStats(b)).toMatchObject({ conns: 5, inBytes: 2 ** 40, outBps: 9, inPkts: 0 });
  });

  it('decoders never throw, whatever the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      for (const f of [decodeService, (x: Uint8Array) => decodeDest(x, 4), decodeDaemon, decodeInfo]) {
        const r = f(b);
        expect(typeof r.ok).toBe('boolean');
      }
    }), { numRuns: 500 });
  });

  it('a NEW_SERVICE request decodes back to its spec; a NEW_DEST request to its dest', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `10.${a}.${b}.1`);
    const spec = fc.record({
      id: fc.oneof(
        fc.record({ family: fc.constant(4 as const), fwmark: fc.integer({ min: 1, max: 0xffffffff }) }),
        fc.record({ family: fc.constant(4 as const), protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), address: v4, port: fc.integer({ min: 0, max: 65535 }) }),
      ),
      scheduler: fc.constantFrom(...SCHEDULERS), persistent: fc.boolean(), timeout: fc.integer({ min: 0, max: 86400 }), netmask: fc.integer({ min: 0, max: 32 }),
    });
    fc.assert(fc.property(spec, ({ id, scheduler, persistent, timeout, netmask }) => {
      const s = { ...id, scheduler, flags: persistent ? 1 : 0, timeout, netmask } as ServiceSpec;
      const r = decodeService(newServiceRequest(s).attrs);
      expect(r.ok && { ...r.value, stats: undefined, dests: undefined }).toEqual({ ...s, stats: undefined, dests: undefined });
    }), { numRuns: 200 });
    fc.assert(fc.property(v4, fc.integer({ min: 0, max: 65535 }), fc.constantFrom('dr' as const, 'nat' as const, 'tun' as const), fc.integer({ min: 0, max: 65535 }),
      (address, port, forwarding, weight) => {
        const d: DestSpec = { address, family: 4, port, forwarding, weight, upperThreshold: weight + 1, lowerThreshold: weight };
        const top = decodeAttrs(newDestRequest({ family: 4, fwmark: 1 }, d).attrs);
        const dest = top.ok ? attrMap(top.value).get(2) as NlAttr : null;
        const r = decodeDest(Uint8Array.from([(dest!.value.length + 4) & 0xff, (dest!.value.length + 4) >> 8, 2, 0, ...dest!.value]), 4);
        expect(r.ok && r.value).toMatchObject(d);
      }), { numRuns: 200 });
  });
});

describe('labels', () => {
  it('names services and destinations as ipvsadm prints them', () => {
    expect(serviceLabel({ family: 4, fwmark: 100 })).toBe('fwmark 100');
    expect(serviceLabel({ family: 6, fwmark: 1 })).toBe('fwmark 1 IPv6');
    expect(serviceLabel(udp6)).toBe('udp [2001:db8::1]:53');
    expect(destLabel(route50)).toBe('192.168.1.10:0');
  });
});
