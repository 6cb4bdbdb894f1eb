// Tests for the classic pcap reader and link-layer unwrapping (src/tools/pcap.ts), on in-memory files.
import { describe, it, expect } from 'vitest';
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, PCAPNG_ERROR, frameToIp, parsePcap, type PcapFile,
} from '../../src/tools/pcap.js';
import { decodePacketBytes } from '../../src/tools/decode.js';
import {
  concat, ethernetFrame, ipv4Packet, sll2Frame, sllFrame, vrrpPacket, writePcap,
} from '../support/pcap-writer.js';

const SRC_MAC = '02:00:00:00:01:51';
const V4 = vrrpPacket({
  version: 2, family: 4, vrid: 100, priority: 100, intervalCs: 100, addresses: ['192.168.1.250'],
  src: '172.16.1.251', dst: '224.0.0.18',
});
const V6 = vrrpPacket({
  version: 3, family: 6, vrid: 7, priority: 200, intervalCs: 100, addresses: ['fd00:1::250'],
  src: 'fe80::1', dst: 'ff02::12',
});

function parsed(bytes: Uint8Array): PcapFile {
  const f = parsePcap(bytes);
  if (!f.ok) throw new Error(f.error);
  return f;
}

describe('parsePcap header variants', () => {
  for (const byteOrder of ['le', 'be'] as const) {
    for (const precision of ['us', 'ns'] as const) {
      it(`reads ${byteOrder} ${precision} files with their timestamps`, () => {
        const frac = precision === 'us' ? 250_000 : 250_000_123;
        const bytes = writePcap({ linkType: LINKTYPE_RAW, byteOrder, precision, snaplen: 65535 }, [
          { tsSec: 1_700_000_000, tsFrac: frac, data: V4 },
          { tsSec: 1_700_000_001, tsFrac: 0, data: V6, originalLength: V6.length + 10 },
        ]);
        const f = parsed(bytes);
        expect(f.byteOrder).toBe(byteOrder);
        expect(f.precision).toBe(precision);
        expect(f.linkType).toBe(LINKTYPE_RAW);
        expect(f.snaplen).toBe(65535);
        expect([f.versionMajor, f.versionMinor]).toEqual([2, 4]);
        expect(f.warnings).toEqual([]);
        expect(f.records.map((r) => r.index)).toEqual([1, 2]);
        const [a, b] = f.records;
        expect(a!.tsSec).toBe(1_700_000_000);
        expect(a!.tsFrac).toBe(frac);
        expect(a!.timestamp).toBeCloseTo(1_700_000_000.25, 5);
        expect(a!.data).toEqual(V4);
        expect(b!.timestamp).toBe(1_700_000_001);
        expect(b!.capturedLength).toBe(V6.length);
        expect(b!.originalLength).toBe(V6.length + 10);
        expect(b!.data).toEqual(V6);
      });
    }
  }

  it('keeps the link type when the header carries FCS bits', () => {
    // bit 26: FCS present; bits 28-31: FCS length in 16-bit words (2 -> 4 bytes)
    const f = parsed(writePcap({ linkType: LINKTYPE_ETHERNET, linkTypeFlags: 0x24000000 }, []));
    expect(f.linkType).toBe(LINKTYPE_ETHERNET);
    expect(f.fcsLength).toBe(4);
    expect(f.records).toEqual([]);
  });
});

