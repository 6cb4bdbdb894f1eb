// The native addon's calls and error shape, and the sockaddr / cmsg byte layouts (no root needed).
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { constants, isNativeError, loadNative, native } from '../../src/net/native.js';
import {
  buildCmsgs, cmsgAlign, cmsgIpPktinfo, cmsgIpTtl, cmsgIpv6HopLimit, cmsgIpv6Pktinfo, cmsgLen, cmsgSpace, in6Pktinfo,
  in6PktinfoCmsg, ipMreqn, ipv6Mreq, parseCmsgs, parseSockaddrInet, parseSockaddrLl, parseSockaddrNl, sockaddrIn,
  sockaddrIn6, sockaddrLl, sockaddrNl,
} from '../../src/net/sockaddr.js';

const LE = endianness() === 'LE';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Host-order u16 / u32 as hex, to write expected layouts. */
const h16 = (v: number) => { const b = Buffer.alloc(2); if (LE) b.writeUInt16LE(v); else b.writeUInt16BE(v); return hex(b); };
const h32 = (v: number) => { const b = Buffer.alloc(4); if (LE) b.writeUInt32LE(v); else b.writeUInt32BE(v); return hex(b); };
const h64 = (v: number) => { const b = Buffer.alloc(8); if (LE) b.writeBigUInt64LE(BigInt(v)); else b.writeBigUInt64BE(BigInt(v)); return hex(b); };

