// Tests for `vrrpd decode`: packet reports and verdicts, hex input, text format, keepalived captures, the CLI.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { internetChecksum } from '../../src/protocol/checksum.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import {
  decodeHex, decodePacketBytes, formatReport, intervalText, parseHex, type PacketReport,
} from '../../src/tools/decode.js';
import { frameToIp, parsePcap } from '../../src/tools/pcap.js';
import {
  ethernetFrame, ipv4Packet, toHex, vrrpPacket, writePcap,
} from '../support/pcap-writer.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** XOR one byte: corrupt a packet on purpose. */
function flip(b: Uint8Array, i: number, mask: number): void {
  b[i] = b[i]! ^ mask;
}

function report(bytes: Uint8Array): PacketReport {
  const d = decodePacketBytes(bytes);
  if (d.kind !== 'vrrp') throw new Error(`not VRRP: protocol ${d.protocol}`);
  return d.report;
}

const v2pass = () => vrrpPacket({
  version: 2, family: 4, vrid: 100, priority: 90, intervalCs: 100,
  addresses: ['192.168.1.250', '192.168.1.100'], authType: 1, authPassword: '$up3r$3(r37',
  src: '172.16.1.251', dst: '224.0.0.18',
});
const v3 = (o: { dst?: string; ttl?: number; checksumForm?: 'pseudo-header' | 'no-pseudo-header'; pseudoDst?: string } = {}) =>
  vrrpPacket({
    version: 3, family: 4, vrid: 100, priority: 100, intervalCs: 100, addresses: ['192.168.1.250'],
    ...o, src: '172.16.1.251', dst: o.dst ?? '224.0.0.18',
  });