describe('parsePcap bad input', () => {
  const good = writePcap({ linkType: LINKTYPE_RAW }, [
    { tsSec: 1, tsFrac: 0, data: V4 },
    { tsSec: 2, tsFrac: 0, data: V4 },
  ]);

  it('ends the list with a warning when the last record data is cut', () => {
    const f = parsed(good.subarray(0, good.length - 5));
    expect(f.records).toHaveLength(1);
    expect(f.warnings).toEqual([`record 2: truncated data (${V4.length - 5} of ${V4.length} bytes); stopped`]);
  });

  it('ends the list with a warning when a record header is cut', () => {
    const f = parsed(good.subarray(0, 24 + 16 + V4.length + 7));
    expect(f.records).toHaveLength(1);
    expect(f.warnings[0]).toMatch(/^record 2: truncated record header \(7 of 16 bytes\)/);
  });

  it('rejects a truncated global header', () => {
    expect(parsePcap(good.subarray(0, 20))).toEqual({ ok: false, error: 'truncated pcap header: 20 of 24 bytes' });
  });

  it('rejects pcapng with the conversion command', () => {
    const shb = Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a);
    const r = parsePcap(shb);
    expect(r).toEqual({ ok: false, error: PCAPNG_ERROR });
    expect(PCAPNG_ERROR).toContain('tcpdump -r in.pcapng -w out.pcap');
  });

  it('rejects other files and empty input', () => {
    expect(parsePcap(new TextEncoder().encode('hello world, not a capture'))).toEqual(
      { ok: false, error: 'not a pcap file: magic 0x68656c6c' });
    expect(parsePcap(new Uint8Array(0))).toEqual({ ok: false, error: 'not a pcap file: 0 bytes' });
  });

  it('flags a sub-second field out of range', () => {
    const f = parsed(writePcap({ linkType: LINKTYPE_RAW }, [{ tsSec: 1, tsFrac: 1_000_000, data: V4 }]));
    expect(f.warnings).toEqual(['record 1: sub-second field 1000000 out of range']);
  });
});

describe('frameToIp per link type', () => {
  it('Ethernet: IPv4 and IPv6 with the source MAC', () => {
    const e4 = frameToIp(LINKTYPE_ETHERNET, ethernetFrame({ src: SRC_MAC, ethertype: 0x0800, payload: V4 }));
    expect(e4).toEqual({ ethertype: ETHERTYPE_IPV4, ip: V4, srcMac: SRC_MAC, vlans: [] });
    const e6 = frameToIp(LINKTYPE_ETHERNET, ethernetFrame({
      dst: '33:33:00:00:00:12', src: '00:00:5e:00:02:07', ethertype: 0x86dd, payload: V6,
    }));
    expect(e6?.ethertype).toBe(ETHERTYPE_IPV6);
    expect(e6?.srcMac).toBe('00:00:5e:00:02:07');
    expect(e6?.ip).toEqual(V6);
  });

  it('Ethernet: skips an 802.1Q tag and 802.1ad QinQ tags', () => {
    const q = frameToIp(LINKTYPE_ETHERNET, ethernetFrame({
      src: SRC_MAC, ethertype: 0x0800, payload: V4, vlans: [{ tpid: 0x8100, vid: 42 }],
    }));
    expect(q).toEqual({ ethertype: ETHERTYPE_IPV4, ip: V4, srcMac: SRC_MAC, vlans: [42] });
    const qinq = frameToIp(LINKTYPE_ETHERNET, ethernetFrame({
      src: SRC_MAC, ethertype: 0x86dd, payload: V6, vlans: [{ tpid: 0x88a8, vid: 100 }, { tpid: 0x8100, vid: 200 }],
    }));
    expect(qinq?.vlans).toEqual([100, 200]);
    expect(qinq?.ip).toEqual(V6);
  });

  it('Ethernet: ARP, 802.3 length frames, runts and cut VLAN tags give null', () => {
    const arp = ethernetFrame({ src: SRC_MAC, ethertype: 0x0806, payload: new Uint8Array(28) });
    expect(frameToIp(LINKTYPE_ETHERNET, arp)).toBeNull();
    expect(frameToIp(LINKTYPE_ETHERNET, ethernetFrame({ src: SRC_MAC, ethertype: 0x0026, payload: V4 }))).toBeNull();
    expect(frameToIp(LINKTYPE_ETHERNET, new Uint8Array(13))).toBeNull();
    const cut = ethernetFrame({ src: SRC_MAC, ethertype: 0x8100, payload: Uint8Array.of(0, 42) });
    expect(frameToIp(LINKTYPE_ETHERNET, cut)).toBeNull();
  });

  it('Linux cooked SLL (113): protocol at offset 14, address = source MAC', () => {
    const r = frameToIp(LINKTYPE_LINUX_SLL, sllFrame({ src: SRC_MAC, protocol: 0x0800, payload: V4 }));
    expect(r).toEqual({ ethertype: ETHERTYPE_IPV4, ip: V4, srcMac: SRC_MAC, vlans: [] });
    expect(frameToIp(LINKTYPE_LINUX_SLL, sllFrame({ src: SRC_MAC, protocol: 0x0806, payload: V4 }))).toBeNull();
    const tagged = sllFrame({ src: SRC_MAC, protocol: 0x8100, payload: concat(Uint8Array.of(0, 9, 0x86, 0xdd), V6) });
    expect(frameToIp(LINKTYPE_LINUX_SLL, tagged)).toEqual({ ethertype: ETHERTYPE_IPV6, ip: V6, srcMac: SRC_MAC, vlans: [9] });
  });

  it('Linux cooked SLL2 (276): protocol at offset 0, 20-byte header', () => {
    const r = frameToIp(LINKTYPE_LINUX_SLL2, sll2Frame({ src: SRC_MAC, protocol: 0x86dd, payload: V6 }));
    expect(r).toEqual({ ethertype: ETHERTYPE_IPV6, ip: V6, srcMac: SRC_MAC, vlans: [] });
    expect(frameToIp(LINKTYPE_LINUX_SLL2, new Uint8Array(19))).toBeNull();
  });

  it('raw IP (101) by version nibble; 228 only IPv4; 229 only IPv6', () => {
    expect(frameToIp(LINKTYPE_RAW, V4)?.ethertype).toBe(ETHERTYPE_IPV4);
    expect(frameToIp(LINKTYPE_RAW, V6)?.ethertype).toBe(ETHERTYPE_IPV6);
    expect(frameToIp(LINKTYPE_IPV4, V4)?.ip).toEqual(V4);
    expect(frameToIp(LINKTYPE_IPV4, V6)).toBeNull();
    expect(frameToIp(LINKTYPE_IPV6, V6)?.srcMac).toBeNull();
    expect(frameToIp(LINKTYPE_IPV6, V4)).toBeNull();
    expect(frameToIp(LINKTYPE_RAW, Uint8Array.of(0x50, 0))).toBeNull();
  });

  it('unknown link types give null', () => {
    expect(frameToIp(105, V4)).toBeNull(); // 802.11
  });
});

