// Fuzz targets and input generators: the advert decoder, keepalived.conf, the YAML config, the control socket's request line.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdvert, encodeAdvert } from '../../src/protocol/advert.js';
import { parseKeepalivedConfig } from '../../src/config/keepalived.js';
import { parseConfig } from '../../src/config/load.js';
import { decodeRequestLine } from '../../src/control/protocol.js';
import { rng } from '../../src/sim/segment.js';

/** A seeded PRNG (the simulator's mulberry32): an input is named by its target, seed and index, and can be generated again. */
export { rng };
/** The input's own seed: target seed and index, mixed. */
export const inputSeed = (seed: number, i: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i, 0xc2b2ae35)) >>> 0;
type R = () => number;
const int = (r: R, n: number): number => Math.floor(r() * n);
const pick = <T>(r: R, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const bytes = (r: R, n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(r, 256));

/** Flip, insert, delete, truncate or extend: a mutated copy. */
export function mutateBytes(r: R, b: Uint8Array): Uint8Array {
  const out = [...b];
  for (let k = 1 + int(r, 4); k > 0; k--) {
    const op = int(r, 5);
    const i = out.length ? int(r, out.length) : 0;
    if (op === 0 && out.length) out[i] = int(r, 256);
    else if (op === 1) out.splice(i, 0, int(r, 256));
    else if (op === 2 && out.length) out.splice(i, 1);
    else if (op === 3) out.length = int(r, out.length + 1);
    else out.push(...bytes(r, int(r, 24)));
  }
  return Uint8Array.from(out);
}

function mutateText(r: R, s: string, tokens: readonly string[]): string {
  let t = s;
  for (let k = 1 + int(r, 6); k > 0; k--) {
    const i = int(r, t.length + 1);
    const op = int(r, 5);
    if (op === 0) t = t.slice(0, i) + pick(r, tokens) + t.slice(i);
    else if (op === 1) t = t.slice(0, i) + t.slice(i + 1 + int(r, 40));
    else if (op === 2) t = t.slice(0, i) + String.fromCharCode(int(r, 0x3000)) + t.slice(i);
    else if (op === 3) t = t.slice(0, i);
    else { const j = int(r, t.length + 1); t = t.slice(0, i) + t.slice(j, j + int(r, 200)) + t.slice(i); }
  }
  return t;
}

// ---------------------------------------------------------------------------------------- adverts

const v4 = (r: R): string => `${int(r, 256)}.${int(r, 256)}.${int(r, 256)}.${int(r, 256)}`;
const v6 = (r: R): string => `fe80::${int(r, 65536).toString(16)}:${int(r, 65536).toString(16)}`;

export interface AdvertInput { payload: Uint8Array; family: 4 | 6; src: Uint8Array; dst: Uint8Array; ttl: number }

/** Random bytes, or a valid advert (v2/v3, IPv4/IPv6) mutated; random receive context. */
export function genAdvert(r: R): AdvertInput {
  const family: 4 | 6 = r() < 0.7 ? 4 : 6;
  const alen = family === 4 ? 4 : 16;
  const src = r() < 0.95 ? bytes(r, alen) : bytes(r, int(r, 20));
  const dst = r() < 0.95 ? bytes(r, alen) : bytes(r, int(r, 20));
  const ttl = r() < 0.7 ? 255 : int(r, 256);
  let payload: Uint8Array;
  if (r() < 0.3) {
    payload = bytes(r, int(r, 80));
  } else {
    const version = family === 6 || r() < 0.5 ? 3 : 2;
    const n = int(r, 6);
    const addrs = Array.from({ length: n }, () => (family === 4 ? v4(r) : v6(r)));
    payload = encodeAdvert({
      version, family, vrid: 1 + int(r, 255), priority: int(r, 256), intervalCs: version === 2 ? 100 * (1 + int(r, 5)) : 1 + int(r, 4095),
      addresses: addrs, authType: version === 2 && r() < 0.3 ? 1 : 0, authPassword: 'secret',
      src: family === 4 ? '192.168.1.1' : 'fe80::1', dst: family === 4 ? '224.0.0.18' : 'ff02::12',
    });
    if (r() < 0.9) payload = mutateBytes(r, payload);
  }
  return { payload, family, src, dst, ttl };
}

export function runAdvert(x: AdvertInput): void {
  const d = decodeAdvert(x.payload, { family: x.family, src: x.src, dst: x.dst, ttl: x.ttl });
  if (typeof d.ok !== 'boolean') throw new Error('decodeAdvert returned no verdict');
  if (!d.ok && typeof d.reason !== 'string') throw new Error('a drop without a reason');
}

// ------------------------------------------------------------------------------- keepalived.conf

const KA_TOKENS = [
  '{', '}', '{\n', '}\n', '\n', ' ', '"', "'", '#', '!', '\\\n', 'vrrp_instance VI_1 ', 'virtual_server 10.0.0.1 80 ',
  'virtual_server_group G ', 'real_server 10.0.0.2 80 ', 'vrrp_sync_group SG ', 'group ', 'vrrp_script chk ', 'global_defs ',
  'interface eth1', 'state MASTER', 'state BACKUP', 'priority ', 'advert_int ', 'virtual_router_id ', 'virtual_ipaddress ',
  'virtual_ipaddress_excluded ', 'track_interface ', 'track_script ', 'unicast_peer ', 'authentication ', 'auth_type PASS',
  'auth_pass x', 'nopreempt', 'preempt_delay ', 'notify_master /bin/true', 'lb_algo wrr', 'lb_kind DR', 'protocol TCP',
  'TCP_CHECK ', 'HTTP_GET ', 'url ', 'path /', 'digest ', 'status_code ', 'weight ', 'delay_loop ', 'connect_timeout ',
  'include ', 'include *.conf', 'include /etc/keepalived/*.conf', '@lvs1 ', '@^lvs1 ', '$X=', '$X', '${X}', '$X=$X$X',
  '~SEQ(i,1,3)', '~SEQ(i,1,100000)', '~LST(i,a,b)', '${i}', 'dev eth0', 'label eth0:1', '/24', '10.0.0.', '192.168.1.250',
  'fe80::1', '-1', '0', '1', '255', '256', '4294967296', '1e9', 'nan', '', 'fwmark 1', 'net_namespace x', 'sorry_server 1.1.1.1 80',
];

let kaCorpus: string[] | null = null;
function keepalivedCorpus(): string[] {
  if (kaCorpus) return kaCorpus;
  const root = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'fixtures', 'keepalived-conf');
  const alt = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'keepalived-conf');
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (statSync(p).size < 200_000) out.push(readFileSync(p, 'utf8'));
    }
  };
  for (const d of [root, alt]) { try { walk(d); break; } catch { /* the other layout */ } }
  kaCorpus = out.length ? out : ['vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 51\n}\n'];
  return kaCorpus;
}

