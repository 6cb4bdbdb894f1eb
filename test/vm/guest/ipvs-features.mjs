#!/usr/bin/env node
// Guest side of test/vm/ipvs-features.test.ts: scheduler flags, one-packet scheduling, the SIP persistence engine and the
// connection timeouts on a real kernel (read back by our client and by ipvsadm; our request bytes equal ipvsadm's,
// captured with strace), then `vrrpd run` with inhibitOnFailure: a failing real server stays at weight 0 while a
// client's established TCP connection through the VIP keeps working.
// Prints "CHECK <name> ok" / "CHECK <name> FAIL <reason>", "INFO ..." lines, then "DONE <failures>"; exits with the count.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, check, control, fail, failures, run, since, sleep, waitFor, Proc } from './lib.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const dist = new URL('../../../dist/', import.meta.url);
const { IpvsClient } = await import(new URL('ipvs/client.js', dist).href);
const { encodeGenl } = await import(new URL('ipvs/genl.js', dist).href);
const codec = await import(new URL('ipvs/codec.js', dist).href);
const { desiredTable } = await import(new URL('ipvs/desired.js', dist).href);
const { IpvsReconciler } = await import(new URL('ipvs/reconcile.js', dist).href);
const { virtualServerSchema } = await import(new URL('config/schema.js', dist).href);
const CLI = join(REPO, 'dist/cli.js');
const GUEST = fileURLToPath(new URL('./', import.meta.url));
const NODE = process.execPath;
const VIP = '192.168.1.250';
const REAL = '192.168.1.10';
const DIR = mkdtempSync(join(tmpdir(), 'ipvs-features-'));

async function sh(cmd, ...args) {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const inNs = (ns, cmd, ...args) => sh('ip', 'netns', 'exec', ns, cmd, ...args);
const hex = (b) => Buffer.from(b).toString('hex');

/**
 * The IPVS requests (nlmsg payloads, nlctrl left out) a command sends, from strace's hex dump of each sendmsg
 * ("strace -e trace=sendmsg -e write=all": " | 00000  20 00 00 00 ...  ascii |" lines after each call).
 */
async function straceRequests(...args) {
  const out = join(DIR, `strace-${Math.random().toString(36).slice(2)}.txt`);
  await sh('strace', '-e', 'trace=sendmsg', '-e', 'write=all', '-o', out, ...args);
  const text = await sh('cat', out);
  const msgs = [];
  let cur = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('sendmsg(')) msgs.push(cur = []);
    else if (cur && / \| [0-9a-f]{5} {2}/.test(line)) cur.push(...line.slice(10, 59).split(/\s+/).filter((t) => /^[0-9a-f]{2}$/.test(t)));
  }
  return msgs.map((m) => Uint8Array.from(m.map((h) => parseInt(h, 16))))
    .filter((b) => b.length > 16 && (b[4] | (b[5] << 8)) !== 0x10).map((b) => hex(b.subarray(16)));
}

/** `ipvsadm -Ln` lines of one service (its header line), e.g. "UDP  10.7.0.1:53 sh (sh-fallback,sh-port) ops". */
async function ipvsadmLine(ns, key) {
  const out = ns ? await inNs(ns, 'ipvsadm', '-Ln') : await sh('ipvsadm', '-Ln');
  return out.split('\n').find((l) => l.includes(` ${key} `) || l.endsWith(` ${key}`)) ?? null;
}

// ------------------------------------------------------------------------------------------------ kernel features

const client = await IpvsClient.open({ timeoutMs: 30_000 });
await sh('modprobe', 'ip_vs_pe_sip'); // the kernel's request_module cannot reach the guest's module tree (see ipvs-client.mjs)
const vs = (o) => virtualServerSchema.parse(o);
const features = {
  'sh-udp': vs({ address: '10.7.0.1', port: 53, protocol: 'udp', scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'], onePacket: true,
    realServers: [{ address: '10.8.0.1' }, { address: '10.8.0.2' }] }),
  'sip': vs({ address: '10.7.0.2', port: 5060, protocol: 'udp', scheduler: 'rr', persistence: 60, persistenceEngine: 'sip',
    realServers: [{ address: '10.8.0.1' }] }),
  'mh-tcp': vs({ address: '10.7.0.3', port: 80, scheduler: 'mh', schedulerFlags: ['mh-port'], realServers: [{ address: '10.8.0.1' }] }),
  'fwm-ops': vs({ fwmark: 7, scheduler: 'wrr', schedulerFlags: ['flag-3'], onePacket: true, realServers: [{ address: '10.8.0.3' }] }),
};
const { IP_VS_SVC_F_SCHED1: S1, IP_VS_SVC_F_SCHED2: S2, IP_VS_SVC_F_SCHED3: S3, IP_VS_SVC_F_ONEPACKET: OPS, IP_VS_SVC_F_PERSISTENT: P } = codec;

