// Codec tests: checksums, v2/v3 build/parse, drop reasons, and properties (never throws, round trip).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeAdvert, encodeAdvert, authDataFor, VRRP_MCAST_V4, VRRP_MCAST_V6, type AdvertSpec, type RxContext,
} from '../../src/protocol/advert.js';
import { addressToBytes, bytesToAddress, compareAddresses } from '../../src/protocol/addr.js';
import { internetChecksum, checksumVerifies } from '../../src/protocol/checksum.js';
import { buildIpv4Header, parseIpPacket } from '../../src/protocol/ip.js';
import { DROP_REASONS } from '../../src/protocol/drop.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const ctx4 = (src = '172.16.1.251', dst = VRRP_MCAST_V4, ttl = 255): RxContext => ({
  family: 4, src: addressToBytes(src)!, dst: addressToBytes(dst)!, ttl,
});
const ctx6 = (src = 'fe80::1', dst = VRRP_MCAST_V6, ttl = 255): RxContext => ({
  family: 6, src: addressToBytes(src)!, dst: addressToBytes(dst)!, ttl,
});

describe('internet checksum (RFC 1071)', () => {
  it('matches the RFC 1071 §3 worked example', () => {
    // 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (one's complement sum), checksum 220d.
    expect(internetChecksum([bytes('0001f203f4f5f6f7')])).toBe(0x220d);
  });
  it('is the same over any split of the data, odd lengths included', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(64), (data, cut) => {
      const c = Math.min(cut, data.length);
      expect(internetChecksum([data.subarray(0, c), data.subarray(c)])).toBe(internetChecksum([data]));
    }));
  });
  it('verifies a buffer that carries its own checksum', () => {
    const b = bytes('4500 0028 1c46 0000 ff70 0000 ac10 01fb e000 0012');
    const c = internetChecksum([b]);
    b[10] = c >> 8;
    b[11] = c & 0xff;
    expect(checksumVerifies([b])).toBe(true);
    b[19] = b[19]! ^ 1;
    expect(checksumVerifies([b])).toBe(false);
  });
});

