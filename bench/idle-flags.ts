// Idle CPU under V8 flag variants: an idle vrrpd pair (1 instance, VRRPv2, 1 s) per variant, all threads' schedstat over a window.
// Usage: node build/bench/bench/idle-flags.js [--warm S] [--window S] [--rounds N] -- 'FLAGS' 'FLAGS' ...  ('' = none)
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { topo } from './lib/lab.js';

const { values, positionals } = parseArgs({
  options: { warm: { type: 'string', default: '30' }, window: { type: 'string', default: '45' }, rounds: { type: 'string', default: '2' } },
  allowPositionals: true,
});
const WARM = Number(values.warm);
const WINDOW = Number(values.window);
const variants = positionals.length ? positionals : [''];

/** On-CPU ns and run count over every thread of a process. */
function cpu(pid: number): { ns: number; runs: number } {
  let ns = 0;
  let runs = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ');
      ns += Number(f[0]);
      runs += Number(f[2]);
    } catch { /* a thread that ended */ }
  }
  return { ns, runs };
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

if (process.getuid?.() !== 0) throw new Error('root only (network namespaces)');
await topo.reapOrphanLabs();
console.log(`idle-flags: warm-up ${WARM} s, window ${WINDOW} s, ${values.rounds} round(s); CPU s/min, wake-ups/s, RSS (all threads)`);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const v of variants) {
    const flags = v.split(/\s+/).filter(Boolean);
    const lab = await topo.createLab();
    try {
      const pids: Record<string, number> = {};
      for (const n of ['lvs1', 'lvs2'] as const) {
        const conf = lab.writeConfig(n, topo.labConfig(n, { version: 2, advertInterval: '1s' }));
        const p = lab.spawnIn(n, [process.execPath, ...flags, topo.CLI, 'run', '-f', conf, '--socket', lab.socketPath(n), '--log-level', 'warn'], `vrrpd@${n}`);
        await topo.sleep(2500);
        pids[n] = p.pid!;
      }
      await topo.sleep(WARM * 1000);
      const a = { lvs1: cpu(pids.lvs1!), lvs2: cpu(pids.lvs2!) };
      await topo.sleep(WINDOW * 1000);
      const b = { lvs1: cpu(pids.lvs1!), lvs2: cpu(pids.lvs2!) };
      const per = (n: 'lvs1' | 'lvs2') => `${((b[n].ns - a[n].ns) / 1e9 / WINDOW * 60).toFixed(3)} s/min ${((b[n].runs - a[n].runs) / WINDOW).toFixed(1)}/s ${rssMb(pids[n]!).toFixed(1)} MB`;
      console.log(`[${v || 'none'}] MASTER ${per('lvs1')} | BACKUP ${per('lvs2')} | load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
    } finally {
      await lab.destroy();
    }
  }
}
