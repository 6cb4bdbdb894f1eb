// NetlinkSocket against a scripted fake kernel (sequence matching, dumps, timeouts, overrun), and rtnetlink for real in a test netns (root).
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkSocket, NetlinkError, type NetlinkSys } from '../../src/net/netlink.js';
import {
  decodeNlmsgs, encodeAttrs, encodeNlmsg, nlaStr, type NlMsg, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_ACK_TLVS,
  NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST,
} from '../../src/net/nlmsg.js';
import { sockaddrNl } from '../../src/net/sockaddr.js';
import { IFA_F_NODAD, IFA_F_TENTATIVE, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK } from '../../src/net/rtnetlink.js';

const i32 = (n: number) => new Uint8Array(new Int32Array([n]).buffer);
const hdr = (m: NlMsg) => encodeNlmsg({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid }).subarray(0, 16);

/** A scripted kernel: records what is sent, delivers what the test queues. */
class FakeKernel implements NetlinkSys {
  sent: NlMsg[] = [];
  opts: [number, number, number | Uint8Array][] = [];
  closed = false;
  private rx: ({ data: Uint8Array; addr: Uint8Array; flags: number } | Error)[] = [];
  private cb: ((e: Error | null) => void) | null = null;
  polls = 0;
  socket(): number { return 99; }
  bind(): void {}
  setsockopt(_fd: number, level: number, name: number, value: number | Uint8Array): void { this.opts.push([level, name, value]); }
  sendmsg(_fd: number, data: Uint8Array): number {
    this.sent.push(...decodeNlmsgs(Uint8Array.from(data)).messages);
    return data.length;
  }
  recvmsg(): { data: Uint8Array; addr: Uint8Array; control: Uint8Array; flags: number } | null {
    const r = this.rx.shift();
    if (r instanceof Error) throw r;
    return r ? { ...r, control: new Uint8Array(0) } : null;
  }
  poll(_fd: number, cb: (e: Error | null) => void): { stop(): void } {
    this.cb = cb;
    this.polls += 1;
    return { stop: () => { if (this.cb === cb) this.cb = null; } };
  }
  close(): void { this.closed = true; }
  get polling(): boolean { return this.cb !== null; }
  deliver(parts: Uint8Array[], o: { groups?: number; flags?: number } = {}): void {
    this.rx.push({ data: Uint8Array.from(parts.flatMap((p) => [...p])), addr: sockaddrNl(0, o.groups ?? 0), flags: o.flags ?? 0 });
    this.cb?.(null);
  }
  throwOnRecv(e: Error, pollError: Error | null = null): void {
    this.rx.push(e);
    this.cb?.(pollError);
  }
  ack(m: NlMsg, error = 0, msg?: string): Uint8Array {
    return encodeNlmsg({ type: NLMSG_ERROR, flags: NLM_F_CAPPED | (msg ? NLM_F_ACK_TLVS : 0), seq: m.seq, pid: 0 },
      i32(error), hdr(m), ...(msg ? [encodeAttrs([nlaStr(1, msg)])] : []));
  }
  done(m: NlMsg, flags = NLM_F_MULTI, error = 0): Uint8Array {
    return encodeNlmsg({ type: NLMSG_DONE, flags, seq: m.seq, pid: 0 }, i32(error));
  }
  data(m: NlMsg, type: number, flags: number, byte: number): Uint8Array {
    return encodeNlmsg({ type, flags, seq: m.seq, pid: 0 }, Uint8Array.of(byte, 0, 0, 0));
  }
}

async function openFake(o: Parameters<typeof NetlinkSocket.open>[2] = {}): Promise<{ k: FakeKernel; s: NetlinkSocket }> {
  const k = new FakeKernel();
  const s = await NetlinkSocket.open(0, [1, 5], { typeName: (t) => `T${t}`, ...o, sys: k });
  return { k, s };
}
const tick = () => new Promise((r) => setImmediate(r));
const firstByte = (ms: NlMsg[]) => ms.map((m) => m.payload[0]);

