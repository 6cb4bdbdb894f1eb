#!/usr/bin/env node
// Guest side of test/vm/daemon-ipvs.test.ts: two `vrrpd run` directors (dist/cli.js) in network namespaces of the VM,
// with an LVS-DR virtual service, the IPVS sync daemon on the crossover, a real server and a client holding one TCP
// connection through the VIP across a failover and a failback. Cross-checked with ipvsadm in each namespace.
// Prints "CHECK <name> ok" / "CHECK <name> FAIL <reason>", "INFO ..." lines, then "DONE <failures>"; exits with the count.
//
// Why LVS-DR: the director only sees the client's packets (the real server answers the client directly), the
// director's TCP state goes SYN_RECV -> ESTABLISHED on the client's ACK, and the sync daemon copies ESTABLISHED
// connections. After a failover the new MASTER has no socket on VIP:80; without a synced entry the client's next
// segment would hit its local stack and be answered by a RST. With the entry, IPVS forwards it to the same real
// server and the connection lives on: the echo through the new MASTER is the proof that the sync daemon worked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, check, control, fail, failures, run, since, sleep, waitFor, Proc } from './lib.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist/cli.js');
const GUEST = fileURLToPath(new URL('./', import.meta.url));
const NODE = process.execPath;
const VIP = '192.168.1.250';
const REAL = '192.168.1.10';
const XOVER = { lvs1: '172.16.1.251', lvs2: '172.16.1.252' };
const MAC = { lvs1: '02:00:00:00:01:00', lvs2: '02:00:00:00:02:00' };
const DIR = mkdtempSync(join(tmpdir(), 'daemon-ipvs-'));

// ------------------------------------------------------------------------------------------------ helpers


