#!/usr/bin/env node
// Guest side of test/vm/ldirectord.test.ts: the seeds' ipvsadm rule sets and ldirectord.cf files run by `vrrpd run` as a
// standalone director (no VRRP), each in a namespace of its own; the IPVS table it programs is compared with the one
// ipvsadm builds from the same rules in another namespace (`ipvsadm -Ln`, blocks and destinations in a canonical
// order). Then the negotiate checks of the ldirectord seeds against real web servers in namespaces: a page without
// the receive string sets the server to weight 0 (seed 002, quiescent=yes) or takes it out (seed 004, quiescent=no).
// Prints "CHECK <name> ok" / "CHECK <name> FAIL <reason>", "INFO ..." lines, then "DONE <failures>"; exits with the count.
//
//   sw       bridge br0: 192.168.1.0/24 and 192.168.2.0/24 on one LAN
//   lvs2     eth0 192.168.1.251/24 + 192.168.2.251/24: vrrpd with seed 002's ldirectord.cf
//   lvs4     eth0 192.168.1.252/24 + 192.168.2.252/24: vrrpd with seed 004's ldirectord.cf
//   real1    eth0 192.168.1.11/24 + 192.168.2.11/24: a web server (alive.html, .healtcheck.html)
//   real2    eth0 192.168.1.12/24 + 192.168.2.12/24: the same
//   ref-*    ipvsadm builds the reference tables; vd-rules: vrrpd with every ipvsadm rule set (no link needed)
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, check, control, fail, failures, run, since, sleep, waitFor, Proc } from './lib.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist/cli.js');
const GUEST = fileURLToPath(new URL('./', import.meta.url));
const FIX = join(REPO, 'test/fixtures');
const NODE = process.execPath;
const DIR = mkdtempSync(join(tmpdir(), 'ldirectord-vm-'));

async function sh(cmd, ...args) {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const inNs = (ns, cmd, ...args) => sh('ip', 'netns', 'exec', ns, cmd, ...args);


/**
 * `ipvsadm -Ln` in a canonical order: the kernel lists services by hash bucket and destinations newest first, which
 * depends on the order they were added, not on the table. Service blocks sorted, destinations sorted within each.
 */
function canonical(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines.filter((l) => !/^(TCP|UDP|SCTP|FWM)\s/.test(l) && !/^\s+->/.test(l));
  const blocks = [];
  for (const l of lines) {
    if (/^(TCP|UDP|SCTP|FWM)\s/.test(l)) blocks.push([l.trimEnd()]);
    else if (/^\s+->/.test(l) && !/RemoteAddress:Port/.test(l)) blocks.at(-1).push(l.trim().replace(/\s+/g, ' '));
  }
  return [...head.map((l) => l.trimEnd()), ...blocks.map(([s, ...d]) => [s.replace(/\s+/g, ' '), ...d.sort()].join('\n  ')).sort()].join('\n');
}
const table = async (ns) => canonical(await inNs(ns, 'ipvsadm', '-Ln'));
const services = async (ns) => (await inNs(ns, 'ipvsadm', '-Ln')).split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM)\s/.test(l)).length;

const daemons = [];
/** `vrrpd run` in a namespace (a standalone director: the file has no VRRP instance). */
function vrrpd(ns, file, extra = []) {
  const sock = join(DIR, `${ns}.sock`);
  const p = new Proc(ns, `vrrpd@${ns}`, NODE, [CLI, 'run', '-f', file, '--socket', sock, '--log-level', 'info', ...extra]);
  p.sock = sock;
  daemons.push(p);
  return p;
}
/** The control socket answers (it listens once the services are programmed, a moment after the table is). */
async function statusOf(p) {
  let st = null;
  await waitFor(`${p.label} answers status`, async () => {
    if (!p.running) throw new Error(`vrrpd exited: ${p.lines.slice(-5).join(' | ')}`);
    st = await control(p.sock, { cmd: 'status' }).catch(() => null);
    return st !== null;
  }, 60_000, 200);
  return st;
}
async function stopAndEmpty(p, ns) {
  p.kill('SIGTERM');
  await Promise.race([p.exited, sleep(30_000)]);
  assert(!p.running, `${p.label} stopped on SIGTERM`);
  assert(await services(ns) === 0, `${ns}: vrrpd removed its services when it stopped`, await inNs(ns, 'ipvsadm', '-Ln'));
}

