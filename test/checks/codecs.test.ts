// Byte-level tests of the checkers' codecs: DNS query/reply, keepalived hex strings, SMTP replies, ICMP echo, track-file values.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeQuery, judgeReply } from '../../src/checks/dns.js';
import { effectiveWeight, fileEffect, parseTrackValue } from '../../src/checks/file.js';
import { judgeRegex } from '../../src/checks/http.js';
import { echoRequest, internetChecksum, isEchoReply } from '../../src/checks/ping.js';
import { takeReply } from '../../src/checks/smtp.js';
import { judgeUdpReply, parseHex } from '../../src/checks/udp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Captured from dnsmasq 2.90 (Debian 12): "www.check.test A" answered 127.0.0.42, name compressed (c00c).
const QUERY_A = hex('1234 0100 0001 0000 0000 0000 03777777 05636865636b 0474657374 00 0001 0001');
const REPLY_A = hex('1234 8580 0001 0001 0000 0000 03777777 05636865636b 0474657374 00 0001 0001 c00c 0001 0001 00000000 0004 7f00002a');
// The root SOA question answered REFUSED (dnsmasq without upstream servers).
const REPLY_REFUSED = hex('1235 8185 0001 0000 0000 0000 00 0006 0001');

describe('DNS codec (RFC 1035 §4)', () => {
  it('encodes a query with RD set, one IN question; the root is one zero octet', () => {
    expect(encodeQuery(0x1234, 'www.check.test', 'A')).toEqual(QUERY_A);
    expect(encodeQuery(0x1234, 'www.check.test.', 'A')).toEqual(QUERY_A);
    expect(encodeQuery(0x1235, '.', 'SOA')).toEqual(hex('1235 0100 0001 0000 0000 0000 00 0006 0001'));
    expect(encodeQuery(1, 'a.b', 'AAAA').subarray(-4)).toEqual(hex('001c 0001'));
    expect(() => encodeQuery(1, `${'x'.repeat(64)}.com`, 'A')).toThrow(/1-63 octets/);
  });

  it('decodes a reply: header bits, the question, a compressed answer name and the A address', () => {
    const d = decodeMessage(REPLY_A);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.msg).toMatchObject({ id: 0x1234, qr: true, aa: true, rd: true, ra: true, rcode: 0, opcode: 0 });
    expect(d.msg.questions).toEqual([{ name: 'www.check.test', type: 1, class: 1 }]);
    expect(d.msg.answers).toHaveLength(1);
    expect(d.msg.answers[0]).toMatchObject({ name: 'www.check.test', type: 1, class: 1, ttl: 0, address: '127.0.0.42' });
  });

  it('decodes AAAA answers to canonical text', () => {
    const reply = hex('0001 8180 0000 0001 0000 0000 01 61 00 001c 0001 0000003c 0010 fd000000000000000000000000000042');
    const d = decodeMessage(reply);
    expect(d.ok && d.msg.answers[0]!.address).toBe('fd00::42');
  });

  it('malformed messages give a reason and never throw: truncation, pointer loops, runaway lengths', () => {
    expect(decodeMessage(hex('1234 81'))).toEqual({ ok: false, reason: 'malformed DNS message: header runs past the end' });
    expect(decodeMessage(REPLY_A.subarray(0, REPLY_A.length - 2))).toEqual({ ok: false, reason: 'malformed DNS message: RDATA runs past the end' });
    // An answer whose name points at itself.
    const loop = hex('0001 8180 0000 0001 0000 0000 c00c 0001 0001 00000000 0000');
    expect(decodeMessage(loop)).toEqual({ ok: false, reason: 'malformed DNS message: compression pointer loop' });
    expect(decodeMessage(hex('0001 8180 0001 0000 0000 0000 3f 6161'))).toEqual({ ok: false, reason: 'malformed DNS message: label runs past the end' });
    expect(decodeMessage(hex('0001 8180 0001 0000 0000 0000 80'))).toEqual({ ok: false, reason: 'malformed DNS message: reserved label type 0x80' });
    for (let n = 0; n < REPLY_A.length; n++) expect(() => decodeMessage(REPLY_A.subarray(0, n))).not.toThrow();
  });

  it('judges a reply as keepalived: other IDs and queries are not ours; RCODE 0 passes, others fail; expect checks addresses', () => {
    const t = { queryType: 'A' as const, name: 'www.check.test' };
    expect(judgeReply(REPLY_A, 0x9999, t)).toBeNull();
    expect(judgeReply(QUERY_A, 0x1234, t)).toBeNull(); // QR clear
    expect(judgeReply(hex('1234'), 0x1234, t)).toBeNull();
    expect(judgeReply(REPLY_A, 0x1234, t)).toEqual({ ok: true, reason: 'DNS A www.check.test: NOERROR' });
    expect(judgeReply(REPLY_REFUSED, 0x1235, { queryType: 'SOA', name: '.' })).toEqual({ ok: false, reason: 'DNS SOA .: REFUSED' });
    expect(judgeReply(REPLY_A, 0x1234, { ...t, expect: ['127.0.0.42'] })?.ok).toBe(true);
    expect(judgeReply(REPLY_A, 0x1234, { ...t, expect: ['127.0.0.43'] })).toEqual({
      ok: false, reason: 'DNS A www.check.test: answer lacks 127.0.0.43 (got 127.0.0.42)' });
  });
});

