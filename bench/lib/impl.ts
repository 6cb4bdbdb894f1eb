// The two implementations under test, behind one interface: start a director, SIGKILL it (the fault), stop it.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { topo, type DirectorName, type Lab, type LabProcess } from './lab.js';
import type { Line } from '../../src/lab/process.js';

const { run, waitFor, sleep, VIP } = topo;

export type ImplName = 'vrrpd' | 'keepalived';

export interface ModeSpec {
  name: string;
  version: 2 | 3;
  intervalMs: number;
  /** The VRRP interface: eth1 (the crossover, default) or eth0 (the switch, where a third host can reach it). */
  iface?: 'eth0' | 'eth1';
  /** Real-time priority of the daemon (vrrpd scheduling.realtimePriority, keepalived vrrp_rt_priority); 0 or absent: none. */
  rtPriority?: number;
  /** Merged into vrrpd's instance, per director (e.g. trackInterfaces, dontTrackPrimary, extraPaths to the peer). */
  vrrpdInstance?: (node: DirectorName) => Record<string, unknown>;
  /** Extra lines inside keepalived's vrrp_instance (e.g. track_interface, dont_track_primary). */
  keepalivedInstance?: readonly string[];
}

export const PRIORITY: Record<DirectorName, number> = { lvs1: 100, lvs2: 90 };
export const VRID = 100;

export interface Impl {
  readonly name: ImplName;
  /** Start the director's daemon and wait until it runs (not until any VRRP state). */
  start(node: DirectorName): Promise<void>;
  /** Everything that can be done before the fault without touching VRRP (look up pids...). */
  prepareKill(node: DirectorName): Promise<void>;
  /** The fault: SIGKILL, synchronous (the caller timestamps around it). */
  kill(node: DirectorName): void;
  /** Wait until every process of that director is gone. */
  reap(node: DirectorName): Promise<void>;
  /** Graceful stop (SIGTERM), bounded. */
  stop(node: DirectorName): Promise<void>;
  /** The last lines of the director's log (for error reports). */
  tail(node: DirectorName, n?: number): string;
  /** How many times that director was started so far (to cut the logs of one block). */
  runCount(node: DirectorName): number;
  /** The log lines of that director's runs from run index `from` on, for --keep. */
  logText(node: DirectorName, from?: number): string;
  /** Lines of that director's runs from `from` on that match `re` (e.g. vrrpd's late-timer warnings). */
  grep(node: DirectorName, re: RegExp, from?: number): string[];
  /** The same with arrival times (performance.now()), in arrival order. */
  events(node: DirectorName, re: RegExp, from?: number): Line[];
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function procComm(pid: number): string | null {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return null; }
}

function procState(pid: number): string | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch { return null; }
}

/** Pids in a namespace whose comm is `comm` (our own processes only: the namespace is the lab's). */
async function nsPidsNamed(lab: Lab, node: DirectorName, comm: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', lab.ns(node)], { check: false, timeoutMs: 5000 });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid && procComm(p) === comm);
}

// ------------------------------------------------------------------------------------------- vrrpd

export function vrrpdConfig(node: DirectorName, mode: ModeSpec): string {
  return stringify({
    global: { routerId: node.toUpperCase(), ...(mode.rtPriority ? { scheduling: { realtimePriority: mode.rtPriority } } : {}) },
    instances: {
      vi_100: {
        interface: mode.iface ?? 'eth1',
        vrid: VRID,
        version: mode.version,
        priority: PRIORITY[node],
        state: 'BACKUP',
        preempt: true,
        advertInterval: `${mode.intervalMs}ms`,
        // keepalived's defaults: 5 GARPs at once, 5 more after 5 s.
        garp: { masterDelay: '5s', masterRepeat: 5 },
        vips: [`${VIP}/32 dev eth0`],
        ...mode.vrrpdInstance?.(node),
      },
    },
  });
}

export class VrrpdImpl implements Impl {
  readonly name = 'vrrpd' as const;
  private readonly runs = new Map<DirectorName, LabProcess[]>();
  private readonly configs = new Map<DirectorName, string>();

  constructor(private readonly lab: Lab, mode: ModeSpec) {
    for (const n of ['lvs1', 'lvs2'] as const) this.configs.set(n, this.lab.writeConfig(n, vrrpdConfig(n, mode)));
  }

