// keepalived as a peer in the netns lab: its config (the keepalived twin of labConfig), a runner whose state comes from
// its log and its VIPs, and Debian 13's keepalived 2.3.3 (for v3_checksum_as_v2) fetched into a private cache.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  labConfig, run, waitFor, LB_VIP, VIP, XOVER,
  type DirectorName, type Lab, type LabConfigOptions, type LabProcess, type Line,
} from '../../src/lab/topology.js';

export type KaState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOPPED';

/** The options of labConfig, plus the v3 IPv4 checksum form (vrrpd `checksum`, keepalived `v3_checksum_as_v2`). */
export interface PeerOptions extends LabConfigOptions {
  checksum?: 'pseudo-header' | 'no-pseudo-header';
}

/** vrrpd's YAML for the same options (labConfig, plus `checksum`). */
export function vrrpdConfig(node: DirectorName, o: PeerOptions = {}): string {
  const { checksum, extra, ...rest } = o;
  return labConfig(node, { ...rest, extra: { ...extra, ...(checksum ? { checksum } : {}) } });
}

/** The password labConfig uses for `auth: true` (10 characters; both send the first 8). */
export const SEED_PASSWORD = '$up3r$3(r37';

/** Seconds as keepalived's advert_int takes them, from the lab's duration strings ("1s", "100ms"). */
export function durationSeconds(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  return m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1]);
}

/**
 * keepalived's equivalent of labConfig(node, o): vi_100, VRID 100 on eth1, VIP on eth0 (in the advert) and the LB VIP
 * excluded, eth0 tracked (weight 0 → FAULT), the VRRP interface itself not tracked (dont_track_primary).
 */
export function keepalivedConfig(node: DirectorName, o: PeerOptions = {}): string {
  const peer: DirectorName = node === 'lvs1' ? 'lvs2' : 'lvs1';
  const version = o.version ?? 2;
  const lines = [
    `# vrrpd lab: keepalived twin of labConfig('${node}')`,
    'global_defs {',
    `    router_id ${node.toUpperCase()}`,
    `    vrrp_version ${version}`,
    '}',
    '',
    'vrrp_instance vi_100 {',
    `    state ${o.state ?? 'BACKUP'}`,
    '    interface eth1',
    '    virtual_router_id 100',
    `    priority ${o.priority ?? (node === 'lvs1' ? 100 : 90)}`,
    `    advert_int ${durationSeconds(o.advertInterval ?? '1s')}`,
    `    garp_master_delay ${durationSeconds(o.garpMasterDelay ?? '1s')}`,
    '    dont_track_primary',
    '    track_interface {',
    '        eth0',
    '    }',
  ];
  if (o.preempt === false) lines.push('    nopreempt');
  if (o.preemptDelay) lines.push(`    preempt_delay ${durationSeconds(o.preemptDelay)}`);
  if (o.auth) {
    lines.push('    authentication {', '        auth_type PASS', `        auth_pass ${o.auth === true ? SEED_PASSWORD : o.auth}`, '    }');
  }
  if (o.unicast) lines.push(`    unicast_src_ip ${XOVER[node]}`, '    unicast_peer {', `        ${XOVER[peer]}`, '    }');
  if (o.checksum === 'no-pseudo-header') lines.push('    v3_checksum_as_v2');
  lines.push(
    '    virtual_ipaddress {', `        ${VIP}/32 dev eth0`, '    }',
    '    virtual_ipaddress_excluded {', `        ${LB_VIP}/32 dev eth0`, '    }',
    '}', '',
  );
  return lines.join('\n');
}

// ----------------------------------------------------------------------------------------------- binaries

/** How to run one keepalived: the command before keepalived's own arguments (always inside `ip netns exec`). */
export interface KaBinary {
  name: 'bookworm' | 'trixie';
  /** "Keepalived v2.2.7 (01/16,2022)" */
  version: string;
  prefix: string[];
}

/** Debian's packaged keepalived (the system one), or null when it is not installed. */
export function systemKeepalived(): KaBinary | null {
  const r = spawnSync('keepalived', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status === null) return null;
  const version = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => /^Keepalived v/.test(l))?.trim();
  return version ? { name: 'bookworm', version, prefix: ['keepalived'] } : null;
}

const TRIXIE_DEBS = [
  'keepalived', 'libc6', 'libglib2.0-0t64', 'libmnl0', 'libnftnl11', 'libnl-3-200', 'libnl-genl-3-200', 'libpcre2-8-0',
  'libsnmp40t64', 'libssl3t64', 'libsystemd0', 'libperl5.40', 'libmount1', 'libblkid1', 'libselinux1',
];

/** Where the unpacked trixie keepalived is kept between runs (VRRPD_KA_TRIXIE_DIR overrides). */
export function trixieCacheDir(): string {
  return process.env.VRRPD_KA_TRIXIE_DIR ?? join(tmpdir(), 'vrrpd-keepalived-trixie');
}

