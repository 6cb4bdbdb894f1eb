// bench/ipvs-takeover, guest side (in the test VM, as root): two `vrrpd run` directors in network namespaces
// (test/vm/guest/netns-lab.sh) with the big generated table on one instance; lvs1 MASTER, lvs2 BACKUP with ipvs.onBackup
// = BENCH_ON_BACKUP; then lvs1 dies (SIGKILL, its LAN link down) and lvs2's takeover is timed: the fault -> the VIP on
// lvs2's eth0 (`ip monitor address`) and -> lvs2's first GARP on the LAN (tcpdump in the client's namespace).
// Prints "PROGRESS ..." lines and one "RESULT {json}" line.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateVirtualServers, DEFAULT_DESTS, DEFAULT_SERVICES } from './ipvs-table.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? DEFAULT_SERVICES);
const DESTS = Number(process.env.BENCH_DESTS ?? DEFAULT_DESTS);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const ON_BACKUP = process.env.BENCH_ON_BACKUP === 'keep' ? 'keep' : 'remove';
const ADVERT_MS = Number(process.env.BENCH_ADVERT_MS ?? 1000);
const AUDIT_MS = Number(process.env.BENCH_AUDIT_MS ?? 2000);
const SELF = dirname(fileURLToPath(import.meta.url));
/** The repository root, above build/bench/bench. */
const REPO = join(SELF, '../../..');
const CLI = join(REPO, 'dist/cli.js');
const VIP = '192.168.1.250';
const LVS2_MAC = '02:00:00:00:02:00';
const DIR = mkdtempSync(join(tmpdir(), 'bench-takeover-'));

const progress = (m: string): void => console.log(`PROGRESS ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A process in a namespace, its output lines with their arrival times (performance.now). */
class Proc {
  readonly lines: { at: number; text: string }[] = [];
  readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  constructor(readonly label: string, ns: string, cmd: string, args: string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: s, crlfDelay: Infinity }).on('line', (text) => {
        this.lines.push({ at: performance.now(), text });
        for (const w of this.waiters.splice(0)) w();
      });
    }
    this.child.on('exit', () => { for (const w of this.waiters.splice(0)) w(); });
    procs.push(this);
  }

  /** The first line (from index `from`) for which f returns something, waited for up to timeoutMs. */
  async wait<T>(what: string, f: (l: { at: number; text: string }) => T | undefined, timeoutMs: number, from = 0): Promise<T> {
    const end = performance.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.lines.length; i++) {
        const v = f(this.lines[i]!);
        if (v !== undefined) return v;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`${this.label} exited waiting for ${what}: ${this.tail()}`);
      if (performance.now() > end) throw new Error(`${this.label}: no ${what} in ${timeoutMs} ms: ${this.tail()}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 500); });
    }
  }

  tail(): string {
    return this.lines.slice(-6).map((l) => l.text.slice(0, 300)).join(' | ');
  }
}

interface LogLine { time: string; msg: string; [k: string]: unknown }
const json = (text: string): LogLine | undefined => {
  if (!text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return undefined;
  }
};
/** A daemon log line whose msg starts with `msg` (or matches it), with the fields given. */
const logged = (msg: string | RegExp, fields: Record<string, unknown> = {}) => (l: { text: string }): LogLine | undefined => {
  const j = json(l.text);
  const hit = j && (typeof msg === 'string' ? j.msg.startsWith(msg) : msg.test(j.msg));
  return hit && Object.entries(fields).every(([k, v]) => j[k] === v) ? j : undefined;
};