  private cur(node: DirectorName): LabProcess | undefined { return this.runs.get(node)?.at(-1); }

  async start(node: DirectorName): Promise<void> {
    const old = this.cur(node);
    if (old?.running) throw new Error(`vrrpd@${node} still running`);
    rmSync(this.lab.socketPath(node), { force: true });
    const p = await this.lab.startDirector(node, this.configs.get(node)!, { logLevel: 'info', timeoutMs: 15_000 });
    const list = this.runs.get(node) ?? [];
    list.push(p);
    this.runs.set(node, list);
    const pid = p.pid;
    // `ip netns exec` execs the command: the pid we hold is node itself.
    if (pid === undefined || procComm(pid) !== 'node') throw new Error(`vrrpd@${node}: pid ${pid} is ${pid === undefined ? 'unknown' : procComm(pid)}, not node`);
  }

  async prepareKill(node: DirectorName): Promise<void> {
    const p = this.cur(node);
    if (!p?.running) throw new Error(`vrrpd@${node} is not running`);
  }

  kill(node: DirectorName): void {
    const pid = this.cur(node)?.pid;
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  }

  async reap(node: DirectorName): Promise<void> {
    const p = this.cur(node);
    if (!p) return;
    await Promise.race([p.exited, sleep(5000)]);
    if (p.running) throw new Error(`vrrpd@${node} did not exit after SIGKILL`);
  }

  async stop(node: DirectorName): Promise<void> {
    const p = this.cur(node);
    if (p?.running) await p.stop(3000);
  }

  tail(node: DirectorName, n = 8): string {
    const p = this.cur(node);
    return p ? `stdout: ${p.tail(false, n)}\nstderr: ${p.tail(true, n)}` : '(never started)';
  }

  runCount(node: DirectorName): number { return this.runs.get(node)?.length ?? 0; }

  logText(node: DirectorName, from = 0): string {
    return (this.runs.get(node) ?? []).slice(from).map((p, i) => `=== vrrpd@${node} run ${from + i + 1}\n${p.lines.map((l) => l.text).join('\n')}\n${p.errLines.map((l) => `[stderr] ${l.text}`).join('\n')}`).join('\n');
  }

  grep(node: DirectorName, re: RegExp, from = 0): string[] { return this.events(node, re, from).map((l) => l.text); }

  events(node: DirectorName, re: RegExp, from = 0): Line[] {
    return (this.runs.get(node) ?? []).slice(from).flatMap((p) => [...p.lines, ...p.errLines].filter((l) => re.test(l.text)).sort((a, b) => a.at - b.at));
  }
}

// -------------------------------------------------------------------------------------- keepalived

export function keepalivedConfig(node: DirectorName, mode: ModeSpec): string {
  const adv = mode.intervalMs / 1000;
  return `# vrrpd bench: keepalived equivalent of the vrrpd config (${mode.name})
global_defs {
    router_id ${node.toUpperCase()}
    vrrp_version ${mode.version}${mode.rtPriority ? `\n    vrrp_rt_priority ${mode.rtPriority}` : ''}
}

vrrp_instance VI_1 {
    state BACKUP
    interface ${mode.iface ?? 'eth1'}
    virtual_router_id ${VRID}
    priority ${PRIORITY[node]}
    advert_int ${adv}
    virtual_ipaddress {
        ${VIP}/32 dev eth0
    }${(mode.keepalivedInstance ?? []).map((l) => `\n    ${l}`).join('')}
}
`;
}

interface KaRun { parent: LabProcess; pidfile: string; vrrpPidfile: string; child: number | null }

export class KeepalivedImpl implements Impl {
  readonly name = 'keepalived' as const;
  private readonly runs = new Map<DirectorName, KaRun[]>();
  private readonly configs = new Map<DirectorName, string>();

  constructor(private readonly lab: Lab, mode: ModeSpec) {
    for (const n of ['lvs1', 'lvs2'] as const) {
      const path = join(lab.dir, `${n}.keepalived.conf`);
      writeFileSync(path, keepalivedConfig(n, mode));
      this.configs.set(n, path);
    }
  }

  private cur(node: DirectorName): KaRun | undefined { return this.runs.get(node)?.at(-1); }