describe('UDP_CHECK hex strings and reply matching (keepalived read_hex_str, check_udp_reply)', () => {
  it('reads keepalived\'s free format: pairs, a lone digit before a space is one byte', () => {
    // The example of keepalived.conf(5).
    expect(parseHex('Ab12f 3 456 546443123')!.data).toEqual(hex('ab 12 0f 03 45 06 54 64 43 12 03'));
    expect(parseHex('0102ab')!.data).toEqual(hex('0102ab'));
    expect(parseHex('zz')).toBeNull();
    expect(parseHex('')).toBeNull();
    expect(parseHex('0x', false)).toBeNull();
    expect(parseHex('1x x2', true)).toEqual({ data: hex('10 02'), mask: hex('0f f0') });
  });

  it('a reply passes within the length bounds and when its bytes match up to the shorter length, x ignored', () => {
    const t = { minReplyLength: 2, maxReplyLength: 8, replyData: parseHex('de ad x0 ef', true)! };
    expect(judgeUdpReply(hex('dead'), t).ok).toBe(true); // shorter than the pattern: compared up to its length
    expect(judgeUdpReply(hex('dead70ef99'), t).ok).toBe(true);
    expect(judgeUdpReply(hex('dead71ef'), t)).toEqual({ ok: false, reason: 'reply byte 2 is 0x71, expected 0x00' });
    expect(judgeUdpReply(hex('de'), t)).toEqual({ ok: false, reason: 'reply of 1 bytes, expected 2-8' });
    expect(judgeUdpReply(hex('dead00ef00000000'), t).ok).toBe(true);
    expect(judgeUdpReply(hex('dead00ef0000000000'), t).ok).toBe(false);
  });
});

describe('SMTP replies (RFC 5321 §4.2.1)', () => {
  it('one line, multi-line (ddd-), incomplete and malformed', () => {
    expect(takeReply('220 mx.check.test ESMTP OpenSMTPD\r\n')).toEqual({ code: 220, text: '220 mx.check.test ESMTP OpenSMTPD', rest: '' });
    expect(takeReply('220-first\r\n220-second\r\n220 last\r\n250 x')).toMatchObject({ code: 220, rest: '250 x' });
    expect(takeReply('220-first\r\n220 la')).toBeNull();
    expect(takeReply('250\r\n')).toMatchObject({ code: 250 });
    expect(takeReply('hello\r\n')).toEqual({ bad: 'malformed SMTP reply line "hello"' });
  });
});

describe('ICMP echo (RFC 792, RFC 4443)', () => {
  it('builds an echo request with a valid checksum; recognises only our reply', () => {
    const req = echoRequest(4, 0xbeef, 7, Buffer.from('abcd'));
    expect(req.subarray(0, 2)).toEqual(hex('0800'));
    expect(req.readUInt16BE(4)).toBe(0xbeef);
    expect(internetChecksum(req)).toBe(0); // a packet with its checksum sums to zero
    const reply = Buffer.from(req);
    reply[0] = 0;
    expect(isEchoReply(4, reply, false, null, 7)).toBe(true);
    expect(isEchoReply(4, reply, false, null, 8)).toBe(false);
    expect(isEchoReply(4, reply, true, 0xbeef, 7)).toBe(false); // a raw socket's data starts with the IP header
    const ip = Buffer.concat([hex('4500 0020 0000 0000 4001 0000 7f000001 7f000001'), reply]);
    expect(isEchoReply(4, ip, true, 0xbeef, 7)).toBe(true);
    expect(isEchoReply(4, ip, true, 0xbeee, 7)).toBe(false);
    expect(isEchoReply(4, req, false, null, 7)).toBe(false); // the request itself
    expect(echoRequest(6, 1, 2)[0]).toBe(128);
    expect(isEchoReply(6, Buffer.concat([hex('8100 0000 0001 0002')]), false, null, 2)).toBe(true);
    expect(isEchoReply(6, hex('8100 00'), false, null, 2)).toBe(false);
  });
});

