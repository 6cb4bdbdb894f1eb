#!/usr/bin/env node
// Guest side of test/vm/announce.test.ts: three active-active directors (each BIRD + `vrrpd run` with an announce group)
// behind a router running BIRD with ECMP, real BGP + BFD, real IPVS (mh + mh-port, DR), and a client holding long-lived
// TCP flows. Prints "CHECK <name> ok|FAIL <why>", "INFO ..." lines, then "DONE <failures>"; exits with the count.
//
// Topology (the guest's root namespace is the switch: two bridges):
//   cl 10.9.0.2 ──p2p── rt 10.9.0.1        rt: BIRD, BGP to d1..d3 with BFD 300 ms x 3, `merge paths` (ECMP),
//                       rt 10.0.0.1  ─br-up─ d1 10.0.0.11, d2 .12, d3 .13 (each: BIRD with conf/bird/vrrpd-announce.conf,
//                                                                         vrrpd with group "web": VIP on lb0 while fit)
//                       rt 10.1.0.1  ─br-rs─ d1..d3 10.1.0.11-13, r1 10.1.0.21, r2 10.1.0.22 (VIP on lo, arp_ignore)
// The real servers answer the client directly (DR) through rt. Each director health-checks the real servers on its
// own port (8001-8003), so one director's checks can fail alone.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, check, control, failures, run, sleep, waitFor, Proc } from './lib.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist/cli.js');
const GUEST = fileURLToPath(new URL('./', import.meta.url));
const FRAGMENT = join(REPO, 'conf/bird/vrrpd-announce.conf');
const NODE = process.execPath;
const VIP = '198.51.100.10';
const FLOWS = Number(process.env.ANNOUNCE_FLOWS ?? 30);
const FLOW_INTERVAL_MS = 200;
const DIRS = ['d1', 'd2', 'd3'];
const RS = { r1: '10.1.0.21', r2: '10.1.0.22' };
const DIR = mkdtempSync(join(tmpdir(), 'announce-'));
const idx = (d) => Number(d.slice(1));