function trixieCommand(root: string): string[] {
  const lib = join(root, 'usr/lib/x86_64-linux-gnu');
  // It reads /etc/keepalived/keepalived.config-opts at start: bind its own /etc/keepalived over the host's, inside the
  // private mount namespace that `ip netns exec` creates (nothing changes outside it), then run it with trixie's ld.so.
  return ['sh', '-c', 'mount --bind "$0" /etc/keepalived && exec "$@"', join(root, 'etc/keepalived'),
    join(lib, 'ld-linux-x86-64.so.2'), '--library-path', `${lib}:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu`,
    join(root, 'usr/sbin/keepalived')];
}

let trixiePromise: Promise<KaBinary | { error: string }> | null = null;

/**
 * Debian 13's keepalived 2.3.3 (it has `v3_checksum_as_v2`, which 2.2.7 lacks), as scripts/capture-keepalived.sh runs it:
 * `apt-get download` with a private APT config (the host's sources and state are untouched), unpacked into a cache dir,
 * run through trixie's own ld.so. About 15 MB, a few seconds, once per machine. KA_NO_TRIXIE=1 turns it off.
 */
export function trixieKeepalived(): Promise<KaBinary | { error: string }> {
  trixiePromise ??= fetchTrixie().catch((e: Error) => ({ error: e.message }));
  return trixiePromise;
}

