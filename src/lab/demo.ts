// `npm run demo`: seed 001's director pair in network namespaces, a client probing the VIP, three failovers measured live.
import {
  createLab, daemonAvailable, installSignalHandlers, labConfig, labSupported, reapOrphanLabs, waitFor, LAN, MAC, VIP, LB_VIP, XOVER,
  type DirectorName, type InstanceStatus, type Lab,
} from './topology.js';
import { startProbe, startResponders, PROBE_PORT, type ClientProbe } from './prober.js';

const T0 = performance.now();
const stamp = () => `[${((performance.now() - T0) / 1000).toFixed(3).padStart(7)} s]`;
const say = (m = '') => console.log(m ? `${stamp()} ${m}` : '');
const head = (m: string) => console.log(`\n${stamp()} == ${m}`);
const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;
const peerOf = (n: DirectorName): DirectorName => (n === 'lvs1' ? 'lvs2' : 'lvs1');

const checks: { what: string; ok: boolean }[] = [];
function check(what: string, ok: boolean, detail = ''): boolean {
  checks.push({ what, ok });
  say(`${ok ? 'PASS' : 'FAIL'}  ${what}${detail ? ` (${detail})` : ''}`);
  return ok;
}

async function states(lab: Lab): Promise<Record<DirectorName, InstanceStatus | null>> {
  const [a, b] = await Promise.all([lab.instance('lvs1'), lab.instance('lvs2')]);
  return { lvs1: a, lvs2: b };
}

/** Both daemons answer and exactly one is MASTER: its name. */
async function waitOneMaster(lab: Lab, timeoutMs: number, want?: DirectorName): Promise<DirectorName> {
  return waitFor(async () => {
    const s = await states(lab);
    const masters = (['lvs1', 'lvs2'] as const).filter((n) => s[n]?.state === 'MASTER');
    if (masters.length !== 1 || !s.lvs1 || !s.lvs2) return null;
    return want === undefined || masters[0] === want ? masters[0]! : null;
  }, timeoutMs, 150, want ? `${want} to be the only MASTER` : 'exactly one MASTER');
}

async function waitState(lab: Lab, node: DirectorName, state: string, timeoutMs: number): Promise<InstanceStatus> {
  return waitFor(async () => {
    const i = await lab.instance(node);
    return i?.state === state ? i : null;
  }, timeoutMs, 100, `${node} to be ${state}`);
}

async function printStatus(lab: Lab): Promise<void> {
  for (const n of ['lvs1', 'lvs2'] as const) {
    const human = await lab.cli(n, ['status']);
    if (human.code === 0 && human.stdout.trim() && !human.stdout.trimStart().startsWith('{')) {
      console.log(`  -- vrrpd status on ${n}\n${human.stdout.replace(/^/gm, '     ').trimEnd()}`);
      continue;
    }
    const i = await lab.instance(n);
    console.log(i
      ? `  ${n}: ${i.name} vrid ${i.vrid} ${i.state.padEnd(6)} prio ${i.priority}/${i.effectivePriority} master ${i.master ?? '-'} `
        + `vips [${i.vips.join(', ')}] since ${i.since} (${i.reason ?? '-'}${i.reasonDetail ? `: ${i.reasonDetail}` : ''})`
      : `  ${n}: vrrpd does not answer`);
  }
}

async function checkOneHolder(lab: Lab, phase: string, expected: DirectorName): Promise<boolean> {
  const [vip, lb] = await Promise.all([lab.vipHolders(VIP), lab.vipHolders(LB_VIP)]);
  return check(`${phase}: exactly one director holds ${VIP} and ${LB_VIP}: ${expected}`,
    vip.length === 1 && vip[0] === expected && lb.length === 1 && lb[0] === expected, `ip addr: ${VIP} on [${vip.join(', ')}], ${LB_VIP} on [${lb.join(', ')}]`);
}