  async start(node: DirectorName): Promise<void> {
    const old = this.cur(node);
    if (old?.parent.running) throw new Error(`keepalived@${node} still running`);
    const left = await nsPidsNamed(this.lab, node, 'keepalived');
    if (left.length) throw new Error(`keepalived@${node}: processes left from a previous run: ${left.join(' ')}`);
    const pidfile = join(this.lab.dir, `${node}.keepalived.pid`);
    const vrrpPidfile = join(this.lab.dir, `${node}.keepalived-vrrp.pid`);
    rmSync(pidfile, { force: true });
    rmSync(vrrpPidfile, { force: true });
    const parent = this.lab.spawnIn(node, ['keepalived', '-n', '-l', '-D', '-G', '-P', '-f', this.configs.get(node)!, '-p', pidfile, '-r', vrrpPidfile],
      `keepalived@${node}`);
    const r: KaRun = { parent, pidfile, vrrpPidfile, child: null };
    const list = this.runs.get(node) ?? [];
    list.push(r);
    this.runs.set(node, list);
    const both = (t: string) => /Entering (BACKUP|MASTER) STATE/.test(t);
    await Promise.race([
      parent.waitLine(both, 10_000),
      parent.waitLine(both, 10_000, { stderr: true }),
    ]).catch((e: Error) => { throw new Error(`${e.message}\n${this.tail(node)}`); });
    r.child = await waitFor(() => {
      if (!existsSync(vrrpPidfile)) return null;
      const pid = Number(readFileSync(vrrpPidfile, 'utf8').trim());
      return Number.isInteger(pid) && pid > 1 && pidAlive(pid) && procComm(pid) === 'keepalived' ? pid : null;
    }, 5000, 20, `keepalived@${node} VRRP child pidfile`);
  }

  /** Stop the parent (SIGSTOP) so that it can neither respawn the child nor be killed before it. */
  async prepareKill(node: DirectorName): Promise<void> {
    const r = this.cur(node);
    if (!r?.parent.running || r.child === null || !pidAlive(r.child)) throw new Error(`keepalived@${node} is not running`);
    process.kill(r.parent.pid!, 'SIGSTOP');
    await waitFor(() => procState(r.parent.pid!) === 'T', 2000, 5, `keepalived@${node} parent to stop`);
  }

  /** SIGKILL the VRRP child (the fault), then the stopped parent: no priority-0 advert, no respawn. */
  kill(node: DirectorName): void {
    const r = this.cur(node);
    if (!r || r.child === null) return;
    process.kill(r.child, 'SIGKILL');
    if (r.parent.pid !== undefined) try { process.kill(r.parent.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  async reap(node: DirectorName): Promise<void> {
    const r = this.cur(node);
    if (!r) return;
    await Promise.race([r.parent.exited, sleep(5000)]);
    await waitFor(async () => (await nsPidsNamed(this.lab, node, 'keepalived')).length === 0, 5000, 20, `keepalived@${node} to be gone`);
  }

  async stop(node: DirectorName): Promise<void> {
    const r = this.cur(node);
    if (r?.parent.running) {
      if (procState(r.parent.pid!) === 'T') process.kill(r.parent.pid!, 'SIGCONT');
      await r.parent.stop(3000);
    }
    for (const pid of await nsPidsNamed(this.lab, node, 'keepalived')) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }

  tail(node: DirectorName, n = 8): string {
    const r = this.cur(node);
    return r ? `stdout: ${r.parent.tail(false, n)}\nstderr: ${r.parent.tail(true, n)}` : '(never started)';
  }

  runCount(node: DirectorName): number { return this.runs.get(node)?.length ?? 0; }

  logText(node: DirectorName, from = 0): string {
    return (this.runs.get(node) ?? []).slice(from).map((r, i) => {
      const all = [...r.parent.lines, ...r.parent.errLines].sort((a, b) => a.at - b.at);
      return `=== keepalived@${node} run ${from + i + 1}\n${all.map((l) => l.text).join('\n')}`;
    }).join('\n');
  }

  grep(node: DirectorName, re: RegExp, from = 0): string[] { return this.events(node, re, from).map((l) => l.text); }

  events(node: DirectorName, re: RegExp, from = 0): Line[] {
    return (this.runs.get(node) ?? []).slice(from).flatMap((r) => [...r.parent.lines, ...r.parent.errLines].filter((l) => re.test(l.text)).sort((a, b) => a.at - b.at));
  }
}