/** A corpus file mutated with keepalived tokens, or a random token soup. */
export function genKeepalived(r: R): string {
  if (r() < 0.5) return mutateText(r, pick(r, keepalivedCorpus()), KA_TOKENS);
  let s = '';
  for (let n = int(r, 60); n > 0; n--) s += pick(r, KA_TOKENS) + (r() < 0.3 ? '\n' : ' ');
  return s;
}

/** A directory of its own: includes resolve inside it (includeRoot), never on the host. */
let kaDir: string | null = null;
export async function runKeepalived(text: string): Promise<void> {
  kaDir ??= mkdtempSync(join(tmpdir(), 'vrrpd-fuzz-ka-'));
  const file = join(kaDir, 'keepalived.conf');
  writeFileSync(file, text);
  const res = await parseKeepalivedConfig(file, { includeRoot: kaDir, configId: 'lvs1' });
  if (typeof res.ok !== 'boolean') throw new Error('no verdict');
}

// ----------------------------------------------------------------------------------------- YAML

const KEYS = ['instances', 'interface', 'vrid', 'version', 'priority', 'advertInterval', 'state', 'preempt', 'preemptDelay', 'auth',
  'sourceAddress', 'unicastPeers', 'extraPaths', 'peer', 'checksum', 'vips', 'excludedVips', 'garp', 'trackInterfaces', 'trackScripts',
  'trackFiles', 'notify', 'dontTrackPrimary', 'virtualServers', 'realServers', 'address', 'port', 'fwmark', 'syncGroups', 'global',
  'include', 'checks', 'type', 'weight', 'name', 'script', 'interval', 'timeout', 'family', 'masterDelay', 'dev', 'label'];