/** Takeover by `to` after an event at local time t: log line time, reason, client outage. */
async function reportTakeover(lab: Lab, probe: ClientProbe, to: DirectorName, t: number, label: string): Promise<number> {
  const tr = await lab.waitTransition(to, 'MASTER', t, 8000).catch(() => null);
  const st = await waitState(lab, to, 'MASTER', 8000);
  say(`${to} is MASTER ${tr ? `${fmtMs(tr.at - t)} after ${label}` : ''} — reason: ${st.reason ?? '?'}${st.reasonDetail ? ` (${st.reasonDetail})` : ''}`);
  await probe.waitServedBy(to, 8000, t);
  const o = probe.outage(t);
  const h = probe.handover(t, to);
  say(`client: now served by ${to}; longest silence ${fmtMs(o.ms)}`
    + (h?.lastOld ? `; last reply from ${h.lastOld.name}, first from ${to} ${fmtMs(h.ms)} later` : ''));
  return o.ms;
}

async function demo(lab: Lab): Promise<void> {
  say(`lab ${lab.prefix}: namespaces ${lab.ns('lvs1')}, ${lab.ns('lvs2')}, ${lab.ns('client')}, ${lab.ns('sw')} (bridge br0)`);
  say(`  lvs1   eth0 ${LAN.lvs1}/24 (${MAC.lvs1.eth0})  eth1 ${XOVER.lvs1}/24 (crossover)`);
  say(`  lvs2   eth0 ${LAN.lvs2}/24 (${MAC.lvs2.eth0})  eth1 ${XOVER.lvs2}/24 (crossover)`);
  say(`  client eth0 ${LAN.client}/24; VIP ${VIP} (and the LVS address ${LB_VIP}) on the master's eth0`);
  const responders = await startResponders(lab);
  say(`UDP responders on :${PROBE_PORT} in lvs1 and lvs2 (they answer with their name)`);

  head('start vrrpd on both directors (VRRPv2, 1 s adverts on eth1, PASS auth, eth0 tracked; lvs1 priority 100, lvs2 90, preempt)');
  const cfg = { lvs1: lab.writeConfig('lvs1', labConfig('lvs1', { auth: true })), lvs2: lab.writeConfig('lvs2', labConfig('lvs2', { auth: true })) };
  // One after the other, lvs1 first (as test/lab/helpers.ts up() does): started together, the two Master_Down
  // timers differ by only Skew_Time's difference (39 ms at 1 s), so a daemon that starts a little earlier can be
  // MASTER for a moment before the higher priority preempts it (RFC 5798 §6.4.2), and the election shown would race.
  for (const n of ['lvs1', 'lvs2'] as const) await lab.startDirector(n, cfg[n]);
  say('both daemons answer on their control sockets; waiting for the election (Master_Down_Interval ≈ 3.6 s)');
  const first = await waitOneMaster(lab, 12_000);
  await printStatus(lab);
  check('election: exactly one MASTER', true, `${first}`);
  check('election: lvs1 (priority 100) wins', first === 'lvs1');
  await checkOneHolder(lab, 'election', first);

  const probe = await startProbe(lab, { intervalMs: 20, durationMs: 60_000 });
  say(`client prober: a datagram to ${VIP}:${PROBE_PORT} every 20 ms`);
  await probe.waitServedBy(first, 5000, 0);
  say(`client: served by ${first}`);
  const outages: [string, number][] = [];

  head(`phase 1: cut ${first}'s LAN link (eth0 down; tracked → FAULT, priority-0 advert, the backup takes over in Skew_Time)`);
  const second = peerOf(first);
  let t = performance.now();
  await lab.cutLink(first, 'eth0');
  outages.push(['link cut', await reportTakeover(lab, probe, second, t, 'the cut')]);
  const faulty = await lab.instance(first);
  check(`phase 1: ${first} is FAULT`, faulty?.state === 'FAULT', `state ${faulty?.state ?? '?'}, faults [${faulty?.faults.join(', ') ?? ''}]`);
  await printStatus(lab);
  await checkOneHolder(lab, 'phase 1', second);

  head(`phase 2: restore ${first}'s link (preempt: priority 100 takes the VIP back after Master_Down_Interval)`);
  t = performance.now();
  await lab.restoreLink(first, 'eth0');
  outages.push(['preempt back', await reportTakeover(lab, probe, first, t, 'the restore')]);
  await waitState(lab, second, 'BACKUP', 5000);
  await printStatus(lab);
  await checkOneHolder(lab, 'phase 2', first);

  head(`phase 3: kill -9 ${first} (vrrpd and its service: a crash; no priority-0 advert)`);
  say(`expected: ${second} waits Master_Down_Interval = 3 × 1 s + (256 − 90)/256 s = 3.648 s after the last advert it heard`);
  t = performance.now();
  lab.directors.get(first)?.signal('SIGKILL');
  responders.get(first)?.signal('SIGKILL');
  outages.push(['kill -9', await reportTakeover(lab, probe, second, t, 'the kill')]);
  const stale = await lab.vipHolders(VIP);
  say(`after SIGKILL, ${VIP} is configured on [${stale.join(', ')}]: nobody removed ${first}'s copy (the ARP of the client follows ${second}'s GARP)`);
  await printStatus(lab).catch(() => undefined);

  head(`phase 3b: restart vrrpd on ${first} (as systemd would): it removes the stale VIP at startup, then preempts`);
  await waitFor(() => !lab.directors.get(first)?.running, 5000, 50, 'the killed daemon to be reaped');
  await startResponders(lab, PROBE_PORT, [first]);
  t = performance.now();
  await lab.startDirector(first, cfg[first]);
  const afterStart = await lab.instance(first);
  const holders = await lab.vipHolders(VIP);
  check(`phase 3b: ${first} starts BACKUP and removes its stale VIP at startup`, afterStart?.state === 'BACKUP' && holders.length === 1 && holders[0] === second,
    `state ${afterStart?.state ?? '?'}, ${VIP} on [${holders.join(', ')}]`);
  outages.push(['preempt after restart', await reportTakeover(lab, probe, first, t, 'the restart')]);
  await waitState(lab, second, 'BACKUP', 5000);
  await printStatus(lab);
  await checkOneHolder(lab, 'end', first);

  head('client outages');
  for (const [what, ms] of outages) say(`  ${what.padEnd(24)} ${fmtMs(ms)}`);
  await probe.stop();
}

