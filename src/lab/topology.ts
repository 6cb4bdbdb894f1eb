// The seed-001 network-namespace lab (two directors, a client, a LAN switch; optionally an inside network with a real server) and its bounded helpers; touches no root-namespace interface.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { StatusReport } from '../daemon/status.js';
import { LabProcess, run, waitFor, type ExecOptions, type ExecResult } from './process.js';

export { LabProcess, run, sleep, waitFor, type ExecOptions, type ExecResult, type Line } from './process.js';

import type { NodeName } from './process.js';
export type { NodeName } from './process.js';
export type DirectorName = 'lvs1' | 'lvs2';
export const DIRECTORS: readonly DirectorName[] = ['lvs1', 'lvs2'];
const NODES: readonly NodeName[] = ['sw', 'lvs1', 'lvs2', 'client'];

/** The repository root, from src/lab/ (vitest) as from dist/lab/ (compiled). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'cli.js');
export const LAB_DIST = join(REPO_ROOT, 'dist', 'lab');

export const VIP = '192.168.1.250';
export const LB_VIP = '192.168.1.100';
export const LAN = { lvs1: '192.168.1.251', lvs2: '192.168.1.252', client: '192.168.1.10' } as const;
export const XOVER = { lvs1: '172.16.1.251', lvs2: '172.16.1.252' } as const;
/** Fixed MACs 02:00:00:00:NODE:IF (sw ports f1/f2/fa, br0 ff). */
export const MAC = {
  lvs1: { eth0: '02:00:00:00:01:00', eth1: '02:00:00:00:01:01' },
  lvs2: { eth0: '02:00:00:00:02:00', eth1: '02:00:00:00:02:01' },
  client: { eth0: '02:00:00:00:0a:00' },
  sw: { br0: '02:00:00:00:ff:00', lvs1: '02:00:00:00:f1:00', lvs2: '02:00:00:00:f2:00', client: '02:00:00:00:fa:00' },
} as const;

/**
 * The inside network (LabOptions.inside, the LVS-NAT real servers' side): switch bridge br1 in `sw`, with ports
 * lvs1i/lvs2i (the directors' eth2) and real (the real server's eth0, default route via INSIDE_GW_VIP).
 */
export const INSIDE_NET = '10.0.0.0/24';
export const INSIDE = { lvs1: '10.0.0.251', lvs2: '10.0.0.252', real: '10.0.0.10' } as const;
/** The real servers' gateway, a VIP the test's VRRP instance holds on a director's eth2 (nothing assigns it here). */
export const INSIDE_GW_VIP = '10.0.0.254';
export const INSIDE_MAC = {
  lvs1: { eth2: '02:00:00:00:01:02' }, lvs2: { eth2: '02:00:00:00:02:02' }, real: { eth0: '02:00:00:00:10:00' },
  sw: { br1: '02:00:00:00:ff:01', lvs1i: '02:00:00:00:f1:02', lvs2i: '02:00:00:00:f2:02', real: '02:00:00:00:f0:10' },
} as const;

const PREFIX_RE = /^vl(\d+)([a-z]{4})-(lvs1|lvs2|client|sw|real)$/;
const TMPDIR_RE = /^vl(\d+)[a-z]{4}-[A-Za-z0-9]{6}$/;


export type InstanceStatus = StatusReport['instances'][number];

export interface LabConfigOptions {
  priority?: number;
  preempt?: boolean;
  version?: 2 | 3;
  /** A duration as the config takes it: "1s", "100ms". */
  advertInterval?: string;
  state?: 'BACKUP' | 'MASTER';
  preemptDelay?: string;
  /** Unicast adverts on the crossover (sourceAddress + unicastPeers). */
  unicast?: boolean;
  /** PASS authentication: true = the seed's password, or a password. VRRPv2 only. */
  auth?: boolean | string;
  garpMasterDelay?: string;
  /** Merged into the instance (anything the schema takes). */
  extra?: Record<string, unknown>;
  /** Merged into `global:` (e.g. { scheduling: { realtimePriority: 50 } }, the systemd unit's --rt-priority). */
  global?: Record<string, unknown>;
}