// ------------------------------------------------------------------------------------------------ ipvsadm rule sets

// `sudo` for the init script's sudo lines (the guest runs as root and has no sudo).
const SHIM = join(DIR, 'bin');
mkdirSync(SHIM);
writeFileSync(join(SHIM, 'sudo'), '#!/bin/sh\nexec "$@"\n');
chmodSync(join(SHIM, 'sudo'), 0o755);

/**
 * How ipvsadm itself builds each rule set: the scripts run as they are (their ifconfig/iptables/route lines fail
 * harmlessly in a namespace without eth0), the save file restored. The init script clears the table first (-C): it
 * runs first. All of them share one namespace, as vrrpd takes them all in one config (virtualServersFrom).
 */
const RULES = [
  ['init-script', join(FIX, 'ipvsadm/operators/lvs-init.sh'), (f) => ['bash', f, 'start']],
  ['seed-000', join(FIX, 'ipvsadm/seed-000.sh'), (f) => ['sh', f]],
  ['seed-002', join(FIX, 'ipvsadm/seed-002.sh'), (f) => ['sh', f]],
  ['seed-003', join(FIX, 'ipvsadm/seed-003.sh'), (f) => ['sh', f]],
  ['ipvsadm-save', join(FIX, 'ipvsadm/operators/ipvsadm-save.rules'), (f) => ['sh', '-c', `ipvsadm -R < ${f}`]],
];