async function main(): Promise<number> {
  const sup = labSupported();
  if (!sup.ok) {
    console.error(process.getuid?.() !== 0 ? 'the lab needs root (network namespaces): sudo npm run demo' : `${sup.why}: install iproute2`);
    return 1;
  }
  if (!daemonAvailable()) {
    console.error('vrrpd demo: dist/cli.js has no `run` command (the daemon is not built or not wired yet)');
    return 1;
  }
  installSignalHandlers((m) => console.log(m));
  await reapOrphanLabs(say);
  console.log('vrrpd demo: seed 001 (two LVS directors, VRRP on the crossover, VIP on the LAN) in network namespaces\n');
  const lab = await createLab();
  const guard = setTimeout(() => {
    say('FAIL  the demo exceeded 60 s: tearing down');
    void lab.destroy().then(() => process.exit(1));
  }, 60_000);
  try {
    await demo(lab);
  } catch (e) {
    if (lab.destroyed) {
      check('demo interrupted', false);
      return 1;
    }
    check(`demo step failed: ${(e as Error).message}`, false);
    for (const n of ['lvs1', 'lvs2'] as const) {
      const p = lab.directors.get(n);
      if (p) console.log(`  last log lines of vrrpd@${n}:\n    ${p.lines.slice(-8).map((l) => l.text).join('\n    ')}\n    ${p.tail(true)}`);
    }
  } finally {
    head('tear down');
    await lab.destroy();
    clearTimeout(guard);
    say(`lab ${lab.prefix} destroyed (processes killed, namespaces deleted)`);
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(`\n${failed.length === 0 ? 'demo OK' : `demo FAILED: ${failed.map((c) => c.what).join('; ')}`} (${checks.length} checks, ${((performance.now() - T0) / 1000).toFixed(1)} s)`);
  return failed.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