/** Seed 001's vi_100 for one director, as YAML: VRRP on eth1, VIPs on eth0, eth0 tracked. */
export function labConfig(node: DirectorName, o: LabConfigOptions = {}): string {
  const peer: DirectorName = node === 'lvs1' ? 'lvs2' : 'lvs1';
  const inst: Record<string, unknown> = {
    interface: 'eth1',
    vrid: 100,
    version: o.version ?? 2,
    priority: o.priority ?? (node === 'lvs1' ? 100 : 90),
    state: o.state ?? 'BACKUP',
    preempt: o.preempt ?? true,
    advertInterval: o.advertInterval ?? '1s',
    garp: { masterDelay: o.garpMasterDelay ?? '1s' },
    vips: [`${VIP} dev eth0`],
    excludedVips: [`${LB_VIP} dev eth0`],
    trackInterfaces: ['eth0'],
    dontTrackPrimary: true,
  };
  if (o.preemptDelay) inst.preemptDelay = o.preemptDelay;
  if (o.unicast) {
    inst.sourceAddress = XOVER[node];
    inst.unicastPeers = [XOVER[peer]];
  }
  if (o.auth) inst.auth = { type: 'pass', password: o.auth === true ? '$up3r$3(r37' : o.auth };
  Object.assign(inst, o.extra ?? {});
  return stringify({ global: { routerId: node.toUpperCase(), ...o.global }, instances: { vi_100: inst } });
}

export interface LabOptions {
  /** Progress lines (default: none). */
  log?: (msg: string) => void;
  /** Grace between SIGTERM and SIGKILL in destroy(). */
  killGraceMs?: number;
  /** The vrrpd command as an argv prefix (default: this Node and dist/cli.js); e.g. an installed package in a chroot. */
  vrrpd?: readonly string[];
  /**
   * Also build the inside network (INSIDE): namespace <p>-real, bridge br1 in sw, eth2 on both directors,
   * forwarding on in the directors, the client routing INSIDE's /24 via VIP, the real server via INSIDE_GW_VIP.
   */
  inside?: boolean;
}

const liveLabs = new Set<Lab>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the process ends without destroy(): kill and delete synchronously.
  process.on('exit', () => { for (const lab of liveLabs) lab.destroySync(); });
}

/** For the demo: destroy every live lab on SIGINT/SIGTERM, then exit 130/143. */
export function installSignalHandlers(log: (m: string) => void = (m) => console.error(m)): void {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(sig, () => {
      log(`\n${sig}: tearing the lab down`);
      const guard = setTimeout(() => process.exit(code), 8000);
      void Promise.allSettled([...liveLabs].map((l) => l.destroy())).then(() => { clearTimeout(guard); process.exit(code); });
    });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/** Delete namespaces left by labs whose creating process is gone (a SIGKILLed test run). */
export async function reapOrphanLabs(log: (m: string) => void = () => undefined): Promise<string[]> {
  const list = await run('ip', ['netns', 'list'], { check: false, timeoutMs: 5000 });
  const reaped: string[] = [];
  for (const line of list.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = PREFIX_RE.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    await killNamespacePids(name);
    await run('ip', ['netns', 'del', name], { check: false, timeoutMs: 5000 });
    reaped.push(name);
  }
  for (const d of readdirSync(tmpdir())) {
    const m = TMPDIR_RE.exec(d);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  if (reaped.length) log(`removed ${reaped.length} namespaces of dead labs: ${reaped.join(' ')}`);
  return reaped;
}

async function killNamespacePids(ns: string): Promise<number> {
  const r = await run('ip', ['netns', 'pids', ns], { check: false, timeoutMs: 5000 });
  let n = 0;
  for (const p of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    if (!Number.isInteger(p) || p <= 1 || p === process.pid) continue;
    try { process.kill(p, 'SIGKILL'); n++; } catch { /* gone */ }
  }
  return n;
}

function randomLetters(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(Math.random() * 26));
  return s;
}

/** Create the lab: namespaces <p>-sw/-lvs1/-lvs2/-client, the LAN bridge, the crossover, addresses, sysctls. */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const lab = new Lab(`vl${process.pid}${randomLetters(4)}`, opts);
  try {
    await lab.build();
  } catch (e) {
    await lab.destroy();
    throw e;
  }
  return lab;
}

export class Lab {
  readonly dir: string;
  readonly procs = new Set<LabProcess>();
  readonly directors = new Map<DirectorName, LabProcess>();
  private readonly created: string[] = [];
  private destroying: Promise<void> | null = null;
  private readonly log: (m: string) => void;

