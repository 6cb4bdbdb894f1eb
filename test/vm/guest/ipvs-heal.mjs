#!/usr/bin/env node
// Guest side of test/vm/ipvs-heal.test.ts: one `vrrpd run` MASTER in a namespace of the VM with a virtual service and the
// IPVS sync daemon; someone runs ipvsadm -C / -D / -e / --stop-daemon behind its back; the audit (ipvs.auditInterval)
// restores each. Then the audit's cost when nothing changed: the daemon's CPU time with a 300-service table, audit on
// (every 200 ms) against off. Prints "CHECK <name> ok|FAIL ...", "INFO ...", then "DONE <failures>"; exits with the count.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, failures, run, sleep } from './lib.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist/cli.js');
const VIP = '192.168.1.250';
const DIR = mkdtempSync(join(tmpdir(), 'ipvs-heal-'));
const SOCK = join(DIR, 'vrrpd.sock');
const CONF = join(DIR, 'vrrpd.yaml');

async function sh(cmd, ...args) {
  const r = await run('ip', ['netns', 'exec', 'lvs', cmd, ...args]);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
async function waitFor(what, f, timeoutMs, everyMs = 50) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => null);
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
const table = () => sh('ipvsadm', '-Ln');
const daemons = () => sh('ipvsadm', '-L', '--daemon');
const hasService = async () => /TCP\s+192\.168\.1\.250:80 wlc/.test(await table());
const weightOf = async (rs) => Number(new RegExp(`-> ${rs.replace(/\./g, '\\.')}\\s+\\S+\\s+(\\d+)`).exec(await table())?.[1]);

function config(audit, extraServices = 0) {
  let vs = `  web:\n    address: ${VIP}\n    port: 80\n    scheduler: wlc\n    forwarding: nat\n    realServers:\n`
    + '      - { address: 10.0.0.1, port: 80, weight: 1 }\n      - { address: 10.0.0.2, port: 80, weight: 2 }\n';
  for (let i = 0; i < extraServices; i++) {
    vs += `  s${i}:\n    address: 10.9.${i >> 8}.${i & 255}\n    port: 80\n    forwarding: nat\n    realServers:\n`;
    for (let j = 1; j <= 4; j++) vs += `      - { address: 10.8.${i >> 8}.${(i & 255)}, port: ${8000 + j} }\n`;
  }
  return `global:\n  controlSocket: ${SOCK}\nipvs:\n  auditInterval: ${audit}\n  syncDaemon: { interface: eth1, syncId: 9 }\n`
    + `instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    version: 3\n    priority: 100\n    advertInterval: 100ms\n    vips: [ "${VIP}/32 dev eth0" ]\n`
    + `virtualServers:\n${vs}`;
}
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ 100
};

await run('ip', ['netns', 'add', 'lvs']);
for (const c of [['link', 'add', 'eth0', 'type', 'dummy'], ['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'peer1'],
  ['addr', 'add', '192.168.1.251/24', 'dev', 'eth0'], ['addr', 'add', '172.16.1.251/24', 'dev', 'eth1'],
  ['link', 'set', 'eth0', 'up'], ['link', 'set', 'eth1', 'up'], ['link', 'set', 'peer1', 'up'], ['link', 'set', 'lo', 'up']]) await sh('ip', ...c);

writeFileSync(CONF, config('1s'));
const d = spawn('ip', ['netns', 'exec', 'lvs', process.execPath, CLI, 'run', '-f', CONF, '--socket', SOCK, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
const log = [];
d.stdout.on('data', (b) => log.push(...String(b).split('\n').filter(Boolean)));
d.stderr.on('data', (b) => log.push(...String(b).split('\n').filter(Boolean)));

await check('master', () => waitFor('MASTER with its service and the master sync daemon', async () => (await hasService()) && /master sync daemon/.test(await daemons()), 120_000)
  .catch((e) => { throw new Error(`${e.message}; vrrpd exit ${d.exitCode}; log: ${log.slice(-8).join(' | ')}`); }));

const restored = async (name, breakIt, ok) => check(name, async () => {
  const t = performance.now();
  await breakIt();
  await waitFor(`${name} undone`, ok, 10_000, 20);
  console.log(`INFO ${name}: restored after ${(performance.now() - t).toFixed(0)} ms (audit every 1 s)`);
});
await restored('flush', () => sh('ipvsadm', '-C'), async () => (await hasService()) && (await weightOf('10.0.0.2:80')) === 2);
await restored('delete-service', () => sh('ipvsadm', '-D', '-t', `${VIP}:80`), hasService);
await restored('edit-dest', () => sh('ipvsadm', '-e', '-t', `${VIP}:80`, '-r', '10.0.0.1:80', '-m', '-w', '9'), async () => (await weightOf('10.0.0.1:80')) === 1);
await restored('edit-service', () => sh('ipvsadm', '-E', '-t', `${VIP}:80`, '-s', 'rr'), hasService);
await restored('stop-daemon', () => sh('ipvsadm', '--stop-daemon', 'master'), async () => /master sync daemon \(mcast=eth1, syncid=9/.test(await daemons()));
await check('logged-counted', async () => {
  const st = JSON.parse((await run('ip', ['netns', 'exec', 'lvs', process.execPath, CLI, 'status', '--json', '--socket', SOCK])).stdout);
  if (st.ipvs.restores !== 5) throw new Error(`status.ipvs.restores ${st.ipvs.restores}, want 5`);
  const n = log.filter((l) => l.includes('altered from outside')).length;
  if (n !== 5) throw new Error(`${n} "altered from outside" lines, want 5: ${log.slice(-5).join(' | ')}`);
});

// The cost of an audit when nothing changed: CPU time over 10 s, audit every 200 ms against off, 300 more services.
await check('audit-cost', async () => {
  const measure = async (audit) => {
    writeFileSync(CONF, config(audit, 300));
    d.kill('SIGHUP');
    await waitFor('the 301 services', async () => (await table()).split('\n').filter((l) => /^TCP/.test(l)).length === 301, 60_000, 200);
    await sleep(2000);
    const c0 = cpuMs(d.pid);
    await sleep(10_000);
    return cpuMs(d.pid) - c0;
  };
  const on = await measure('200ms');
  const off = await measure('0');
  // Audits are paced to at most 5 % of the time (src/daemon/services.ts nextAuditAt): fewer than 50 may run.
  console.log(`INFO audit-cost: 301 services, 1202 real servers: CPU over 10 s ${on.toFixed(0)} ms with ipvs.auditInterval 200 ms (paced to at most 5 % of the time), ${off.toFixed(0)} ms without: ${((on - off) / 100).toFixed(1)} % of a CPU for the audits (TCG emulation; a native box is several times faster)`);
});

d.kill('SIGTERM');
await new Promise((r) => d.on('exit', r));
console.log(`DONE ${failures()}`);
process.exit(failures());
