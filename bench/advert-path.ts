// Micro-benchmark (not a test) of vrrpd's per-advert JavaScript: the Director with an in-memory NetIO,
// N instances; BACKUP: adverts received (decode → engine → no change); MASTER: Adver_Timer ticks (prepare →
// send → commit). CPU µs per advert from process.cpuUsage, without the lab's noise (no sockets, no kernel).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadAnyConfig } from '../src/config/load.js';
import { Director } from '../src/daemon/director.js';
import { encodeAdvert } from '../src/protocol/advert.js';
import { addressToBytes } from '../src/protocol/addr.js';
import type { Addr, Link, NetIO, VrrpRx } from '../src/net/ports.js';

const { values: opt } = parseArgs({ options: {
  instances: { type: 'string', default: '50' }, adverts: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' },
} });
const N = Number(opt.instances);
const ADVERTS = Number(opt.adverts);
const ROUNDS = Number(opt.rounds);
const ME = '172.16.1.252';
const PEER = '172.16.1.251';

class MemNet implements NetIO {
  rx: ((rx: VrrpRx) => void) | null = null;
  sent = 0;
  openVrrp(_f: 4 | 6, _n: string, _i: number, onPacket: (rx: VrrpRx) => void) {
    this.rx = onPacket;
    return { send: () => { this.sent++; }, prepare: () => () => { this.sent++; }, flush: () => Promise.resolve(), close: () => undefined };
  }
  openPacket() { return { send: () => undefined, close: () => undefined }; }
  async links(): Promise<Link[]> {
    return [{ index: 2, name: 'eth0', up: true, running: true, mac: '02:00:00:00:00:02' }, { index: 3, name: 'eth1', up: true, running: true, mac: '02:00:00:00:00:03' }];
  }
  async addresses(): Promise<Addr[]> {
    return [{ index: 2, family: 4, address: '192.168.1.252', prefixLen: 24, scope: 0, flags: 0 }, { index: 3, family: 4, address: ME, prefixLen: 24, scope: 0, flags: 0 }];
  }
  async addAddress() {}
  async deleteAddress() {}
  async watch() { return () => undefined; }
  close() {}
}

const vipOf = (i: number) => `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`;

async function director(priority: number): Promise<{ d: Director; net: MemNet; fire: () => void; setNow: (t: number) => void; armed: () => number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'advert-path-'));
  const file = join(dir, 'k.conf');
  writeFileSync(file, `global_defs {\n  router_id BENCH\n  vrrp_version 3\n}\n${Array.from({ length: N }, (_, i) =>
    `vrrp_instance VI_${i + 1} {\n  state BACKUP\n  interface eth1\n  virtual_router_id ${i + 1}\n  priority ${priority}\n  advert_int 0.01\n  virtual_ipaddress {\n    ${vipOf(i)}/32 dev eth0\n  }\n}\n`).join('')}`);
  const loaded = await loadAnyConfig(file, { format: 'keepalived' });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
  let t = 1000;
  let armedAt: number | null = null;
  let onFire: () => void = () => undefined;
  const net = new MemNet();
  const d = new Director({
    config: loaded.config, io: net, log: pino({ level: 'silent' }), now: () => t, noIpvs: true,
    makeWaker: (f) => { onFire = f; return { arm: (abs) => { armedAt = abs; }, close: () => undefined }; },
  });
  await d.start();
  return { d, net, fire: () => onFire(), setNow: (x) => { t = x; }, armed: () => armedAt };
}

function cpuUs(): number { const u = process.cpuUsage(); return u.user + u.system; }

async function backup(): Promise<number[]> {
  const { d, net, setNow } = await director(90);
  const src = addressToBytes(PEER)!;
  const dst = addressToBytes('224.0.0.18')!;
  const payloads = Array.from({ length: N }, (_, i) => encodeAdvert({ version: 3, family: 4, vrid: i + 1, priority: 100, intervalCs: 1, addresses: [vipOf(i)], src: PEER, dst: '224.0.0.18' }));
  const out: number[] = [];
  let t = 2000;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = cpuUs();
    for (let k = 0; k < ADVERTS; k++) {
      if (k % N === 0) { t += 10; setNow(t); }
      net.rx!({ family: 4, ifindex: 3, payload: payloads[k % N]!, src, dst, ttl: 255 });
    }
    out.push((cpuUs() - c0) / ADVERTS);
  }
  if (d.stateOf('VI_1') !== 'BACKUP') throw new Error(`VI_1 is ${d.stateOf('VI_1')}, not BACKUP`);
  await d.stop();
  return out;
}

async function master(): Promise<number[]> {
  const { d, net, fire, setNow, armed } = await director(100);
  // Let the instances become MASTER (Master_Down_Interval after start), then measure their Adver_Timer ticks.
  for (let i = 0; i < 10 * N && d.stateOf(`VI_${N}`) !== 'MASTER'; i++) { setNow(armed()! + 0.6); fire(); }
  if (d.stateOf('VI_1') !== 'MASTER') throw new Error(`VI_1 is ${d.stateOf('VI_1')}, not MASTER`);
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s0 = net.sent;
    const c0 = cpuUs();
    while (net.sent - s0 < ADVERTS) { setNow(armed()! + 0.6); fire(); }
    out.push((cpuUs() - c0) / (net.sent - s0));
  }
  await d.stop();
  return out;
}

const fmt = (xs: number[]) => `${xs.map((x) => x.toFixed(2)).join(' ')} (min ${Math.min(...xs).toFixed(2)})`;
process.stdout.write(`advert path, ${N} instances, ${ADVERTS} adverts × ${ROUNDS} rounds; CPU µs per advert\n`);
process.stdout.write(`BACKUP, advert received: ${fmt(await backup())}\n`);
process.stdout.write(`MASTER, advert sent:     ${fmt(await master())}\n`);
