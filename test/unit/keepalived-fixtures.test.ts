// Byte-for-byte fidelity against real keepalived captures (test/fixtures/keepalived, see its README).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parsePcap, frameToIp } from '../../src/tools/pcap.js';
import { parseIpPacket, buildIpv4Header, type IpPacket } from '../../src/protocol/ip.js';
import { decodeAdvert, encodeAdvert, type Advert } from '../../src/protocol/advert.js';
import { bytesToAddress } from '../../src/protocol/addr.js';

const dir = new URL('../fixtures/keepalived/', import.meta.url);

interface Vrrp { ip: IpPacket; raw: Uint8Array; advert: Advert }

function vrrpPackets(name: string): Vrrp[] {
  const pcap = parsePcap(new Uint8Array(readFileSync(new URL(`${name}.pcap`, dir))));
  if (!pcap.ok) throw new Error(`${name}: ${JSON.stringify(pcap)}`);
  const out: Vrrp[] = [];
  for (const rec of pcap.records) {
    const f = frameToIp(pcap.linkType, rec.data);
    if (!f) continue;
    const p = parseIpPacket(f.ip);
    if (!p.ok || p.packet.protocol !== 112) continue;
    const d = decodeAdvert(p.packet.payload, { family: p.packet.family, src: p.packet.src, dst: p.packet.dst, ttl: p.packet.ttl });
    if (!d.ok) throw new Error(`${name} frame ${rec.index}: ${d.reason} ${d.detail}`);
    out.push({ ip: p.packet, raw: f.ip.subarray(0, p.packet.family === 4 ? 20 + p.packet.payload.length : 40 + p.packet.payload.length), advert: d.advert });
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Rebuild every captured advert with our encoder (and, for IPv4, our header with keepalived's IP ID). */
function rebuild(v: Vrrp, opts: { password?: string; form?: 'pseudo-header' | 'no-pseudo-header'; pseudoDst?: string } = {}): Uint8Array {
  const a = v.advert;
  const payload = encodeAdvert({
    version: a.version, family: a.family, vrid: a.vrid, priority: a.priority, intervalCs: a.intervalCs,
    addresses: a.addresses, authType: a.authType as 0 | 1, authPassword: opts.password,
    checksumForm: opts.form, src: bytesToAddress(v.ip.src), dst: opts.pseudoDst ?? bytesToAddress(v.ip.dst),
  });
  if (a.family === 6) return payload;
  const header = buildIpv4Header({ src: v.ip.src, dst: v.ip.dst, payloadLength: payload.length, id: v.ip.id });
  const pkt = new Uint8Array(header.length + payload.length);
  pkt.set(header);
  pkt.set(payload, header.length);
  return pkt;
}

const cases: [string, Parameters<typeof rebuild>[1], Partial<Advert>][] = [
  ['v2', {}, { version: 2, addresses: ['192.168.1.250', '192.168.1.100'], checksumForm: 'vrrp', authType: 0 }],
  ['v2-pass', { password: '$up3r$3(r37' }, { version: 2, authType: 1, checksumForm: 'vrrp' }],
  ['v2-unicast', {}, { version: 2, checksumForm: 'vrrp' }],
  ['v2-prio0', {}, { version: 2 }],
  ['v2-sll', {}, { version: 2 }],
  ['v2-sll1', {}, { version: 2 }],
  ['v3', { form: 'pseudo-header' }, { version: 3, intervalCs: 100, checksumForm: 'pseudo-header' }],
  ['v3-100ms', { form: 'pseudo-header' }, { version: 3, intervalCs: 10, checksumForm: 'pseudo-header' }],
  ['v3-ka233', { form: 'pseudo-header' }, { version: 3, checksumForm: 'pseudo-header' }],
  ['v3-nopseudo', { form: 'no-pseudo-header' }, { version: 3, checksumForm: 'no-pseudo-header' }],
  ['v3-unicast', { form: 'pseudo-header' }, { version: 3, checksumForm: 'pseudo-header' }],
  ['v3-unicast-oldchksum', { form: 'pseudo-header', pseudoDst: '224.0.0.18' }, { version: 3, checksumForm: 'pseudo-header-mcast-dst' }],
  ['v3-ipv6', {}, { version: 3, family: 6, addresses: ['fd00:1::250'], checksumForm: 'pseudo-header' }],
];

describe('keepalived captures', () => {
  for (const [name, opts, expected] of cases) {
    it(`${name}: every advert decodes as keepalived meant it and we rebuild it byte for byte`, () => {
      const pkts = vrrpPackets(name);
      expect(pkts.length).toBeGreaterThanOrEqual(3);
      for (const v of pkts) {
        expect(v.advert).toMatchObject({ vrid: 100, ...expected });
        expect(v.ip.ttl).toBe(255);
        expect(v.ip.tos).toBe(0xc0);
        expect(v.ip.dontFragment).toBe(false);
        // IPv4: the whole IP packet including keepalived's IP ID and header checksum; IPv6: the payload.
        expect(hex(rebuild(v, opts))).toBe(hex(v.ip.family === 4 ? v.raw : v.ip.payload));
      }
    });
  }

  it('v2-pass carries only the first 8 characters of the password', () => {
    const [v] = vrrpPackets('v2-pass');
    expect(Buffer.from(v!.advert.authData!).toString('latin1')).toBe('$up3r$3(');
  });

  it('v2-prio0 ends with exactly one priority-0 advert, otherwise identical to the regular ones', () => {
    const pkts = vrrpPackets('v2-prio0');
    expect(pkts.filter((p) => p.advert.priority === 0)).toHaveLength(1);
    expect(pkts.at(-1)!.advert.priority).toBe(0);
    const { priority: _p, checksum: _c, ...last } = pkts.at(-1)!.advert;
    const { priority: _p2, checksum: _c2, ...first } = pkts[0]!.advert;
    expect(last).toEqual(first);
  });

  it('excluded VIPs are not listed in keepalived adverts (v2.pcap: 192.168.1.99 is excluded)', () => {
    for (const v of vrrpPackets('v2')) expect(v.advert.addresses).not.toContain('192.168.1.99');
  });

  it('keepalived numbers IP IDs itself, from 1, one per advert', () => {
    const ids = vrrpPackets('v2-prio0').map((v) => v.ip.id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });

  it('the v3 checksum forms are told apart: each capture verifies under exactly its own form', () => {
    const forms = Object.fromEntries(['v3', 'v3-nopseudo', 'v3-unicast', 'v3-unicast-oldchksum'].map((n) => [n, vrrpPackets(n)[0]!.advert.checksumForm]));
    expect(forms).toEqual({ 'v3': 'pseudo-header', 'v3-nopseudo': 'no-pseudo-header', 'v3-unicast': 'pseudo-header', 'v3-unicast-oldchksum': 'pseudo-header-mcast-dst' });
  });
});

describe('keepalived GARP and NA frames', async () => {
  const { gratuitousArp, unsolicitedNa } = await import('../../src/protocol/frames.js');
  function frames(name: string, pred: (d: Uint8Array) => boolean): Uint8Array[] {
    const pcap = parsePcap(new Uint8Array(readFileSync(new URL(`${name}.pcap`, dir))));
    if (!pcap.ok) throw new Error(name);
    return pcap.records.map((r) => r.data).filter(pred);
  }
  it('our gratuitous ARP equals keepalived\'s byte for byte (v2.pcap: 2 bursts × 5 rounds × 3 VIPs)', () => {
    const arps = frames('v2', (d) => d[12] === 0x08 && d[13] === 0x06 && d[21] === 1 && d[28] === d[38] && d[31] === d[41]);
    expect(arps).toHaveLength(30);
    const vips = ['192.168.1.250', '192.168.1.100', '192.168.1.99'];
    arps.forEach((f, i) => expect(hex(gratuitousArp('02:00:00:00:01:51', vips[i % 3]!))).toBe(hex(f.subarray(0, 42))));
  });
  it('our unsolicited NA equals keepalived\'s byte for byte with forwarding on (v3-ipv6-router.pcap): Router flag set', () => {
    const nas = frames('v3-ipv6-router', (d) => d[12] === 0x86 && d[13] === 0xdd && d[20] === 58 && d[54] === 136);
    expect(nas).toHaveLength(5);
    for (const f of nas) {
      expect(f[58]).toBe(0xa0); // R and O (RFC 5798 §6.4.2)
      expect(hex(unsolicitedNa('02:00:00:00:01:51', 'fd00:1::250'))).toBe(hex(f));
    }
  });
  it('keepalived\'s IPv6 adverts carry traffic class 0xc0 (CS6), its NAs 0 (our socket sets IPV6_TCLASS to match: test/net)', () => {
    for (const name of ['v3-ipv6', 'v3-ipv6-router']) {
      const v6 = frames(name, (d) => d[12] === 0x86 && d[13] === 0xdd);
      const tclass = (d: Uint8Array) => ((d[14]! & 0x0f) << 4) | (d[15]! >> 4);
      expect(v6.filter((d) => d[20] === 112).map(tclass)).toEqual([0xc0, 0xc0, 0xc0, 0xc0, 0xc0]);
      expect(v6.filter((d) => d[20] === 58).map(tclass)).toEqual([0, 0, 0, 0, 0]);
    }
  });
  it('keepalived without forwarding (v3-ipv6.pcap) clears R; ours differs in that bit and the checksum only', () => {
    const nas = frames('v3-ipv6', (d) => d[12] === 0x86 && d[13] === 0xdd && d[20] === 58 && d[54] === 136);
    expect(nas).toHaveLength(5);
    const ours = unsolicitedNa('02:00:00:00:01:51', 'fd00:1::250');
    for (const f of nas) {
      expect(f[58]).toBe(0x20); // O only
      const diff = [...ours.keys()].filter((i) => ours[i] !== f[i]);
      expect(diff.every((i) => i === 58 || i === 56 || i === 57)).toBe(true); // flags byte, ICMPv6 checksum
      expect(diff).toContain(58);
    }
  });
});
