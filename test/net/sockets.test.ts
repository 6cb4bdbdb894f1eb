// Real sockets in two network namespaces joined by a veth (root only): IPv6 VRRP socket and AF_PACKET sender.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const child = join(root, 'test', 'net', 'fixtures', 'net-child.mjs');
const hasIp = spawnSync('ip', ['-V'], { stdio: 'ignore' }).status === 0;
const skip = process.getuid?.() !== 0 || !hasIp;

const NS_A = `vt${process.pid}a`;
const NS_B = `vt${process.pid}b`;
const IF = 'veth0'; // the same name in both namespaces; never in the root namespace
const MAC_A = '02:00:00:99:00:0a';
const MAC_B = '02:00:00:99:00:0b';

function run(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (!allowFail && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}
const inNs = (ns: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);

/** A child in a namespace, printing one JSON object per line. */
class Child {
  private proc: ChildProcess;
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private stderr = '';

  constructor(ns: string, args: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      this.waiters.splice(0).forEach((w) => w());
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; });
    this.proc.on('exit', () => this.waiters.splice(0).forEach((w) => w()));
  }

  /** The next JSON line, within `ms`. */
  async next(ms = 8000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    while (this.lines.length === 0) {
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`child gave no line (exit ${this.proc.exitCode}): ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** Runs a one-shot child and returns its JSON line. */
function once(ns: string, args: string[]): Record<string, unknown> {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child, ...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')}: ${r.status} ${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

function ifindexIn(ns: string): number {
  const links = JSON.parse(run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', IF])) as Array<{ ifindex: number }>;
  return links[0]!.ifindex;
}

describe.skipIf(skip)('sockets in network namespaces (root)', () => {
  const children: Child[] = [];

  beforeAll(() => {
    // dist/ is what the children import; tsc emits even if some unrelated file has a type error.
    run(process.execPath, [join(root, 'scripts', 'build.mjs')], true);
    for (const f of ['native.js', 'sockaddr.js', 'packet-socket.js', 'vrrp6-socket.js']) {
      expect(existsSync(join(root, 'dist', 'net', f)), `dist/net/${f}`).toBe(true);
    }
    for (const ns of [NS_A, NS_B]) {
      run('ip', ['netns', 'del', ns], true);
      run('ip', ['netns', 'add', ns]);
      inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // The veth is created inside A with its peer moved straight into B: it never exists in the root namespace.
    run('ip', ['-n', NS_A, 'link', 'add', IF, 'address', MAC_A, 'type', 'veth',
      'peer', 'name', IF, 'address', MAC_B, 'netns', NS_B]);
    for (const [ns, ll, v4] of [[NS_A, 'fe80::a', '172.16.99.1'], [NS_B, 'fe80::b', '172.16.99.2']] as const) {
      run('ip', ['-n', ns, 'link', 'set', IF, 'addrgenmode', 'none']);
      run('ip', ['-n', ns, 'addr', 'add', `${ll}/64`, 'dev', IF, 'nodad']);
      run('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', IF]);
      run('ip', ['-n', ns, 'link', 'set', IF, 'up']);
    }
    // Until linkwatch activates the device (up to a second after link up) its qdisc is noop and drops what we send.
    const deadline = Date.now() + 5000;
    const ready = (ns: string) => /qdisc noqueue .*state UP/.test(run('ip', ['-n', ns, 'link', 'show', 'dev', IF]));
    while (!(ready(NS_A) && ready(NS_B))) {
      if (Date.now() > deadline) throw new Error('the veth did not come up in 5 s');
      spawnSync('sleep', ['0.05']);
    }
  });

  afterAll(() => {
    children.forEach((c) => c.kill());
    for (const ns of [NS_A, NS_B]) run('ip', ['netns', 'del', ns], true);
  });

  async function vrrp6(src?: string): Promise<Record<string, unknown>> {
    const rx = new Child(NS_B, ['vrrp6-recv', IF]);
    children.push(rx);
    expect(await rx.next()).toEqual({ ready: true });
    await new Promise((r) => setTimeout(r, 300)); // the receiver idles in poll; its interval must keep ticking
    const payload = '3101ff0100010cb2fe800000000000000000000000000001';
    expect(once(NS_A, ['vrrp6-send', IF, payload, src ?? ''])).toEqual({ sent: payload.length / 2 });
    const got = await rx.next();
    expect(got, JSON.stringify(got)).toHaveProperty("payload", payload);
    return got;
  }

  it('IPv6 VRRP: A sends to ff02::12, B receives with hop limit 255, src, dst and ifindex', async () => {
    const got = await vrrp6();
    expect(got).toMatchObject({ src: 'fe80::a', dst: 'ff02::12', hopLimit: 255, truncated: false });
    expect(got.ifindex).toBe(ifindexIn(NS_B));
    expect(got.ifindex).toBe(got.sockIfindex);
    expect(got.ticks as number).toBeGreaterThanOrEqual(5); // the event loop ran while the socket waited
  });

  it('IPv6 VRRP: the in6_pktinfo cmsg chooses the source address', async () => {
    run('ip', ['-n', NS_A, 'addr', 'add', 'fe80::a2/64', 'dev', IF, 'nodad']);
    const got = await vrrp6('fe80::a2');
    expect(got).toMatchObject({ src: 'fe80::a2', dst: 'ff02::12', hopLimit: 255 });
  });

  it('IPv6 VRRP adverts leave with traffic class 0xc0 (CS6), read off the wire with AF_PACKET', async () => {
    const rx = new Child(NS_B, ['ip6-vrrp-frame', IF]);
    children.push(rx);
    expect(await rx.next()).toEqual({ ready: true });
    await new Promise((r) => setTimeout(r, 300));
    once(NS_A, ['vrrp6-send', IF, '3101ff0100010cb2fe800000000000000000000000000001', '']);
    const got = await rx.next();
    expect(got, JSON.stringify(got)).toMatchObject({ trafficClass: 0xc0, hopLimit: 255 });
    // Version 6, traffic class c0 (the flow label after it is the kernel's, auto_flowlabels).
    expect((got.frame as string).slice(28, 31)).toBe('6c0');
  });

  it('AF_PACKET: A sends a broadcast ARP frame, B receives it unchanged', async () => {
    const mac = (m: string) => m.replaceAll(':', '');
    const frame = 'ffffffffffff' + mac(MAC_A) + '0806' + '0001080006040001' + mac(MAC_A) + 'ac106301' +
      '000000000000' + 'ac106301';
    const rx = new Child(NS_B, ['packet-recv', IF, frame]);
    children.push(rx);
    expect(await rx.next()).toEqual({ ready: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(once(NS_A, ['packet-send', IF, frame])).toEqual({ sent: frame.length / 2 });
    const got = await rx.next();
    expect(got.frame).toBe(frame);
    expect(got.ll).toMatchObject({ protocol: 0x0806, ifindex: ifindexIn(NS_B), pkttype: 1 /* PACKET_BROADCAST */,
      addr: mac(MAC_A) });
    expect(got.ticks as number).toBeGreaterThanOrEqual(5);
  });
});