const rec = new IpvsReconciler(client);
await check('flags-ops-pe-applied', async () => {
  const r = await rec.reconcile(desiredTable(features));
  assert(r.ok, 'reconciled and verified', { failed: r.failed.map((f) => String(f.error)), residual: r.residual.length });
  const got = new Map((await client.listServices()).map((s) => [codec.serviceLabel(s), s]));
  const want = [['udp 10.7.0.1:53', S1 | S2 | OPS, undefined], ['udp 10.7.0.2:5060', P, 'sip'], ['tcp 10.7.0.3:80', S2, undefined], ['fwmark 7', S3 | OPS, undefined]];
  for (const [label, flags, pe] of want) {
    const s = got.get(label);
    assert(s && s.flags === flags && s.pe === pe, `${label}: flags 0x${flags.toString(16)}, pe ${pe} read back`, s && { flags: s.flags, pe: s.pe });
  }
});

await check('flags-ops-pe-ipvsadm', async () => {
  const lines = {
    '10.7.0.1:53': await ipvsadmLine(null, '10.7.0.1:53'), '10.7.0.2:5060': await ipvsadmLine(null, '10.7.0.2:5060'),
    '10.7.0.3:80': await ipvsadmLine(null, '10.7.0.3:80'), 7: await ipvsadmLine(null, '7'),
  };
  console.log(`INFO ipvsadm -Ln: ${Object.values(lines).join(' | ')}`);
  assert(/^UDP\s+10\.7\.0\.1:53 sh\b/.test(lines['10.7.0.1:53'] ?? '') && /sh-fallback/.test(lines['10.7.0.1:53']) &&
    /sh-port/.test(lines['10.7.0.1:53']) && /\bops\b/.test(lines['10.7.0.1:53']), 'UDP 10.7.0.1:53 sh (sh-fallback,sh-port) ops', lines['10.7.0.1:53']);
  assert(/persistent 60\b.*\bpe sip\b/.test(lines['10.7.0.2:5060'] ?? ''), 'UDP 10.7.0.2:5060 rr persistent 60 pe sip', lines['10.7.0.2:5060']);
  assert(/^TCP\s+10\.7\.0\.3:80 mh\b.*mh-port/.test(lines['10.7.0.3:80'] ?? ''), 'TCP 10.7.0.3:80 mh (mh-port)', lines['10.7.0.3:80']);
  assert(/^FWM\s+7 wrr\b.*flag-3/.test(lines[7] ?? '') && /\bops\b/.test(lines[7]), 'FWM 7 wrr (flag-3) ops', lines[7]);
});

await check('flags-ops-pe-from-ipvsadm', async () => {
  // The other way: what ipvsadm creates, our decoder reads with the same bits.
  await sh('ipvsadm', '-A', '-u', '10.7.0.9:53', '-s', 'sh', '-b', 'sh-fallback,sh-port', '-o');
  await sh('ipvsadm', '-A', '-u', '10.7.0.9:5060', '-s', 'rr', '-p', '60', '--pe', 'sip');
  const got = new Map((await client.listServices()).map((s) => [codec.serviceLabel(s), s]));
  assert(got.get('udp 10.7.0.9:53')?.flags === (S1 | S2 | OPS), 'sh-fallback,sh-port + ops', got.get('udp 10.7.0.9:53')?.flags);
  assert(got.get('udp 10.7.0.9:5060')?.pe === 'sip' && got.get('udp 10.7.0.9:5060')?.flags === P, 'pe sip, persistent', got.get('udp 10.7.0.9:5060'));
  await sh('ipvsadm', '-D', '-u', '10.7.0.9:53');
  await sh('ipvsadm', '-D', '-u', '10.7.0.9:5060');
});