describe('pcap files of every link type decode to VRRP reports', () => {
  const cases: [string, number, Uint8Array, Uint8Array][] = [
    ['Ethernet', LINKTYPE_ETHERNET, ethernetFrame({ src: SRC_MAC, ethertype: 0x0800, payload: V4 }), V4],
    ['Ethernet VLAN', LINKTYPE_ETHERNET,
      ethernetFrame({ src: SRC_MAC, ethertype: 0x86dd, payload: V6, vlans: [{ tpid: 0x8100, vid: 5 }] }), V6],
    ['SLL', LINKTYPE_LINUX_SLL, sllFrame({ src: SRC_MAC, protocol: 0x0800, payload: V4 }), V4],
    ['SLL2', LINKTYPE_LINUX_SLL2, sll2Frame({ src: SRC_MAC, protocol: 0x86dd, payload: V6 }), V6],
    ['raw', LINKTYPE_RAW, V4, V4],
    ['IPv4', LINKTYPE_IPV4, V4, V4],
    ['IPv6', LINKTYPE_IPV6, V6, V6],
  ];
  for (const [name, linkType, frame, ip] of cases) {
    for (const byteOrder of ['le', 'be'] as const) {
      it(`${name} (${linkType}), ${byteOrder}`, () => {
        const bytes = writePcap({ linkType, byteOrder, precision: 'ns' }, [{ tsSec: 10, tsFrac: 5, data: frame }]);
        const f = parsed(bytes);
        expect(f.linkType).toBe(linkType);
        const fr = frameToIp(f.linkType, f.records[0]!.data);
        expect(fr?.ip).toEqual(ip);
        const d = decodePacketBytes(fr!.ip);
        if (d.kind !== 'vrrp') throw new Error('not VRRP');
        expect(d.report.verdict).toBe('ok');
        expect(d.report.vrid).toBe(ip === V4 ? 100 : 7);
      });
    }
  }

  it('an Ethernet padding tail after a short IP packet is ignored', () => {
    const short = ipv4Packet({ src: '10.0.0.1', dst: '224.0.0.18', payload: V4.subarray(20), ttl: 255 });
    const padded = concat(ethernetFrame({ src: SRC_MAC, ethertype: 0x0800, payload: short }), new Uint8Array(6));
    const fr = frameToIp(LINKTYPE_ETHERNET, padded);
    expect(fr?.ip.length).toBe(short.length + 6);
    const d = decodePacketBytes(fr!.ip);
    expect(d.kind === 'vrrp' && d.report.verdict).toBe('ok');
  });
});
