// Generic netlink resolution and the IPVS client against a fake kernel: IPVS unavailable, pipelining, read-back, named errors.
import { describe, expect, it } from 'vitest';
import { encodeAttrs, nlaNest, nlaStr, nlaU16, nlaU32, HOST_LE } from '../../src/net/nlmsg.js';
import { NetlinkError } from '../../src/net/netlink.js';
import { decodeGenl, encodeGenl, getFamilyPayload, GenlFamilyNotFoundError, IpvsUnavailableError, parseFamily } from '../../src/ipvs/genl.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import type { DestSpec, ServiceSpec } from '../../src/ipvs/codec.js';
import { FakeIpvsKernel, FAMILY_ID } from './fake-ipvs.js';
import { IPVSADM, bytes, hex } from './fixtures.js';

const open = async (k = new FakeIpvsKernel()) => ({ k, c: await IpvsClient.open({ sys: k }) });
const fwm100: ServiceSpec = { family: 4, fwmark: 100, scheduler: 'wlc', flags: 1, timeout: 3600, netmask: 32 };
const rs = (address: string, weight = 50): DestSpec => ({ address, family: 4, port: 0, forwarding: 'dr', weight, upperThreshold: 0, lowerThreshold: 0 });

describe('generic netlink (linux/genetlink.h)', () => {
  it('genlmsghdr is cmd, version, 2 reserved bytes', () => {
    expect(hex(encodeGenl(3, 1, Uint8Array.of(9)))).toBe('0301000009');
    expect(decodeGenl(Uint8Array.of(1, 1, 0, 0, 7))).toMatchObject({ cmd: 1, version: 1, reserved: 0, attrs: Uint8Array.of(7) });
    expect(decodeGenl(Uint8Array.of(1, 1))).toBeNull();
  });

  it.skipIf(!HOST_LE)('CTRL_CMD_GETFAMILY "IPVS" is what ipvsadm (libnl genl_ctrl_resolve) sends', () => {
    expect(hex(getFamilyPayload('IPVS'))).toBe(hex(bytes(IPVSADM.getFamily)));
  });

  it('parses CTRL_CMD_NEWFAMILY: id, version, maxattr, multicast groups', () => {
    const attrs = encodeAttrs([nlaU16(1, 0x20), nlaStr(2, 'IPVS'), nlaU32(3, 1), nlaU32(5, 6),
      nlaNest(7, [nlaNest(1, [nlaStr(1, 'evt'), nlaU32(2, 5)])])]);
    const p = encodeGenl(1, 2, attrs);
    const f = parseFamily(p);
    expect(f.ok && { ...f.value, mcastGroups: [...f.value.mcastGroups] }).toEqual({ id: 0x20, name: 'IPVS', version: 1, hdrSize: 0, maxAttr: 6, mcastGroups: [['evt', 5]] });
    expect(parseFamily(Uint8Array.of(1, 2, 0, 0)).ok).toBe(false);
  });

  it('IPVS absent (CTRL_CMD_GETFAMILY answers ENOENT): IpvsUnavailableError with errno/code, and the socket is closed', async () => {
    const k = new FakeIpvsKernel();
    k.ipvs = false;
    const e = await IpvsClient.open({ sys: k }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IpvsUnavailableError);
    expect(e).toBeInstanceOf(GenlFamilyNotFoundError);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ name: 'IpvsUnavailableError', errno: -2, code: 'ENOENT', syscall: 'netlink', family: 'IPVS' });
    expect((e as Error).message).toMatch(/IPVS unavailable.*modprobe ip_vs/);
    expect(k.closed).toBe(true);
  });
});