describe('VRRPv2 (RFC 3768)', () => {
  const spec: AdvertSpec = {
    version: 2, family: 4, vrid: 100, priority: 90, intervalCs: 100,
    addresses: ['192.168.1.250'], authType: 1, authPassword: '$up3r$3(r37',
  };
  it('lays out the header, addresses and 8 bytes of auth data', () => {
    const b = encodeAdvert(spec);
    // ver 2 type 1 | vrid 100 | prio 90 | count 1 | auth 1 | int 1 | csum | 192.168.1.250 | "$up3r$3("
    expect(hex(b)).toBe(`2164 5a01 0101 ${hex(b.subarray(6, 8))} c0a801fa ${Buffer.from('$up3r$3(').toString('hex')}`.replace(/ /g, ''));
    expect(b.length).toBe(20);
    expect(checksumVerifies([b])).toBe(true); // v2: over the VRRP message only
  });
  it('truncates the simple password to 8 bytes and zero-pads a short one (keepalived)', () => {
    expect(Array.from(authDataFor('$up3r$3(r37'))).toEqual(Array.from(Buffer.from('$up3r$3(')));
    expect(Array.from(authDataFor('ab'))).toEqual([0x61, 0x62, 0, 0, 0, 0, 0, 0]);
  });
  it('parses what it builds, with the checksum form "vrrp"', () => {
    const r = decodeAdvert(encodeAdvert(spec), ctx4());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.advert).toMatchObject({
      version: 2, vrid: 100, priority: 90, count: 1, intervalCs: 100, authType: 1, checksumForm: 'vrrp',
      addresses: ['192.168.1.250'],
    });
    expect(Array.from(r.advert.authData!)).toEqual(Array.from(authDataFor('$up3r$3(')));
  });
  it('has auth data (zeros) even with auth type 0', () => {
    const b = encodeAdvert({ ...spec, authType: 0 });
    expect(b.length).toBe(20);
    expect(Array.from(b.subarray(12))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('refuses intervals that are not whole seconds 1-255, and IPv6', () => {
    expect(() => encodeAdvert({ ...spec, intervalCs: 150 })).toThrow(RangeError);
    expect(() => encodeAdvert({ ...spec, intervalCs: 25600 })).toThrow(RangeError);
    expect(() => encodeAdvert({ ...spec, family: 6, addresses: ['fd00::1'] })).toThrow(/IPv4 only/);
  });
});

describe('VRRPv3 (RFC 5798 / RFC 9568)', () => {
  const base: AdvertSpec = {
    version: 3, family: 4, vrid: 7, priority: 200, intervalCs: 10, addresses: ['10.0.0.1', '10.0.0.2'],
    src: '172.16.1.251', dst: VRRP_MCAST_V4,
  };
  it('encodes the 12-bit Max Advert Interval in centiseconds with zero reserved bits', () => {
    const b = encodeAdvert({ ...base, intervalCs: 4095 });
    expect(b[4]).toBe(0x0f);
    expect(b[5]).toBe(0xff);
    expect(b.length).toBe(16); // no auth data in v3
    expect(() => encodeAdvert({ ...base, intervalCs: 4096 })).toThrow(RangeError);
    expect(() => encodeAdvert({ ...base, intervalCs: 0 })).toThrow(RangeError);
  });
  it('IPv4 with the pseudo-header verifies only with the pseudo-header, and says so', () => {
    const b = encodeAdvert(base);
    expect(checksumVerifies([b])).toBe(false);
    const r = decodeAdvert(b, ctx4());
    expect(r.ok && r.advert.checksumForm).toBe('pseudo-header');
  });
  it('IPv4 without the pseudo-header (RFC 9568, v3_checksum_as_v2) is accepted and reported', () => {
    const b = encodeAdvert({ ...base, checksumForm: 'no-pseudo-header' });
    expect(checksumVerifies([b])).toBe(true);
    const r = decodeAdvert(b, ctx4());
    expect(r.ok && r.advert.checksumForm).toBe('no-pseudo-header');
  });
  it('the pseudo-header binds source and destination: another source fails the checksum', () => {
    const b = encodeAdvert(base);
    const r = decodeAdvert(b, ctx4('172.16.1.252'));
    expect(r).toMatchObject({ ok: false, reason: 'bad-checksum' });
    expect(!r.ok && r.advert?.vrid).toBe(7); // fields are still reported for diagnostics
  });
  it('IPv6 uses the RFC 8200 pseudo-header and 16-byte addresses', () => {
    const b = encodeAdvert({
      version: 3, family: 6, vrid: 1, priority: 100, intervalCs: 100,
      addresses: ['fe80::250', 'fd00:1::250'], src: 'fe80::1', dst: VRRP_MCAST_V6,
    });
    expect(b.length).toBe(8 + 32);
    const r = decodeAdvert(b, ctx6());
    expect(r.ok && r.advert.addresses).toEqual(['fe80::250', 'fd00:1::250']);
    expect(r.ok && r.advert.checksumForm).toBe('pseudo-header');
    // The no-pseudo-header form is an IPv4 thing only.
    b[6] = 0; b[7] = 0;
    const sum = internetChecksum([b]);
    b[6] = sum >> 8; b[7] = sum & 0xff;
    expect(decodeAdvert(b, ctx6())).toMatchObject({ ok: false, reason: 'bad-checksum' });
  });
});

describe('drops (never throws, a closed set of reasons)', () => {
  const good = () => encodeAdvert({ version: 2, family: 4, vrid: 1, priority: 100, intervalCs: 100, addresses: ['10.0.0.1'] });
  const fix = (b: Uint8Array) => { b[6] = 0; b[7] = 0; const c = internetChecksum([b]); b[6] = c >> 8; b[7] = c & 0xff; return b; };
  const cases: [string, () => Uint8Array, string, RxContext?][] = [
    ['short packet', () => good().subarray(0, 7), 'short-packet'],
    ['version 4', () => fix(Object.assign(good(), { 0: 0x41 })), 'bad-version'],
    ['type 2', () => fix(Object.assign(good(), { 0: 0x22 })), 'bad-type'],
    ['count 2 with one address', () => fix(Object.assign(good(), { 3: 2 })), 'length-mismatch'],
    ['trailing byte', () => { const b = new Uint8Array(21); b.set(good()); return b; }, 'length-mismatch'],
    ['flipped bit', () => Object.assign(good(), { 9: 1 }), 'bad-checksum'],
    ['interval 0', () => fix(Object.assign(good(), { 5: 0 })), 'interval-out-of-range'],
    ['TTL 254 on multicast', good, 'bad-ttl', ctx4('172.16.1.251', VRRP_MCAST_V4, 254)],
    ['v2 over IPv6', good, 'family-mismatch', ctx6()],
  ];
  for (const [name, make, reason, ctx] of cases) {
    it(`${name} → ${reason}`, () => {
      const r = decodeAdvert(make(), ctx ?? ctx4());
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toBe(reason);
    });
  }
  it('a unicast advert with a TTL below 255 is accepted (keepalived sends IPv6 unicast with hop limit 64)', () => {
    expect(decodeAdvert(good(), ctx4('172.16.1.251', '172.16.1.252', 64)).ok).toBe(true);
  });
  it('never throws on arbitrary bytes, and any drop reason is in the closed set', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), fc.integer({ min: 0, max: 255 }), (data, v6, ttl) => {
      const r = decodeAdvert(data, v6 ? ctx6('fe80::1', VRRP_MCAST_V6, ttl) : ctx4('10.0.0.1', VRRP_MCAST_V4, ttl));
      if (!r.ok) expect(DROP_REASONS).toContain(r.reason);
    }), { numRuns: 3000 });
  });
  it('never throws on mutated valid packets either', () => {
    const valid = encodeAdvert({ version: 3, family: 4, vrid: 9, priority: 1, intervalCs: 3, addresses: ['1.2.3.4'], src: '10.0.0.1', dst: VRRP_MCAST_V4 });
    fc.assert(fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (i, v) => {
      const b = valid.slice();
      b[i] = v;
      const r = decodeAdvert(b, ctx4('10.0.0.1'));
      if (r.ok) expect(Array.from(b)).toEqual(Array.from(valid)); // any change must be caught
    }));
  });
});