describe('FILE_CHECK values (keepalived track_file)', () => {
  it('reads numbers as C strtol with base 0; junk is 0; out of int32 range is ignored (null)', () => {
    expect(parseTrackValue('5\n')).toBe(5);
    expect(parseTrackValue('  -3 trailing')).toBe(-3);
    expect(parseTrackValue('0x10')).toBe(16);
    expect(parseTrackValue('010')).toBe(8);
    expect(parseTrackValue('')).toBe(0);
    expect(parseTrackValue('abc')).toBe(0);
    expect(parseTrackValue('2147483648')).toBe(2147483648);
    expect(parseTrackValue('2147483649')).toBeNull();
    expect(parseTrackValue('-2147483649')).toBeNull();
    expect(parseTrackValue('99999999999999999999')).toBeNull();
  });

  it('weight 0: zero is up (reverse: down); otherwise value × weight adjusts, and <= -2^31 fails', () => {
    expect(fileEffect(0, 0, false)).toEqual({ healthy: true, adjust: 0 });
    expect(fileEffect(1, 0, false)).toEqual({ healthy: false, adjust: 0 });
    expect(fileEffect(0, 0, true)).toEqual({ healthy: false, adjust: 0 });
    expect(fileEffect(7, 0, true)).toEqual({ healthy: true, adjust: 0 });
    expect(fileEffect(3, 10, false)).toEqual({ healthy: true, adjust: 30 });
    expect(fileEffect(3, 10, true)).toEqual({ healthy: true, adjust: -30 });
    expect(fileEffect(-2147483648, 1, false)).toEqual({ healthy: false, adjust: 0 });
    expect(fileEffect(-1, 2147483647, false)).toEqual({ healthy: true, adjust: -2147483647 });
    expect(fileEffect(-2, 2147483647, false)).toEqual({ healthy: false, adjust: 0 });
    // The IPVS weight: configured + adjustments, never below 0 (the server drains) nor above 2^31-1.
    expect(effectiveWeight(10, [-30])).toBe(0);
    expect(effectiveWeight(10, [5, -3])).toBe(12);
    expect(effectiveWeight(1, [2147483647])).toBe(2147483647);
  });
});

describe('HTTP regex (keepalived url regex / regex_no_match)', () => {
  const body = Buffer.from('<html>status: OK\nversion 2</html>');
  it('match, no match, options, offsets; regex_no_match inverts', () => {
    expect(judgeRegex({ path: '/', regex: 'status: OK' }, body).ok).toBe(true);
    expect(judgeRegex({ path: '/', regex: 'status: FAIL' }, body)).toEqual({ ok: false, reason: 'body does not match /status: FAIL/' });
    expect(judgeRegex({ path: '/', regex: 'STATUS', regexOptions: ['caseless'] }, body).ok).toBe(true);
    expect(judgeRegex({ path: '/', regex: '^version', regexOptions: ['multiline'] }, body).ok).toBe(true);
    expect(judgeRegex({ path: '/', regex: '^version' }, body).ok).toBe(false);
    expect(judgeRegex({ path: '/', regex: 'OK', regexMinOffset: 15 }, body).ok).toBe(false);
    expect(judgeRegex({ path: '/', regex: 'OK', regexMaxOffset: 13 }, body)).toEqual({
      ok: false, reason: 'body does not match /OK/ (a match at byte 14, beyond regexMaxOffset 13)' });
    expect(judgeRegex({ path: '/', regex: 'OK', regexMaxOffset: 14 }, body).ok).toBe(true);
    expect(judgeRegex({ path: '/', regex: 'error', regexNoMatch: true }, body).ok).toBe(true);
    expect(judgeRegex({ path: '/', regex: 'OK', regexNoMatch: true }, body)).toEqual({ ok: false, reason: 'body matches /OK/ at byte 14 (regexNoMatch)' });
  });
});
