// SNMP in the netns lab: each director's vrrpd is an AgentX subagent of a real snmpd; snmpwalk shows the VRRPv3-MIB, snmptrapd gets vrrpv3NewMaster.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labConfig, labSupported, reapOrphanLabs, waitFor, CLI, XOVER,
  type DirectorName, type Lab, type LabProcess,
} from '../../src/lab/topology.js';
import { inst, waitState } from './helpers.js';

const tools = ['snmpd', 'snmptrapd', 'snmpwalk'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status === 0);
const skip = !labSupported().ok || !tools;

const MIB = '.1.3.6.1.2.1.207';
const OPS = `${MIB}.1.1.1.1`;
const STATS = `${MIB}.1.2.5.1`;
const NEW_MASTER = `${MIB}.0.1`;
/** SNMP inside each director's namespace: snmpd answers on the namespace's loopback, traps go to snmptrapd there. */
const AGENT = '127.0.0.1:1161';
const TRAPS = '127.0.0.1:1162';
const hex = (a: string) => a.split('.').map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0')).join(' ');

describe.skipIf(skip)('SNMP AgentX subagent with a real snmpd (netns lab)', () => {
  let lab: Lab;
  const snmpd = new Map<DirectorName, LabProcess>();

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist is not built: npx tsc -p tsconfig.build.json');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command');
    await reapOrphanLabs();
  });
  beforeEach(async () => { lab = await createLab(); snmpd.clear(); });
  afterEach(async () => { await lab?.destroy(); });

  const file = (n: DirectorName, what: string) => join(lab.dir, `${n}-${what}`);
  const env = (n: DirectorName) => ['env', `SNMP_PERSISTENT_DIR=${file(n, 'snmp-state')}`, 'MIBS=', `MIBDIRS=${file(n, 'snmp-state')}`];

  /** snmpd as AgentX master on a socket in the lab's temp dir, SNMP on the namespace's loopback only, traps to snmptrapd. */
  async function startSnmpd(n: DirectorName): Promise<LabProcess> {
    mkdirSync(file(n, 'snmp-state'), { recursive: true });
    writeFileSync(file(n, 'snmpd.conf'), [
      'master agentx', `agentXSocket ${file(n, 'agentx.sock')}`, `agentAddress udp:${AGENT}`,
      'rocommunity public 127.0.0.1', `trap2sink ${TRAPS} public`, '',
    ].join('\n'));
    const p = lab.spawnIn(n, [...env(n), 'snmpd', '-f', '-C', '-c', file(n, 'snmpd.conf'), '-Lf', file(n, 'snmpd.log')], `snmpd@${n}`);
    snmpd.set(n, p);
    await waitFor(async () => existsSync(file(n, 'agentx.sock')) || (p.running ? null : Promise.reject(new Error(`snmpd@${n} exited: ${p.tail(true)}`))),
      10_000, 100, `snmpd@${n}'s AgentX socket`);
    return p;
  }

  async function startTrapd(n: DirectorName): Promise<void> {
    mkdirSync(file(n, 'snmp-state'), { recursive: true });
    writeFileSync(file(n, 'snmptrapd.conf'), 'disableAuthorization yes\n');
    writeFileSync(file(n, 'traps.log'), '');
    lab.spawnIn(n, [...env(n), 'snmptrapd', '-f', '-C', '-c', file(n, 'snmptrapd.conf'), '-On', '-Lf', file(n, 'traps.log'), `udp:${TRAPS}`], `snmptrapd@${n}`);
    await waitFor(async () => (await lab.exec(n, ['ss', '-lun'], { check: false })).stdout.includes(TRAPS), 10_000, 100, `snmptrapd@${n} to listen`);
  }

  async function startVrrpd(n: DirectorName): Promise<void> {
    const cfg = parse(labConfig(n)) as { global: Record<string, unknown> };
    cfg.global.snmp = { agentx: file(n, 'agentx.sock'), traps: true };
    await lab.startDirector(n, lab.writeConfig(n, stringify(cfg)));
  }

  /** snmpwalk -On of the VRRPv3-MIB inside a director's namespace: OID → value text. */
  async function walk(n: DirectorName): Promise<Map<string, string>> {
    const r = await lab.exec(n, [...env(n), 'snmpwalk', '-v2c', '-c', 'public', '-On', '-t', '2', '-r', '1', AGENT, MIB], { check: false, timeoutMs: 20_000 });
    return new Map([...r.stdout.matchAll(/^(\.[\d.]+) = (.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
  }

  async function walkUntil(n: DirectorName, ok: (w: Map<string, string>) => boolean, what: string): Promise<Map<string, string>> {
    return waitFor(async () => { const w = await walk(n); return ok(w) ? w : null; }, 20_000, 250, `${n}: ${what}`);
  }

  /** snmptrapd's log as traps: the varbind lines of each, by OID. */
  function traps(n: DirectorName): Map<string, string>[] {
    return readFileSync(file(n, 'traps.log'), 'utf8').split(/\n(?=\d{4}-\d\d-\d\d )/).filter((t) => t.includes(' = '))
      .map((t) => new Map([...t.matchAll(/(\.[\d.]+) = ([^\t\n]*)/g)].map((m) => [m[1]!, m[2]!.trim()])));
  }

  async function newMasterTraps(n: DirectorName, count: number): Promise<Map<string, string>[]> {
    return waitFor(async () => {
      const t = traps(n).filter((x) => x.get('.1.3.6.1.6.3.1.1.4.1.0') === `OID: ${NEW_MASTER}`);
      return t.length >= count ? t : null;
    }, 10_000, 200, `${count} vrrpv3NewMaster trap(s) in ${n}'s snmptrapd log`);
  }

  it('snmpwalk shows each director\'s state and counters; a failover sends vrrpv3NewMaster; snmpd absent at start or restarted, and reloads, leave VRRP untouched', async () => {
    // lvs1: snmpd and snmptrapd first. lvs2: vrrpd first, its snmpd only later (the subagent must retry, VRRP unaffected).
    await startTrapd('lvs1');
    await startSnmpd('lvs1');
    await startTrapd('lvs2');
    await startVrrpd('lvs1');
    await waitState(lab, 'lvs1', 'MASTER', 8000);
    await startVrrpd('lvs2');
    await waitState(lab, 'lvs2', 'BACKUP', 5000);
    const d2 = lab.directors.get('lvs2')!;
    await d2.waitLine((t) => t.includes('cannot reach the AgentX master agent'), 5000);
    await startSnmpd('lvs2');

    const i1 = (await inst(lab, 'lvs1')).ifindex!;
    const i2 = (await inst(lab, 'lvs2')).ifindex!;
    const x1 = `${i1}.100.1`, x2 = `${i2}.100.1`; // ifIndex of eth1, VRID 100, ipv4
    const w1 = await walkUntil('lvs1', (w) => w.get(`${OPS}.6.${x1}`) === 'INTEGER: 3', 'vrrpv3OperationsStatus master(3)');
    const w2 = await walkUntil('lvs2', (w) => w.get(`${OPS}.6.${x2}`) === 'INTEGER: 2', 'vrrpv3OperationsStatus backup(2)');
    console.log(`snmpwalk -On on lvs1 (MASTER):\n${[...w1].map(([k, v]) => `${k} = ${v}`).join('\n')}`);
    expect(w1.get(`${OPS}.3.${x1}`)).toBe(`Hex-STRING: ${hex(XOVER.lvs1)}`); // master: itself
    expect(w1.get(`${OPS}.7.${x1}`)).toBe('Gauge32: 100');
    expect(w1.get(`${OPS}.9.${x1}`)).toBe('INTEGER: 100'); // 1 s in centiseconds
    expect(w1.get(`${STATS}.1.${x1}`)).toBe('Counter32: 1'); // one transition to master
    expect(w1.get(`${STATS}.2.${x1}`)).toBe('INTEGER: 3'); // masterNoResponse: nobody was there
    expect(w2.get(`${OPS}.3.${x2}`)).toBe(`Hex-STRING: ${hex(XOVER.lvs1)}`); // lvs2 follows lvs1
    expect(w2.get(`${OPS}.4.${x2}`)).toBe(`Hex-STRING: ${hex(XOVER.lvs2)}`);
    expect(w2.get(`${OPS}.7.${x2}`)).toBe('Gauge32: 90');
    expect(w2.get(`${OPS}.8.${x2}`)).toBe('INTEGER: 2'); // the VIP and the excluded VIP
    expect(w2.get(`${STATS}.1.${x2}`)).toBe('Counter32: 0');
    expect(Number(/Counter64: (\d+)/.exec(w2.get(`${STATS}.3.${x2}`) ?? '')?.[1])).toBeGreaterThan(0); // adverts from lvs1
    expect(w2.get(`${MIB}.1.2.1.0`)).toBe('Counter64: 0'); // no checksum errors
    expect([...w2.keys()].filter((k) => k.startsWith(`${MIB}.1.1.2.1.2.${x2}.4.`)).sort())
      .toEqual([`${MIB}.1.1.2.1.2.${x2}.4.192.168.1.100`, `${MIB}.1.1.2.1.2.${x2}.4.192.168.1.250`]);

    // lvs1 became MASTER with its snmpd up: a trap with its address and the reason.
    const [t1] = await newMasterTraps('lvs1', 1);
    expect(t1!.get(`${OPS}.3.${x1}`)).toBe(`Hex-STRING: ${hex(XOVER.lvs1)}`);
    expect(t1!.get(`${STATS}.2.${x1}`)).toBe('INTEGER: 3');

    // Failover: lvs1 stops (priority 0), lvs2 takes over and its snmpd turns the notification into a trap.
    await lab.directors.get('lvs1')!.stop();
    await waitState(lab, 'lvs2', 'MASTER', 5000);
    const [t2] = await newMasterTraps('lvs2', 1);
    expect(t2!.get(`${OPS}.3.${x2}`)).toBe(`Hex-STRING: ${hex(XOVER.lvs2)}`);
    expect(t2!.get(`${STATS}.2.${x2}`)).toBe('INTEGER: 3'); // masterNoResponse (the master resigned)
    const w2b = await walkUntil('lvs2', (w) => w.get(`${OPS}.6.${x2}`) === 'INTEGER: 3', 'master(3) after the failover');
    expect(w2b.get(`${STATS}.1.${x2}`)).toBe('Counter32: 1');
    expect(Number(/Counter64: (\d+)/.exec(w2b.get(`${STATS}.7.${x2}`) ?? '')?.[1])).toBeGreaterThanOrEqual(1); // lvs1's priority 0

    // snmpd restarts under a running vrrpd: the session is lost, VRRP is untouched, the subagent comes back.
    const transitionsBefore = d2.lines.filter((l) => /"to":"/.test(l.text)).length;
    const from = d2.lines.length;
    await snmpd.get('lvs2')!.stop();
    await d2.waitLine((t) => t.includes('AgentX session lost'), 20_000, { from });
    await startSnmpd('lvs2');
    await d2.waitLine((t) => t.includes('registered the VRRPv3-MIB'), 20_000, { from });
    await walkUntil('lvs2', (w) => w.get(`${OPS}.6.${x2}`) === 'INTEGER: 3', 'master(3) after snmpd restarted');
    expect(d2.running).toBe(true);
    expect(d2.lines.filter((l) => /"to":"/.test(l.text)).length).toBe(transitionsBefore);
    expect((await inst(lab, 'lvs2')).state).toBe('MASTER');

    // Reload: global.snmp removed → the subtree is gone from snmpd; back → served again. VRRP untouched throughout.
    const reload = async (snmp: boolean) => {
      const cfg = parse(labConfig('lvs2')) as { global: Record<string, unknown> };
      if (snmp) cfg.global.snmp = { agentx: file('lvs2', 'agentx.sock'), traps: true };
      lab.writeConfig('lvs2', stringify(cfg));
      expect((await lab.cli('lvs2', ['reload'])).code).toBe(0);
    };
    await reload(false);
    await d2.waitLine((t) => t.includes('SNMP: subagent stopped'), 5000, { from });
    await walkUntil('lvs2', (w) => ![...w.keys()].some((k) => k.startsWith(`${MIB}.1.`)), 'the VRRPv3-MIB gone after a reload without global.snmp');
    await reload(true);
    await walkUntil('lvs2', (w) => w.get(`${OPS}.6.${x2}`) === 'INTEGER: 3', 'served again after a reload with global.snmp');
    expect(d2.lines.filter((l) => /"to":"/.test(l.text)).length).toBe(transitionsBefore);
  }, 120_000);
});
