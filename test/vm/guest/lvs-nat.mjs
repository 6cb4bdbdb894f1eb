#!/usr/bin/env node
// Guest side of test/vm/lvs-nat.test.ts: the LVS-NAT director pair of issue 9 on a real kernel. Two `vrrpd run`
// (dist/cli.js) with a two-member sync group: vi_pub holds the public VIP on the LAN (eth0), vi_gw the real servers'
// gateway VIP on the inside network (eth2); IPVS NAT services and the sync daemon (on the crossover eth1) follow them.
// Prints "CHECK <name> ok" / "CHECK <name> FAIL <reason>", "INFO ..." lines, then "DONE <failures>"; exits with the count.
//
//   sw      br0: LAN 192.168.1.0/24            br1: inside 10.0.0.0/24
//   lvs1    eth0 192.168.1.251  eth2 10.0.0.251  eth1 172.16.1.251 (crossover: IPVS sync daemon)
//   lvs2    eth0 192.168.1.252  eth2 10.0.0.252  eth1 172.16.1.252
//   client  eth0 192.168.1.30 (no route to the inside: it only ever talks to the public VIP)
//   real    eth0 10.0.0.10, default route via the gateway VIP 10.0.0.254; one echo server on 80, 81, 83
//
// Why it proves NAT through the group: the client's packets reach the real server rewritten by the VIP holder's
// IPVS (the real server sees the client's own address), and the answers go back only because the real server's
// gateway VIP sits on the same director, whose IPVS rewrites them back. A group whose members split would break it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, check, control, fail, failures, run, since, sleep, waitFor, Proc } from './lib.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist/cli.js');
const ECHO = fileURLToPath(new URL('./tcp-echo.mjs', import.meta.url));
const NODE = process.execPath;
const VIP = '192.168.1.250';
const GW = '10.0.0.254';
const REAL = '10.0.0.10';
const CLIENT = '192.168.1.30';
const VSG = ['192.168.1.240', '192.168.1.241', '192.168.1.242'];
const MAC = { lvs1: { eth0: '02:00:00:00:01:00', eth2: '02:00:00:00:01:02' }, lvs2: { eth0: '02:00:00:00:02:00', eth2: '02:00:00:00:02:02' } };
const GROUP = 'lvs_nat';
const DIR = mkdtempSync(join(tmpdir(), 'lvs-nat-'));

// ------------------------------------------------------------------------------------------------ helpers