  constructor(readonly prefix: string, private readonly opts: LabOptions) {
    this.log = opts.log ?? (() => undefined);
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    liveLabs.add(this);
    installExitHook();
  }

  ns(node: NodeName): string { return `${this.prefix}-${node}`; }
  /** The argv prefix that runs vrrpd (LabOptions.vrrpd). */
  get vrrpd(): readonly string[] { return this.opts.vrrpd ?? [process.execPath, CLI]; }
  socketPath(node: DirectorName): string { return join(this.dir, `${node}.sock`); }
  get destroyed(): boolean { return this.destroying !== null; }

  private ip(node: NodeName, ...args: string[]): Promise<ExecResult> {
    return run('ip', ['-n', this.ns(node), ...args], { timeoutMs: 10_000 });
  }

  private sysctl(node: NodeName, settings: string[]): Promise<ExecResult> {
    return this.exec(node, ['sysctl', '-q', '-w', ...settings]);
  }

  /** Builds everything inside fresh namespaces; nothing is created in the root namespace. */
  async build(): Promise<void> {
    const nodes = this.opts.inside ? [...NODES, 'real' as const] : NODES;
    for (const n of nodes) {
      await run('ip', ['netns', 'add', this.ns(n)], { timeoutMs: 10_000 });
      this.created.push(this.ns(n));
      // Before any link exists, so that every new link inherits "default".
      await this.sysctl(n, ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
        'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
      await this.ip(n, 'link', 'set', 'lo', 'up');
    }
    await this.ip('sw', 'link', 'add', 'br0', 'address', MAC.sw.br0, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
    for (const n of ['lvs1', 'lvs2', 'client'] as const) {
      // The switch port is named after the node; its peer is born as eth0 inside the node's namespace.
      await this.ip('sw', 'link', 'add', n, 'address', MAC.sw[n], 'type', 'veth', 'peer', 'name', 'eth0', 'address', MAC[n].eth0, 'netns', this.ns(n));
      await this.ip('sw', 'link', 'set', n, 'master', 'br0');
      await this.ip('sw', 'link', 'set', n, 'up');
      await this.ip(n, 'addr', 'add', `${LAN[n]}/24`, 'dev', 'eth0');
      await this.ip(n, 'link', 'set', 'eth0', 'up');
    }
    await this.ip('sw', 'link', 'set', 'br0', 'up');
    await this.ip('lvs1', 'link', 'add', 'eth1', 'address', MAC.lvs1.eth1, 'type', 'veth', 'peer', 'name', 'eth1', 'address', MAC.lvs2.eth1, 'netns', this.ns('lvs2'));
    for (const n of DIRECTORS) {
      await this.ip(n, 'addr', 'add', `${XOVER[n]}/24`, 'dev', 'eth1');
      await this.ip(n, 'link', 'set', 'eth1', 'up');
      await this.sysctl(n, ['net.ipv4.conf.eth0.rp_filter=0', 'net.ipv4.conf.eth1.rp_filter=0', 'net.ipv4.conf.lo.rp_filter=0']);
    }
    if (this.opts.inside) await this.buildInside();
    this.log(`lab ${this.prefix}: namespaces ${nodes.map((n) => this.ns(n)).join(', ')}; temp dir ${this.dir}`);
  }

  /** The inside network: br1 with ports lvs1i, lvs2i (directors' eth2) and real (the real server's eth0). */
  private async buildInside(): Promise<void> {
    await this.ip('sw', 'link', 'add', 'br1', 'address', INSIDE_MAC.sw.br1, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
    for (const [n, port, dev, mac] of [
      ['lvs1', 'lvs1i', 'eth2', INSIDE_MAC.lvs1.eth2], ['lvs2', 'lvs2i', 'eth2', INSIDE_MAC.lvs2.eth2], ['real', 'real', 'eth0', INSIDE_MAC.real.eth0],
    ] as const) {
      await this.ip('sw', 'link', 'add', port, 'address', INSIDE_MAC.sw[port], 'type', 'veth', 'peer', 'name', dev, 'address', mac, 'netns', this.ns(n));
      await this.ip('sw', 'link', 'set', port, 'master', 'br1');
      await this.ip('sw', 'link', 'set', port, 'up');
      await this.ip(n, 'addr', 'add', `${INSIDE[n]}/24`, 'dev', dev);
      await this.ip(n, 'link', 'set', dev, 'up');
    }
    await this.ip('sw', 'link', 'set', 'br1', 'up');
    for (const n of DIRECTORS) await this.sysctl(n, ['net.ipv4.conf.eth2.rp_filter=0', 'net.ipv4.ip_forward=1']);
    await this.ip('real', 'route', 'add', 'default', 'via', INSIDE_GW_VIP);
    await this.ip('client', 'route', 'add', INSIDE_NET, 'via', VIP);
  }

  /** Run a command inside a node's namespace (ip netns exec), bounded by timeoutMs (default 15 s). */
  exec(node: NodeName, cmd: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.destroyed) return Promise.reject(new Error(`lab ${this.prefix} is destroyed`));
    return run('ip', ['netns', 'exec', this.ns(node), ...cmd], opts);
  }

  /** Start a long-running process in a node's namespace; destroy() kills it. Its stdin stays open: a watchdog for our helpers. */
  spawnIn(node: NodeName, cmd: readonly string[], label = `${node}:${cmd.map((c) => c.split('/').pop()).slice(0, 3).join(' ')}`): LabProcess {
    if (this.destroyed) throw new Error(`lab ${this.prefix} is destroyed`);
    const child = spawn('ip', ['netns', 'exec', this.ns(node), ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new LabProcess(label, node, cmd, child);
    this.procs.add(p);
    return p;
  }

  /** The vrrpd command (node dist/cli.js ..., or LabOptions.vrrpd) inside a node's namespace, against that node's control socket. */
  cli(node: DirectorName, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(node, [...this.vrrpd, ...args, '--socket', this.socketPath(node)], { check: false, timeoutMs: 20_000, ...opts });
  }

  /** Administratively down an interface inside that namespace (a tracked eth0 → FAULT). */
  cutLink(node: NodeName, ifname = 'eth0'): Promise<ExecResult> { return this.ip(node, 'link', 'set', 'dev', ifname, 'down'); }
  restoreLink(node: NodeName, ifname = 'eth0'): Promise<ExecResult> { return this.ip(node, 'link', 'set', 'dev', ifname, 'up'); }
  /** Pull the cable on the switch side: the director's eth0 stays up but loses carrier. */
  cutCable(node: 'lvs1' | 'lvs2' | 'client', up = false): Promise<ExecResult> { return this.ip('sw', 'link', 'set', 'dev', node, up ? 'up' : 'down'); }
  /** The same on the inside network (inside: true): a director's eth2 (or the real server's eth0) loses carrier. */
  cutInsideCable(node: DirectorName | 'real', up = false): Promise<ExecResult> {
    return this.ip('sw', 'link', 'set', 'dev', node === 'real' ? 'real' : `${node}i`, up ? 'up' : 'down');
  }

  writeConfig(node: DirectorName, yamlText: string): string {
    const path = join(this.dir, `${node}.yaml`);
    writeFileSync(path, yamlText);
    return path;
  }

  /** Start `vrrpd run` in a director's namespace; by default waits until its control socket answers. */
  async startDirector(node: DirectorName, configPath: string, o: { logLevel?: string; waitReady?: boolean; timeoutMs?: number; args?: string[] } = {}): Promise<LabProcess> {
    const old = this.directors.get(node);
    if (old?.running) throw new Error(`a vrrpd is already running in ${node}`);
    const p = this.spawnIn(node, [...this.vrrpd, 'run', '-f', configPath, '--socket', this.socketPath(node), '--log-level', o.logLevel ?? 'info', ...(o.args ?? [])], `vrrpd@${node}`);
    this.directors.set(node, p);
    if (o.waitReady !== false) {
      await waitFor(async () => {
        if (!p.running) throw new Error(`vrrpd@${node} exited ${p.exitCode ?? p.exitSignal}: ${p.tail(true) || p.tail(false)}`);
        return (await this.tryStatus(node)) !== null;
      }, o.timeoutMs ?? 10_000, 100, `vrrpd@${node} to answer on ${this.socketPath(node)}`).catch((e: Error) => {
        throw new Error(`${e.message}\nstdout: ${p.tail(false)}\nstderr: ${p.tail(true)}`);
      });
    }
    return p;
  }

  /** `vrrpd status --json` of a director, parsed; throws when it does not answer. */
  async status(node: DirectorName): Promise<StatusReport> {
    const r = await this.cli(node, ['status', '--json'], { timeoutMs: 10_000 });
    try {
      return JSON.parse(r.stdout) as StatusReport;
    } catch {
      throw new Error(`vrrpd status on ${node}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
  }

  async tryStatus(node: DirectorName): Promise<StatusReport | null> {
    try { return await this.status(node); } catch { return null; }
  }

  /** The vi_100 instance of a director, or null when its daemon does not answer. */
  async instance(node: DirectorName, name = 'vi_100'): Promise<InstanceStatus | null> {
    return (await this.tryStatus(node))?.instances.find((i) => i.name === name) ?? null;
  }

  /**
   * The first transition "-> to" that a director's vrrpd logs (JSON field `to`, as Director logs transitions)
   * at or after local time `after` (performance.now()); `at` is when the line arrived here.
   */
  async waitTransition(node: DirectorName, to: string, after: number, timeoutMs: number): Promise<{ at: number; reason: string; obj: Record<string, unknown> }> {
    const p = this.directors.get(node);
    if (!p) throw new Error(`no vrrpd started in ${node}`);
    let from = p.lines.findIndex((l) => l.at >= after);
    if (from < 0) from = p.lines.length;
    const parse = (text: string): Record<string, unknown> | null => {
      try { return JSON.parse(text) as Record<string, unknown>; } catch { return null; }
    };
    const line = await p.waitLine((t) => parse(t)?.to === to, timeoutMs, { from });
    const obj = parse(line.text)!;
    return { at: line.at, reason: `${String(obj.reason ?? '')}${obj.detail ? `: ${String(obj.detail)}` : ''}`, obj };
  }

  /** Directors whose eth0 carries `address` (per `ip -o addr show dev eth0`). */
  async vipHolders(address = VIP, dev = 'eth0'): Promise<DirectorName[]> {
    const out: DirectorName[] = [];
    for (const n of DIRECTORS) {
      if ((await this.addresses(n, dev)).some((a) => a.split('/')[0] === address)) out.push(n);
    }
    return out;
  }

  /** IPv4 addresses (CIDR) on an interface of a node. */
  async addresses(node: NodeName, dev: string): Promise<string[]> {
    const r = await this.ip(node, '-o', '-4', 'addr', 'show', 'dev', dev);
    return [...r.stdout.matchAll(/\binet (\S+)/g)].map((m) => m[1]!);
  }

  addAddress(node: NodeName, cidr: string, dev = 'eth0'): Promise<ExecResult> { return this.ip(node, 'addr', 'add', cidr, 'dev', dev); }

  /** Kill every process we started (SIGTERM, SIGKILL after the grace) and delete every namespace. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    const grace = this.opts.killGraceMs ?? 1500;
    await Promise.all([...this.procs].map((p) => p.stop(grace).catch(() => undefined)));
    for (const ns of [...this.created].reverse()) {
      try {
        await killNamespacePids(ns);
        await run('ip', ['netns', 'del', ns], { check: false, timeoutMs: 10_000 });
      } catch (e) {
        this.log(`teardown of ${ns}: ${(e as Error).message}`);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    liveLabs.delete(this);
    this.log(`lab ${this.prefix}: destroyed`);
  }

  /** Synchronous last resort (process exit): SIGKILL everything, delete namespaces. */
  destroySync(): void {
    for (const p of this.procs) p.signal('SIGKILL');
    for (const ns of [...this.created].reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
      for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
        if (pid > 1 && pid !== process.pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      spawnSync('ip', ['netns', 'del', ns], { timeout: 5000 });
    }
    try { rmSync(this.dir, { recursive: true, force: true }); } catch { /* best effort */ }
    liveLabs.delete(this);
  }
}

/** Whether this machine can run the lab: root and iproute2. */
export function labSupported(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'the lab needs root (network namespaces)' };
  if (spawnSync('ip', ['-V'], { stdio: 'ignore', timeout: 5000 }).status !== 0) return { ok: false, why: 'the lab needs iproute2 (ip)' };
  return { ok: true };
}

/** Whether dist/cli.js has the `run` command (the daemon). */
export function daemonAvailable(): boolean {
  const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', timeout: 10_000 });
  return /^\s+run\s/m.test(r.stdout ?? '');
}
