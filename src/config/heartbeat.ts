// heartbeat's side of a director pair (ha.cf, haresources, authkeys) -> the equivalent VRRP pair, one vrrpd config per node.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigInput } from './schema.js';
import { InputContext, type InputDiagnostic, type Where } from './input-ctx.js';

export interface HeartbeatNode { node: string; priority: number; config: ConfigInput }
export interface HeartbeatImport { ok: boolean; nodes: HeartbeatNode[]; diagnostics: InputDiagnostic[]; notes: string[] }

interface Line extends Where { words: string[] }

function readLines(file: string, ctx: InputContext): Line[] | undefined {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    ctx.error({ file, line: 0, col: 0, keyword: '' }, `cannot read: ${(e as Error).message}`);
    return undefined;
  }
  const out: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const first = i + 1;
    let l = raw[i]!.replace(/\r$/, '');
    while (l.endsWith('\\') && i + 1 < raw.length) l = l.slice(0, -1) + ' ' + raw[++i]!;
    const body = l.replace(/#.*$/, '').trim();
    if (!body) continue;
    const words = body.split(/\s+/);
    out.push({ file, line: first, col: l.indexOf(words[0]!) + 1, keyword: words[0]!, words });
  }
  return out;
}

/** heartbeat times: "2" (seconds) or "500ms". */
function seconds(ctx: InputContext, l: Line): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(l.words[1] ?? '');
  if (!m) { ctx.error(l, `${l.keyword} needs a time (seconds, or NNNms), got "${l.words[1] ?? ''}"`); return undefined; }
  return Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
}

const IGNORED: Record<string, string> = {
  logfile: 'vrrpd logs to stdout (journald)', debugfile: 'vrrpd logs to stdout', logfacility: 'vrrpd logs to stdout', use_logd: 'vrrpd logs to stdout',
  udpport: 'VRRP is IP protocol 112, not UDP', initdead: 'VRRP needs no start-up grace: a starting node is BACKUP until Master_Down_Interval passes',
  warntime: 'a late-heartbeat warning only', debug: 'use --log-level', coredumps: 'no such setting', compression: 'no such setting',
  traditional_compression: 'no such setting', msgfmt: 'no such setting', realtime: 'no such setting', conn_logd_time: 'no such setting',
  max_rexmit_delay: 'no such setting', uuidfrom: 'no such setting', hopfudge: 'no such setting', baud: 'serial links are not VRRP paths',
  apiauth: 'no heartbeat API in vrrpd', autojoin: 'VRRP routers need no membership', keepalive: '', deadtime: '', node: '', bcast: '',
  mcast: '', ucast: '', udp: '', auto_failback: '', nice_failback: '',
};
const REFUSED: Record<string, string> = {
  crm: 'a CRM/pacemaker cluster is not a heartbeat v1 resource pair: migrate its resources by hand', pacemaker: 'see crm',
  respawn: 'heartbeat starts and watches this program: run it as its own systemd service',
  ping: 'ping nodes change failover: use trackScripts (a ping script) with a negative weight', ping_group: 'see ping',
  deadping: 'see ping', stonith: 'fencing is not part of VRRP', stonith_host: 'fencing is not part of VRRP',
  watchdog: 'use systemd\'s WatchdogSec', serial: 'a serial heartbeat link has no VRRP equivalent: VRRP runs over IP',
};