const inNs = (ns, cmd, ...args) => run('ip', ['netns', 'exec', ns, cmd, ...args]);
async function sh(ns, cmd, ...args) {
  const r = await inNs(ns, cmd, ...args);
  if (r.code !== 0) throw new Error(`${ns}: ${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}


/** `ipvsadm -Ln` as Map "tcp:addr:port" → Map "addr:port" → "Forward,weight". */
async function ipvsTable(ns) {
  const table = new Map();
  let cur = null;
  for (const line of (await sh(ns, 'ipvsadm', '-Ln')).split('\n')) {
    const s = /^(TCP|UDP|FWM)\s+(\S+)\s/.exec(line);
    if (s) table.set(`${s[1].toLowerCase()}:${s[2]}`, cur = new Map());
    const d = /^\s+->\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line);
    if (d && cur && d[1] !== 'RemoteAddress:Port') cur.set(d[1], `${d[2]},${d[3]}`);
  }
  return table;
}
const tableText = (t) => [...t].map(([k, ds]) => `${k} [${[...ds].map(([d, v]) => `${d} ${v}`).join(', ')}]`).join('; ') || 'empty';

/** `ipvsadm -Lnc`: [{ state, source, virtual, dest }]. */
async function connections(ns) {
  const out = await sh(ns, 'ipvsadm', '-Lnc');
  return [...out.matchAll(/^(TCP|UDP)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/gm)].map((m) => ({ state: m[2], source: m[3], virtual: m[4], dest: m[5] }));
}

async function addrsOn(ns, dev) {
  const out = await sh(ns, 'ip', '-o', '-4', 'addr', 'show', 'dev', dev);
  return [...out.matchAll(/\binet (\S+)/g)].map((m) => m[1].split('/')[0]);
}



/** A client connection through the VIP (tcp-echo.mjs client): its local address, and echo() round trips on it. */
class Conn extends Proc {
  constructor(label, port) {
    super('client', label, NODE, [ECHO, 'client', VIP, String(port)], 'pipe');
    this.port = port;
  }
  async open() {
    const l = await this.waitLine(/^(CONNECTED|CLOSED)/, 30_000);
    assert(l.startsWith('CONNECTED'), `${this.label}: connected to ${VIP}:${this.port}`, l);
    this.addr = l.split(' ')[1];
    return this;
  }
  async echo(text, timeoutMs = 30_000) {
    const from = this.lines.length;
    this.write(text);
    const l = await this.waitLine(new RegExp(`^(GOT echo ${text}|CLOSED .*)$`), timeoutMs, from);
    assert(l === `GOT echo ${text}`, `${this.label}: echo of "${text}"`, l);
  }
  /** This connection in a director's IPVS connection table (-Lnc), or undefined. */
  async entry(ns) {
    return (await connections(ns)).find((c) => c.source === this.addr && c.virtual === `${VIP}:${this.port}`);
  }
}

/** The real server's view: is there an established TCP connection on `port` whose peer is `peer`? (NAT keeps the client's address.) */
async function realSees(port, peer) {
  const out = await sh('real', 'ss', '-Htn', 'state', 'established', `( sport = :${port} )`);
  return out.split('\n').some((l) => l.includes(` ${peer}`) || l.endsWith(peer));
}

// ------------------------------------------------------------------------------------------------ topology, configs

async function buildNet() {
  const cmds = [];
  const ip = (...a) => cmds.push(['ip', ...a]);
  for (const n of ['sw', 'lvs1', 'lvs2', 'client', 'real']) cmds.push(['ip', 'netns', 'add', n]);
  for (const n of ['sw', 'lvs1', 'lvs2', 'client', 'real']) {
    cmds.push(['ip', 'netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
      'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    ip('-n', n, 'link', 'set', 'lo', 'up');
  }
  for (const br of ['br0', 'br1']) ip('-n', 'sw', 'link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
  // [namespace, switch port, bridge, interface, MAC, address]
  const ports = [
    ['lvs1', 'lvs1', 'br0', 'eth0', MAC.lvs1.eth0, '192.168.1.251/24'], ['lvs2', 'lvs2', 'br0', 'eth0', MAC.lvs2.eth0, '192.168.1.252/24'],
    ['client', 'client', 'br0', 'eth0', '02:00:00:00:0a:00', `${CLIENT}/24`],
    ['lvs1', 'lvs1i', 'br1', 'eth2', MAC.lvs1.eth2, '10.0.0.251/24'], ['lvs2', 'lvs2i', 'br1', 'eth2', MAC.lvs2.eth2, '10.0.0.252/24'],
    ['real', 'real', 'br1', 'eth0', '02:00:00:00:10:00', `${REAL}/24`],
  ];
  for (const [n, port, br, dev, mac, addr] of ports) {
    ip('-n', 'sw', 'link', 'add', port, 'type', 'veth', 'peer', 'name', dev, 'address', mac, 'netns', n);
    ip('-n', 'sw', 'link', 'set', port, 'master', br);
    ip('-n', 'sw', 'link', 'set', port, 'up');
    ip('-n', n, 'addr', 'add', addr, 'dev', dev);
    ip('-n', n, 'link', 'set', dev, 'up');
  }
  for (const br of ['br0', 'br1']) ip('-n', 'sw', 'link', 'set', br, 'up');
  ip('-n', 'lvs1', 'link', 'add', 'eth1', 'address', '02:00:00:00:01:01', 'type', 'veth', 'peer', 'name', 'eth1', 'address', '02:00:00:00:02:01', 'netns', 'lvs2');
  for (const [n, a] of [['lvs1', '172.16.1.251/24'], ['lvs2', '172.16.1.252/24']]) {
    ip('-n', n, 'addr', 'add', a, 'dev', 'eth1');
    ip('-n', n, 'link', 'set', 'eth1', 'up');
    cmds.push(['ip', 'netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  }
  ip('-n', 'real', 'route', 'add', 'default', 'via', GW);
  for (const [cmd, ...args] of cmds) {
    const r = await run(cmd, args, 20_000);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  }
}

const quorumFile = (node) => join(DIR, `${node}-quorum.log`);
const groupNotifyFile = (node) => join(DIR, `${node}-group.log`);

/**
 * A director's config. virtualServers.vsg-* is the YAML form of keepalived's
 *   virtual_server_group VSG { 192.168.1.240-242 8080 }  virtual_server group VSG { lb_kind NAT ... real_server 10.0.0.10 80 }
 * expanded into the services it stands for (h-kaconf's mapper does that expansion for keepalived.conf input).
 */
function directorConfig(node) {
  const inst = (iface, vrid, vip) => `
    interface: ${iface}
    vrid: ${vrid}
    version: 2
    priority: ${node === 'lvs1' ? 100 : 90}
    state: BACKUP
    preempt: true
    advertInterval: 1s
    garp: { masterDelay: 1s }
    vips: [ "${vip} dev ${iface}" ]`;
  const vsg = VSG.map((a) => `
  vsg-${a.split('.')[3]}:
    address: ${a}
    port: 8080
    protocol: tcp
    scheduler: rr
    forwarding: nat
    instance: vi_pub
    realServers: [ { address: ${REAL}, port: 80, weight: 1 } ]`).join('');
  // A closed port is refused at once; the timeout and the retry only absorb a slow guest (TCG on a loaded host).
  const tcpCheck = (port) => `{ type: tcp, port: ${port}, connectTimeout: 5s, retries: 1, delayBeforeRetry: 1s, delayLoop: 1s }`;
  return `global:
  routerId: ${node.toUpperCase()}
instances:
  vi_pub:${inst('eth0', 51, VIP)}
  vi_gw:${inst('eth2', 52, GW)}
syncGroups:
  ${GROUP}:
    instances: [ vi_pub, vi_gw ]
    notify: { any: "/bin/sh -c 'echo $* >> ${groupNotifyFile(node)}' notify" }
ipvs:
  onBackup: remove
  syncDaemon: { interface: eth1, syncId: 51 }
virtualServers:
  web:
    address: ${VIP}
    port: 80
    protocol: tcp
    scheduler: wlc
    forwarding: nat
    instance: vi_pub
    realServers:
      - { address: ${REAL}, port: 80, weight: 1, check: ${tcpCheck(80)} }
  app:
    address: ${VIP}
    port: 81
    protocol: tcp
    scheduler: rr
    forwarding: nat
    instance: vi_pub
    quorum: 2
    inhibitOnFailure: true
    quorumUp: "/bin/sh -c 'echo up >> ${quorumFile(node)}'"
    quorumDown: "/bin/sh -c 'echo down >> ${quorumFile(node)}'"
    realServers:
      - { address: ${REAL}, port: 81, weight: 1, check: ${tcpCheck(81)} }
      - { address: ${REAL}, port: 83, weight: 1, check: ${tcpCheck(83)} }${vsg}
`;
}

// ------------------------------------------------------------------------------------------------ the scenario

const sockOf = (node) => join(DIR, `${node}.sock`);
const daemons = {};
let server = null;
const conns = [];

function startDirector(node) {
  const conf = join(DIR, `${node}.yaml`);
  writeFileSync(conf, directorConfig(node));
  daemons[node] = new Proc(node, `vrrpd@${node}`, NODE, [CLI, 'run', '-f', conf, '--socket', sockOf(node), '--log-level', 'info']);
}
/** The real server's listener on `port`: closed (new connections refused, open ones kept) or opened again. */
function listen(port, on) {
  const from = server.lines.length;
  server.write(`${on ? 'open' : 'close'} ${port}`);
  return server.waitLine(new RegExp(`^${on ? 'LISTENING' : 'UNLISTENED'} ${port}$`), 30_000, from);
}
/** The group and its members as the daemon reports them (control socket: cheap to poll). */
async function groupOf(node) {
  if (!daemons[node].running) throw new Error(`vrrpd@${node} exited ${daemons[node].code ?? daemons[node].signal}: ${daemons[node].lines.slice(-5).join(' | ')}`);
  const st = await control(sockOf(node), { cmd: 'status' });
  const g = st.syncGroups?.find((x) => x.name === GROUP);
  return g ? { state: g.state, members: Object.fromEntries(g.members.map((m) => [m.name, m.state])), faults: Object.fromEntries(g.members.map((m) => [m.name, m.faults])) } : null;
}
const groupIs = (g, state) => g?.state === state && g.members.vi_pub === state && g.members.vi_gw === state;
/**
 * The status report `vrrpd status --json` prints, asked on the control socket as the CLI does (a node start costs
 * tens of seconds in the guest on a loaded host; test/lab/lvs-nat.test.ts runs the CLI itself).
 */
const statusOf = (node) => control(sockOf(node), { cmd: 'status' });

/** `master` holds both VIPs and every service (NAT to the real server); `other` neither; status agrees. */
async function assertHolder(master, other, otherState) {
  const st = await statusOf(master);
  const g = st.syncGroups?.find((x) => x.name === GROUP);
  assert(groupIs({ state: g?.state, members: Object.fromEntries((g?.members ?? []).map((m) => [m.name, m.state])) }, 'MASTER'),
    `${master}: the status shows group ${GROUP} MASTER with both members MASTER`, st.syncGroups);
  const so = await statusOf(other);
  const go = so.syncGroups?.find((x) => x.name === GROUP);
  assert(go?.state === otherState && go.members.every((m) => m.state === otherState), `${other}: group and members ${otherState}`, so.syncGroups);
  assert((await addrsOn(master, 'eth0')).includes(VIP) && (await addrsOn(master, 'eth2')).includes(GW), `${master} holds ${VIP} on eth0 and ${GW} on eth2`);
  assert(!(await addrsOn(other, 'eth0')).includes(VIP) && !(await addrsOn(other, 'eth2')).includes(GW), `${other} holds neither VIP`);
  const t = await ipvsTable(master);
  assert(t.get(`tcp:${VIP}:80`)?.get(`${REAL}:80`) === 'Masq,1', `${master}: TCP ${VIP}:80 -> ${REAL}:80 Masq 1`, tableText(t));
  assert(t.get(`tcp:${VIP}:81`)?.size === 2, `${master}: TCP ${VIP}:81 with two real servers`, tableText(t));
  for (const a of VSG) assert(t.get(`tcp:${a}:8080`)?.get(`${REAL}:80`) === 'Masq,1', `${master}: TCP ${a}:8080 -> ${REAL}:80 Masq 1`, tableText(t));
  assert(t.size === 2 + VSG.length, `${master}: exactly our ${2 + VSG.length} services`, tableText(t));
  const to = await ipvsTable(other);
  assert(to.size === 0, `${other}: no service (${otherState})`, tableText(to));
  console.log(`INFO ${master} MASTER: ${tableText(t)}; sync role ${st.ipvs?.syncRole}; ${other}: sync role ${so.ipvs?.syncRole}`);
  assert(st.ipvs?.syncRole === 'master', `${master}: master sync daemon`, st.ipvs);
}

async function main() {
  await check('net', async () => {
    await buildNet();
    server = new Proc('real', 'echo@real', NODE, [ECHO, 'server', '80', '81', '83'], 'pipe');
    for (const port of [80, 81, 83]) await server.waitLine(new RegExp(`^LISTENING ${port}$`), 60_000);
    for (const n of ['lvs1', 'lvs2']) assert((await ipvsTable(n)).size === 0, `${n}: empty IPVS table before vrrpd`);
  });

  await check('election', async () => {
    // Both at once (a node start is slow in the guest): whichever wins the first race, lvs1 (100, preempt) ends MASTER.
    startDirector('lvs1');
    startDirector('lvs2');
    await waitFor(`${GROUP} MASTER on lvs1, BACKUP on lvs2`, async () => groupIs(await groupOf('lvs1'), 'MASTER') && groupIs(await groupOf('lvs2'), 'BACKUP'), 120_000, 250);
    await waitFor('the services on lvs1', async () => (await ipvsTable('lvs1')).size === 2 + VSG.length, 20_000);
    await assertHolder('lvs1', 'lvs2', 'BACKUP');
  });

  await check('vsg-services', async () => {
    const t = await ipvsTable('lvs1');
    const got = VSG.map((a) => `${a}:8080 ${t.get(`tcp:${a}:8080`) ? [...t.get(`tcp:${a}:8080`)].join() : 'missing'}`);
    assert(got.every((x) => x.endsWith(`${REAL}:80,Masq,1`)), 'every address of the range is a service with the shared real server', got);
    const st = await statusOf('lvs1');
    for (const a of VSG) assert(st.ipvs.services.some((s) => s.service === `tcp ${a}:8080`), `status.ipvs lists tcp ${a}:8080`, st.ipvs.services.map((s) => s.service));
  });

  let c1;
  await check('nat-request', async () => {
    c1 = await new Conn('c1', 80).open();
    conns.push(c1);
    await c1.echo('hello');
    const e = await c1.entry('lvs1');
    assert(e?.state === 'ESTABLISHED' && e.dest === `${REAL}:80`, `lvs1 -Lnc: ${c1.addr} -> ${VIP}:80 -> ${REAL}:80 ESTABLISHED`, await connections('lvs1'));
    assert(await realSees(80, c1.addr), `the real server sees the client's own address ${c1.addr} (NAT, not proxied)`, await sh('real', 'ss', '-tn'));
    const neigh = await sh('real', 'ip', 'neigh', 'show', GW);
    assert(neigh.includes(MAC.lvs1.eth2), "the real server's gateway (the gateway VIP) is lvs1's eth2", neigh);
  });

  await check('conn-synced-lvs2', async () => {
    const e = await waitFor("c1 in lvs2's connection table (sync daemon)", () => c1.entry('lvs2'), 30_000, 250);
    assert(e.state === 'ESTABLISHED' && e.dest === `${REAL}:80`, 'synced ESTABLISHED to the real server', e);
    assert((await ipvsTable('lvs2')).size === 0, 'lvs2 still has no service (the entry came from the sync daemon)');
  });

  await check('quorum-down', async () => {
    assert(!existsSync(quorumFile('lvs1')), 'no quorum script ran at start (the service starts with quorum)', existsSync(quorumFile('lvs1')) ? readFileSync(quorumFile('lvs1'), 'utf8') : '');
    await listen(83, false); // 10.0.0.10:83 refuses connections: its TCP check fails, live weight 1 < quorum 2
    const text = await waitFor('quorumDown on lvs1', () => existsSync(quorumFile('lvs1')) && readFileSync(quorumFile('lvs1'), 'utf8'), 30_000, 250);
    assert(text === 'down\n', 'lvs1 ran quorumDown once (and not quorumUp)', text);
    const t = await ipvsTable('lvs1');
    const app = t.get(`tcp:${VIP}:81`);
    assert(app?.get(`${REAL}:83`) === 'Masq,0' && app.get(`${REAL}:81`) === 'Masq,1', 'inhibitOnFailure: the failed server stays at weight 0, the live one at 1', tableText(t));
    const log = daemons.lvs1.lines.find((l) => /quorum lost/.test(l));
    assert(log, "lvs1's log says the quorum is lost", daemons.lvs1.lines.slice(-5));
    console.log(`INFO lvs1: ${log}`);
    // The backup runs the same checks (keepalived's checker does not know VRRP): its quorumDown ran too.
    await waitFor('quorumDown on lvs2', () => existsSync(quorumFile('lvs2')) && readFileSync(quorumFile('lvs2'), 'utf8') === 'down\n', 30_000, 250);
  });

  await check('quorum-up', async () => {
    await listen(83, true);
    await waitFor('quorumUp on lvs1', () => readFileSync(quorumFile('lvs1'), 'utf8') === 'down\nup\n', 30_000, 250);
    await waitFor('10.0.0.10:83 back at weight 1', async () => (await ipvsTable('lvs1')).get(`tcp:${VIP}:81`)?.get(`${REAL}:83`) === 'Masq,1', 20_000);
  });

  // ---- failover: lvs1's LAN cable pulled (switch side): vi_pub FAULT, the group takes vi_gw with it -------------
  await check('failover-both-vips', async () => {
    const t = performance.now();
    await sh('sw', 'ip', 'link', 'set', 'dev', 'lvs1', 'down');
    await waitFor(`${GROUP} MASTER on lvs2, FAULT on lvs1`, async () => groupIs(await groupOf('lvs2'), 'MASTER') && groupIs(await groupOf('lvs1'), 'FAULT'), 30_000, 250);
    console.log(`INFO failover: group MASTER on lvs2 ${((performance.now() - t) / 1000).toFixed(1)} s after the cable cut (guest time)`);
    const g1 = await groupOf('lvs1');
    assert(g1.faults.vi_gw.length === 1 && g1.faults.vi_gw[0] === `sync group ${GROUP}`, "lvs1's vi_gw is in FAULT only for its group (its own link is fine)", g1.faults);
    await waitFor('the services on lvs2', async () => (await ipvsTable('lvs2')).size === 2 + VSG.length, 20_000);
    await waitFor('the VIPs off lvs1', async () => !(await addrsOn('lvs1', 'eth0')).includes(VIP) && !(await addrsOn('lvs1', 'eth2')).includes(GW), 20_000);
    await assertHolder('lvs2', 'lvs1', 'FAULT');
    const notes = existsSync(groupNotifyFile('lvs2')) ? readFileSync(groupNotifyFile('lvs2'), 'utf8') : '';
    await waitFor('the group notify on lvs2', () => readFileSync(groupNotifyFile('lvs2'), 'utf8').includes(`GROUP ${GROUP} MASTER 0`), 10_000, 250)
      .catch((e) => { throw new Error(`${e.message}; lvs2 notify log: ${notes}`); });
  });

  await check('conn-survives-failover', async () => {
    await waitFor("the client's ARP entry for the VIP to name lvs2 (GARP)", async () => (await sh('client', 'ip', 'neigh', 'show', VIP)).includes(MAC.lvs2.eth0), 20_000);
    await waitFor("the real server's ARP entry for its gateway to name lvs2 (GARP)", async () => (await sh('real', 'ip', 'neigh', 'show', GW)).includes(MAC.lvs2.eth2), 20_000);
    await c1.echo('after-failover');
    const e = await c1.entry('lvs2');
    assert(e?.state === 'ESTABLISHED', 'lvs2 carries c1 (ESTABLISHED)', await connections('lvs2'));
    assert(!c1.lines.some((l) => l.startsWith('CLOSED')), 'c1 never closed', c1.lines);
  });

  await check('nat-request-after-failover', async () => {
    const c2 = await new Conn('c2', 80).open();
    conns.push(c2);
    await c2.echo('new');
    const e = await c2.entry('lvs2');
    assert(e?.state === 'ESTABLISHED' && e.dest === `${REAL}:80`, 'lvs2 -Lnc: c2 -> real server ESTABLISHED', await connections('lvs2'));
    assert(!(await c2.entry('lvs1')), 'lvs1 never saw c2');
    assert(await realSees(80, c2.addr), 'the real server sees the client address', await sh('real', 'ss', '-tn'));
  });

  await check('stop-both', async () => {
    for (const n of ['lvs1', 'lvs2']) daemons[n].kill('SIGTERM');
    for (const n of ['lvs1', 'lvs2']) {
      const code = await Promise.race([daemons[n].exited, sleep(30_000).then(() => 'timeout')]);
      assert(code === 0, `vrrpd@${n} exits 0 on SIGTERM`, code);
      assert((await ipvsTable(n)).size === 0, `${n}: no service left`, tableText(await ipvsTable(n)));
    }
  });
}

try {
  await main();
} catch (e) {
  fail('scenario', e);
}
for (const c of conns) c.kill();
server?.kill();
for (const p of Object.values(daemons)) p.kill('SIGKILL');
if (failures() > 0 || process.env.LVS_NAT_DEBUG) {
  for (const [n, p] of Object.entries(daemons)) for (const l of p.lines) console.log(`LOG ${n} ${l}`);
  console.log(`DMESG ${(await run('dmesg', [])).stdout.split('\n').slice(-15).join(' | ')}`);
}
console.log(`INFO guest scenario ${since()}`);
console.log(`DONE ${failures()}`);
process.exit(failures());