async function fetchTrixie(): Promise<KaBinary | { error: string }> {
  if (process.env.KA_NO_TRIXIE) return { error: 'KA_NO_TRIXIE is set' };
  if (process.arch !== 'x64') return { error: `trixie keepalived: amd64 only (this is ${process.arch})` };
  const dir = trixieCacheDir();
  const done = join(dir, 'version');
  if (!existsSync(done)) {
    for (const tool of ['apt-get', 'dpkg-deb']) {
      if (spawnSync(tool, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status !== 0) return { error: `trixie keepalived: no ${tool}` };
    }
    if (existsSync(dir)) {
      // An incomplete cache of ours (no version file yet) is redone; anything else there is not touched.
      if (!existsSync(join(dir, 'root')) && readdirSync(dir).length > 0) return { error: `trixie keepalived: ${dir} exists and is not its cache` };
      rmSync(dir, { recursive: true, force: true });
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    try {
      for (const d of ['lists/partial', 'cache/archives/partial', 'debs', 'root']) mkdirSync(join(tmp, d), { recursive: true });
      writeFileSync(join(tmp, 'sources.list'), 'deb http://deb.debian.org/debian trixie main\n');
      writeFileSync(join(tmp, 'apt.conf'), [
        `Dir::Etc::SourceList "${tmp}/sources.list";`, 'Dir::Etc::SourceParts "/nonexistent";', `Dir::State::Lists "${tmp}/lists";`,
        `Dir::Cache "${tmp}/cache";`, 'Dir::State::status "/dev/null";', 'APT::Sandbox::User "root";', '',
      ].join('\n'));
      const env = `APT_CONFIG=${tmp}/apt.conf`;
      await run('env', [env, 'apt-get', '-qq', 'update'], { timeoutMs: 150_000 });
      await run('sh', ['-c', `cd "$0" && env "$1" apt-get -qq download ${TRIXIE_DEBS.join(' ')}`, join(tmp, 'debs'), env], { timeoutMs: 150_000 });
      for (const deb of readdirSync(join(tmp, 'debs')).filter((f) => f.endsWith('.deb'))) {
        await run('dpkg-deb', ['-x', join(tmp, 'debs', deb), join(tmp, 'root')], { timeoutMs: 60_000 });
      }
      rmSync(join(tmp, 'lists'), { recursive: true, force: true });
      rmSync(join(tmp, 'cache'), { recursive: true, force: true });
      rmSync(join(tmp, 'debs'), { recursive: true, force: true });
      if (!existsSync(join(tmp, 'root/usr/sbin/keepalived'))) throw new Error('no usr/sbin/keepalived in the trixie package');
      writeFileSync(join(tmp, 'version'), 'Keepalived v2.3.3 (Debian 13 package)\n');
      try {
        renameSync(tmp, dir);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // another run got there first
      }
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      return { error: `trixie keepalived: could not fetch it: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}` };
    }
  }
  if (!existsSync(done)) return { error: 'trixie keepalived: cache incomplete' };
  return { name: 'trixie', version: readFileSync(done, 'utf8').trim(), prefix: trixieCommand(join(dir, 'root')) };
}

// ----------------------------------------------------------------------------------------------- the runner

/** Every keepalived pid (parent and VRRP child) any runner started in this process: none may outlive its lab. */
export const startedKeepalivedPids = new Set<number>();

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

/** Our keepalived pids still alive (after lab.destroy() this must be empty). */
export function survivingKeepalived(): number[] {
  return [...startedKeepalivedPids].filter(pidAlive);
}

const STATE_RE = /\((\S+)\) Entering (MASTER|BACKUP|FAULT) STATE/;

/**
 * One keepalived in a director's namespace: `keepalived -n -l -D -G -P -f CONF -p PID -r VRRP_PID` as a lab process
 * (lab.destroy() kills it); its state is the last "Entering X STATE" line of its log, STOPPED once it exited.
 */
export class Keepalived {
  readonly runs: LabProcess[] = [];
  readonly confPath: string;
  childPid: number | null = null;
  private seq = 0;

  constructor(readonly lab: Lab, readonly node: DirectorName, readonly bin: KaBinary) {
    this.confPath = join(lab.dir, `${node}.keepalived.conf`);
  }

  get proc(): LabProcess | undefined { return this.runs.at(-1); }
  get running(): boolean { return this.proc?.running ?? false; }
  get address(): string { return XOVER[this.node]; }

  writeConfig(o: PeerOptions): string {
    writeFileSync(this.confPath, keepalivedConfig(this.node, o));
    return this.confPath;
  }

  /** Start it (with the config written last) and wait for its first "Entering ... STATE" line. */
  async start(o: PeerOptions | null = null, timeoutMs = 10_000): Promise<void> {
    if (o) this.writeConfig(o);
    if (this.running) throw new Error(`keepalived@${this.node} is already running`);
    const n = ++this.seq;
    const pidfile = join(this.lab.dir, `${this.node}.keepalived.${n}.pid`);
    const vrrpPidfile = join(this.lab.dir, `${this.node}.keepalived-vrrp.${n}.pid`);
    const p = this.lab.spawnIn(this.node, [...this.bin.prefix, '-n', '-l', '-D', '-G', '-P', '-f', this.confPath, '-p', pidfile, '-r', vrrpPidfile],
      `keepalived@${this.node}`);
    this.runs.push(p);
    if (p.pid !== undefined) startedKeepalivedPids.add(p.pid);
    this.childPid = null;
    await waitFor(() => {
      if (!p.running) throw new Error('exited');
      return this.states(p).length > 0;
    }, timeoutMs, 25, `keepalived@${this.node} to enter its first state`).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.logText()}`);
    });
    this.childPid = await waitFor(() => {
      if (!existsSync(vrrpPidfile)) return null;
      const pid = Number(readFileSync(vrrpPidfile, 'utf8').trim());
      return Number.isInteger(pid) && pid > 1 && pidAlive(pid) ? pid : null;
    }, 5000, 25, `keepalived@${this.node}'s VRRP child pid file`);
    startedKeepalivedPids.add(this.childPid);
  }

  /** Both streams of one run, in arrival order. */
  lines(p: LabProcess | undefined = this.proc): Line[] {
    if (!p) return [];
    return [...p.lines, ...p.errLines].sort((a, b) => a.at - b.at);
  }

  /** The "Entering X STATE" transitions of a run, with arrival times. */
  states(p: LabProcess | undefined = this.proc): { state: KaState; at: number; text: string }[] {
    const out: { state: KaState; at: number; text: string }[] = [];
    for (const l of this.lines(p)) {
      const m = STATE_RE.exec(l.text);
      if (m) out.push({ state: m[2] as KaState, at: l.at, text: l.text });
    }
    return out;
  }

  /** Its state per its log: INIT before its first transition, STOPPED once the process exited. */
  state(): KaState {
    if (!this.proc || !this.running) return this.proc ? 'STOPPED' : 'INIT';
    return this.states().at(-1)?.state ?? 'INIT';
  }

  /** Wait for a transition to `state` logged at or after local time `after` (performance.now()); returns its time. */
  async waitState(state: KaState, timeoutMs: number, after = 0): Promise<number> {
    return waitFor(() => {
      if (state === 'STOPPED') return this.running ? null : performance.now();
      return this.states().find((s) => s.state === state && s.at >= after)?.at ?? null;
    }, timeoutMs, 25, `keepalived@${this.node} to enter ${state}`).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.logText(20)}`);
    });
  }

  /** Log lines (this run, both streams) matching re, from local time `after`. */
  grep(re: RegExp, after = 0, p: LabProcess | undefined = this.proc): string[] {
    return this.lines(p).filter((l) => l.at >= after && re.test(l.text)).map((l) => l.text);
  }

  /** Whether its namespace holds `address` (per `ip -o addr`, any interface). */
  async hasVip(address = VIP): Promise<boolean> {
    const r = await this.lab.exec(this.node, ['ip', '-o', '-4', 'addr'], { timeoutMs: 10_000 });
    return [...r.stdout.matchAll(/\binet (\S+)/g)].some((m) => m[1]!.split('/')[0] === address);
  }

  /** SIGTERM to the parent (as `systemctl stop`): the child sends priority 0 if MASTER and drops the VIPs; both exit. */
  async stop(graceMs = 3000): Promise<void> {
    const p = this.proc;
    if (p?.running) await p.stop(graceMs);
    if (this.childPid !== null && pidAlive(this.childPid)) {
      await waitFor(() => !pidAlive(this.childPid!), graceMs, 25, 'the VRRP child to exit').catch(() => {
        try { process.kill(this.childPid!, 'SIGKILL'); } catch { /* gone */ }
      });
    }
  }

  logText(n = 40, p: LabProcess | undefined = this.proc): string {
    return `--- keepalived@${this.node} (${this.bin.version}) log:\n${this.lines(p).slice(-n).map((l) => l.text).join('\n')}`;
  }
}