describe('NetlinkSocket on a fake kernel', () => {
  it('sets a big receive buffer, extended and capped acks, and joins the groups', async () => {
    const { k, s } = await openFake({ rcvbuf: 2 << 20 });
    expect(k.opts).toEqual(expect.arrayContaining([[1, 33, 2 << 20], [270, 11, 1], [270, 10, 1], [270, 1, 1], [270, 1, 5]]));
    s.close();
  });

  it('pipelines requests and matches replies by sequence number, in any order', async () => {
    const { k, s } = await openFake();
    const ps = [1, 2, 3].map((i) => s.request(RTM_NEWADDR, NLM_F_REQUEST, Uint8Array.of(i, 0, 0, 0)));
    const get = s.request(RTM_GETLINK, 0);
    expect(k.sent).toHaveLength(4); // all on the wire before any reply
    expect(new Set(k.sent.map((m) => m.seq)).size).toBe(4);
    expect(k.sent.every((m) => (m.flags & (NLM_F_REQUEST | NLM_F_ACK)) === (NLM_F_REQUEST | NLM_F_ACK))).toBe(true);
    const [a, b, c, g] = k.sent as [NlMsg, NlMsg, NlMsg, NlMsg];
    k.deliver([k.ack(c), k.ack(a)]);
    k.deliver([k.data(g, RTM_NEWLINK, 0, 7), k.ack(g)]);
    k.deliver([k.ack(b)]);
    expect(await Promise.all(ps)).toEqual([[], [], []]);
    expect(firstByte(await get)).toEqual([7]);
    s.close();
  });

  it('turns an error ack into a Node-style error with errno, code, syscall and the ext ack message', async () => {
    const { k, s } = await openFake();
    const p = s.request(RTM_NEWADDR, 0);
    k.deliver([k.ack(k.sent[0]!, -17, 'ipv4: Address already assigned')]);
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ errno: -17, code: 'EEXIST', syscall: 'netlink', op: 'T20', extAck: { msg: 'ipv4: Address already assigned' } });
    expect((e as Error).message).toBe('netlink T20 EEXIST: ipv4: Address already assigned');
    s.close();
  });

  it('collects a multi-part dump across datagrams, and runs dumps one at a time in order', async () => {
    const { k, s } = await openFake();
    const d1 = s.request(RTM_GETLINK, NLM_F_DUMP);
    const d2 = s.request(RTM_GETLINK, NLM_F_DUMP);
    const add = s.request(RTM_NEWADDR, 0);
    expect(k.sent).toHaveLength(1); // d2 waits for d1 (the kernel runs one dump per socket), add waits behind d2
    const m1 = k.sent[0]!;
    expect(m1.flags & NLM_F_ACK).toBe(0);
    k.deliver([k.data(m1, RTM_NEWLINK, NLM_F_MULTI, 1), k.data(m1, RTM_NEWLINK, NLM_F_MULTI, 2)]);
    k.deliver([k.data(m1, RTM_NEWLINK, NLM_F_MULTI, 3), k.done(m1)]);
    expect(firstByte(await d1)).toEqual([1, 2, 3]);
    await tick();
    expect(k.sent).toHaveLength(3);
    const [, m2, m3] = k.sent as [NlMsg, NlMsg, NlMsg];
    k.deliver([k.ack(m3), k.done(m2, NLM_F_MULTI, -16)]);
    await expect(add).resolves.toEqual([]);
    await expect(d2).rejects.toMatchObject({ code: 'EBUSY' });
    s.close();
  });

  it('dumps again when the kernel marks one NLM_F_DUMP_INTR, and gives up with EINTR', async () => {
    const { k, s } = await openFake();
    const d = s.request(RTM_GETLINK, NLM_F_DUMP);
    const intr = NLM_F_MULTI | NLM_F_DUMP_INTR;
    k.deliver([k.data(k.sent[0]!, RTM_NEWLINK, intr, 1), k.done(k.sent[0]!, intr)]);
    await tick();
    expect(k.sent).toHaveLength(2);
    k.deliver([k.data(k.sent[1]!, RTM_NEWLINK, NLM_F_MULTI, 9), k.done(k.sent[1]!)]);
    expect(firstByte(await d)).toEqual([9]);
    const bad = s.request(RTM_GETLINK, NLM_F_DUMP);
    for (let i = 0; i < 4; i++) {
      await tick();
      k.deliver([k.done(k.sent.at(-1)!, intr)]);
    }
    await expect(bad).rejects.toMatchObject({ code: 'EINTR' });
    s.close();
  });

  it('rejects with ETIMEDOUT when no reply comes, and ignores a late one', async () => {
    const { k, s } = await openFake({ timeoutMs: 30 });
    const t0 = performance.now();
    await expect(s.request(RTM_NEWADDR, 0)).rejects.toMatchObject({ code: 'ETIMEDOUT', errno: -110, syscall: 'netlink' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    k.deliver([k.ack(k.sent[0]!)]); // no effect
    const p = s.request(RTM_NEWADDR, 0, undefined, { timeoutMs: 1000 });
    k.deliver([k.ack(k.sent[1]!)]);
    await expect(p).resolves.toEqual([]);
    s.close();
  });

  it('fails only the request whose reply was truncated (MSG_TRUNC) with EMSGSIZE', async () => {
    const { k, s } = await openFake();
    const a = s.request(RTM_GETLINK, NLM_F_DUMP);
    const b = s.request(RTM_NEWADDR, 0);
    const big = encodeNlmsg({ type: RTM_NEWLINK, flags: NLM_F_MULTI, seq: k.sent[0]!.seq, pid: 0 }, new Uint8Array(200));
    k.deliver([big.subarray(0, 100)], { flags: 0x20 });
    k.deliver([k.ack(k.sent[1]!)]);
    await expect(a).rejects.toMatchObject({ code: 'EMSGSIZE' });
    await expect(b).resolves.toEqual([]);
    s.close();
  });

  it('routes multicast messages to onEvent (even with a request seq), and reports overruns', async () => {
    const { k, s } = await openFake();
    const events: number[] = [];
    let overruns = 0;
    const off = s.onEvent((m) => events.push(m.payload[0]!));
    s.on('overrun', () => { overruns += 1; });
    const p = s.request(RTM_NEWADDR, 0);
    const req = k.sent[0]!;
    k.deliver([k.data(req, RTM_NEWADDR, 0, 4)], { groups: 1 << 4 }); // our own change, notified with our seq
    k.deliver([k.ack(req)]);
    await expect(p).resolves.toEqual([]);
    k.deliver([encodeNlmsg({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0 }, Uint8Array.of(5))], { groups: 1 });
    const pending = s.request(RTM_NEWADDR, 0);
    k.throwOnRecv(Object.assign(new Error('recvmsg ENOBUFS'), { errno: -105, code: 'ENOBUFS', syscall: 'recvmsg' }));
    await expect(pending).rejects.toMatchObject({ code: 'ENOBUFS' }); // its ack may be the one lost
    k.deliver([encodeNlmsg({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0 }, new Uint8Array(100)).subarray(0, 50)], { groups: 1, flags: 0x20 });
    expect(events).toEqual([4, 5]);
    expect(overruns).toBe(2);
    off();
    k.deliver([encodeNlmsg({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0 }, Uint8Array.of(6))], { groups: 1 });
    expect(events).toEqual([4, 5]);
    s.close();
  });

  it('re-arms the poll after libuv stops it on POLLERR (EBADF), reading the real error first', async () => {
    const { k, s } = await openFake();
    let overruns = 0;
    const errors: Error[] = [];
    s.on('overrun', () => { overruns += 1; });
    s.on('error', (e) => errors.push(e));
    const enobufs = Object.assign(new Error('recvmsg ENOBUFS'), { errno: -105, code: 'ENOBUFS' });
    k.throwOnRecv(enobufs, Object.assign(new Error('poll EBADF'), { errno: -9, code: 'EBADF' }));
    expect([overruns, k.polls, k.polling, errors.length]).toEqual([1, 2, true, 0]);
    // A broken fd: the error surfaces and polling is not re-armed.
    const ebadf = Object.assign(new Error('recvmsg EBADF'), { errno: -9, code: 'EBADF' });
    k.throwOnRecv(ebadf, Object.assign(new Error('poll EBADF'), { errno: -9, code: 'EBADF' }));
    expect([k.polls, errors]).toEqual([2, [ebadf]]);
    s.close();
  });

  it('keeps at most maxInFlight requests on the wire and sends the rest as replies arrive', async () => {
    const { k, s } = await openFake({ maxInFlight: 2 });
    const ps = Array.from({ length: 5 }, () => s.request(RTM_NEWADDR, 0));
    expect(k.sent).toHaveLength(2);
    for (let i = 0; i < 5; i++) {
      k.deliver([k.ack(k.sent[i]!)]);
      await tick();
    }
    expect(k.sent).toHaveLength(5);
    await expect(Promise.all(ps)).resolves.toHaveLength(5);
    s.close();
  });

  it('close() rejects outstanding and queued requests with ECANCELED, stops polling and closes the fd', async () => {
    const { k, s } = await openFake({ maxInFlight: 1 });
    const ps = [s.request(RTM_NEWADDR, 0), s.request(RTM_NEWADDR, 0)];
    s.close();
    s.close();
    for (const p of ps) await expect(p).rejects.toMatchObject({ code: 'ECANCELED' });
    await expect(s.request(RTM_NEWADDR, 0)).rejects.toMatchObject({ code: 'ECANCELED' });
    expect(k.closed && !k.polling).toBe(true);
  });
});

