// Netlink framing at the byte level: nlmsghdr, attributes, NLMSG_ERROR/DONE with extended ack, rtnetlink payloads.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  align4, attrMap, decodeAttrs, decodeNlmsgDone, decodeNlmsgErr, decodeNlmsgs, encodeAttrs, encodeNlmsg, nlaNest, nlaStr,
  nlaU16, nlaU32, nlaU64, nlaU8, peekHeader, readStr, readU16, readU32, readU64, HOST_LE, type NlMsg,
  NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REQUEST,
} from '../../src/net/nlmsg.js';
import {
  addrPayload, parseAddr, parseEvent, parseLink, encodeIfinfomsg, IFA_F_NODAD, RTM_DELADDR, RTM_NEWADDR, RTM_NEWLINK,
} from '../../src/net/rtnetlink.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const one = (b: Uint8Array): NlMsg => {
  const r = decodeNlmsgs(b);
  expect(r.error).toBeNull();
  expect(r.messages).toHaveLength(1);
  return r.messages[0]!;
};

// The byte arrays below are little-endian, as netlink is host-order and every CI host is.
describe.skipIf(!HOST_LE)('nlmsghdr and RTM_NEWADDR (linux/netlink.h, linux/if_addr.h)', () => {
  it('encodes an IPv4 VIP add with label to the hand-computed bytes', () => {
    const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL; // 0x0605
    const msg = encodeNlmsg({ type: RTM_NEWADDR, flags, seq: 1, pid: 0 },
      addrPayload({ ifindex: 2, address: '192.168.77.250', prefixLen: 32, label: 'eth0:vip' }));
    expect(hex(msg)).toBe(hex(bytes(`
      38000000 1400 0506 01000000 00000000
      02 20 00 00 02000000
      0800 0200 c0a84dfa
      0800 0100 c0a84dfa
      0d00 0300 65746830 3a766970 00000000`)));
    expect(msg.length).toBe(56);
  });

  it('encodes an IPv6 VIP with IFA_F_NODAD in ifa_flags and in IFA_FLAGS, and no IFA_LOCAL', () => {
    const p = addrPayload({ ifindex: 7, address: 'fd00::1', prefixLen: 64 });
    expect(hex(p)).toBe(hex(bytes(`
      0a 40 02 00 07000000
      1400 0100 fd000000000000000000000000000001
      0800 0800 02000000`)));
  });

  it('encodes a nested attribute with NLA_F_NESTED, padding inner values to 4 bytes', () => {
    const b = encodeAttrs([nlaNest(1, [nlaU32(2, 7), nlaStr(3, 'ab')])]);
    expect(hex(b)).toBe('14000180' + '08000200' + '07000000' + '07000300' + '61620000');
    const outer = decodeAttrs(b);
    expect(outer.ok).toBe(true);
    if (!outer.ok) return;
    expect(outer.value[0]).toMatchObject({ type: 1, nested: true, netByteOrder: false });
    const inner = decodeAttrs(outer.value[0]!.value);
    expect(inner.ok && inner.value.map((a) => a.type)).toEqual([2, 3]);
    if (!inner.ok) return;
    expect(readU32(inner.value[0]!.value)).toBe(7);
    expect(readStr(inner.value[1]!.value)).toBe('ab');
    expect(hex(encodeAttrs([nlaNest(1, [nlaU8(2, 1)], false)]))).toBe('0c000100' + '05000200' + '01000000');
  });

  it('parses NLMSG_ERROR -EEXIST with a capped request and the extended ack message', () => {
    const buf = bytes(`
      3c000000 0200 0003 01000000 d2040000
      efffffff
      38000000 1400 0506 01000000 00000000
      1000 0100 46696c65 20657869 73747300
      0800 0200 18000000`);
    const m = one(buf);
    expect(m).toMatchObject({ type: NLMSG_ERROR, flags: NLM_F_CAPPED | NLM_F_ACK_TLVS, seq: 1, pid: 1234 });
    const e = decodeNlmsgErr(m);
    expect(e).toEqual({
      ok: true,
      value: { error: -17, request: { type: RTM_NEWADDR, flags: 0x605, seq: 1, pid: 0 }, extAck: { msg: 'File exists', offset: 24 } },
    });
  });

  it('parses an uncapped NLMSG_ERROR by skipping the echoed request to reach the TLVs', () => {
    const req = encodeNlmsg({ type: RTM_NEWADDR, flags: 0x605, seq: 9, pid: 0 }, addrPayload({ ifindex: 2, address: '10.0.0.1', prefixLen: 8 }));
    const err = encodeNlmsg({ type: NLMSG_ERROR, flags: NLM_F_ACK_TLVS, seq: 9, pid: 0 },
      new Uint8Array(new Int32Array([-19]).buffer), req, encodeAttrs([nlaStr(1, 'ipv4: Device not found')]));
    const e = decodeNlmsgErr(one(err));
    expect(e.ok && e.value).toEqual({ error: -19, request: { type: RTM_NEWADDR, flags: 0x605, seq: 9, pid: 0 }, extAck: { msg: 'ipv4: Device not found' } });
  });

  it('parses an ack (error 0) without TLVs, and NLMSG_DONE with and without a status', () => {
    const ack = bytes('24000000 0200 0001 05000000 00000000  00000000  10000000 1400 0500 05000000 00000000');
    expect(decodeNlmsgErr(one(ack))).toEqual({ ok: true, value: { error: 0, request: { type: 20, flags: 5, seq: 5, pid: 0 }, extAck: {} } });
    const done = bytes(`14000000 0300 0200 05000000 00000000 00000000`);
    expect(decodeNlmsgDone(one(done))).toEqual({ ok: true, value: { error: 0, extAck: {} } });
    const doneErr = encodeNlmsg({ type: NLMSG_DONE, flags: NLM_F_MULTI | NLM_F_ACK_TLVS, seq: 5, pid: 0 },
      new Uint8Array(new Int32Array([-16]).buffer), encodeAttrs([nlaStr(1, 'busy')]));
    expect(decodeNlmsgDone(one(doneErr))).toEqual({ ok: true, value: { error: -16, extAck: { msg: 'busy' } } });
    expect(decodeNlmsgDone(one(bytes('10000000 0300 0200 05000000 00000000'))).ok).toBe(true);
  });

  it('splits a datagram of several messages at 4-byte boundaries', () => {
    const a = encodeNlmsg({ type: 0x20, flags: NLM_F_MULTI, seq: 3, pid: 0 }, Uint8Array.of(1, 2, 3, 4, 5));
    expect(a.length).toBe(24);
    expect(peekHeader(a)?.len).toBe(24);
    const b = encodeNlmsg({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 3, pid: 0 }, new Uint8Array(4));
    const r = decodeNlmsgs(Uint8Array.from([...a, ...b]));
    expect(r.error).toBeNull();
    expect(r.messages.map((m) => [m.type, m.seq, m.payload.length])).toEqual([[0x20, 3, 8], [NLMSG_DONE, 3, 4]]);
    // A message whose nlmsg_len is not a multiple of 4 is followed by padding.
    const odd = bytes('11000000 2000 0000 01000000 00000000 aa000000' + '10000000 2100 0000 02000000 00000000');
    expect(decodeNlmsgs(odd).messages.map((m) => [m.type, m.payload.length])).toEqual([[0x20, 1], [0x21, 0]]);
  });

  it('round-trips integer attributes, net byte order on request', () => {
    const b = encodeAttrs([nlaU8(1, 255), nlaU16(2, 0x1234), nlaU16(3, 80, true), nlaU64(4, 2n ** 40n + 5n)]);
    expect(hex(b)).toBe('05000100ff000000' + '0600020034120000' + '0600030000500000' + '0c000400' + '0500000000010000');
    const d = decodeAttrs(b);
    if (!d.ok) throw new Error(d.error);
    const m = attrMap(d.value);
    expect(readU16(m.get(2)!.value)).toBe(0x1234);
    expect(readU16(m.get(3)!.value, true)).toBe(80);
    expect(readU64(m.get(4)!.value)).toBe(2n ** 40n + 5n);
  });
});