describe('IpvsClient on a fake kernel', () => {
  it('resolves the family and reads IPVS_CMD_GET_INFO', async () => {
    const { c } = await open();
    expect(c.family).toMatchObject({ id: FAMILY_ID, name: 'IPVS', version: 1, maxAttr: 6 });
    expect(await c.getInfo()).toEqual({ versionCode: 0x010201, version: '1.2.1', connTableSize: 4096 });
    c.close();
  });

  it('pipelines writes: 300 requests go out before the first reply (core window 256), all acknowledged', async () => {
    const { k, c } = await open();
    await c.addService(fwm100);
    const ps = Array.from({ length: 300 }, (_, i) => c.addDest(fwm100, rs(`10.0.${i >> 8}.${i & 255}`)));
    await Promise.all(ps);
    expect(k.maxUnanswered).toBe(256);
    const [svc] = await c.listServices();
    expect(svc!.dests).toHaveLength(300);
    c.close();
  });

  it('lists services with stats and destinations with connection counts; getService by identity', async () => {
    const { k, c } = await open();
    await Promise.all([c.addService(fwm100), c.addDest(fwm100, rs('192.168.1.10')), c.addDest(fwm100, rs('192.168.1.20'))]);
    k.addForeign('tcp', '10.9.9.9', 80);
    const list = await c.listServices();
    expect(list.map((s) => ('fwmark' in s ? `fwm ${s.fwmark}` : `${s.protocol} ${s.address}:${s.port}`)).sort()).toEqual(['fwm 100', 'tcp 10.9.9.9:80']);
    const fwm = list.find((s) => 'fwmark' in s)!;
    expect(fwm).toMatchObject({ ...fwm100, stats: { conns: 7, inPkts: 70, inBytes: 7000 } });
    expect(fwm.dests.map((d) => [d.address, d.weight, d.forwarding, d.activeConns, d.stats.conns])).toEqual([
      ['192.168.1.10', 50, 'dr', 0, 3], ['192.168.1.20', 50, 'dr', 0, 3]]);
    expect((await c.getService(fwm100))?.dests).toHaveLength(2);
    expect(await c.getService({ family: 4, fwmark: 7 })).toBeNull();
    expect((await c.listServices({ dests: false })).every((s) => s.dests.length === 0)).toBe(true);
    c.close();
  });

  it('edits and deletes services and destinations', async () => {
    const { c } = await open();
    await c.addService(fwm100);
    await c.addDest(fwm100, rs('192.168.1.10'));
    await c.editService({ ...fwm100, scheduler: 'rr', flags: 0, timeout: 0, netmask: 24 });
    await c.editDest(fwm100, { ...rs('192.168.1.10', 5), forwarding: 'tun', upperThreshold: 9, lowerThreshold: 3 });
    let [s] = await c.listServices();
    expect(s).toMatchObject({ scheduler: 'rr', flags: 0, timeout: 0, netmask: 24 });
    expect(s!.dests[0]).toMatchObject({ weight: 5, forwarding: 'tun', upperThreshold: 9, lowerThreshold: 3 });
    await c.deleteDest(fwm100, { address: '192.168.1.10', family: 4, port: 0 });
    [s] = await c.listServices();
    expect(s!.dests).toEqual([]);
    await c.deleteService(fwm100);
    expect(await c.listServices()).toEqual([]);
    c.close();
  });

  it('names the command, the target and the meaning of the errno in errors', async () => {
    const { c } = await open();
    await c.addService(fwm100);
    const err = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as NetlinkError);
    const exists = await err(c.addService(fwm100));
    expect(exists).toMatchObject({ errno: -17, code: 'EEXIST', op: 'IPVS_CMD_NEW_SERVICE' });
    expect(exists!.message).toBe('netlink IPVS_CMD_NEW_SERVICE EEXIST: fwmark 100: file already exists (the virtual service already exists)');
    expect((await err(c.addService({ ...fwm100, fwmark: 5, scheduler: 'bogus' })))!.message).toMatch(/ENOENT: fwmark 5: .*scheduler "bogus" not available \(kernel module ip_vs_bogus\)/);
    expect((await err(c.deleteService({ family: 4, fwmark: 9 })))!.message).toMatch(/IPVS_CMD_DEL_SERVICE ESRCH: fwmark 9: .*no such virtual service/);
    expect((await err(c.addDest(fwm100, { ...rs('10.0.0.1'), upperThreshold: 1, lowerThreshold: 2 })))!.message)
      .toMatch(/IPVS_CMD_NEW_DEST ERANGE: fwmark 100 -> 10\.0\.0\.1:0: .*lower threshold above upper/);
    expect((await err(c.deleteDest(fwm100, { address: '10.0.0.2', family: 4, port: 0 })))!.message).toMatch(/ENOENT.*no such real server/);
    expect((await err(c.stopDaemon('backup')))!.message).toMatch(/IPVS_CMD_DEL_DAEMON ESRCH: backup sync daemon: .*not running/);
    c.close();
  });

  it('bad input is refused before anything is sent', async () => {
    const { k, c } = await open();
    await expect(c.addService({ ...fwm100, fwmark: 0 })).rejects.toThrow(RangeError);
    await expect(c.addDest(fwm100, { ...rs('10.0.0.1'), address: 'nope' })).rejects.toThrow(/not an IPv4 address/);
    expect(k.received).toEqual([]);
    c.close();
  });

  it('starts, lists and stops sync daemons', async () => {
    const { c } = await open();
    await c.startDaemon({ state: 'master', interface: 'eth1', syncId: 100 });
    await c.startDaemon({ state: 'backup', interface: 'eth1', syncId: 100, maxLen: 1400, group: '239.1.2.3', port: 9000, ttl: 2 });
    expect(await c.listDaemons()).toEqual([
      { state: 'master', interface: 'eth1', syncId: 100, maxLen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 },
      { state: 'backup', interface: 'eth1', syncId: 100, maxLen: 1400, group: '239.1.2.3', port: 9000, ttl: 2 },
    ]);
    await expect(c.startDaemon({ state: 'master', interface: 'eth1', syncId: 1 })).rejects.toThrow(/EEXIST.*already running/);
    await expect(c.startDaemon({ state: 'master', interface: 'eth9', syncId: 1 })).rejects.toMatchObject({ code: 'EEXIST' });
    await c.stopDaemon('master');
    await expect(c.startDaemon({ state: 'master', interface: 'eth9', syncId: 1 })).rejects.toThrow(/ENODEV.*no such interface/);
    expect((await c.listDaemons()).map((d) => d.state)).toEqual(['backup']);
    c.close();
  });

  it('a stop the kernel does not acknowledge (kthread_stop -EINTR: no ack) resolves once the daemon is gone, without waiting', async () => {
    const k = new FakeIpvsKernel();
    const c = await IpvsClient.open({ sys: k, timeoutMs: 60_000 });
    await c.startDaemon({ state: 'backup', interface: 'eth1', syncId: 1 });
    k.silent = (r) => r.cmd === 10;
    const t0 = performance.now();
    await c.stopDaemon('backup');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(k.commands.slice(-2)).toEqual(['DEL_DAEMON', 'GET_DAEMON']); // the dump queued right behind the stop
    k.silent = null;
    await expect(c.stopDaemon('backup')).rejects.toMatchObject({ code: 'ESRCH' }); // a real error still comes through
    c.close();
  });

  it('zeroes counters and closes: later calls fail with ECANCELED', async () => {
    const { k, c } = await open();
    await c.addService(fwm100);
    await c.zero();
    await c.zero(fwm100);
    expect(k.writes.slice(-2)).toEqual(['ZERO', 'ZERO']);
    c.close();
    await expect(c.getInfo()).rejects.toMatchObject({ code: 'ECANCELED' });
  });
});