await check('bytes-equal-ipvsadm', async () => {
  // ipvsadm -A -u 10.7.0.5:5060 -s sh -b sh-port -p 60 --pe sip -o: NEW_SERVICE with PE_NAME, flags PERSISTENT|ONEPACKET|SCHED2.
  const theirs = (await straceRequests('ipvsadm', '-A', '-u', '10.7.0.5:5060', '-s', 'sh', '-b', 'sh-port', '-p', '60', '--pe', 'sip', '-o')).find((h) => h.startsWith('0101')); // after its GET_INFO
  const spec = { family: 4, protocol: 'udp', address: '10.7.0.5', port: 5060, scheduler: 'sh', flags: P | OPS | S2, timeout: 60, netmask: 32, pe: 'sip' };
  const ours = hex(encodeGenl(codec.IPVS_CMD_NEW_SERVICE, codec.IPVS_GENL_VERSION, codec.newServiceRequest(spec).attrs));
  assert(theirs === ours, 'NEW_SERVICE with flags and pe: our bytes are ipvsadm\'s', { theirs, ours });
  await sh('ipvsadm', '-D', '-u', '10.7.0.5:5060');
  // ipvsadm --set 7200 30 60: SET_CONFIG with the three timeouts.
  const set = await straceRequests('ipvsadm', '--set', '7200', '30', '60');
  const mine = hex(encodeGenl(codec.IPVS_CMD_SET_CONFIG, codec.IPVS_GENL_VERSION, codec.setConfigRequest({ tcp: 7200, tcpFin: 30, udp: 60 }).attrs));
  assert(set.includes(mine), 'SET_CONFIG: our bytes are ipvsadm\'s', { theirs: set, ours: mine });
});

await check('timeouts', async () => {
  await client.setTimeouts({ tcp: 3600, tcpFin: 20, udp: 45 });
  const got = await client.getTimeouts();
  assert(got.tcp === 3600 && got.tcpFin === 20 && got.udp === 45, 'read back by GET_CONFIG', got);
  const text = await sh('ipvsadm', '-L', '--timeout');
  console.log(`INFO ipvsadm -L --timeout: ${text.trim()}`);
  assert(/Timeout \(tcp tcpfin udp\): 3600 20 45/.test(text), 'ipvsadm -L --timeout agrees', text);
  await client.setTimeouts({ udp: 30 }); // only udp: the others stay
  const after = await client.getTimeouts();
  assert(after.tcp === 3600 && after.tcpFin === 20 && after.udp === 30, 'a partial set keeps the others', after);
});

await rec.reconcile([]).catch((e) => console.log(`INFO cleanup: ${e.message}`)); // our services out of the root namespace
client.close();

// ------------------------------------------------------------------------------------------------ inhibitOnFailure