describe('truncated and malformed input never throws', () => {
  it('reports a short header, a length past the end and a length under 16, keeping earlier messages', () => {
    expect(decodeNlmsgs(new Uint8Array(10))).toMatchObject({ messages: [], offset: 0, error: expect.stringContaining('truncated') });
    const good = encodeNlmsg({ type: 0x20, flags: 0, seq: 1, pid: 0 }, new Uint8Array(4));
    const long = encodeNlmsg({ type: 0x20, flags: 0, seq: 2, pid: 0 }, new Uint8Array(64)).subarray(0, 40);
    const r = decodeNlmsgs(Uint8Array.from([...good, ...long]));
    expect(r.messages).toHaveLength(1);
    expect(r.offset).toBe(20);
    expect(r.error).toMatch(/runs past/);
    expect(peekHeader(long)?.seq).toBe(2);
    expect(decodeNlmsgs(bytes('08000000 2000 0000 01000000 00000000')).error).toMatch(/below the header/);
  });

  it('rejects attributes that overrun or are shorter than their header', () => {
    expect(decodeAttrs(bytes('08000100 0102'))).toMatchObject({ ok: false, error: expect.stringMatching(/runs past/) });
    expect(decodeAttrs(bytes('02000100'))).toMatchObject({ ok: false, error: expect.stringMatching(/below/) });
    expect(decodeAttrs(bytes('000000'))).toEqual({ ok: true, value: [] }); // trailing pad under a header is ignored
  });

  it('rejects an NLMSG_ERROR too short for the errno, or whose TLVs would start past the end', () => {
    const short = one(bytes('12000000 0200 0000 01000000 00000000 efff'));
    expect(decodeNlmsgErr(short)).toMatchObject({ ok: false });
    const past = one(bytes('24000000 0200 0002 01000000 00000000 efffffff 40000000 1400 0506 01000000 00000000'));
    expect(decodeNlmsgErr(past)).toMatchObject({ ok: false, error: expect.stringMatching(/runs past/) });
    const badTlv = one(bytes('2c000000 0200 0003 01000000 00000000 efffffff 10000000 1400 0506 01000000 00000000 20000100 41424344'));
    expect(decodeNlmsgErr(badTlv)).toMatchObject({ ok: false, error: expect.stringMatching(/extended ack/) });
  });

  it('never throws on arbitrary bytes (decoders and rtnetlink parsers)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
      const r = decodeNlmsgs(data);
      for (const m of r.messages) {
        decodeNlmsgErr(m);
        decodeNlmsgDone(m);
        parseEvent({ ...m, type: RTM_NEWLINK });
        parseEvent({ ...m, type: RTM_DELADDR });
      }
      decodeAttrs(data);
      parseLink(data);
      parseAddr(data);
    }), { numRuns: 2000 });
  });
});