/** Read ha.cf with haresources and authkeys beside it; map the pair. Nothing is validated here beyond the files. */
export function importHeartbeat(haCf: string, opts: { strict?: boolean } = {}): HeartbeatImport {
  const ctx = new InputContext(opts.strict === true);
  const dir = dirname(haCf);
  const ha = readLines(haCf, ctx) ?? [];
  const nodes: string[] = [];
  const media: { l: Line; iface: string; peers: string[] }[] = [];
  let keepalive = 2; // heartbeat's defaults
  let deadtime = 30;
  let preempt = true;
  for (const l of ha) {
    const w = l.words;
    if (Object.hasOwn(REFUSED, l.keyword)) { ctx.error(l, `not supported: ${REFUSED[l.keyword]}`); continue; }
    if (!Object.hasOwn(IGNORED, l.keyword)) { ctx.error(l, `unknown ha.cf directive "${l.keyword}"`); continue; }
    if (IGNORED[l.keyword]) { ctx.warn(l, `ignored: ${IGNORED[l.keyword]}`); continue; }
    switch (l.keyword) {
      case 'keepalive': keepalive = seconds(ctx, l) ?? keepalive; break;
      case 'deadtime': deadtime = seconds(ctx, l) ?? deadtime; break;
      case 'node': nodes.push(...w.slice(1)); break;
      case 'bcast': case 'udp': for (const i of w.slice(1)) media.push({ l, iface: i, peers: [] }); break;
      case 'mcast':
        if (w.length < 3) ctx.error(l, 'mcast needs IFACE GROUP PORT TTL LOOP');
        else { media.push({ l, iface: w[1]!, peers: [] }); ctx.notes.push(`${l.file}:${l.line}: mcast ${w[2]} on ${w[1]}: VRRP adverts go to 224.0.0.18 (RFC 5798 §5.1.1.2), not to ${w[2]}`); }
        break;
      case 'ucast':
        if (w.length < 3) ctx.error(l, 'ucast needs IFACE PEER-ADDRESS');
        else { const m = media.find((x) => x.iface === w[1] && x.peers.length); if (m) m.peers.push(w[2]!); else media.push({ l, iface: w[1]!, peers: [w[2]!] }); }
        break;
      case 'auto_failback':
        if (w[1] === 'on' || w[1] === 'legacy') preempt = true;
        else if (w[1] === 'off') preempt = false;
        else ctx.error(l, `auto_failback is on, off or legacy, got "${w[1] ?? ''}"`);
        break;
      case 'nice_failback':
        if (w[1] === 'on' || w[1] === 'off') preempt = w[1] === 'off';
        else ctx.error(l, `nice_failback is on or off, got "${w[1] ?? ''}"`);
        break;
    }
  }
  const at0: Where = { file: haCf, line: 0, col: 0, keyword: '' };
  if (nodes.length < 2) ctx.error(ha.find((l) => l.keyword === 'node') ?? at0, `a pair needs two node lines (found ${nodes.length})`);
  if (!media.length) ctx.error(at0, 'no communication path (bcast, mcast, ucast or udp): the VRRP interface is unknown');
  const path = media[0];
  for (const m of media.slice(1)) ctx.notes.push(`${m.l.file}:${m.l.line}: ${m.l.keyword} ${m.iface} is a further heartbeat path; a VRRP instance adverts on one interface (${path!.iface}): keep the others as track interfaces or drop them`);
  // Adverts every keepalive, whole seconds (VRRPv2, RFC 3768 §5.3.7).
  const advert = Math.max(1, Math.round(keepalive));
  if (advert !== keepalive) ctx.notes.push(`keepalive ${keepalive} s → advertInterval ${advert} s (VRRPv2 counts whole seconds)`);
  const mdi = (prio: number) => 3 * advert + (256 - prio) / 256;
  ctx.notes.push(`Master_Down_Interval (RFC 3768 §6.1) = 3 × ${advert} s + Skew_Time ≈ ${mdi(100).toFixed(2)} s on the backup, against heartbeat's deadtime ${deadtime} s: ` +
    (mdi(100) < deadtime ? `the backup takes over ${(deadtime - mdi(100)).toFixed(1)} s sooner. For about the old delay set advertInterval: ${Math.max(1, Math.round(deadtime / 3))}s on both nodes.` : 'about the same or later.'));
  // authkeys
  const keysFile = join(dir, 'authkeys');
  const keys = existsSync(keysFile) ? readLines(keysFile, ctx) ?? [] : [];
  const active = keys.find((l) => l.keyword === 'auth')?.words[1];
  const method = keys.find((l) => l.keyword === active)?.words[1];
  if (method) ctx.notes.push(`authkeys: ${method}${method === 'crc' ? ' (no authentication)' : ' (a keyed hash)'} has no VRRP equivalent: VRRPv2's only authentication is a clear-text PASS word (RFC 3768 §5.3.6.1), which protects nothing; RFC 5798 dropped it. No authentication is configured: keep the VRRP link on a trusted segment (the crossover).`);
  // haresources: one resource group per line -> one VRRP instance, the line's node preferred.
  const resFile = join(dir, 'haresources');
  const res = readLines(resFile, ctx) ?? [];
  const groups: { l: Line; preferred: string; vips: string[]; ldirectord: string[] }[] = [];
  for (const l of res) {
    const g = { l, preferred: l.words[0]!, vips: [] as string[], ldirectord: [] as string[] };
    if (!nodes.includes(g.preferred)) ctx.error(l, `node "${g.preferred}" is not a node of ha.cf (${nodes.join(', ')})`);
    for (const r of l.words.slice(1)) {
      const [name, ...args] = r.split('::');
      const where = { ...l, keyword: name! };
      if (name === 'IPaddr' || name === 'IPaddr2' || /^\d+\.\d+\.\d+\.\d+(\/.*)?$/.test(r)) {
        const [addr, prefix, iface] = (/^\d/.test(r) ? r : args[0] ?? '').split('/');
        if (!addr || !/^\d+\.\d+\.\d+\.\d+$/.test(addr)) { ctx.error(where, `${r}: no IPv4 address`); continue; }
        const plen = prefix && /^\d+$/.test(prefix) ? prefix : prefix ? String(maskLen(prefix)) : '32';
        g.vips.push(`${addr}/${plen}${iface ? ` dev ${iface}` : ''}`);
      } else if (name === 'ldirectord') {
        const f = args[0] ?? 'ldirectord.cf';
        g.ldirectord.push(isAbsolute(f) ? f : resolve(dir, f));
      } else ctx.error(where, `resource ${r} is a script heartbeat starts on the active node: not carried over (run it from notify.master / notify.backup, or as its own service)`);
    }
    groups.push(g);
  }
  if (!groups.length) ctx.error({ file: resFile, line: 0, col: 0, keyword: '' }, 'no resource group: nothing to fail over');
  const out: HeartbeatNode[] = nodes.slice(0, Math.max(2, nodes.length)).map((node) => {
    const instances: NonNullable<ConfigInput['instances']> = {};
    groups.forEach((g, i) => {
      const prefers = g.preferred === node;
      instances[`vi_${i + 1}`] = {
        interface: path?.iface ?? 'eth0', vrid: i + 1, priority: prefers ? 150 : 100, advertInterval: `${advert}s`, preempt,
        ...(path?.peers.length ? { unicastPeers: path.peers } : {}),
        vips: g.vips,
      };
    });
    const from = groups.flatMap((g, i) => g.ldirectord.map((f) => ({ ldirectord: f, instance: `vi_${i + 1}` })));
    const config: ConfigInput = { instances, ...(from.length ? { virtualServersFrom: from } : {}) };
    return { node, priority: groups[0]?.preferred === node ? 150 : 100, config };
  });
  if (groups.length) ctx.notes.push(`vrid ${groups.map((_, i) => i + 1).join(', ')} chosen: the VRID must be unique among VRRP routers on ${path?.iface ?? 'the link'}; change both nodes together`);
  if (path?.peers.length) ctx.notes.push(`ucast: each node's unicastPeers must list the other node's address only: remove a node's own address from its list`);
  return { ok: ctx.ok, nodes: out, diagnostics: ctx.diagnostics, notes: ctx.notes };
}

function maskLen(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

/** The pair as text: one YAML document per node, each headed by the node and the notes. */
export function renderHeartbeat(source: string, r: HeartbeatImport, warnings: string[]): string {
  const head = [
    `# vrrpd configurations imported from ${source} (heartbeat ha.cf, haresources, authkeys) by \`vrrpd import --format heartbeat\`.`,
    '# One document per node: save each as that node\'s /etc/vrrpd/vrrpd.yaml and check it with `vrrpd check -f FILE`.',
    ...r.notes.map((n) => `# NOTE ${n}`),
    ...warnings.map((w) => `# warning ${w}`),
  ];
  const docs = r.nodes.map((n) => `# node ${n.node}${n.priority === 150 ? ' (preferred by haresources: the higher priority)' : ''}\n${stringify(n.config, { lineWidth: 0 })}`);
  return `${head.join('\n')}\n---\n${docs.join('---\n')}`;
}