describe('round trip', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  it('decode(encode(x)) gives x back, for v2 and v3 and both checksum forms', () => {
    fc.assert(fc.property(
      fc.constantFrom(2, 3), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 255 }),
      fc.array(v4, { maxLength: 20 }), fc.integer({ min: 1, max: 255 }), fc.constantFrom('pseudo-header', 'no-pseudo-header'),
      (version, vrid, priority, addresses, sec, form) => {
        const spec: AdvertSpec = {
          version: version as 2 | 3, family: 4, vrid, priority, addresses,
          intervalCs: version === 2 ? sec * 100 : sec * 16, src: '172.16.1.252', dst: VRRP_MCAST_V4,
          checksumForm: form as 'pseudo-header',
        };
        const r = decodeAdvert(encodeAdvert(spec), ctx4('172.16.1.252'));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.advert.addresses).toEqual(addresses);
        expect([r.advert.vrid, r.advert.priority, r.advert.intervalCs]).toEqual([vrid, priority, spec.intervalCs]);
        expect(r.advert.checksumForm).toBe(version === 2 ? 'vrrp' : form);
      }));
  });
});

describe('addresses and IP headers', () => {
  it('orders addresses as unsigned network-order integers (RFC 9568 §6.4.3)', () => {
    expect(compareAddresses('172.16.1.252', '172.16.1.251')).toBeGreaterThan(0);
    expect(compareAddresses('10.0.0.2', '9.255.255.255')).toBeGreaterThan(0);
    expect(compareAddresses('200.0.0.1', '100.0.0.1')).toBeGreaterThan(0); // unsigned: no sign bit
    expect(compareAddresses('fe80::2', 'fe80::10')).toBeLessThan(0);
  });
  it('round-trips address text canonically', () => {
    expect(bytesToAddress(addressToBytes('FD00:0001:0000::0250')!)).toBe('fd00:1::250');
    expect(addressToBytes('192.168.1.256')).toBeNull();
    expect(addressToBytes('192.168.1.1/24')).toBeNull();
  });
  it('builds keepalived\'s IPv4 header: TOS 0xc0, TTL 255, no DF, protocol 112, valid checksum', () => {
    const h = buildIpv4Header({ src: addressToBytes('172.16.1.251')!, dst: addressToBytes(VRRP_MCAST_V4)!, payloadLength: 20, id: 7 });
    const pkt = new Uint8Array(40);
    pkt.set(h);
    pkt.set(encodeAdvert({ version: 2, family: 4, vrid: 100, priority: 90, intervalCs: 100, addresses: ['192.168.1.250'] }), 20);
    const p = parseIpPacket(pkt);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.packet).toMatchObject({ tos: 0xc0, ttl: 255, dontFragment: false, protocol: 112, id: 7, headerChecksumOk: true });
    expect(p.packet.payload.length).toBe(20);
  });
  it('rejects fragments and truncated headers without throwing', () => {
    expect(parseIpPacket(new Uint8Array([0x45, 0, 0]))).toMatchObject({ ok: false });
    const h = buildIpv4Header({ src: new Uint8Array(4), dst: new Uint8Array(4), payloadLength: 0, id: 1 });
    h[6] = 0x20; // MF
    expect(parseIpPacket(h)).toMatchObject({ ok: false, detail: 'IPv4 fragment' });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => { parseIpPacket(b); }));
  });
});

describe('checksum on large inputs', () => {
  const reference = (b: Uint8Array) => {
    let sum = 0; // exact in a double: at most 2^19 words of 0xffff here
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum % 65536) + Math.floor(sum / 65536);
    return ~sum & 0xffff;
  };
  it('stays exact past 128 KiB in one chunk (folds as it goes)', () => {
    const big = new Uint8Array(300_001).map((_, i) => (i * 7919) & 0xff);
    expect(internetChecksum([big])).toBe(reference(big));
    big.fill(0xff);
    expect(internetChecksum([big])).toBe(reference(big));
  });
});