async function sh(cmd, ...args) {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const ns = (n, cmd, ...args) => sh('ip', 'netns', 'exec', n, cmd, ...args);
const sysctl = (n, ...kv) => ns(n, 'sysctl', '-q', '-w', ...kv);




// ------------------------------------------------------------------------------------------------ the network

async function link(a, aIf, b, bIf) {
  await sh('ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, ...(b ? ['netns', b] : []));
}
async function buildNet() {
  for (const n of ['rt', 'cl', ...DIRS, ...Object.keys(RS)]) {
    await sh('ip', 'netns', 'add', n);
    await ns(n, 'ip', 'link', 'set', 'lo', 'up');
  }
  for (const br of ['br-up', 'br-rs']) {
    await sh('ip', 'link', 'add', br, 'type', 'bridge', 'forward_delay', '0');
    await sh('ip', 'link', 'set', br, 'up');
  }
  const port = async (n, ifn, br, addr) => {
    const peer = `${n}-${br.slice(3)}`;
    await link(n, ifn, null, peer);
    await sh('ip', 'link', 'set', peer, 'master', br, 'up');
    await ns(n, 'ip', 'addr', 'add', addr, 'dev', ifn);
    await ns(n, 'ip', 'link', 'set', ifn, 'up');
  };
  await link('rt', 'eth-cl', 'cl', 'eth0');
  await ns('rt', 'ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'eth-cl');
  await ns('rt', 'ip', 'link', 'set', 'eth-cl', 'up');
  await ns('cl', 'ip', 'addr', 'add', '10.9.0.2/24', 'dev', 'eth0');
  await ns('cl', 'ip', 'link', 'set', 'eth0', 'up');
  await ns('cl', 'ip', 'route', 'add', 'default', 'via', '10.9.0.1');
  await port('rt', 'eth-up', 'br-up', '10.0.0.1/24');
  await port('rt', 'eth-rs', 'br-rs', '10.1.0.1/24');
  await sysctl('rt', 'net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  for (const d of DIRS) {
    await port(d, 'eth-up', 'br-up', `10.0.0.1${idx(d)}/24`);
    await port(d, 'eth-rs', 'br-rs', `10.1.0.1${idx(d)}/24`);
    await ns(d, 'ip', 'route', 'add', 'default', 'via', '10.0.0.1');
    await sysctl(d, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  }
  for (const [r, addr] of Object.entries(RS)) {
    await port(r, 'eth-rs', 'br-rs', `${addr}/24`);
    await ns(r, 'ip', 'route', 'add', 'default', 'via', '10.1.0.1');
    await ns(r, 'ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    await sysctl(r, 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  }
}

// ------------------------------------------------------------------------------------------------ BIRD and vrrpd

const birdSock = (n) => join(DIR, `bird-${n}.ctl`);
const vrrpdSock = (d) => join(DIR, `vrrpd-${d}.sock`);
const birds = {};
const daemons = {};
const procs = [];

function routerBirdConf() {
  return `router id 10.0.0.1;
log stderr all;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bfd { interface "eth-up" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }
template bgp director { local 10.0.0.1 as 65000; bfd on; graceful restart off; connect retry time 5; error wait time 5, 60;
  ipv4 { import all; export none; }; }
${DIRS.map((d) => `protocol bgp ${d} from director { neighbor 10.0.0.1${idx(d)} as 65001; }`).join('\n')}
`;
}
/** The shipped fragment, included as conf/bird/vrrpd-announce.conf says. */
const directorBirdConf = (d) => `router id 10.0.0.1${idx(d)};
log stderr { warning, error, fatal, remote, auth };
define VRRPD_LOCAL_AS = 65001;
define VRRPD_PEER = 10.0.0.1;
define VRRPD_PEER_AS = 65000;
define VRRPD_VIPS4 = [ 198.51.100.0/24{32,32} ];
define VRRPD_VIPS6 = [ 2001:db8:100::/48{128,128} ];
include "${FRAGMENT}";
`;
function startBird(n) {
  const conf = join(DIR, `bird-${n}.conf`);
  writeFileSync(conf, n === 'rt' ? routerBirdConf() : directorBirdConf(n));
  const p = new Proc(n, `bird@${n}`, 'bird', ['-f', '-c', conf, '-s', birdSock(n), '-P', join(DIR, `bird-${n}.pid`)]);
  birds[n] = p;
  procs.push(p);
  return p;
}

const vrrpdConf = (d) => `global:
  logLevel: info
ipvs:
  auditInterval: 1s
virtualServers:
  web:
    address: ${VIP}
    port: 80
    scheduler: mh
    schedulerFlags: [mh-port]
    forwarding: dr
    inhibitOnFailure: true
    delayLoop: 1s
    realServers:
${Object.values(RS).map((a) => `      - address: ${a}
        port: 80
        check: { type: tcp, port: 800${idx(d)}, connectTimeout: 1s, retries: 0 }`).join('\n')}
announce:
  web:
    vips: [${VIP}]
    upDelay: 1s
    holdDown: 3s
    drainQuiet: 1s
    drainTimeout: 20s
    stopGrace: 500ms
    bird:
      socket: ${birdSock(d)}
      pollInterval: 1s
`;
function startVrrpd(d) {
  const conf = join(DIR, `vrrpd-${d}.yaml`);
  writeFileSync(conf, vrrpdConf(d));
  const p = new Proc(d, `vrrpd@${d}`, NODE, [CLI, 'run', '-f', conf, '--socket', vrrpdSock(d)]);
  daemons[d] = p;
  procs.push(p);
  return p;
}
const groupOf = async (d) => (await control(vrrpdSock(d), { cmd: 'status' })).announce?.find((g) => g.name === 'web');

/** The router's next hops for the VIP (its kernel route, as BIRD's `merge paths` installed it). */
async function nextHops() {
  const r = await run('ip', ['-n', 'rt', '-j', 'route', 'show', `${VIP}/32`]);
  const routes = r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : [];
  const rt = routes[0];
  if (!rt) return [];
  return rt.nexthops ? rt.nexthops.map((h) => h.gateway) : rt.gateway ? [rt.gateway] : [];
}
/** Poll the router's route every 20 ms until it has n next hops; the time it took (ms). */
async function waitHops(n, timeoutMs) {
  const t = performance.now();
  await waitFor(`${n} next hop(s) for ${VIP} on rt`, async () => (await nextHops()).length === n, timeoutMs, 20);
  return performance.now() - t;
}

/** `ip monitor route` on the router: when did the VIP's route change after t (the first notification naming it)? */
let monitor = null;
async function routeChangedAfter(t, timeoutMs) {
  return waitFor('a route notification for the VIP on rt', () => {
    const i = monitor.lines.findIndex((l, k) => monitor.times[k] >= t && l.includes(VIP));
    return i >= 0 ? monitor.times[i] - t : null;
  }, timeoutMs, 20);
}

/** ESTABLISHED IPVS connections to the VIP on a director. */
async function established(d) {
  const out = await ns(d, 'ipvsadm', '-Lnc');
  return [...out.matchAll(/^TCP\s+\S+\s+ESTABLISHED\s+(\S+)\s+(\S+)\s+(\S+)/gm)].filter((m) => m[2] === `${VIP}:80`).map((m) => m[1]);
}

let flows = null;
async function flowReport() {
  const from = flows.lines.length;
  flows.write('report');
  const l = await flows.waitLine(/^REPORT /, 20_000, from);
  return JSON.parse(l.slice('REPORT '.length));
}
async function mark() {
  const from = flows.lines.length;
  flows.write('mark');
  await flows.waitLine(/^MARKED/, 20_000, from);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : 0; };
function stallInfo(tag, rep) {
  const gaps = rep.flows.filter((f) => !f.closed).map((f) => f.maxGapMs);
  console.log(`INFO ${tag}: flows open ${rep.open}, lost ${rep.closed}; per-flow longest reply gap (interval ${FLOW_INTERVAL_MS} ms): `
    + `max ${Math.max(0, ...gaps)} ms, median ${median(gaps)} ms, over 1 s: ${gaps.filter((g) => g > 1000).length}`);
  return gaps;
}

// ------------------------------------------------------------------------------------------------ the scenario

let rsProcs = {};
try {
  await check('net', async () => {
    await buildNet();
    for (const [r] of Object.entries(RS)) {
      const p = new Proc(r, `echo@${r}`, NODE, [join(GUEST, 'tcp-echo.mjs'), 'server', '80', '8001', '8002', '8003'], 'pipe');
      rsProcs[r] = p;
      procs.push(p);
    }
    for (const p of Object.values(rsProcs)) await p.waitLine(/LISTENING 8003/, 60_000);
    startBird('rt');
    for (const d of DIRS) startBird(d);
  });

  await check('all-announce', async () => {
    for (const d of DIRS) startVrrpd(d);
    for (const d of DIRS) {
      await waitFor(`${d} announced and exported`, async () => {
        if (!daemons[d].running) throw new Error(`vrrpd@${d} exited: ${daemons[d].lines.slice(-5).join(' | ')}`);
        const g = await groupOf(d);
        return g && g.phase === 'announced' && g.announced && g.fit && g.bird.state === 'ok' && g.bird.exportedTo[`${VIP}/32`]?.includes('upstream');
      }, 120_000, 500);
    }
    const g = await groupOf('d1');
    console.log(`INFO d1 status: ${JSON.stringify({ phase: g.phase, fit: g.fit, announced: g.announced, bird: g.bird })}`);
    const text = await run('ip', ['netns', 'exec', 'd1', NODE, CLI, 'status', '--socket', vrrpdSock('d1')]);
    console.log(text.stdout.split('\n').filter((l) => l.trim()).map((l) => `INFO status| ${l}`).join('\n'));
    const sysctls = (await ns('d1', 'sysctl', '-n', 'net.ipv4.vs.sloppy_tcp', 'net.ipv4.vs.sloppy_sctp')).trim().split(/\s+/);
    assert(sysctls.join(',') === '1,1', 'sloppy_tcp and sloppy_sctp set on the directors', sysctls);
    const lb0 = await ns('d1', 'ip', '-o', 'addr', 'show', 'dev', 'lb0');
    assert(lb0.includes(`${VIP}/32`), 'the VIP is on lb0 (a dummy vrrpd created)', lb0);
  });

  await check('router-3-nexthops', async () => {
    await waitHops(3, 60_000);
    console.log(`INFO router next hops: ${(await nextHops()).join(', ')}`);
    monitor = new Proc('rt', 'ip monitor', 'ip', ['monitor', 'route']);
    procs.push(monitor);
    const bfd = await run('birdc', ['-s', birdSock('rt'), 'show', 'bfd', 'sessions']);
    console.log(bfd.stdout.split('\n').filter((l) => l.trim()).map((l) => `INFO rt bfd| ${l}`).join('\n'));
  });

  await check('flows-spread', async () => {
    flows = new Proc('cl', 'flows', NODE, [join(GUEST, 'flows.mjs'), VIP, '80', String(FLOWS), String(FLOW_INTERVAL_MS)], 'pipe');
    procs.push(flows);
    await flows.waitLine(/^READY /, 120_000);
    const ready = Number((await flows.waitLine(/^READY /, 1)).split(' ')[1]);
    assert(ready === FLOWS, `all ${FLOWS} flows connected`, ready);
    await sleep(1500);
    const per = {};
    for (const d of DIRS) per[d] = (await established(d)).length;
    console.log(`INFO flows per director (ESTABLISHED in its IPVS table): ${JSON.stringify(per)}`);
    assert(DIRS.every((d) => per[d] > 0), 'every director carries flows', per);
    const rep = await flowReport();
    assert(rep.closed === 0, 'no flow lost at start', rep.flows.filter((f) => f.closed));
  });

  await check('yield-drain-no-reset', async () => {
    await mark();
    const t = performance.now();
    const y = control(vrrpdSock('d2'), { cmd: 'yield', instance: 'web' }, 60_000); // what `vrrpd yield web` sends
    const changedMs = await routeChangedAfter(t, 20_000);
    await waitHops(2, 20_000);
    const [r] = await y;
    console.log(`INFO yield d2: the router's route changed ${changedMs.toFixed(0)} ms after the request; the reply came after `
      + `${(performance.now() - t).toFixed(0)} ms: ${JSON.stringify(r)}`);
    assert(r.outcome === 'drained', 'yield web: withdrawn and drained', r);
    const g = await groupOf('d2');
    assert(g.phase === 'withdrawn' && g.held && !g.announced, 'd2 held withdrawn after the drain', g);
    await sleep(2000);
    const rep = await flowReport();
    stallInfo('yield d2', rep);
    assert(rep.closed === 0, 'no flow reset or closed during the drain', rep.flows.filter((f) => f.closed));
  });

  await check('resume-announces', async () => {
    const r = await run('ip', ['netns', 'exec', 'd2', NODE, CLI, 'resume', 'web', '--socket', vrrpdSock('d2')]);
    assert(r.code === 0 && /resumed: web/.test(r.stdout), 'vrrpd resume web', r);
    const ms = await waitHops(3, 30_000);
    console.log(`INFO resume d2: 3 next hops again after ${ms.toFixed(0)} ms`);
    await sleep(1500);
    const rep = await flowReport();
    assert(rep.closed === 0, 'no flow lost when d2 came back', rep.flows.filter((f) => f.closed));
  });

  await check('real-servers-fail-withdraw', async () => {
    await mark();
    for (const p of Object.values(rsProcs)) p.write('close 8003');
    const ms = await waitHops(2, 30_000);
    const g = await groupOf('d3');
    console.log(`INFO d3's checks failing on every real server: withdrawn after ${ms.toFixed(0)} ms; why: ${g.why.join('; ')}`);
    assert(!g.fit && g.phase !== 'announced' && !g.announced, 'd3 unfit and withdrawn', g);
    assert(g.why.some((w) => /0 real server\(s\) in service/.test(w)), 'the reason names the real servers', g.why);
    assert(!(await nextHops()).includes('10.0.0.13'), 'the router no longer sends to d3');
  });

  await check('real-servers-recover-announce', async () => {
    for (const p of Object.values(rsProcs)) p.write('open 8003');
    const ms = await waitHops(3, 30_000);
    console.log(`INFO d3's real servers back: announced again after ${ms.toFixed(0)} ms (checks, upDelay 1 s, hold-down 3 s)`);
    await sleep(1500);
    const rep = await flowReport();
    stallInfo('d3 out and back', rep);
    assert(rep.closed === 0, 'no flow lost while d3 left and came back', rep.flows.filter((f) => f.closed));
  });

  await check('bird-restart', async () => {
    const pid = daemons.d1.child.pid;
    birds.d1.kill('SIGKILL');
    await birds.d1.exited;
    await waitHops(2, 20_000); // d1's kernel closes the dead BIRD's BGP connection: the router drops the session at once
    await waitFor('d1 status shows BIRD unknown', async () => (await groupOf('d1')).bird.state === 'unknown', 20_000, 300);
    const g = await groupOf('d1');
    assert(g.phase === 'announced' && g.announced, 'vrrpd keeps the VIP on lb0 while BIRD is away', g);
    startBird('d1');
    const ms = await waitHops(3, 60_000);
    await waitFor('d1 status shows the export again', async () => (await groupOf('d1')).bird.exportedTo[`${VIP}/32`]?.includes('upstream'), 20_000, 300);
    assert(daemons.d1.running && daemons.d1.child.pid === pid, 'the same vrrpd process throughout');
    console.log(`INFO BIRD on d1 restarted under a running vrrpd: announced again ${ms.toFixed(0)} ms after BIRD started`);
    await sleep(1500);
    const rep = await flowReport();
    assert(rep.closed === 0, 'no flow lost', rep.flows.filter((f) => f.closed));
  });

  await check('director-dies-bfd', async () => {
    await mark();
    // The box dies: its links first (the switch is the root namespace: the router's own port stays up, so only BFD can
    // tell), then its processes (killed first, BIRD's TCP session would be closed by d1's kernel: a FIN, no BFD needed).
    const t = performance.now();
    await sh('ip', 'link', 'set', 'd1-up', 'down');
    await sh('ip', 'link', 'set', 'd1-rs', 'down');
    daemons.d1.kill('SIGKILL');
    birds.d1.kill('SIGKILL');
    const ms = await routeChangedAfter(t, 20_000);
    await waitHops(2, 20_000);
    console.log(`INFO d1 killed (SIGKILL vrrpd and BIRD, links down): the router's route changed ${ms.toFixed(0)} ms later (BFD 300 ms x 3)`);
    await sleep(8000);
    const rep = await flowReport();
    const gaps = stallInfo('d1 died', rep);
    assert(rep.closed === 0, 'no established flow lost', rep.flows.filter((f) => f.closed));
    assert(ms < 3000, 'withdrawn within 3 s of emulated time (BFD detects in 0.9 s)', ms);
    assert(Math.max(...gaps) < 8000, 'every flow moved on (its reply gap ended)', gaps);
  });

  await check('stop-withdraws', async () => {
    await mark();
    const t = performance.now();
    daemons.d2.kill('SIGTERM');
    const ms = await routeChangedAfter(t, 20_000);
    await waitHops(1, 20_000);
    const code = await daemons.d2.exited;
    assert(code === 0, 'vrrpd on d2 exited 0 after SIGTERM', code);
    const lb0 = await ns('d2', 'ip', '-o', 'addr', 'show');
    assert(!lb0.includes(`${VIP}/32`), 'no VIP left on d2 (lb0 or lo)', lb0);
    const ipvs = await ns('d2', 'ipvsadm', '-Ln');
    assert(!ipvs.includes(`${VIP}:80`), 'IPVS service removed after the withdrawal', ipvs);
    console.log(`INFO SIGTERM on d2: route withdrawn on the router after ${ms.toFixed(0)} ms, before vrrpd exited`);
    await sleep(1000);
    const rep = await flowReport();
    stallInfo('after d2 stopped', rep);
    assert(rep.closed === 0, 'no flow lost when d2 stopped', rep.flows.filter((f) => f.closed));
  });
} finally {
  if (failures()) {
    const st = await run('birdc', ['-s', birdSock('rt'), 'show', 'protocols'], 10_000);
    console.log(st.stdout.split('\n').filter((l) => l.trim()).map((l) => `INFO rt protocols| ${l}`).join('\n'));
    for (const p of procs) console.log(`INFO --- ${p.label} (last lines):\n${p.lines.slice(-25).map((l) => `INFO | ${l}`).join('\n')}`);
  }
  flows?.kill();
  for (const p of procs) p.kill('SIGKILL');
  await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(5000)]);
}
console.log(`DONE ${failures()}`);
process.exit(failures());