function thrown(f: () => unknown): Record<string, unknown> {
  try {
    f();
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('did not throw');
}

describe('addon', () => {
  it('loads once and exposes the constants from the C headers', () => {
    expect(loadNative()).toBe(loadNative());
    const c = constants();
    expect(c).toMatchObject({ AF_INET: 2, AF_INET6: 10, AF_PACKET: 17, AF_NETLINK: 16, SOCK_RAW: 3, IPPROTO_IPV6: 41,
      ETH_P_ARP: 0x0806, ETH_P_IPV6: 0x86dd, ETH_P_ALL: 3, NETLINK_ROUTE: 0, SOL_NETLINK: 270 });
    expect(c.IPV6_JOIN_GROUP).toBe(c.IPV6_ADD_MEMBERSHIP);
    expect([4, 8]).toContain(c.sizeof_size_t);
    for (const v of Object.values(c)) expect(Number.isInteger(v)).toBe(true);
    expect(Object.keys(c).length).toBeGreaterThanOrEqual(54);
  });

  it('throws Node-style system errors: setsockopt on fd -1 is EBADF', () => {
    const e = thrown(() => native.setsockopt(-1, constants().SOL_SOCKET, constants().SO_RCVBUF, 4096));
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ errno: -9, code: 'EBADF', syscall: 'setsockopt', message: 'setsockopt EBADF: Bad file descriptor' });
    expect(isNativeError(e)).toBe(true);
    expect(thrown(() => native.getsockoptInt(-1, 1, 1))).toMatchObject({ code: 'EBADF', syscall: 'getsockopt' });
    expect(thrown(() => native.close(-1))).toMatchObject({ code: 'EBADF', syscall: 'close' });
    expect(thrown(() => native.poll(-1, () => {}))).toMatchObject({ code: 'EBADF', syscall: 'poll' });
  });

  it('setns: a file that is not a namespace is EINVAL, a bad fd EBADF, both Node-style', async () => {
    const { openSync, closeSync } = await import('node:fs');
    expect(constants().CLONE_NEWNET).toBe(0x40000000);
    const fd = openSync('/dev/null', 'r');
    try {
      expect(thrown(() => native.setns(fd, constants().CLONE_NEWNET))).toMatchObject({ code: 'EINVAL', syscall: 'setns' });
    } finally {
      closeSync(fd);
    }
    const e = thrown(() => native.setns(-1, constants().CLONE_NEWNET));
    expect(isNativeError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'EBADF', syscall: 'setns' });
  });
  it('ifNameToIndex: lo has an index, an unknown name is ENODEV / ENXIO', () => {
    expect(native.ifNameToIndex('lo')).toBeGreaterThan(0);
    const e = thrown(() => native.ifNameToIndex('nope0'));
    expect(['ENODEV', 'ENXIO']).toContain(e.code);
    expect(e.errno).toBe(e.code === 'ENODEV' ? -19 : -6);
    expect(e.syscall).toBe('if_nametoindex');
    expect(thrown(() => native.ifNameToIndex('x'.repeat(40))).code).toBe('ENODEV');
  });

  it('rejects wrong argument types with a TypeError', () => {
    const n = native as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => n.bind!(0, 'not a buffer')).toThrow(TypeError);
    expect(() => n.socket!('x', 1, 0)).toThrow(TypeError);
    expect(() => n.poll!(0, 'not a function')).toThrow(TypeError);
    expect(() => n.sendmsg!(0, Buffer.alloc(1), 5, null, 0)).toThrow(TypeError);
  });

  it('socket / setsockopt / getsockoptInt / recvmsg (EAGAIN → null) / close on a UDP socket', () => {
    const c = constants();
    const fd = native.socket(c.AF_INET, c.SOCK_DGRAM, 0);
    try {
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_TTL, 77);
      expect(native.getsockoptInt(fd, c.IPPROTO_IP, c.IP_TTL)).toBe(77);
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_MULTICAST_TTL, Buffer.from([200, 0, 0, 0]));
      expect(native.getsockoptInt(fd, c.IPPROTO_IP, c.IP_MULTICAST_TTL)).toBe(200);
      native.bind(fd, sockaddrIn('127.0.0.1', 0));
      expect(native.recvmsg(fd, 100, 100, 0)).toBeNull();
    } finally {
      native.close(fd);
    }
  });

  it('poll calls back when readable, recvmsg returns data/addr/control/flags, stop is idempotent', async () => {
    const c = constants();
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    const fd = native.socket(c.AF_INET, c.SOCK_DGRAM, 0);
    native.setsockopt(fd, c.IPPROTO_IP, c.IP_RECVTTL, 1);
    native.setsockopt(fd, c.IPPROTO_IP, c.IP_PKTINFO, 1);
    native.bind(fd, sockaddrIn('127.0.0.1', 0));
    // The peer learns our port from our first datagram and answers: 5 bytes, the 6th does not fit.
    peer.on('message', (_m, rinfo) => peer.send(Buffer.from('hello!'), rinfo.port, rinfo.address));
    let ticks = 0;
    const interval = setInterval(() => { ticks += 1; }, 5);
    const got = await new Promise<{ data: string; from: unknown; ttl: number | null; pkt: unknown; trunc: boolean }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram in 5 s')), 5000);
      const handle = native.poll(fd, (err) => {
        if (err) return reject(err);
        const r = native.recvmsg(fd, 5, 256, 0);
        if (r === null) return;
        clearTimeout(timer);
        handle.stop();
        handle.stop();
        const cm = parseCmsgs(r.control);
        resolve({ data: r.data.toString(), from: parseSockaddrInet(r.addr), ttl: cmsgIpTtl(cm), pkt: cmsgIpPktinfo(cm),
          trunc: (r.flags & c.MSG_TRUNC) !== 0 });
      });
      // Send once the event loop has ticked a few times with the poll armed: the poll never blocks the loop.
      const ticked = setInterval(() => {
        if (ticks <= 3) return;
        clearInterval(ticked);
        expect(native.sendmsg(fd, Buffer.from('hi'), sockaddrIn('127.0.0.1', peer.address().port), null, 0)).toBe(2);
      }, 5);
    });
    clearInterval(interval);
    native.close(fd);
    peer.close();
    expect(got).toMatchObject({ data: 'hello', ttl: 64, trunc: true,
      from: { family: 4, address: '127.0.0.1', port: expect.any(Number) },
      pkt: { ifindex: native.ifNameToIndex('lo'), addr: '127.0.0.1' } });
    expect(ticks).toBeGreaterThan(3);
  });

  it('an exception thrown in the poll callback is an uncaught exception, not a crash; GC of handles is safe', () => {
    const addon = join(import.meta.dirname, '..', '..', 'build', 'Release', 'vrrpd_native.node');
    const script = `
      const n = require(${JSON.stringify(addon)});
      const c = n.constants;
      const sa = (port) => Buffer.from([2, 0, port >> 8, port & 255, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
      let fd, h;
      function gcLoop() {
        for (let i = 0; i < 50; i++) { const f = n.socket(c.AF_INET, c.SOCK_DGRAM, 0); n.poll(f, () => {}).stop(); n.close(f); }
        globalThis.gc();
        setTimeout(() => { globalThis.gc(); console.log('alive'); }, 20);
      }
      const peer = require('node:dgram').createSocket('udp4');
      process.on('uncaughtException', (e) => { console.log('caught:' + e.message); h.stop(); n.close(fd); peer.close(); gcLoop(); });
      peer.on('message', (m, r) => peer.send(m, r.port, r.address));
      peer.bind(0, '127.0.0.1', () => {
        fd = n.socket(c.AF_INET, c.SOCK_DGRAM, 0);
        n.bind(fd, sa(0));
        h = n.poll(fd, () => { throw new Error('boom'); });
        n.sendmsg(fd, Buffer.from('x'), sa(peer.address().port), null, 0);
      });
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('caught:boom\nalive\n');
    expect(r.status).toBe(0);
  });
});

describe('sockaddr layouts', () => {
  it('sockaddr_in: family, port big-endian, address, 8 zero bytes', () => {
    const b = sockaddrIn('172.16.99.1', 0x1234);
    expect(hex(b)).toBe(h16(2) + '1234' + 'ac106301' + '00'.repeat(8));
    expect(parseSockaddrInet(b)).toEqual({ family: 4, address: '172.16.99.1', port: 0x1234, scopeId: 0 });
  });

  it('sockaddr_in6: family, port, flowinfo, address, scope id in host order', () => {
    const b = sockaddrIn6('fe80::a', 7, 0x0102, 0x0a0b0c0d);
    expect(b.length).toBe(28);
    expect(hex(b)).toBe(h16(10) + '0102' + '0a0b0c0d' + 'fe80' + '00'.repeat(13) + '0a' + h32(7));
    expect(parseSockaddrInet(b)).toEqual({ family: 6, address: 'fe80::a', port: 0x0102, scopeId: 7 });
    expect(hex(sockaddrIn6(new Uint8Array(16).fill(1)))).toBe(h16(10) + '0000' + '00000000' + '01'.repeat(16) + h32(0));
  });

  it('sockaddr_ll: family, protocol network order, ifindex, hatype, pkttype, halen, addr[8]', () => {
    const mac = Uint8Array.from([2, 0, 0, 0x99, 0, 0x0a]);
    const b = sockaddrLl({ ifindex: 3, protocol: 0x0806, addr: mac });
    expect(hex(b)).toBe(h16(17) + '0806' + h32(3) + h16(0) + '00' + '06' + '02000099000a' + '0000');
    expect(parseSockaddrLl(b)).toEqual({ protocol: 0x0806, ifindex: 3, hatype: 0, pkttype: 0, addr: mac });
    expect(() => sockaddrLl({ ifindex: 1, protocol: 0, addr: new Uint8Array(9) })).toThrow(RangeError);
    expect(parseSockaddrLl(Buffer.alloc(4))).toBeNull();
  });

  it('sockaddr_nl: family, pad, pid, groups', () => {
    const b = sockaddrNl(1234, 0x11);
    expect(hex(b)).toBe(h16(16) + '0000' + h32(1234) + h32(0x11));
    expect(parseSockaddrNl(b)).toEqual({ pid: 1234, groups: 0x11 });
    expect(parseSockaddrNl(sockaddrIn('1.2.3.4'))).toBeNull();
  });

  it('ip_mreqn, ipv6_mreq, in6_pktinfo', () => {
    expect(hex(ipMreqn('224.0.0.18', 4))).toBe('e0000012' + '00000000' + h32(4));
    expect(hex(ipMreqn('224.0.0.18', 4, '10.0.0.1'))).toBe('e0000012' + '0a000001' + h32(4));
    expect(hex(ipv6Mreq('ff02::12', 5))).toBe('ff02' + '00'.repeat(13) + '12' + h32(5));
    expect(hex(in6Pktinfo('fe80::1', 6))).toBe('fe80' + '00'.repeat(13) + '01' + h32(6));
    expect(() => ipv6Mreq('224.0.0.18', 1)).toThrow(RangeError);
    expect(() => ipMreqn('ff02::12', 1)).toThrow(RangeError);
  });

  it('parseSockaddrInet never throws on short or foreign input', () => {
    expect(parseSockaddrInet(new Uint8Array(0))).toBeNull();
    expect(parseSockaddrInet(sockaddrIn6('::1').subarray(0, 20))).toBeNull();
    expect(parseSockaddrInet(sockaddrNl())).toBeNull();
  });
});

describe('cmsg', () => {
  it('CMSG_ALIGN / CMSG_LEN / CMSG_SPACE for 8- and 4-byte size_t', () => {
    expect([cmsgAlign(20, 8), cmsgLen(20, 8), cmsgSpace(20, 8), cmsgSpace(4, 8)]).toEqual([24, 36, 40, 24]);
    expect([cmsgAlign(20, 4), cmsgLen(20, 4), cmsgSpace(20, 4), cmsgSpace(1, 4)]).toEqual([20, 32, 32, 16]);
  });

  it('builds in6_pktinfo as a cmsg: cmsg_len, level, type, data, padding', () => {
    const c = constants();
    const b = in6PktinfoCmsg('fe80::a', 9);
    const width = c.sizeof_size_t;
    expect(b.length).toBe(cmsgSpace(20));
    const lenHex = width === 8 ? h64(cmsgLen(20)) : h32(cmsgLen(20));
    expect(hex(b)).toBe(lenHex + h32(c.IPPROTO_IPV6) + h32(c.IPV6_PKTINFO) + hex(in6Pktinfo('fe80::a', 9)) +
      '00'.repeat(cmsgSpace(20) - cmsgLen(20)));
  });

  it('round-trips several messages and reads the helpers', () => {
    const c = constants();
    const int = (v: number) => Buffer.from(h32(v), 'hex');
    const inPktinfo = Buffer.concat([int(3), Buffer.from([10, 0, 0, 1]), Buffer.from([224, 0, 0, 18])]);
    const msgs = [
      { level: c.IPPROTO_IP, type: c.IP_TTL, data: int(255) },
      { level: c.IPPROTO_IP, type: c.IP_PKTINFO, data: inPktinfo },
      { level: c.IPPROTO_IPV6, type: c.IPV6_HOPLIMIT, data: int(254) },
      { level: c.IPPROTO_IPV6, type: c.IPV6_PKTINFO, data: in6Pktinfo('ff02::12', 4) },
    ];
    const parsed = parseCmsgs(buildCmsgs(msgs));
    expect(parsed.map((m) => ({ ...m, data: hex(m.data) }))).toEqual(msgs.map((m) => ({ ...m, data: hex(m.data) })));
    expect(cmsgIpTtl(parsed)).toBe(255);
    expect(cmsgIpPktinfo(parsed)).toEqual({ ifindex: 3, specDst: '10.0.0.1', addr: '224.0.0.18' });
    expect(cmsgIpv6HopLimit(parsed)).toBe(254);
    expect(cmsgIpv6Pktinfo(parsed)).toEqual({ addr: 'ff02::12', ifindex: 4 });
  });

  it('parses with a 4-byte size_t layout too', () => {
    const msgs = [{ level: 41, type: 52, data: Buffer.from([1, 0, 0, 0]) }, { level: 0, type: 2, data: Buffer.from([9]) }];
    const b = buildCmsgs(msgs, 4);
    expect(b.length).toBe(16 + 16);
    expect(parseCmsgs(b, 4).map((m) => [m.level, m.type, hex(m.data)])).toEqual([[41, 52, '01000000'], [0, 2, '09']]);
  });

  it('a bad or short control buffer never throws: it yields what is whole, and helpers give null', () => {
    const c = constants();
    const good = in6PktinfoCmsg('fe80::1', 2);
    expect(parseCmsgs(good.subarray(0, 10))).toEqual([]);
    expect(parseCmsgs(good.subarray(0, cmsgLen(20) - 1))).toEqual([]);
    const bogusLen = Buffer.from(good);
    bogusLen.fill(0, 0, c.sizeof_size_t); // cmsg_len 0
    expect(parseCmsgs(bogusLen)).toEqual([]);
    const huge = Buffer.from(good);
    huge.fill(0xff, 0, c.sizeof_size_t);
    expect(parseCmsgs(huge)).toEqual([]);
    const short = buildCmsgs([{ level: c.IPPROTO_IPV6, type: c.IPV6_HOPLIMIT, data: Buffer.from([1, 2]) },
      { level: c.IPPROTO_IPV6, type: c.IPV6_PKTINFO, data: Buffer.alloc(8) }]);
    const parsed = parseCmsgs(short);
    expect(parsed).toHaveLength(2);
    expect(cmsgIpv6HopLimit(parsed)).toBeNull();
    expect(cmsgIpv6Pktinfo(parsed)).toBeNull();
    expect(cmsgIpTtl([])).toBeNull();
  });
});