// ---- The real kernel, inside a network namespace of our own. Never touches the root namespace's links or addresses.

const NS = `vrrpd-rtnl-${process.pid}`;
const IF = 'vt0';
const ip = (...args: string[]) => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('rtnetlink in a test network namespace (root)', () => {
  let child: ChildProcessWithoutNullStreams | null = null;
  const seen = new Map<string, Record<string, unknown>>();
  const waiters = new Set<() => void>();
  let exitCode: number | null = null;
  let stderr = '';

  /** The child's JSON line for a step; bounded wait. */
  async function step(name: string, ms = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const got = seen.get(name);
      if (got) return got;
      const fatal = seen.get('fatal');
      if (fatal) throw new Error(`child failed: ${String(fatal.error)}`);
      if (exitCode !== null) throw new Error(`child exited ${exitCode} before "${name}": ${stderr}`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for child step "${name}": ${stderr}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 250);
        waiters.add(() => { clearTimeout(t); res(); });
      });
    }
  }

  function cleanup(): void {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already gone
    }
  }

  beforeAll(() => {
    try {
      try {
        execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe', timeout: 120_000 });
      } catch {
        // type errors elsewhere still emit dist/; the file check below decides
      }
      expect(existsSync('dist/net/rtnetlink.js')).toBe(true);
      execFileSync('ip', ['netns', 'add', NS], { timeout: 10_000 });
      try {
        ip('link', 'add', IF, 'type', 'dummy');
      } catch {
        ip('link', 'add', IF, 'type', 'veth', 'peer', 'name', 'vt1'); // kernels without the dummy module
        ip('link', 'set', 'vt1', 'up');
      }
      ip('link', 'set', IF, 'up');
      child = spawn('ip', ['netns', 'exec', NS, process.execPath, 'test/net/fixtures/rtnl-child.mjs', IF]);
      createInterface({ input: child.stdout }).on('line', (l) => {
        try {
          const o = JSON.parse(l) as Record<string, unknown>;
          seen.set(String(o.step), o);
        } catch {
          seen.set('fatal', { error: `bad line: ${l}` });
        }
        for (const w of waiters) w();
        waiters.clear();
      });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (code) => { exitCode = code ?? -1; });
    } catch (e) {
      cleanup();
      throw e;
    }
  });

  afterAll(() => {
    cleanup();
    expect(() => execFileSync('ip', ['netns', 'exec', NS, 'true'], { stdio: 'ignore' })).toThrow(); // the namespace is gone
  });

  it('lists links with index, flags, operstate, MAC and MTU', async () => {
    const r = await step('links');
    const index = Number(/^(\d+):/.exec(ip('-o', 'link', 'show', IF))?.[1]);
    expect(r.names).toEqual(expect.arrayContaining(['lo', IF]));
    expect(r.link).toMatchObject({ index, name: IF, up: true, running: true, mtu: 1500 });
    expect((r.link as { mac: string }).mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(ip('-o', 'link', 'show', IF)).toContain((r.link as { mac: string }).mac);
  });

  it('adds a labelled IPv4 VIP, seen by ip and by getAddresses', async () => {
    const r = await step('added4');
    expect(r.addr).toMatchObject({ family: 4, address: '192.168.77.250', prefixLen: 32, label: `${IF}:vip`, scope: 0 });
    const out = ip('-o', 'addr', 'show', 'dev', IF);
    expect(out).toMatch(new RegExp(`inet 192\\.168\\.77\\.250/32 .*${IF}:vip`));
    child!.stdin.write('checked4\n');
  });

  it('refuses a duplicate with EEXIST, and a label not starting with the interface name', async () => {
    expect((await step('dup')).error).toMatchObject({ code: 'EEXIST', errno: -17, syscall: 'netlink' });
    expect((await step('dup')).error).toMatchObject({ message: expect.stringMatching(/RTM_NEWADDR EEXIST/) });
    expect((await step('badlabel')).error).toMatchObject({ code: 'EINVAL', syscall: 'netlink' });
    expect(ip('-o', 'addr', 'show', 'dev', IF)).not.toContain('192.168.77.251');
  });

  it('deletes the VIP; deleting it again is EADDRNOTAVAIL', async () => {
    const r = await step('deleted4');
    expect(r.remaining).toEqual([]);
    expect(r.delAgain).toMatchObject({ code: 'EADDRNOTAVAIL' });
    expect(ip('-o', 'addr', 'show', 'dev', IF)).not.toContain('192.168.77.250');
  });

  it('adds an IPv6 VIP without DAD (not tentative), then removes it', async () => {
    const r = await step('v6');
    const addr = r.addr as { flags: number; address: string };
    expect(addr.address).toBe('fd00:77::250');
    expect(addr.flags & IFA_F_NODAD).toBe(IFA_F_NODAD);
    expect(addr.flags & IFA_F_TENTATIVE).toBe(0);
    expect(r.gone6).toBe(true);
  });

  it('pipelines 200 adds with dumps in flight, then 200 deletes', async () => {
    expect(await step('pipeline')).toMatchObject({ added: 200, listed: 200, deleted: 200, left: 0, dumpsOk: true });
  });

  it('sees link down/up and address add/del events', async () => {
    await step('watching');
    ip('link', 'set', IF, 'down');
    ip('link', 'set', IF, 'up');
    ip('addr', 'add', '10.99.0.1/24', 'dev', IF);
    ip('addr', 'del', '10.99.0.1/24', 'dev', IF);
    expect((await step('watched')).seen).toEqual({ down: true, up: true, addrAdd: true, addrDel: true });
  });

  it('reports an overrun when the event socket overflows, and keeps watching', async () => {
    const r = await step('overrun');
    expect(r.overruns as number).toBeGreaterThanOrEqual(1);
    expect(r.alive).toBe(true);
    await step('end');
    expect(ip('-o', 'addr', 'show', 'dev', IF)).not.toMatch(/10\.(66|77|88|99)\./);
  });
});