function sh(ns: string, ...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${ns}: ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

function config(node: 'lvs1' | 'lvs2'): string {
  const vs = Object.fromEntries(Object.entries(generateVirtualServers(SERVICES, DESTS, SEED)).map(([k, v]) => [k, { ...v, instance: 'vi_1' }]));
  return JSON.stringify({
    global: { routerId: node.toUpperCase() },
    instances: {
      vi_1: {
        interface: 'eth1', vrid: 100, version: 3, priority: node === 'lvs1' ? 100 : 90, state: 'BACKUP', preempt: false,
        advertInterval: `${ADVERT_MS}ms`, garp: { masterDelay: '1s' }, vips: [`${VIP} dev eth0`],
      },
    },
    ipvs: { onBackup: ON_BACKUP, auditInterval: `${AUDIT_MS}ms`, syncDaemon: { interface: 'eth1', syncId: 100 } },
    virtualServers: vs,
  });
}

function director(node: 'lvs1' | 'lvs2'): Proc {
  const conf = join(DIR, `${node}.yaml`);
  writeFileSync(conf, config(node)); // JSON is YAML
  return new Proc(node, node, process.execPath, [CLI, 'run', '-f', conf, '--socket', join(DIR, `${node}.sock`), '--log-level', 'info']);
}

const since = (t0Wall: number, l: LogLine | undefined): number | null => (l ? Date.parse(l.time) - t0Wall : null);

async function main(): Promise<void> {
  const lab = spawnSync('bash', [join(REPO, 'test/vm/guest/netns-lab.sh')], { encoding: 'utf8' });
  if (lab.status !== 0) throw new Error(`netns-lab.sh: ${lab.stderr}`);
  progress(`${ON_BACKUP}: ${SERVICES} services / ${DESTS} real servers on vi_1; adverts every ${ADVERT_MS} ms, audit every ${AUDIT_MS} ms`);
  const TABLE = 120_000 + 600_000 * (DESTS / DEFAULT_DESTS);

  const lvs1 = director('lvs1');
  await lvs1.wait('MASTER', logged(/^vi_1: \S+ -> MASTER/), 120_000);
  const applied1 = await lvs1.wait('the table', logged('IPVS table reconciled'), TABLE);
  progress(`${ON_BACKUP}: lvs1 MASTER, table applied (${String(applied1.ops)} ops)`);
  const lvs2 = director('lvs2');
  await lvs2.wait('BACKUP', logged(/^vi_1: \S+ -> BACKUP/), 120_000);
  const t2 = performance.now();
  if (ON_BACKUP === 'keep') {
    const applied2 = await lvs2.wait('the table', logged('IPVS table reconciled'), TABLE);
    progress(`${ON_BACKUP}: lvs2 BACKUP, table applied (${String(applied2.ops)} ops) in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  } else {
    await lvs2.wait('the backup sync daemon', logged('IPVS sync daemon', { role: 'backup' }), 60_000);
    progress(`${ON_BACKUP}: lvs2 BACKUP, no table (backup sync daemon running)`);
  }

  const mon = new Proc('ip monitor', 'lvs2', 'ip', ['monitor', 'address', 'dev', 'eth0']);
  const dump = new Proc('tcpdump', 'client', 'tcpdump', ['-l', '-n', '-tt', '-i', 'eth0', 'arp', 'and', 'ether', 'src', LVS2_MAC]);
  await dump.wait('tcpdump to listen', (l) => (/listening on/.test(l.text) ? true : undefined), 30_000);
  await sleep(5000); // lvs1's GARP bursts are over; the pair is quiet
  const nMon = mon.lines.length;
  const nDump = dump.lines.length;
  const nLog = lvs2.lines.length;

  const t0 = performance.now();
  const t0Wall = Date.now();
  lvs1.child.kill('SIGKILL');
  // Its LAN side goes too (its VIP with it). Not the crossover: a veth whose peer goes down takes lvs2's carrier with
  // it, and lvs2 would go FAULT, not MASTER; a dead daemon sends no advert anyway.
  sh('lvs1', 'ip', 'link', 'set', 'eth0', 'down');
  const BOUND = 120_000 + 600_000 * (DESTS / DEFAULT_DESTS);
  const vipAt = await mon.wait('the VIP', (l) => (!l.text.startsWith('Deleted') && l.text.includes(`inet ${VIP}/`) ? l.at : undefined), BOUND, nMon);
  const garpTs = await dump.wait('a GARP', (l) => {
    const m = /^(\d+\.\d+) .*(tell|Reply) 192\.168\.1\.250\b/.exec(l.text);
    return m ? Number(m[1]) * 1000 : undefined;
  }, 30_000, nDump);
  const master = await lvs2.wait('MASTER', logged('vi_1: BACKUP -> MASTER'), 10_000, nLog);
  const daemon = await lvs2.wait('the master sync daemon', logged('IPVS sync daemon', { role: 'master' }), 60_000, nLog);
  const reconciled = lvs2.lines.slice(nLog).map((l) => logged('IPVS table reconciled')(l)).find(Boolean);
  const services = sh('lvs2', 'ipvsadm', '-Ln').split('\n').filter((l) => /^(TCP|UDP|FWM)/.test(l)).length;
  if (services !== SERVICES) throw new Error(`lvs2 has ${services} services after the takeover, not ${SERVICES}`);
  const result = {
    onBackup: ON_BACKUP, services: SERVICES, dests: DESTS, advertMs: ADVERT_MS,
    faultToMasterMs: since(t0Wall, master),
    faultToVipMs: vipAt - t0,
    faultToGarpMs: garpTs - t0Wall,
    masterToVipMs: vipAt - t0 - (since(t0Wall, master) ?? 0),
    /** The table work at the takeover, as logged (none when nothing was to do). */
    takeoverOps: (reconciled?.ops as number | undefined) ?? 0,
    faultToTableLogMs: since(t0Wall, reconciled),
    /** The backup -> master sync daemon switch: its own duration, and when it ended. */
    syncDaemonMs: daemon.ms as number,
    faultToSyncDaemonMs: since(t0Wall, daemon),
  };
  progress(`${ON_BACKUP}: fault -> VIP ${(result.faultToVipMs / 1000).toFixed(2)} s, -> first GARP ${(result.faultToGarpMs / 1000).toFixed(2)} s`);
  lvs2.child.kill('SIGTERM');
  mon.child.kill();
  dump.child.kill();
  console.log(`RESULT ${JSON.stringify(result)}`);
}

const procs: Proc[] = [];
await main().catch((e: Error) => {
  console.log(`ERROR ${e.stack ?? e.message}`);
  for (const p of procs) for (const l of p.lines.slice(-15)) console.log(`LOG ${p.label} ${l.text.slice(0, 400)}`);
  process.exitCode = 1;
});
process.exit();