const inNs = (ns, cmd, ...args) => run('ip', ['netns', 'exec', ns, cmd, ...args]);
async function sh(ns, cmd, ...args) {
  const r = await inNs(ns, cmd, ...args);
  if (r.code !== 0) throw new Error(`${ns}: ${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const ipvsadm = (ns, ...args) => sh(ns, 'ipvsadm', ...args);


/** `ipvsadm -Ln` as Map key → { scheduler, extra, dests: Map "addr:port" → [forward, weight] } (key as in reconcile.ts serviceKey). */
async function ipvsTable(ns) {
  const table = new Map();
  let cur = null;
  for (const line of (await ipvsadm(ns, '-Ln')).split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(IPv6\s+)?(\S+)(.*)$/.exec(line);
    if (s) {
      const [, proto, where, v6, scheduler, extra] = s;
      cur = { scheduler, extra: extra.trim(), dests: new Map() };
      table.set(proto === 'FWM' ? `fwmark:${v6 ? 6 : 4}:${where}` : `${proto.toLowerCase()}:${where}`, cur);
      continue;
    }
    const d = /^\s+->\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line);
    if (d && cur && d[1] !== 'RemoteAddress:Port') cur.dests.set(d[1], [d[2], d[3]]);
  }
  return table;
}
const tableText = (t) => [...t].map(([k, s]) => `${k} ${s.scheduler}${s.extra ? ` ${s.extra}` : ''} [${[...s.dests].map(([d, v]) => `${d} ${v.join(' ')}`).join(', ')}]`).join('; ');

/** `ipvsadm -L --daemon`: [{ state, interface, syncId }]. */
async function syncDaemons(ns) {
  const out = await ipvsadm(ns, '-L', '--daemon');
  return [...out.matchAll(/^(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+)/gm)].map((m) => ({ state: m[1], interface: m[2], syncId: Number(m[3]) }));
}
const daemonsText = (ds) => ds.map((d) => `${d.state}:${d.interface}/${d.syncId}`).join(',') || 'none';

/** `ipvsadm -Lnc`: [{ state, source, virtual, dest }]. */
async function connections(ns) {
  const out = await ipvsadm(ns, '-Lnc');
  return [...out.matchAll(/^(TCP|UDP)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/gm)].map((m) => ({ proto: m[1], state: m[2], source: m[3], virtual: m[4], dest: m[5] }));
}

async function vipsOn(ns) {
  const out = await sh(ns, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0');
  return [...out.matchAll(/\binet (\S+)/g)].map((m) => m[1].split('/')[0]);
}



// ------------------------------------------------------------------------------------------------ configs

/** A director's config: vi_100 on the crossover (eth1), the VIP on eth0, two virtual servers, the sync daemon on eth1. */
function directorConfig(node, { virtualServers } = {}) {
  const vs = virtualServers ?? `
  web:
    address: ${VIP}
    port: 80
    protocol: tcp
    scheduler: wlc
    forwarding: dr
    instance: vi_100
    realServers:
      - address: ${REAL}
        weight: 10
  fwm-100:
    fwmark: 100
    scheduler: rr
    persistence: 60s
    instance: vi_100
    realServers:
      - address: ${REAL}
        weight: 5`;
  return `global:
  routerId: ${node.toUpperCase()}
instances:
  vi_100:
    interface: eth1
    vrid: 100
    version: 2
    priority: ${node === 'lvs1' ? 100 : 90}
    state: BACKUP
    preempt: false           # keepalived nopreempt, as the seed: a restarted lvs1 stays BACKUP until the failback
    advertInterval: 1s
    garp:
      masterDelay: 1s
    vips:
      - ${VIP} dev eth0
ipvs:
  onBackup: remove
  syncDaemon:
    interface: eth1
    syncId: 100
virtualServers:${vs}
`;
}
function writeConf(name, text) {
  const p = join(DIR, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}
const sockOf = (node) => join(DIR, `${node}.sock`);

// ------------------------------------------------------------------------------------------------ the scenario

const daemons = {};
const allDaemons = [];
let echoServer = null;
let client = null;
let clientAddr = null;

function startDirector(node, conf) {
  const p = new Proc(node, `vrrpd@${node}`, NODE, [CLI, 'run', '-f', conf, '--socket', sockOf(node), '--log-level', 'info']);
  daemons[node] = p;
  allDaemons.push([node, p]);
  return p;
}
async function instanceOf(node) {
  const st = await control(sockOf(node), { cmd: 'status' });
  return { st, inst: st.instances.find((i) => i.name === 'vi_100') };
}
async function waitState(node, state, timeoutMs, extra = () => true) {
  return waitFor(`${node} ${state}`, async () => {
    if (!daemons[node].running) throw new Error(`vrrpd@${node} exited ${daemons[node].code ?? daemons[node].signal}: ${daemons[node].lines.slice(-5).join(' | ')}`);
    const r = await instanceOf(node);
    return r.inst.state === state && extra(r) ? r : null;
  }, timeoutMs, 250);
}
/** `vrrpd status --json` through the CLI, as an operator would run it (in the director's namespace). */
async function cliStatus(node) {
  const r = await inNs(node, NODE, CLI, 'status', '--json', '--socket', sockOf(node));
  assert(r.code === 0, `vrrpd status --json on ${node} exit ${r.code}`, r.stderr);
  return JSON.parse(r.stdout);
}
/** Send a line on the client's connection and wait for its echo. */
async function echo(text, timeoutMs = 30_000) {
  const from = client.lines.length;
  client.write(text);
  const l = await client.waitLine(new RegExp(`^(GOT echo ${text}|CLOSED .*)$`), timeoutMs, from);
  assert(l === `GOT echo ${text}`, `echo of "${text}"`, l);
}
const ourConn = (c) => c.proto === 'TCP' && c.source === clientAddr && c.virtual === `${VIP}:80` && c.dest === `${REAL}:80`;

/** The MASTER's side: its services and the foreign one in ipvsadm and in status.ipvs, the master sync daemon, the VIP. */
async function assertMaster(node, foreignKey) {
  const t = await ipvsTable(node);
  const web = t.get(`tcp:${VIP}:80`);
  assert(web && web.scheduler === 'wlc' && web.dests.get(`${REAL}:80`)?.join() === 'Route,10', `${node}: ipvsadm shows TCP ${VIP}:80 wlc -> ${REAL}:80 Route 10`, tableText(t));
  const fwm = t.get('fwmark:4:100');
  assert(fwm && fwm.scheduler === 'rr' && fwm.extra === 'persistent 60' && fwm.dests.get(`${REAL}:0`)?.join() === 'Route,5', `${node}: ipvsadm shows FWM 100 rr persistent 60 -> ${REAL}:0 Route 5`, tableText(t));
  assert(t.has(foreignKey), `${node}: the foreign service ${foreignKey} is still there`, tableText(t));
  assert(t.size === 3, `${node}: exactly our two services and the foreign one`, tableText(t));
  const ds = await syncDaemons(node);
  assert(daemonsText(ds) === 'master:eth1/100', `${node}: only the master sync daemon on eth1 syncid 100`, daemonsText(ds));
  const st = await cliStatus(node);
  const inst = st.instances.find((i) => i.name === 'vi_100');
  assert(inst.state === 'MASTER', `${node}: vrrpd status says MASTER`, inst.state);
  assert(st.ipvs?.available === true && st.ipvs.syncRole === 'master' && st.ipvs.error === null, `${node}: status.ipvs available, syncRole master, no error`, st.ipvs);
  const svc = new Map(st.ipvs.services.map((s) => [s.service, s]));
  const web2 = svc.get(`tcp ${VIP}:80`);
  assert(web2 && web2.scheduler === 'wlc' && web2.dests.length === 1 && web2.dests[0].address === REAL && web2.dests[0].port === 80 &&
    web2.dests[0].forwarding === 'dr' && web2.dests[0].weight === 10, `${node}: status.ipvs has tcp ${VIP}:80`, st.ipvs.services);
  const fwm2 = svc.get('fwmark 100');
  assert(fwm2 && fwm2.scheduler === 'rr' && fwm2.persistent === true && fwm2.timeout === 60, `${node}: status.ipvs has fwmark 100`, st.ipvs.services);
  const vips = await vipsOn(node);
  assert(vips.includes(VIP), `${node}: holds the VIP`, vips);
  console.log(`INFO ${node} MASTER: ipvsadm ${tableText(t)}; daemons ${daemonsText(ds)}; status.ipvs.services ${st.ipvs.services.map((s) => s.service).join(', ')}`);
  return st;
}

/** The BACKUP's side: none of our services (onBackup: remove), the foreign one kept, the backup sync daemon, no VIP. */
async function assertBackup(node, foreignKey) {
  const t = await ipvsTable(node);
  assert(t.size === 1 && t.has(foreignKey), `${node}: only the foreign service ${foreignKey}`, tableText(t));
  const ds = await syncDaemons(node);
  assert(daemonsText(ds) === 'backup:eth1/100', `${node}: only the backup sync daemon on eth1 syncid 100`, daemonsText(ds));
  const st = await cliStatus(node);
  const inst = st.instances.find((i) => i.name === 'vi_100');
  assert(inst.state === 'BACKUP', `${node}: vrrpd status says BACKUP`, inst.state);
  assert(st.ipvs?.available === true && st.ipvs.syncRole === 'backup' && st.ipvs.error === null, `${node}: status.ipvs syncRole backup`, st.ipvs);
  assert(!st.ipvs.services.some((s) => s.service === `tcp ${VIP}:80` || s.service === 'fwmark 100'), `${node}: status.ipvs lists none of our services`, st.ipvs.services);
  const vips = await vipsOn(node);
  assert(!vips.includes(VIP), `${node}: does not hold the VIP`, vips);
  console.log(`INFO ${node} BACKUP: ipvsadm ${tableText(t)}; daemons ${daemonsText(ds)}; status.ipvs.services ${st.ipvs.services.map((s) => s.service).join(', ') || '-'}`);
}

async function main() {
  await check('net', async () => {
    const r = await run('bash', [join(GUEST, 'netns-lab.sh')]);
    assert(r.code === 0 && /NET ready/.test(r.stdout), 'netns-lab.sh', r.stderr);
    for (const ns of ['lvs1', 'lvs2', 'client', 'real']) await sh(ns, 'modprobe', 'ip_vs'); // loaded by init; harmless
    // Foreign services, added by hand: vrrpd must never touch them.
    await ipvsadm('lvs1', '-A', '-t', '10.99.0.1:8080', '-s', 'rr');
    await ipvsadm('lvs1', '-a', '-t', '10.99.0.1:8080', '-r', '10.98.0.1:8080', '-m', '-w', '3');
    await ipvsadm('lvs2', '-A', '-f', '999', '-s', 'sh');
    await ipvsadm('lvs2', '-a', '-f', '999', '-r', '10.98.0.2', '-g', '-w', '2');
    echoServer = new Proc('real', 'echo@real', NODE, [join(GUEST, 'tcp-echo.mjs'), 'server', '80']);
    await echoServer.waitLine(/^LISTENING 80$/, 30_000);
  });

  // IPVS is per network namespace: the root namespace and the others see nothing of lvs1's and lvs2's tables.
  await check('per-namespace', async () => {
    for (const ns of ['client', 'real']) {
      const t = await ipvsTable(ns);
      assert(t.size === 0, `${ns} has no services`, tableText(t));
    }
    const root = await run('ipvsadm', ['-Ln']);
    assert(root.code === 0 && !/^(TCP|UDP|FWM)/m.test(root.stdout), 'the root namespace has no services', root.stdout);
    assert(tableText(await ipvsTable('lvs1')) === 'tcp:10.99.0.1:8080 rr [10.98.0.1:8080 Masq 3]', 'lvs1 has only its foreign service', tableText(await ipvsTable('lvs1')));
    assert(tableText(await ipvsTable('lvs2')) === 'fwmark:4:999 sh [10.98.0.2:0 Route 2]', 'lvs2 has only its foreign service', tableText(await ipvsTable('lvs2')));
  });

  // ---- bad input from the config: refused by `vrrpd check` and `vrrpd run` (exit 1), nothing touched -------------
  const bad = {
    'bad-scheduler': { vs: `\n  web:\n    address: ${VIP}\n    port: 80\n    scheduler: nosuch\n    realServers:\n      - address: ${REAL}`, re: /scheduler/ },
    'bad-port': { vs: `\n  web:\n    address: ${VIP}\n    port: 70000\n    realServers:\n      - address: ${REAL}`, re: /port/ },
    // A port the schema takes but IPVS cannot do: DR cannot remap the port (ipvsadm refuses it too).
    'bad-dr-port': { vs: `\n  web:\n    address: ${VIP}\n    port: 80\n    forwarding: dr\n    realServers:\n      - address: ${REAL}\n        port: 8080`, re: /8080/ },
  };
  const snapshot = async () => JSON.stringify([tableText(await ipvsTable('lvs1')), daemonsText(await syncDaemons('lvs1')), await vipsOn('lvs1')]);
  const before = await snapshot().catch((e) => String(e));
  const runs = {};
  await Promise.all(Object.entries(bad).map(async ([name, b]) => {
    const conf = writeConf(name, directorConfig('lvs1', { virtualServers: b.vs }));
    const [chk, rn] = await Promise.all([
      inNs('lvs1', NODE, CLI, 'check', '-f', conf),
      run('ip', ['netns', 'exec', 'lvs1', NODE, CLI, 'run', '-f', conf, '--socket', sockOf(`bad-${name}`)], 60_000),
    ]);
    runs[name] = { chk, rn };
  }));
  const after = await snapshot().catch((e) => String(e));
  for (const [name, b] of Object.entries(bad)) {
    const { chk, rn } = runs[name];
    const one = (s) => s.trim().replace(/\n/g, ' | ');
    console.log(`INFO ${name}: vrrpd check exit ${chk.code}: ${one(chk.stdout + chk.stderr)}`);
    console.log(`INFO ${name}: vrrpd run exit ${rn.code}: ${one(rn.stdout + rn.stderr).slice(0, 600)}`);
    await check(`${name}-check`, () => {
      assert(chk.code === 1, 'vrrpd check exits 1', { code: chk.code, out: chk.stdout + chk.stderr });
      assert(b.re.test(chk.stderr), `the error names the problem (${b.re})`, chk.stderr);
    });
    await check(`${name}-run`, () => {
      assert(rn.code === 1, 'vrrpd run exits 1', { code: rn.code, out: (rn.stdout + rn.stderr).slice(0, 800) });
      assert(b.re.test(rn.stdout + rn.stderr), `the error names the problem (${b.re})`, rn.stdout + rn.stderr);
      assert(after === before, 'nothing touched in lvs1: IPVS table, sync daemons, addresses', { before, after });
    });
  }

  // ---- lvs1 MASTER, lvs2 BACKUP ---------------------------------------------------------------------------------
  const conf1 = writeConf('lvs1', directorConfig('lvs1'));
  const conf2 = writeConf('lvs2', directorConfig('lvs2'));
  await check('election', async () => {
    startDirector('lvs1', conf1);
    // lvs2 starts once lvs1 answers (started, waiting out its Master_Down_Interval): lvs1 wins by time as by priority.
    await waitFor('vrrpd@lvs1 to answer', () => instanceOf('lvs1'), 60_000, 250);
    startDirector('lvs2', conf2);
    const m = await waitState('lvs1', 'MASTER', 30_000);
    await waitState('lvs2', 'BACKUP', 60_000, (r) => r.inst.master === XOVER.lvs1);
    console.log(`INFO election: lvs1 MASTER (${m.inst.reason}), lvs2 BACKUP of ${XOVER.lvs1}`);
  });
  await check('master-lvs1', () => assertMaster('lvs1', 'tcp:10.99.0.1:8080'));
  await check('backup-lvs2', () => assertBackup('lvs2', 'fwmark:4:999'));

  // ---- a client's connection through the VIP, synced to the backup -----------------------------------------------
  await check('conn-established', async () => {
    client = new Proc('client', 'client', NODE, [join(GUEST, 'tcp-echo.mjs'), 'client', VIP, '80'], 'pipe');
    const l = await client.waitLine(/^(CONNECTED|CLOSED)/, 30_000);
    assert(l.startsWith('CONNECTED'), 'connected to the VIP', l);
    clientAddr = l.split(' ')[1];
    await echo('one');
    const c = (await connections('lvs1')).filter(ourConn);
    assert(c.length === 1 && c[0].state === 'ESTABLISHED', `lvs1 has ${clientAddr} -> ${VIP}:80 -> ${REAL}:80 ESTABLISHED`, await connections('lvs1'));
    const neigh = await sh('client', 'ip', 'neigh', 'show', VIP);
    assert(neigh.includes(MAC.lvs1), "the client's ARP entry for the VIP is lvs1's eth0", neigh);
  });
  await check('conn-synced-lvs2', async () => {
    const t = performance.now();
    const c = await waitFor('the connection in lvs2\'s table (sync daemon)', async () => (await connections('lvs2')).find(ourConn), 30_000, 250);
    assert(c.state === 'ESTABLISHED', 'synced as ESTABLISHED', c);
    const t2 = await ipvsTable('lvs2');
    assert(!t2.has(`tcp:${VIP}:80`), 'lvs2 still has no service for it (the entry came from the sync daemon)', tableText(t2));
    console.log(`INFO lvs2 -Lnc after ${((performance.now() - t) / 1000).toFixed(1)} s: ${c.proto} ${c.state} ${c.source} ${c.virtual} ${c.dest}`);
  });

  // ---- failover: SIGTERM lvs1 (priority 0) ------------------------------------------------------------------------
  await check('failover-lvs2', async () => {
    const t = performance.now();
    daemons.lvs1.kill('SIGTERM');
    const code = await Promise.race([daemons.lvs1.exited, sleep(30_000).then(() => 'timeout')]);
    assert(code === 0, 'vrrpd@lvs1 exits 0 on SIGTERM', { code, tail: daemons.lvs1.lines.slice(-5) });
    const m = await waitState('lvs2', 'MASTER', 30_000);
    console.log(`INFO failover: lvs2 MASTER (${m.inst.reason}) ${((performance.now() - t) / 1000).toFixed(1)} s after the SIGTERM (guest time)`);
    await waitFor('the VIP on lvs2', async () => (await vipsOn('lvs2')).includes(VIP), 20_000);
    await assertMaster('lvs2', 'fwmark:4:999');
  });
  await check('stop-cleanup-lvs1', async () => {
    const t = await ipvsTable('lvs1');
    assert(tableText(t) === 'tcp:10.99.0.1:8080 rr [10.98.0.1:8080 Masq 3]', 'lvs1 keeps only the foreign service, intact', tableText(t));
    const ds = await syncDaemons('lvs1');
    assert(ds.length === 0, 'no sync daemon left on lvs1', daemonsText(ds));
    assert(!(await vipsOn('lvs1')).includes(VIP), 'lvs1 released the VIP');
  });
  await check('conn-survives-failover', async () => {
    await waitFor("the client's ARP entry for the VIP to point at lvs2 (GARP)", async () => (await sh('client', 'ip', 'neigh', 'show', VIP)).includes(MAC.lvs2), 20_000);
    await echo('two');
    const c = (await connections('lvs2')).find(ourConn);
    assert(c && c.state === 'ESTABLISHED', 'lvs2 forwards the connection (ESTABLISHED)', await connections('lvs2'));
    const l = client.lines.find((x) => x.startsWith('CLOSED'));
    assert(!l, 'the client connection never closed', l);
  });

  // ---- lvs1 comes back (BACKUP: nopreempt), gets the connection from lvs2's sync daemon; then the failback --------
  await check('restart-lvs1-backup', async () => {
    startDirector('lvs1', conf1);
    await waitState('lvs1', 'BACKUP', 60_000, (r) => r.inst.master === XOVER.lvs2 && r.st.ipvs?.syncRole === 'backup');
    await assertBackup('lvs1', 'tcp:10.99.0.1:8080');
  });
  await check('conn-synced-lvs1', async () => {
    await echo('three'); // a packet through lvs2 (MASTER) after lvs1's backup sync daemon started
    const c = await waitFor("the connection in lvs1's table (sync daemon)", async () => (await connections('lvs1')).find(ourConn), 30_000, 250);
    assert(c.state === 'ESTABLISHED', 'synced as ESTABLISHED', c);
  });
  await check('failback-lvs1', async () => {
    const y = await inNs('lvs2', NODE, CLI, 'yield', '--socket', sockOf('lvs2'));
    console.log(`INFO vrrpd yield on lvs2: exit ${y.code}: ${(y.stdout + y.stderr).trim()}`);
    assert(y.code === 0, 'vrrpd yield exits 0', y.stdout + y.stderr);
    await waitState('lvs1', 'MASTER', 30_000);
    await waitState('lvs2', 'BACKUP', 30_000, (r) => r.st.ipvs?.syncRole === 'backup');
    await waitFor('the VIP on lvs1', async () => (await vipsOn('lvs1')).includes(VIP), 20_000);
    await assertMaster('lvs1', 'tcp:10.99.0.1:8080');
    await assertBackup('lvs2', 'fwmark:4:999');
  });
  await check('conn-survives-failback', async () => {
    await waitFor("the client's ARP entry for the VIP to point at lvs1 (GARP)", async () => (await sh('client', 'ip', 'neigh', 'show', VIP)).includes(MAC.lvs1), 20_000);
    await echo('four');
    const l = client.lines.find((x) => x.startsWith('CLOSED'));
    assert(!l, 'the client connection never closed', l);
  });

  // ---- stop both: only the foreign services remain, no sync daemon ----------------------------------------------
  await check('stop-both', async () => {
    for (const n of ['lvs1', 'lvs2']) daemons[n].kill('SIGTERM');
    for (const n of ['lvs1', 'lvs2']) {
      const code = await Promise.race([daemons[n].exited, sleep(30_000).then(() => 'timeout')]);
      assert(code === 0, `vrrpd@${n} exits 0`, code);
    }
    assert(tableText(await ipvsTable('lvs1')) === 'tcp:10.99.0.1:8080 rr [10.98.0.1:8080 Masq 3]', 'lvs1: the foreign service only', tableText(await ipvsTable('lvs1')));
    assert(tableText(await ipvsTable('lvs2')) === 'fwmark:4:999 sh [10.98.0.2:0 Route 2]', 'lvs2: the foreign service only', tableText(await ipvsTable('lvs2')));
    for (const n of ['lvs1', 'lvs2']) assert((await syncDaemons(n)).length === 0, `${n}: no sync daemon`, daemonsText(await syncDaemons(n)));
  });
}

try {
  await main();
} catch (e) {
  fail('scenario', e);
}
client?.kill();
echoServer?.kill();
for (const p of Object.values(daemons)) p.kill('SIGKILL');
if (failures() > 0 || process.env.DAEMON_IPVS_DEBUG) {
  for (const [n, p] of allDaemons) for (const l of p.lines) console.log(`LOG ${n} ${l}`);
  for (const l of client?.lines ?? []) console.log(`LOG client ${l}`);
  console.log(`DMESG ${(await run('dmesg', [])).stdout.split('\n').slice(-15).join(' | ')}`);
}
console.log(`INFO guest scenario ${since()}`);
console.log(`DONE ${failures()}`);
process.exit(failures());