/** The real server's line in lvs1's `ipvsadm -Ln`: [forward, weight, activeConn, inActConn]. */
async function realLine() {
  const out = await inNs('lvs1', 'ipvsadm', '-Ln');
  const m = new RegExp(`^\\s+->\\s+${REAL.replace(/\./g, '\\.')}:80\\s+(\\S+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(out);
  return m ? { forward: m[1], weight: Number(m[2]), active: Number(m[3]), inactive: Number(m[4]), text: out } : { text: out };
}

const UP = join(DIR, 'real-up');
const SOCK = join(DIR, 'lvs1.sock');
let daemon = null;
let echoServer = null;
let conn = null;
async function echo(text, timeoutMs = 30_000) {
  const from = conn.lines.length;
  conn.write(text);
  const l = await conn.waitLine(new RegExp(`^(GOT echo ${text}|CLOSED .*)$`), timeoutMs, from);
  assert(l === `GOT echo ${text}`, `echo of "${text}"`, l);
}

async function inhibitScenario() {
  await check('inhibit-net', async () => {
    const r = await run('bash', [join(GUEST, 'netns-lab.sh')]);
    assert(r.code === 0 && /NET ready/.test(r.stdout), 'netns-lab.sh', r.stderr);
    echoServer = new Proc('real', 'echo@real', NODE, [join(GUEST, 'tcp-echo.mjs'), 'server', '80']);
    await echoServer.waitLine(/^LISTENING 80$/, 30_000);
    writeFileSync(UP, 'up\n');
  });
  const conf = join(DIR, 'lvs1.yaml');
  writeFileSync(conf, `instances:
  vi_1:
    interface: eth1
    vrid: 51
    priority: 150
    advertInterval: 1s
    garp: { masterDelay: 1s }
    vips: [ "${VIP} dev eth0" ]
ipvs:
  timeouts: { tcp: 2h, tcpFin: 25s, udp: 50s }
virtualServers:
  web:
    address: ${VIP}
    port: 80
    forwarding: dr
    scheduler: wlc
    delayLoop: 1s
    inhibitOnFailure: true
    realServers:
      - address: ${REAL}
        weight: 10
        check: { type: misc, script: /usr/bin/test -f ${UP}, timeout: 5s }
`);
  await check('inhibit-master', async () => {
    const chk = await run('ip', ['netns', 'exec', 'lvs1', NODE, CLI, 'check', '-f', conf]);
    assert(chk.code === 0, 'vrrpd check accepts the config', chk.stderr);
    daemon = new Proc('lvs1', 'vrrpd@lvs1', NODE, [CLI, 'run', '-f', conf, '--socket', SOCK, '--log-level', 'info']);
    await waitFor('vi_1 MASTER', async () => {
      if (!daemon.running) throw new Error(`vrrpd exited: ${daemon.lines.slice(-5).join(' | ')}`);
      const st = await control(SOCK, { cmd: 'status' });
      return st.instances.find((i) => i.name === 'vi_1')?.state === 'MASTER';
    }, 60_000);
    const l = await waitFor('the real server at weight 10', async () => { const x = await realLine(); return x.weight === 10 ? x : null; }, 30_000);
    assert(l.forward === 'Route', 'DR', l.text);
  });
  await check('daemon-timeouts', async () => {
    const text = await inNs('lvs1', 'ipvsadm', '-L', '--timeout');
    assert(/Timeout \(tcp tcpfin udp\): 7200 25 50/.test(text), 'ipvs.timeouts applied by the daemon (ipvsadm -L --timeout)', text);
  });
  await check('inhibit-conn-established', async () => {
    conn = new Proc('client', 'client', NODE, [join(GUEST, 'tcp-echo.mjs'), 'client', VIP, '80'], 'pipe');
    const l = await conn.waitLine(/^(CONNECTED|CLOSED)/, 30_000);
    assert(l.startsWith('CONNECTED'), 'the client connected through the VIP', l);
    await echo('one');
    const x = await realLine();
    assert(x.active >= 1, 'the connection is active on the real server', x.text);
  });
  await check('inhibit-weight-0', async () => {
    rmSync(UP); // the check fails from now on
    const x = await waitFor('the real server at weight 0', async () => { const r = await realLine(); return r.weight === 0 ? r : null; }, 30_000);
    console.log(`INFO ipvsadm -Ln with the server failed: ${x.text.trim().replace(/\n/g, ' | ')}`);
    assert(x.forward === 'Route' && x.active >= 1, 'still in the table, its connection counted', x.text);
    const st = await control(SOCK, { cmd: 'status' });
    const d = st.ipvs.services.find((s) => s.service === `tcp ${VIP}:80`)?.dests.find((y) => y.address === REAL);
    assert(d?.weight === 0, 'vrrpd status shows weight 0', st.ipvs.services);
    assert(st.ipvs.checks?.some((c) => c.address === REAL && c.healthy === false), 'vrrpd status shows the server failed', st.ipvs.checks);
  });
  await check('inhibit-conn-survives', async () => {
    await echo('two');
    await echo('three');
    assert(!conn.lines.some((l) => l.startsWith('CLOSED')), 'the connection never closed', conn.lines);
  });
  await check('inhibit-recovers', async () => {
    writeFileSync(UP, 'up\n');
    await waitFor('the real server back at weight 10', async () => (await realLine()).weight === 10, 30_000);
    await echo('four');
  });
  // The control: without inhibitOnFailure the failing server leaves the table, and IPVS drops the packets of its
  // established connections (ip_vs_in_hook: destination not available): the same echo gets no answer.
  await check('control-removed-cuts', async () => {
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('inhibitOnFailure: true', 'inhibitOnFailure: false'));
    const r = await control(SOCK, { cmd: 'reload' });
    assert(r.applied === true, 'reload applied', r);
    rmSync(UP);
    await waitFor('the real server out of the table', async () => (await realLine()).weight === undefined, 30_000);
    const from = conn.lines.length;
    conn.write('five');
    const got = await conn.waitLine(/^(GOT echo five|CLOSED .*)$/, 5_000, from).catch(() => null);
    assert(got !== 'GOT echo five', 'no echo once the server is removed', got);
  });
}

try {
  await inhibitScenario();
} catch (e) {
  fail('scenario', e);
}
conn?.kill();
echoServer?.kill();
daemon?.kill('SIGTERM');
if (daemon) await Promise.race([daemon.exited, sleep(20_000)]);
if (failures() > 0) for (const l of daemon?.lines ?? []) console.log(`LOG vrrpd ${l}`);
console.log(`INFO guest ${since()}`);
console.log(`DONE ${failures()}`);
process.exit(failures());