const SCALARS: unknown[] = ['eth0', 'eth1', '1s', '100ms', 10, 0, -1, 255, 256, 1e308, 3.5, true, false, null, '', '192.168.1.250',
  '192.168.1.250/24 dev eth0', 'fe80::1', 'MASTER', 'BACKUP', 'x'.repeat(300), '*', '&a', '!!binary', '1e3ms', 'NaN', '../../etc/passwd'];

function genValue(r: R, depth: number): unknown {
  const k = int(r, depth > 4 ? 1 : 4);
  if (k === 0) return pick(r, SCALARS);
  if (k === 1) return Array.from({ length: int(r, 4) }, () => genValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let n = int(r, 6); n > 0; n--) o[r() < 0.9 ? pick(r, KEYS) : `k${int(r, 9)}`] = genValue(r, depth + 1);
  return o;
}

const YAML_TOKENS = [': ', '- ', '\n', '\n  ', '{', '}', '[', ']', '&a ', '*a', '<<: *a', '!!str ', '? ', '|', '>', '---\n', '...\n', '"', "'", '#', '\t', '%YAML 1.2\n'];
const SEED_YAML = `instances:\n  vi_1:\n    interface: eth1\n    vrid: 51\n    version: 3\n    advertInterval: 100ms\n    vips: [ "192.168.1.250/32 dev eth0" ]\n    extraPaths: [ { interface: eth0, peer: 192.168.1.252 } ]\n`;

/** JSON-shaped YAML of config-like structures, or a seed document mutated with YAML syntax. */
export function genYaml(r: R): string {
  if (r() < 0.5) return JSON.stringify(r() < 0.8 ? { instances: { vi_1: genValue(r, 1) } } : genValue(r, 0), null, int(r, 3));
  return mutateText(r, SEED_YAML, YAML_TOKENS);
}

export function runYaml(text: string): void {
  const res = parseConfig(text, '/nonexistent/vrrpd-fuzz/config.yaml');
  if (typeof res.ok !== 'boolean') throw new Error('no verdict');
}

// --------------------------------------------------------------------------------- control line

const CMDS = ['status', 'yield', 'resume', 'ping', 'reload', 'stop', '', 'STATUS', '__proto__', 'constructor'];
const CTRL_KEYS = ['id', 'cmd', 'instance', 'holdMs', 'timeoutMs', '__proto__', 'constructor', 'x'];

/** A request object with random fields, JSON text mutated, or bytes as text; deep nesting now and then. */
export function genControl(r: R): string {
  const k = int(r, 10);
  if (k === 0) return '['.repeat(int(r, 5000)) + ']'.repeat(int(r, 5000));
  if (k === 1) return new TextDecoder().decode(bytes(r, int(r, 200)));
  const o: Record<string, unknown> = { cmd: pick(r, CMDS) };
  for (let n = int(r, 4); n > 0; n--) o[pick(r, CTRL_KEYS)] = r() < 0.5 ? pick(r, [...SCALARS, ...CMDS]) : genValue(r, 3);
  const s = JSON.stringify(o);
  return k < 6 ? s : mutateText(r, s, ['"', ':', ',', '{', '}', '[', ']', 'null', '1e999', '-0', '\\u0000', '"cmd"']);
}

export function runControl(line: string): void {
  const d = decodeRequestLine(line);
  if (d.ok ? typeof d.request.cmd !== 'string' : d.reply.ok !== false) throw new Error('a request line without a verdict');
}

export interface Target<T> { name: string; gen: (r: R) => T; run: (x: T) => void | Promise<void>; show: (x: T) => string }

export const TARGETS = {
  advert: { name: 'decodeAdvert', gen: genAdvert, run: runAdvert, show: (x: AdvertInput) => JSON.stringify({ ...x, payload: Buffer.from(x.payload).toString('hex'), src: [...x.src], dst: [...x.dst] }) },
  keepalived: { name: 'keepalived.conf', gen: genKeepalived, run: runKeepalived, show: (x: string) => JSON.stringify(x) },
  yaml: { name: 'YAML config', gen: genYaml, run: runYaml, show: (x: string) => JSON.stringify(x) },
  control: { name: 'control line', gen: genControl, run: runControl, show: (x: string) => JSON.stringify(x.slice(0, 2000)) },
} as const;
export type TargetName = keyof typeof TARGETS;