describe.skipIf(!HOST_LE)('rtnetlink payloads (linux/rtnetlink.h, linux/if_link.h)', () => {
  it('parses an ifinfomsg with name, MAC, MTU and operstate', () => {
    const payload = Uint8Array.from([...encodeIfinfomsg(0, 3, 0x11043), ...encodeAttrs([
      nlaStr(3, 'eth0'), nlaU32(4, 1500), { type: 1, value: bytes('0200c0ffee01') }, nlaU8(16, 6),
    ])]);
    expect(parseLink(payload)).toEqual({
      index: 3, name: 'eth0', up: true, running: true, operstate: 'up', mac: '02:00:c0:ff:ee:01', mtu: 1500, flags: 0x11043,
    });
    expect(parseLink(encodeIfinfomsg(0, 3))).toBeNull(); // no IFLA_IFNAME
  });

  it('parses an ifaddrmsg, preferring IFA_LOCAL for IPv4 and IFA_FLAGS over ifa_flags', () => {
    const v4 = Uint8Array.from([...bytes('02 18 80 00 05000000'), ...encodeAttrs([
      { type: 1, value: bytes('0a000002') }, { type: 2, value: bytes('0a000001') }, nlaStr(3, 'eth0:vip'), nlaU32(8, 0x280),
    ])]);
    expect(parseAddr(v4)).toEqual({ index: 5, family: 4, address: '10.0.0.1', prefixLen: 24, label: 'eth0:vip', scope: 0, flags: 0x280 });
    const v6 = Uint8Array.from([...bytes('0a 40 02 fd 05000000'), ...encodeAttrs([{ type: 1, value: bytes('fe800000000000000000000000000001') }])]);
    expect(parseAddr(v6)).toMatchObject({ family: 6, address: 'fe80::1', prefixLen: 64, label: null, scope: 253, flags: IFA_F_NODAD });
    expect(parseEvent({ type: RTM_DELADDR, flags: 0, seq: 0, pid: 0, payload: v6 })).toMatchObject({ type: 'addr', op: 'del' });
  });

  it('refuses bad address specs before sending anything', () => {
    expect(() => addrPayload({ ifindex: 1, address: '10.0.0.300', prefixLen: 32 })).toThrow(RangeError);
    expect(() => addrPayload({ ifindex: 1, address: '10.0.0.1', prefixLen: 33 })).toThrow(/prefix/);
    expect(() => addrPayload({ ifindex: 0, address: '10.0.0.1', prefixLen: 32 })).toThrow(/ifindex/);
    expect(() => addrPayload({ ifindex: 1, address: 'fd00::1', prefixLen: 128, label: 'eth0:x' })).toThrow(/IPv4 only/);
    expect(() => addrPayload({ ifindex: 1, address: '10.0.0.1', prefixLen: 32, label: 'eth0:abcdefghijk' })).toThrow(/15 bytes/);
    expect(() => addrPayload({ ifindex: 1, address: '10.0.0.1', prefixLen: 32, family: 6 })).toThrow(/IPv6/);
  });

  it('aligns to 4', () => {
    expect([0, 1, 3, 4, 5, 8].map(align4)).toEqual([0, 4, 4, 4, 8, 8]);
  });
});