describe('decodePacketBytes', () => {
  it('reports every field of a v2 PASS advert', () => {
    const pkt = v2pass();
    const r = report(pkt);
    expect(r).toEqual({
      family: 4, src: '172.16.1.251', dst: '224.0.0.18', ttl: 255, tos: 0xc0, ipId: 1, dontFragment: false,
      ipHeaderChecksumOk: true, version: 2, vrid: 100, priority: 90, count: 2, intervalCs: 100, intervalText: '1 s',
      addresses: ['192.168.1.250', '192.168.1.100'], authType: 1, authText: '$up3r$3(',
      checksum: `0x${toHex(pkt.subarray(26, 28))}`, checksumForm: 'vrrp', verdict: 'ok', detail: '',
    });
  });

  it('names the v3 checksum form: with and without the IPv4 pseudo-header, and IPv6', () => {
    expect(report(v3()).checksumForm).toBe('pseudo-header');
    const nop = report(v3({ checksumForm: 'no-pseudo-header' }));
    expect([nop.checksumForm, nop.verdict, nop.intervalText, nop.authType, nop.authText])
      .toEqual(['no-pseudo-header', 'ok', '100 cs (1 s)', null, null]);
    const r6 = report(vrrpPacket({
      version: 3, family: 6, vrid: 9, priority: 254, intervalCs: 25, addresses: ['fd00:1:0:0::250', '2001:db8::1'],
      src: 'fe80::ff:fe00:151', dst: 'ff02::12',
    }));
    expect(r6).toMatchObject({
      family: 6, src: 'fe80::ff:fe00:151', dst: 'ff02::12', ttl: 255, tos: 0xc0, ipId: null, dontFragment: null,
      version: 3, vrid: 9, priority: 254, addresses: ['fd00:1::250', '2001:db8::1'], intervalText: '25 cs (0.25 s)',
      checksumForm: 'pseudo-header', verdict: 'ok',
    });
  });

  it('drops a corrupted VRRP checksum, still showing the fields', () => {
    const pkt = v2pass();
    flip(pkt, 27, 0x01);
    const r = report(pkt);
    expect(r.verdict).toBe('bad-checksum');
    expect(r.checksumForm).toBeNull();
    expect(r.vrid).toBe(100);
    expect(r.checksum).toBe(`0x${toHex(pkt.subarray(26, 28))}`);
    expect(r.detail).toBe('VRRPv2 checksum does not verify');
  });

  it('drops TTL ≠ 255 on multicast, and still says what the checksum check makes of it', () => {
    const r = report(v3({ ttl: 64 }));
    expect([r.verdict, r.checksumForm, r.detail]).toEqual(['bad-ttl', 'pseudo-header', 'TTL 64 ≠ 255']);
    const bad = v3({ ttl: 1 });
    flip(bad, bad.length - 1, 0xff);
    const rb = report(bad);
    expect(rb.verdict).toBe('bad-ttl');
    expect(rb.checksumForm).toBeNull();
    expect(rb.detail).toMatch(/^TTL 1 ≠ 255; also bad-checksum: VRRPv3 checksum verifies neither/);
  });

  it('accepts a unicast advert whatever its TTL', () => {
    expect(report(v3({ dst: '172.16.1.252', ttl: 63 })).verdict).toBe('ok');
  });

  it('names keepalived old_unicast_checksum (group address in a unicast pseudo-header) and explains it', () => {
    const r = report(v3({ dst: '172.16.1.252', pseudoDst: '224.0.0.18' }));
    expect([r.verdict, r.checksumForm]).toEqual(['ok', 'pseudo-header-mcast-dst']);
    expect(r.detail).toContain('224.0.0.18 as the pseudo-header destination');
    expect(formatReport(r)).toMatch(/ \(pseudo-header-mcast-dst\) addrs 192\.168\.1\.250 => ok \(checksum uses 224/);
    const other = report(v3({ dst: '172.16.1.252', pseudoDst: '10.9.9.9' }));
    expect([other.verdict, other.checksumForm, other.detail]).toEqual(['bad-checksum', null,
      'VRRPv3 checksum verifies neither with nor without the IPv4 pseudo-header']);
  });

  it('drops a bad IPv4 header checksum first, listing the VRRP result too', () => {
    const pkt = v2pass();
    flip(pkt, 10, 0x10);
    const r = report(pkt);
    expect([r.verdict, r.ipHeaderChecksumOk, r.checksumForm]).toEqual(['bad-ip-header', false, 'vrrp']);
    flip(pkt, 27, 0x01);
    expect(report(pkt).detail).toMatch(/^IPv4 header checksum does not verify.*; also bad-checksum: /);
  });

  it('reports VRRP header fields even when the length does not match the count', () => {
    const vrrp = encodeAdvert({ version: 2, family: 4, vrid: 42, priority: 7, intervalCs: 300, addresses: ['10.0.0.1'] });
    vrrp[3] = 3; // claims 3 addresses
    const r = report(ipv4Packet({ src: '10.0.0.2', dst: '224.0.0.18', payload: vrrp }));
    expect(r).toMatchObject({
      verdict: 'length-mismatch', version: 2, vrid: 42, priority: 7, count: 3, intervalCs: 300,
      intervalText: '3 s', addresses: ['10.0.0.1'], authType: 0, checksumForm: null,
    });
  });

  it('drops a v3 interval of 0 after the checksum matched', () => {
    const vrrp = Uint8Array.of(0x31, 100, 100, 1, 0, 0, 0, 0, 192, 168, 1, 250);
    const c = internetChecksum([vrrp]);
    vrrp[6] = c >> 8;
    vrrp[7] = c & 0xff;
    const r = report(ipv4Packet({ src: '10.0.0.2', dst: '224.0.0.18', payload: vrrp, ttl: 255 }));
    expect([r.verdict, r.checksumForm, r.intervalText]).toEqual(['interval-out-of-range', 'no-pseudo-header', '0 cs (0 s)']);
  });

  it('says not-vrrp for other IP protocols, and bad-ip-header / short-packet for broken IP', () => {
    const udp = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', payload: new Uint8Array(8), protocol: 17 });
    expect(decodePacketBytes(udp)).toEqual({ kind: 'not-vrrp', protocol: 17, family: 4, src: '10.0.0.1', dst: '10.0.0.2' });
    const cut = v2pass().subarray(0, 30);
    expect(report(cut)).toMatchObject({ verdict: 'bad-ip-header', src: '172.16.1.251', detail: 'IPv4 header length 20, total length 44, have 30' });
    expect(report(Uint8Array.of(0x45, 0, 0))).toMatchObject({ verdict: 'short-packet', src: null, version: null });
  });
});

describe('hex input', () => {
  it('parseHex ignores separators, a leading 0x and tcpdump -x / -X offsets and ASCII', () => {
    const want = Uint8Array.of(0x45, 0xc0, 0x00, 0x28);
    for (const t of ['45c00028', '0x45C00028', '45 c0 00 28', '45:c0:00:28', '45c0\n0028\n', '45-c0.00-28']) {
      expect(parseHex(t)).toEqual({ ok: true, bytes: want });
    }
    const dump = 'IP 1.2.3.4 > 5.6.7.8: VRRPv2\n\t0x0000:  45c0 0028 0001 0000  E..(....\n\t0x0008:  ff70  .p\n';
    expect(parseHex(dump)).toEqual({ ok: true, bytes: Uint8Array.of(0x45, 0xc0, 0, 0x28, 0, 1, 0, 0, 0xff, 0x70) });
  });

  it('parseHex rejects non-hex, odd lengths and empty input', () => {
    expect(parseHex('45zz')).toEqual({ ok: false, error: 'not a hex digit: "z"' });
    expect(parseHex('45c')).toEqual({ ok: false, error: 'odd number of hex digits (3)' });
    expect(parseHex('  ')).toEqual({ ok: false, error: 'no hex digits' });
  });

  it('decodeHex takes IP packets and Ethernet frames', () => {
    const ip = decodeHex(toHex(v2pass()));
    expect(ip.ok && [ip.report.verdict, ip.report.authText, ip.report.srcMac]).toEqual(['ok', '$up3r$3(', undefined]);
    const eth = decodeHex(toHex(ethernetFrame({ src: '00:00:5e:00:01:64', ethertype: 0x0800, payload: v3(),
      vlans: [{ tpid: 0x8100, vid: 10 }] })));
    expect(eth.ok && [eth.report.checksumForm, eth.report.srcMac]).toEqual(['pseudo-header', '00:00:5e:00:01:64']);
  });

  it('decodeHex reports non-VRRP packets and non-IP frames as errors', () => {
    const udp = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', payload: new Uint8Array(8), protocol: 17 });
    expect(decodeHex(toHex(udp))).toEqual({ ok: false, error: 'not a VRRP packet: IP protocol 17 (VRRP is 112), 10.0.0.1 > 10.0.0.2' });
    const arp = ethernetFrame({ src: '02:00:00:00:00:01', ethertype: 0x0806, payload: new Uint8Array(28) });
    expect(decodeHex(toHex(arp))).toMatchObject({ ok: false, error: expect.stringContaining('nor an Ethernet frame') });
    expect(decodeHex('xyz')).toEqual({ ok: false, error: 'not a hex digit: "x"' });
  });
});

describe('formatReport', () => {
  it('prints one compact line per packet', () => {
    const pkt = v2pass();
    const r = { index: 1, time: 1_700_000_000.5, relTime: 0, ...report(pkt) };
    expect(formatReport(r)).toBe(`#1 0.000000 172.16.1.251 > 224.0.0.18 ttl 255 tos 0xc0 VRRPv2 vrid 100 prio 90 count 2 int 1 s `
      + `auth PASS "$up3r$3(" csum 0x${toHex(pkt.subarray(26, 28))} (vrrp) addrs 192.168.1.250,192.168.1.100 => ok`);
  });

  it('prints a drop with its reason and detail', () => {
    const pkt = v3({ ttl: 64 });
    flip(pkt, 27, 1); // VRRP checksum, low byte
    expect(formatReport(report(pkt))).toMatch(
      /^172\.16\.1\.251 > 224\.0\.0\.18 ttl 64 tos 0xc0 VRRPv3 vrid 100 prio 100 count 1 int 100 cs \(1 s\) csum 0x[0-9a-f]{4} addrs 192\.168\.1\.250 => DROP bad-ttl: TTL 64 ≠ 255; also bad-checksum: /);
  });

  it('reports are plain JSON data', () => {
    const r = report(v2pass());
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(intervalText(3, 4095)).toBe('4095 cs (40.95 s)');
  });
});

// --- real keepalived captures (test/fixtures/keepalived, see its README.md) ---------------------
const FIX = `${ROOT}test/fixtures/keepalived/`;

function decodeFixture(name: string): { linkType: number; frames: number; reports: PacketReport[] } {
  const f = parsePcap(new Uint8Array(readFileSync(FIX + name)));
  if (!f.ok) throw new Error(`${name}: ${f.error}`);
  expect(f.warnings).toEqual([]);
  const reports: PacketReport[] = [];
  for (const rec of f.records) {
    const fr = frameToIp(f.linkType, rec.data);
    const d = fr && decodePacketBytes(fr.ip);
    if (d?.kind === 'vrrp') reports.push({ index: rec.index, srcMac: fr!.srcMac, ...d.report });
  }
  return { linkType: f.linkType, frames: f.records.length, reports };
}

interface Expect {
  version: 2 | 3;
  csum: string; // the VRRP checksum field (README "Checksums")
  form: PacketReport['checksumForm'];
  linkType?: number; addresses?: string[]; src?: string; dst?: string; intervalCs?: number; authText?: string;
}

// Facts from test/fixtures/keepalived/README.md.
const FIXTURES: Record<string, Expect> = {
  'v2.pcap': { version: 2, csum: '0xf5e8', form: 'vrrp', addresses: ['192.168.1.250', '192.168.1.100'] },
  'v2-pass.pcap': { version: 2, csum: '0x7d01', form: 'vrrp', authText: '$up3r$3(' },
  'v2-unicast.pcap': { version: 2, csum: '0xb7f6', form: 'vrrp', dst: '172.16.1.252' },
  'v2-prio0.pcap': { version: 2, csum: '0xb7f6', form: 'vrrp' }, // but 0x1bf7 for the priority-0 one
  'v2-sll.pcap': { version: 2, csum: '0xb7f6', form: 'vrrp', linkType: 276 },
  'v2-sll1.pcap': { version: 2, csum: '0xb7f6', form: 'vrrp', linkType: 113 },
  'v3.pcap': { version: 3, csum: '0x18f9', form: 'pseudo-header' },
  'v3-100ms.pcap': { version: 3, csum: '0x1953', form: 'pseudo-header', intervalCs: 10 },
  'v3-nopseudo.pcap': { version: 3, csum: '0xa793', form: 'no-pseudo-header' },
  'v3-ka233.pcap': { version: 3, csum: '0x18f9', form: 'pseudo-header' },
  'v3-unicast.pcap': { version: 3, csum: '0x4aff', form: 'pseudo-header', dst: '172.16.1.252' },
  // old_unicast_checksum puts 224.0.0.18 in the pseudo-header of a unicast advert: not RFC, accepted.
  'v3-unicast-oldchksum.pcap': { version: 3, csum: '0x18f9', form: 'pseudo-header-mcast-dst', dst: '172.16.1.252' },
  'v3-ipv6.pcap': {
    version: 3, csum: '0x6c75', form: 'pseudo-header', src: 'fe80::ff:fe00:151', dst: 'ff02::12', addresses: ['fd00:1::250'],
  },
};

describe.skipIf(!existsSync(FIX))('keepalived captures', () => {
  const present = existsSync(FIX) ? readdirSync(FIX).filter((n) => n.endsWith('.pcap')).sort() : [];

  it('has the captures the issue lists', () => {
    expect(present).toEqual(expect.arrayContaining(['v2.pcap', 'v2-pass.pcap', 'v3.pcap', 'v3-nopseudo.pcap',
      'v2-unicast.pcap', 'v2-prio0.pcap', 'v3-ipv6.pcap', 'v2-sll.pcap']));
  });

  for (const [name, e] of Object.entries(FIXTURES)) {
    it(`${name}: VRRPv${e.version}, checksum ${e.csum} (${e.form}), every advert ok`, () => {
      const { linkType, frames, reports } = decodeFixture(name);
      expect(linkType).toBe(e.linkType ?? 1);
      expect(reports.length).toBeGreaterThanOrEqual(3);
      expect(reports.length).toBeLessThan(frames); // the ARP / NA frames were skipped
      for (const r of reports) {
        expect(r.verdict, `#${r.index}: ${r.detail}`).toBe('ok');
        expect(r).toMatchObject({
          version: e.version, vrid: 100, ttl: 255, tos: 0xc0, checksumForm: e.form, ipHeaderChecksumOk: true,
          family: e.src?.includes(':') ? 6 : 4, src: e.src ?? '172.16.1.251', dst: e.dst ?? '224.0.0.18',
          intervalCs: e.intervalCs ?? 100, addresses: e.addresses ?? ['192.168.1.250'],
          authText: e.authText ?? null, authType: e.version === 2 ? (e.authText ? 1 : 0) : null,
          srcMac: '02:00:00:00:01:51', dontFragment: r.family === 4 ? false : null,
        });
      }
      const normal = name === 'v2-prio0.pcap' ? reports.slice(0, -1) : reports;
      expect(new Set(normal.map((r) => `${r.priority} ${r.checksum}`))).toEqual(new Set([`100 ${e.csum}`]));
      // keepalived numbers its IPv4 adverts itself from 1 (README "IP header facts").
      if (e.src === undefined) expect(reports.map((r) => r.ipId)).toEqual(reports.map((_, i) => i + 1));
    });
  }

  it('v2-prio0.pcap ends with a priority-0 advert (keepalived stopping)', () => {
    const { frames, reports } = decodeFixture('v2-prio0.pcap');
    const last = reports.at(-1)!;
    expect([last.index, last.priority, last.checksum, last.verdict]).toEqual([frames, 0, '0x1bf7', 'ok']);
  });

  it('v3-unicast-oldchksum.pcap says why the form is odd', () => {
    for (const r of decodeFixture('v3-unicast-oldchksum.pcap').reports) expect(r.detail).toContain('old_unicast_checksum');
  });

  it('every other capture decodes with VRID 100, TTL 255 and an ok verdict', () => {
    for (const name of present.filter((n) => !(n in FIXTURES))) {
      const { reports } = decodeFixture(name);
      expect(reports.length, name).toBeGreaterThan(0);
      for (const r of reports) expect([name, r.verdict, r.vrid, r.ttl]).toEqual([name, 'ok', 100, 255]);
    }
  });
});

// --- the CLI end to end (dist/cli.js) ----------------------------------------------------------
const CLI = `${ROOT}dist/cli.js`;

function newestSource(): number {
  const files = ['src/cli.ts', ...['src/tools', 'src/protocol'].flatMap((d) =>
    readdirSync(ROOT + d).filter((n) => n.endsWith('.ts')).map((n) => `${d}/${n}`))];
  return Math.max(...files.map((f) => statSync(ROOT + f).mtimeMs));
}

function vrrpd(args: string[], input?: Uint8Array | string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vrrpd CLI', () => {
  beforeAll(() => {
    if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestSource()) return;
    // Others edit src/engine concurrently: tsc still emits, so only our files' errors count here.
    const r = spawnSync(process.execPath, [`${ROOT}scripts/build.mjs`],
      { cwd: ROOT, encoding: 'utf8' });
    const ours = r.stdout.split('\n').filter((l) => /^src\/(cli|tools\/|protocol\/)/.test(l));
    expect(ours).toEqual([]);
    expect(existsSync(CLI)).toBe(true);
  });

  it.skipIf(!existsSync(FIX))('decode FILE --json prints one JSON object per VRRP packet, exit 0', () => {
    const r = vrrpd(['decode', `${FIX}v2-pass.pcap`, '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PacketReport);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const p of lines) {
      expect(p).toMatchObject({ verdict: 'ok', version: 2, vrid: 100, authText: '$up3r$3(', src: '172.16.1.251',
        addresses: ['192.168.1.250'], checksumForm: 'vrrp', ttl: 255 });
      expect(typeof p.time).toBe('number');
    }
    expect(lines[0]!.index).toBe(1);
    expect(lines[0]!.relTime).toBe(0);
  });

  it('exit 1 when a packet of a capture file is dropped, with the summary line', () => {
    const bad = v3({ ttl: 64 });
    const path = join(mkdtempSync(join(tmpdir(), 'vrrpd-decode-')), 'bad.pcap');
    writeFileSync(path, writePcap({ linkType: 1 }, [
      { tsSec: 5, tsFrac: 0, data: ethernetFrame({ src: '02:00:00:00:00:09', ethertype: 0x0806, payload: new Uint8Array(28) }) },
      { tsSec: 5, tsFrac: 10, data: ethernetFrame({ src: '02:00:00:00:00:09', ethertype: 0x0800, payload: v3() }) },
      { tsSec: 6, tsFrac: 10, data: ethernetFrame({ src: '02:00:00:00:00:09', ethertype: 0x0800, payload: bad }) },
    ]));
    const r = vrrpd(['decode', path]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(/^#2 0\.000010 172\.16\.1\.251 > 224\.0\.0\.18 .* => ok$/),
      expect.stringMatching(/^#3 1\.000010 .* => DROP bad-ttl: TTL 64 ≠ 255$/),
      '-- 2 VRRP packets: 1 ok, 1 dropped; 1 other frames skipped',
      '',
    ]);
  });

  it('--hex: a good packet exits 0, a corrupted checksum exits 1 with bad-checksum', () => {
    const pkt = v2pass();
    const ok = vrrpd(['decode', '--hex', toHex(pkt)]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/VRRPv2 vrid 100 prio 90 count 2 .* => ok\n$/);
    flip(pkt, 27, 0x40);
    const bad = vrrpd(['decode', '--hex', toHex(pkt), '--json']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ verdict: 'bad-checksum', vrid: 100, checksumForm: null });
  });

  it('--hex - reads tcpdump -x text from stdin; non-VRRP hex exits 2', () => {
    const pkt = v3();
    const dump = `IP x > y\n${toHex(pkt).match(/.{1,32}/g)!.map((l, i) => `\t0x${(i * 16).toString(16).padStart(4, '0')}:  ${l}`).join('\n')}\n`;
    const r = vrrpd(['decode', '--hex', '-'], dump);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('csum');
    expect(r.stdout).toContain('(pseudo-header)');
    const udp = vrrpd(['decode', '--hex', toHex(ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', payload: new Uint8Array(8), protocol: 17 }))]);
    expect(udp.status).toBe(2);
    expect(udp.stderr).toContain('not a VRRP packet: IP protocol 17');
  });

  it('reads a pcap from stdin with -', () => {
    const file = writePcap({ linkType: 101, byteOrder: 'be', precision: 'ns' }, [
      { tsSec: 100, tsFrac: 0, data: v3() }, { tsSec: 100, tsFrac: 500_000_000, data: v3({ ttl: 2 }) }]);
    const r = vrrpd(['decode', '-'], file);
    expect(r.status).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^#1 0\.000000 .* => ok$/);
    expect(lines[1]).toMatch(/^#2 0\.500000 .* => DROP bad-ttl: TTL 2 ≠ 255$/);
  });

  it('a missing file, a non-pcap file, a pcapng file and bad usage exit 2 with a clear message', () => {
    const missing = vrrpd(['decode', 'no/such/file.pcap']);
    expect([missing.status, missing.stdout, missing.stderr]).toEqual([2, '', 'vrrpd decode: cannot read no/such/file.pcap: no such file\n']);
    const notPcap = vrrpd(['decode', 'package.json']);
    expect(notPcap.status).toBe(2);
    expect(notPcap.stderr).toMatch(/package\.json: not a pcap file: magic 0x/);
    const ng = vrrpd(['decode', '-'], Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0));
    expect([ng.status, ng.stderr]).toEqual([2, 'vrrpd decode: (stdin): pcapng is not supported; convert with: '
      + 'tcpdump -r in.pcapng -w out.pcap (or editcap -F pcap in.pcapng out.pcap)\n']);
    expect(vrrpd(['decode']).status).toBe(2);
    expect(vrrpd(['decode', '--nope', 'x']).status).toBe(2);
    const unknown = vrrpd(['frobnicate']);
    expect([unknown.status, unknown.stderr]).toEqual([2, "vrrpd: unknown command 'frobnicate'; try vrrpd --help\n"]);
  });

  it('--help lists the commands, decode --help documents the exit codes, --version reads package.json', () => {
    const top = vrrpd(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^ {2}decode +Decode VRRP packets/m);
    const help = vrrpd(['decode', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Exit codes:\n {2}0 .*\n {2}1 .*dropped/m);
    expect(vrrpd(['help', 'decode']).stdout).toBe(help.stdout);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    expect(vrrpd(['--version'])).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });
});