async function ruleSets() {
  let want = '';
  await check('rules-net', async () => {
    for (const ns of ['ref-rules', 'vd-rules']) {
      await sh('ip', 'netns', 'add', ns);
      await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    for (const [name, file, cmd] of RULES) {
      const before = await services('ref-rules');
      const r = await run('ip', ['netns', 'exec', 'ref-rules', ...cmd(file)], { env: { ...process.env, PATH: `${SHIM}:${process.env.PATH}` } });
      console.log(`INFO ${name} by ipvsadm: exit ${r.code}${r.stderr.trim() ? `; stderr: ${r.stderr.trim().replace(/\n/g, ' | ')}` : ''}`);
      assert(await services('ref-rules') > before, `${name}: ipvsadm added services`);
    }
    want = await table('ref-rules');
    console.log(`INFO ipvsadm's table: ${want.replace(/\n/g, ' | ')}`);
  });
  const conf = join(DIR, 'rules.yaml');
  writeFileSync(conf, `# A standalone director: no instance, the virtual servers of the seeds' ipvsadm rule sets.\nvirtualServersFrom:\n${RULES.map(([, f]) => `  - ipvsadm: ${f}\n`).join('')}`);
  const p = vrrpd('vd-rules', conf);
  await check('rules-table', async () => {
    let got = '';
    await waitFor("vrrpd's table equal to ipvsadm's", async () => {
      if (!p.running) throw new Error(`vrrpd exited: ${p.lines.slice(-5).join(' | ')}`);
      got = await table('vd-rules');
      return got === want;
    }, 180_000, 500).catch((e) => { throw new Error(`${e.message}\nipvsadm:\n${want}\nvrrpd:\n${got}\nvrrpd log: ${p.lines.slice(-8).join(' | ')}`); });
  });
  await check('rules-standalone', async () => {
    const st = await statusOf(p);
    assert(st.instances.length === 0 && st.ipvs?.syncRole === 'none', 'no instance, no sync daemon', { instances: st.instances, syncRole: st.ipvs?.syncRole });
    assert((await inNs('vd-rules', 'ipvsadm', '-L', '--daemon')).trim() === '', 'no IPVS sync daemon in the kernel');
    assert(p.lines.some((l) => /standalone director/.test(l)), 'vrrpd says it is a standalone director');
  });
  await check('rules-stop', () => stopAndEmpty(p, 'vd-rules'));
}

// ------------------------------------------------------------------------------------------------ ldirectord.cf

const ROOT = { real1: join(DIR, 'www-real1'), real2: join(DIR, 'www-real2') };
const ALIVE = '<html><body>I\'m alive!</body></html>\n';
const OKAY = 'OKAY\n';
function page(real, name, body) {
  writeFileSync(join(ROOT[real], name), body);
}

/** The tables ldirectord programs for the seeds with every real server up (its ipvsadm calls: -A, then -a per server). */
const LDIRECTORD_REF = {
  'seed-002': ['-A -t 192.168.1.100:80 -s wlc', '-a -t 192.168.1.100:80 -r 192.168.1.11:80 -g -w 1', '-a -t 192.168.1.100:80 -r 192.168.1.12:80 -g -w 1'],
  'seed-004': ['-A -t 192.168.2.200:80 -s wrr', '-a -t 192.168.2.200:80 -r 192.168.2.11:80 -g -w 2', '-a -t 192.168.2.200:80 -r 192.168.2.12:80 -g -w 2'],
};

async function ldirectordSeeds() {
  const web = [];
  await check('ld-net', async () => {
    await sh('ip', 'netns', 'add', 'sw');
    await sh('ip', '-n', 'sw', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    const hosts = { lvs2: 251, lvs4: 252, real1: 11, real2: 12 };
    for (const [n, id] of Object.entries(hosts)) {
      await sh('ip', 'netns', 'add', n);
      await sh('ip', '-n', n, 'link', 'set', 'lo', 'up');
      await sh('ip', '-n', 'sw', 'link', 'add', n, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n);
      await sh('ip', '-n', 'sw', 'link', 'set', n, 'master', 'br0');
      await sh('ip', '-n', 'sw', 'link', 'set', n, 'up');
      await sh('ip', '-n', n, 'addr', 'add', `192.168.1.${id}/24`, 'dev', 'eth0');
      await sh('ip', '-n', n, 'addr', 'add', `192.168.2.${id}/24`, 'dev', 'eth0');
      await sh('ip', '-n', n, 'link', 'set', 'eth0', 'up');
    }
    await sh('ip', '-n', 'sw', 'link', 'set', 'br0', 'up');
    for (const r of ['real1', 'real2']) {
      mkdirSync(ROOT[r]);
      page(r, 'alive.html', ALIVE);
      page(r, '.healtcheck.html', OKAY);
      const p = new Proc(r, `www@${r}`, NODE, [join(GUEST, 'http-page.mjs'), '80', ROOT[r]]);
      web.push(p);
      await p.waitLine(/^LISTENING 80$/, 30_000);
    }
    for (const [seed, cmds] of Object.entries(LDIRECTORD_REF)) {
      await sh('ip', 'netns', 'add', `ref-${seed}`);
      await sh('ip', '-n', `ref-${seed}`, 'link', 'set', 'lo', 'up');
      for (const c of cmds) await inNs(`ref-${seed}`, 'ipvsadm', ...c.split(' '));
    }
    const curl = await inNs('lvs2', NODE, '-e', "fetch('http://192.168.1.12/alive.html').then(async (r) => console.log(r.status, await r.text()))");
    assert(curl.includes('200') && curl.includes('alive'), 'lvs2 reaches real2\'s page', curl);
  });
  const d2 = vrrpd('lvs2', join(FIX, 'ldirectord/seed-002/ldirectord.cf'));
  const d4 = vrrpd('lvs4', join(FIX, 'ldirectord/seed-004/ldirectord.cf'));
  const same = async (p, ns, seed) => {
    const want = await table(`ref-${seed}`);
    let got = '';
    await waitFor(`${seed}: vrrpd's table equal to ldirectord's`, async () => {
      if (!p.running) throw new Error(`vrrpd exited: ${p.lines.slice(-5).join(' | ')}`);
      got = await table(ns);
      return got === want;
    }, 180_000, 500).catch((e) => { throw new Error(`${e.message}\nldirectord (ipvsadm):\n${want}\nvrrpd:\n${got}\nvrrpd log: ${p.lines.slice(-8).join(' | ')}`); });
    console.log(`INFO ${seed}: ${got.replace(/\n/g, ' | ')}`);
  };
  const dest = async (ns, addr) => {
    const m = new RegExp(`^\\s+->\\s+${addr.replace(/\./g, '\\.')}:80\\s+(\\S+)\\s+(\\d+)`, 'm').exec(await inNs(ns, 'ipvsadm', '-Ln'));
    return m ? { forward: m[1], weight: Number(m[2]) } : null;
  };
  await check('ld002-table', () => same(d2, 'lvs2', 'seed-002'));
  await check('ld004-table', () => same(d4, 'lvs4', 'seed-004'));
  await check('ld002-standalone', async () => {
    const st = await statusOf(d2);
    assert(st.instances.length === 0 && st.ipvs?.syncRole === 'none', 'no instance, no sync daemon', st.ipvs);
    const checks = st.ipvs.checks.map((c) => `${c.address}:${c.port} ${c.check} ${c.healthy}`).sort();
    assert(checks.join() === '192.168.1.11:80 http true,192.168.1.12:80 http true', 'two http checks, passing', checks);
  });
  // Seed 002 (quiescent=yes): the page without "I'm alive!" keeps the server in the table at weight 0.
  await check('ld002-receive-missing-weight-0', async () => {
    page('real2', 'alive.html', '<html><body>maintenance</body></html>\n');
    await waitFor('192.168.1.12 at weight 0', async () => (await dest('lvs2', '192.168.1.12'))?.weight === 0, 60_000);
    assert((await dest('lvs2', '192.168.1.12'))?.forward === 'Route', 'still in the table (Route)');
    assert((await dest('lvs2', '192.168.1.11'))?.weight === 1, 'the other server keeps weight 1');
    const st = await control(d2.sock, { cmd: 'status' });
    const c = st.ipvs.checks.find((x) => x.address === '192.168.1.12');
    assert(c?.healthy === false && /regex|match|I'm alive/i.test(c.lastError ?? ''), 'status: failed on the receive string', c);
    console.log(`INFO ld002 check error: ${c.lastError}`);
  });
  await check('ld002-receive-back', async () => {
    page('real2', 'alive.html', ALIVE);
    await waitFor('192.168.1.12 back at weight 1', async () => (await dest('lvs2', '192.168.1.12'))?.weight === 1, 60_000);
    assert(await table('lvs2') === await table('ref-seed-002'), 'the whole table is ldirectord\'s again');
  });
  // Seed 004 (quiescent=no): the page without "OKAY" takes the server out of the table.
  await check('ld004-receive-missing-removed', async () => {
    page('real2', '.healtcheck.html', 'NOT YET\n');
    await waitFor('192.168.2.12 out of the table', async () => (await dest('lvs4', '192.168.2.12')) === null, 60_000);
    assert((await dest('lvs4', '192.168.2.11'))?.weight === 2, 'the other server stays at weight 2');
  });
  await check('ld-stop', async () => {
    await stopAndEmpty(d2, 'lvs2');
    await stopAndEmpty(d4, 'lvs4');
  });
  for (const p of web) p.kill();
}

try {
  await ruleSets();
  await ldirectordSeeds();
} catch (e) {
  fail('scenario', e);
}
for (const p of daemons) p.kill('SIGTERM');
await Promise.race([Promise.all(daemons.map((p) => p.exited)), sleep(20_000)]);
if (failures() > 0) for (const p of daemons) for (const l of p.lines.slice(-30)) console.log(`LOG ${p.label} ${l}`);
console.log(`INFO guest ${since()}`);
console.log(`DONE ${failures()}`);
process.exit(failures());
