// ldirectord.cf as vrrpd input: global and per-virtual options mapped to virtualServers (ldirectord's defaults made explicit).
import { readFileSync } from 'node:fs';
export { isLdirectordConfig } from './detect.js';
import type { ConfigInput } from './schema.js';
import { duration } from './keepalived-ctx.js';
import { InputContext, type MappedInput } from './input-ctx.js';
import { LDIRECTORD_KEYWORDS } from './ldirectord-keywords.js';
import { parseLdirectord, type LdLine, type LdVirtual } from './ldirectord-parse.js';
import { mapChecks, type Effective } from './ldirectord-checks.js';
import { FORWARD, SERVICE_BY_PORT, type Forward, type RealDraft, type RsIn } from './ldirectord-tables.js';
import { resolvePort } from './services.js';

type VsIn = NonNullable<ConfigInput['virtualServers']>[string];


/** The global section: ldirectord's defaults (set_defaults) and what the file sets. */
export interface Globals {
  checkinterval: number;
  checktimeout?: number;
  negotiatetimeout?: number;
  failurecount: number;
  checkcount: number;
  quiescent: boolean;
  quiescentSet: boolean;
  quiescentLine?: LdLine;
  fork: boolean;
  autoreload: boolean;
  fallback?: { line: LdLine; address: string; port: number; forward: Forward };
  fallback6?: { line: LdLine; address: string; port: number; forward: Forward };
  cleanstop: boolean;
}

const yesNo = (ctx: InputContext, l: LdLine): boolean | undefined => {
  if (l.value === 'yes' || l.value === 'no') return l.value === 'yes';
  ctx.error(l, `${l.keyword} must be "yes" or "no", got "${l.raw}"`);
  return undefined;
};

/** A whole number >= min (ldirectord's numeric options). */
export function count(ctx: InputContext, l: LdLine, min = 1): number | undefined {
  if (/^\d+$/.test(l.value) && Number(l.value) >= min) return Number(l.value);
  ctx.error(l, `${l.keyword} needs a whole number${min > 0 ? ' above 0' : ''}, got "${l.raw}"`);
  return undefined;
}

/** A host as ldirectord.cf writes it: IPv4 dotted quad or [IPv6]; names are refused (no resolving at config time). */
function hostAddress(ctx: InputContext, l: LdLine, text: string, v6: boolean): string | undefined {
  const m = v6 ? /^\[([0-9A-Fa-f:.]+)\]$/.exec(text) : /^(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (m && (v6 || m[1]!.split('.').every((o) => Number(o) <= 255))) return m[1];
  if (!v6 && /^\[/.test(text)) ctx.error(l, `an IPv6 address belongs in ${l.keyword}6= (${text})`);
  else if (/^[A-Za-z0-9.-]+$/.test(text) && !/^[\d.]+$/.test(text)) ctx.error(l, `"${text}" is a host name: write the address (vrrpd does not resolve names in its configuration)`);
  else ctx.error(l, `"${text}" is not an ${v6 ? '[IPv6]' : 'IPv4'} address`);
  return undefined;
}

function port(ctx: InputContext, l: LdLine, text: string): number | undefined {
  const p = resolvePort(text);
  if (p === undefined) ctx.error(l, `"${text}" is not a port number or a known service name (write the number)`);
  return p;
}

/** address[:port] [gate|masq|ipip] of fallback=. */
function parseFallback(ctx: InputContext, l: LdLine, v6: boolean, defaultPort: number) {
  const m = /^(\S+?)(?::([A-Za-z0-9_-]+))?(?:\s+(\S+))?$/.exec(v6 ? l.value.replace(/^(\[[^\]]*\])/, '$1') : l.value);
  if (!m) { ctx.error(l, `invalid fallback server "${l.raw}"`); return undefined; }
  const address = hostAddress(ctx, l, m[1]!, v6);
  const p = m[2] !== undefined ? port(ctx, l, m[2]) : defaultPort;
  const forward = m[3] === undefined ? 'dr' : FORWARD[m[3]];
  if (!forward) ctx.error(l, `forward method must be gate, masq or ipip, got "${m[3]}"`);
  return address === undefined || p === undefined || !forward ? undefined : { line: l, address, port: p, forward };
}

const GLOBAL: Record<string, (ctx: InputContext, l: LdLine, g: Globals) => void> = {
  checkinterval: (c, l, g) => { g.checkinterval = count(c, l) ?? g.checkinterval; },
  checktimeout: (c, l, g) => { g.checktimeout = count(c, l); },
  connecttimeout: (c, l, g) => { g.checktimeout = count(c, l); },
  negotiatetimeout: (c, l, g) => { g.negotiatetimeout = count(c, l); },
  failurecount: (c, l, g) => { g.failurecount = count(c, l) ?? 1; },
  checkcount: (c, l, g) => { g.checkcount = count(c, l) ?? 1; },
  quiescent: (c, l, g) => { g.quiescent = yesNo(c, l) ?? false; g.quiescentSet = true; g.quiescentLine = l; },
  readdquiescent: (c, l) => { yesNo(c, l); },
  fork: (c, l, g) => { g.fork = yesNo(c, l) ?? false; },
  autoreload: (c, l, g) => { g.autoreload = yesNo(c, l) ?? false; },
  cleanstop: (c, l, g) => {
    g.cleanstop = yesNo(c, l) ?? true;
    if (!g.cleanstop) c.error(l, 'cleanstop = no is not supported: vrrpd removes its services when it stops');
  },
  fallback: (c, l, g) => { g.fallback = parseFallback(c, l, false, 0); },
  fallback6: (c, l, g) => { g.fallback6 = parseFallback(c, l, true, 0); },
};

/** Apply one line through the keyword table: handlers, warned and refused keywords, unknown ones refused. */
function dispatch(ctx: InputContext, l: LdLine, where: 'global' | 'virtual', handler: ((l: LdLine) => void) | undefined): void {
  const info = Object.hasOwn(LDIRECTORD_KEYWORDS, l.keyword) ? LDIRECTORD_KEYWORDS[l.keyword]! : undefined;
  if (!info || (info.scope !== 'both' && info.scope !== where)) {
    ctx.error(l, info ? `${l.keyword} is not valid in a ${where === 'global' ? 'global line' : 'virtual section'} (ldirectord refuses it too)`
      : `unknown ldirectord keyword "${l.keyword}"`);
    return;
  }
  if (info.class === 'refused') ctx.error(l, `not supported: ${info.note}`);
  else if (info.class === 'warned') ctx.warn(l, `ignored: ${info.note}`);
  else handler?.(l);
}

/** Read an ldirectord.cf and map it to a vrrpd config (virtual servers, no VRRP instance). */
export function parseLdirectordConfig(file: string, opts: { strict?: boolean; text?: string } = {}): MappedInput<ConfigInput> {
  const ctx = new InputContext(opts.strict === true);
  let text = opts.text;
  if (text === undefined) {
    try { text = readFileSync(file, 'utf8'); } catch (e) {
      ctx.error({ file, line: 0, col: 0, keyword: '' }, `cannot read: ${(e as Error).message}`);
      return { ok: false, config: { instances: {} }, diagnostics: ctx.diagnostics, positions: ctx.positions, notes: ctx.notes };
    }
  }
  const parsed = parseLdirectord(text, file, ctx);
  const g: Globals = { checkinterval: 10, failurecount: 1, checkcount: 1, quiescent: false, quiescentSet: false, fork: false, autoreload: false, cleanstop: true };
  for (const l of parsed.globals) dispatch(ctx, l, 'global', GLOBAL[l.keyword] ? (x) => GLOBAL[l.keyword]!(ctx, x, g) : undefined);
  const virtualServers: Record<string, VsIn> = {};
  const seen = new Map<string, number>();
  for (const v of parsed.virtuals) {
    const r = mapVirtual(ctx, v, g);
    if (!r) continue;
    if (seen.has(r.id)) ctx.error(v.head, `duplicate virtual server (same as line ${seen.get(r.id)})`);
    seen.set(r.id, v.head.line);
    let name = r.name;
    for (let i = 2; name in virtualServers; i++) name = `${r.name}-${i}`;
    virtualServers[name] = r.vs;
    for (const [p, at] of r.positions) ctx.at(`virtualServers.${name}${p ? `.${p}` : ''}`, at);
  }
  const config: ConfigInput = { instances: {}, virtualServers };
  if (g.autoreload) config.global = { autoReload: duration(g.checkinterval) } as ConfigInput['global'];
  if (parsed.virtuals.length === 0) ctx.notes.push('no virtual= section: nothing to balance');
  if (!g.quiescentSet && parsed.virtuals.length) {
    ctx.notes.push('quiescent is not set: current ldirectord\'s default (no: a failed server leaves the table) applies; older ldirectord releases documented yes');
  }
  return { ok: ctx.ok, config, diagnostics: ctx.diagnostics, positions: ctx.positions, notes: ctx.notes };
}

interface VirtualOut { name: string; id: string; vs: VsIn; positions: Map<string, LdLine> }

function mapVirtual(ctx: InputContext, v: LdVirtual, g: Globals): VirtualOut | undefined {
  const h = v.head;
  const v6 = h.keyword === 'virtual6';
  const pos = new Map<string, LdLine>([['', h]]);
  const vs: Partial<VsIn> = {};
  let vport = 0;
  let id: string;
  let name: string;
  if (/^\d+$/.test(h.value)) {
    vs.fwmark = Number(h.value);
    if (vs.fwmark < 1 || vs.fwmark > 0xffffffff) ctx.error(h, `firewall mark ${h.value} is out of range 1-4294967295`);
    vs.family = v6 ? 6 : 4;
    id = `fwm:${v6 ? 6 : 4}:${h.value}`;
    name = `ld-fwm-${h.value}${v6 ? '-v6' : ''}`;
    pos.set('fwmark', h);
  } else {
    const m = v6 ? /^(\[[^\]]*\]):([A-Za-z0-9_-]+)$/.exec(h.value) : /^([^:\s]+):([A-Za-z0-9_-]+)$/.exec(h.value);
    if (!m) { ctx.error(h, `invalid address for virtual server "${h.raw}" (ADDRESS:PORT or a firewall mark)`); return undefined; }
    const address = hostAddress(ctx, h, m[1]!, v6);
    const p = port(ctx, h, m[2]!);
    if (address === undefined || p === undefined) return undefined;
    vs.address = address;
    vs.port = vport = p;
    id = `${address}:${p}`;
    name = `ld-${address.replace(/[^A-Za-z0-9]/g, '_')}-${p}`;
    pos.set('address', h);
    pos.set('port', h);
  }
  // ldirectord's per-virtual defaults (read_config).
  const e: Effective = {
    checktype: 'negotiate', protocol: vs.fwmark !== undefined ? 'fwm' : vport === 53 ? 'udp' : 'tcp', service: undefined,
    request: '/', receive: '', httpmethod: 'GET', checkcommand: '/bin/true', lines: {}, reals: [],
  };
  let quiescent = g.quiescent;
  let failurecount = g.failurecount;
  let checkcount = g.checkcount;
  let checktimeout = -1;
  let negotiatetimeout = -1;
  let checkinterval: number | undefined;
  let fallback = v6 ? g.fallback6 : g.fallback;
  let persistent: number | undefined;
  let netmask: LdLine | undefined;
  for (const l of v.options) {
    const set = (x: LdLine) => { e.lines[x.keyword] = x; };
    const handlers: Record<string, (l: LdLine) => void> = {
      real: (x) => { if (v6) ctx.error(x, 'use real6= in a virtual6 section'); else e.reals.push(x); },
      real6: (x) => { if (!v6) ctx.error(x, 'use real= in a virtual section (real6= is for virtual6)'); else e.reals.push(x); },
      request: (x) => { set(x); if (!x.value) ctx.error(x, 'no request string specified'); e.request = x.value.startsWith('/') ? x.value : `/${x.value}`; },
      receive: (x) => { set(x); if (!x.value) ctx.error(x, 'invalid receive string (empty)'); e.receive = x.value; },
      checktype: (x) => { set(x); e.checktype = x.value; },
      checkcommand: (x) => { set(x); if (!x.value) ctx.error(x, 'invalid check command'); e.checkcommand = x.value; },
      checktimeout: (x) => { checktimeout = count(ctx, x) ?? -1; },
      connecttimeout: (x) => { checktimeout = count(ctx, x) ?? -1; },
      negotiatetimeout: (x) => { negotiatetimeout = count(ctx, x) ?? -1; },
      failurecount: (x) => { set(x); failurecount = count(ctx, x) ?? 1; },
      checkcount: (x) => { set(x); checkcount = count(ctx, x) ?? 1; },
      checkinterval: (x) => {
        const n = count(ctx, x);
        if (g.fork) { checkinterval = n; pos.set('delayLoop', x); } else ctx.warn(x, 'ignored when fork = no, as in ldirectord: the global checkinterval applies');
      },
      checkport: (x) => { set(x); const n = count(ctx, x); if (n !== undefined && n > 65535) ctx.error(x, 'checkport must be in range 1..65535'); e.checkport = n; },
      scheduler: (x) => { if (!/^[a-z]+$/.test(x.value)) ctx.error(x, 'invalid scheduler, should be only lowercase letters (a-z)'); vs.scheduler = x.value as VsIn['scheduler']; pos.set('scheduler', x); },
      persistent: (x) => { persistent = count(ctx, x, 0); pos.set('persistence', x); },
      netmask: (x) => { netmask = x; },
      protocol: (x) => {
        set(x);
        if (e.protocol === 'fwm' ? x.value !== 'fwm' : x.value !== 'tcp' && x.value !== 'udp') {
          ctx.error(x, e.protocol === 'fwm' ? 'protocol must be fwm if the virtual service is a fwmark (a number)' : 'protocol must be tcp or udp if the virtual service is an address and port');
        } else e.protocol = x.value as Effective['protocol'];
        pos.set('protocol', x);
      },
      ops: (x) => {
        const yes = yesNo(ctx, x);
        if (yes && e.protocol === 'udp') { vs.onePacket = true; pos.set('onePacket', x); } else if (yes) ctx.warn(x, 'ops = yes applies to UDP services only; no effect here (as in ldirectord)');
      },
      schedflags: (x) => { vs.schedulerFlags = x.value.split(',') as VsIn['schedulerFlags']; pos.set('schedulerFlags', x); },
      service: (x) => { set(x); e.service = x.value; },
      httpmethod: (x) => { set(x); e.httpmethod = x.value.toUpperCase(); },
      virtualhost: (x) => { set(x); e.virtualhost = x.value; },
      fallback: (x) => { if (v6) ctx.error(x, 'use fallback6= in a virtual6 section'); else fallback = parseFallback(ctx, x, false, vport); },
      fallback6: (x) => { if (!v6) ctx.error(x, 'use fallback= in a virtual section'); else fallback = parseFallback(ctx, x, true, vport); },
      quiescent: (x) => { quiescent = yesNo(ctx, x) ?? quiescent; pos.set('inhibitOnFailure', x); },
      cleanstop: (x) => { if (yesNo(ctx, x) === false) ctx.error(x, 'cleanstop = no is not supported: vrrpd removes its services when it stops'); },
    };
    dispatch(ctx, l, 'virtual', handlers[l.keyword]);
  }
  if (e.protocol === 'udp') vs.protocol = 'udp';
  vs.scheduler ??= 'wrr';
  if (persistent !== undefined) {
    vs.persistence = duration(persistent);
    if (netmask) { vs.persistenceNetmask = netmask.value; pos.set('persistenceNetmask', netmask); }
  } else if (netmask) ctx.warn(netmask, 'netmask without persistent has no effect (ldirectord passes it with persistent only)');
  e.service ??= vs.fwmark !== undefined ? 'none' : SERVICE_BY_PORT[vport] ?? 'none';
  // checktimeout and negotiatetimeout default to each other, then to the global values, then 5 s / 30 s (ld_setup).
  e.checktimeout = [checktimeout, negotiatetimeout, g.checktimeout ?? -1, g.negotiatetimeout ?? -1].find((x) => x > 0) ?? 5;
  e.negotiatetimeout = [negotiatetimeout, checktimeout, g.negotiatetimeout ?? -1, g.checktimeout ?? -1].find((x) => x > 0) ?? 30;
  e.interval = checkinterval ?? g.checkinterval;
  e.failurecount = failurecount;
  e.checkcount = checkcount;
  vs.delayLoop = duration(e.interval);
  const reals = mapReals(ctx, e, vs, vport, v6);
  const { checked, realServers } = mapChecks(ctx, e, vs, reals);
  if (fallback) {
    // As for real servers: with gate/ipip the kernel keeps the service's port (ipvsadm sets it so, silently).
    vs.sorryServer = { address: fallback.address, port: fallback.forward === 'nat' ? fallback.port : 0 };
    pos.set('sorryServer', fallback.line);
    if (vs.fwmark !== undefined && fallback === (v6 ? g.fallback6 : g.fallback)) delete vs.sorryServer; // global fallback: TCP/UDP only
  }
  const forwards = new Set(realServers.map((r) => r.forwarding ?? 'dr'));
  const fwd = vs.sorryServer && fallback ? fallback.forward : [...forwards][0] ?? 'dr';
  vs.forwarding = fwd;
  for (const r of realServers) if (r.forwarding === fwd) delete r.forwarding;
  if (vs.sorryServer && fallback && forwards.size > 1) ctx.error(fallback.line, 'the real servers use several forwarding methods: the fallback server\'s cannot be expressed (vrrpd forwards the sorry server like the service)');
  vs.realServers = realServers;
  // quiescent = yes: a failed server stays in the table with weight 0 (ldirectord sets its weight to 0).
  if (quiescent) {
    vs.inhibitOnFailure = true;
    if (!pos.has('inhibitOnFailure') && g.quiescentLine) pos.set('inhibitOnFailure', g.quiescentLine);
  }
  // ldirectord adds a server after its first passing check (ld_start marks servers down, then checks them): alpha.
  if (checked) vs.alpha = true;
  return { name, id, vs: vs as VsIn, positions: pos };
}

const MAX_RANGE = 4096;

function ipToInt(a: string): number { return a.split('.').reduce((n, o) => n * 256 + Number(o), 0); }
function intToIp(n: number): string { return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.'); }

/** real= lines: address[->last][:port] gate|masq|ipip [weight] ["request", "receive"] [l:N] [u:N] (add_real_server). */
function mapReals(ctx: InputContext, e: Effective, vs: Partial<VsIn>, vport: number, v6: boolean): RealDraft[] {
  const out: RealDraft[] = [];
  for (const l of e.reals) {
    const m = (v6 ? /^(\[[0-9A-Fa-f:.]+\])(?:->(\[[0-9A-Fa-f:.]+\]))?(?::([A-Za-z0-9_-]+))?\s+(.*)$/ : /^([A-Za-z0-9.-]+)(?:->([A-Za-z0-9.-]+))?(?::([A-Za-z0-9_-]+))?\s+(.*)$/).exec(l.raw);
    if (!m) { ctx.error(l, `invalid real server "${l.raw}" (ADDRESS[:PORT] gate|masq|ipip [WEIGHT] ...)`); continue; }
    const first = hostAddress(ctx, l, m[1]!, v6);
    const last = m[2] !== undefined ? hostAddress(ctx, l, m[2], v6) : first;
    const p = m[3] !== undefined ? port(ctx, l, m[3]) : 0;
    let rest = m[4]!;
    const fm = /^(\w+)(.*)$/.exec(rest);
    const forward = fm ? FORWARD[fm[1]!] : undefined;
    if (!forward) { ctx.error(l, `forward method must be gate, masq or ipip, got "${rest.split(/\s/)[0]}"`); continue; }
    rest = fm![2]!;
    let weight = 1;
    let wm = /^\s+(\d+)(.*)$/.exec(rest);
    if (wm) { weight = Number(wm[1]); rest = wm[2]!; }
    let request: string | undefined;
    let receive: string | undefined;
    wm = /^\s+"(.*)"[, ]\s*"(.*)"(.*)$/.exec(rest);
    if (wm) { request = wm[1]!.startsWith('/') ? wm[1]! : `/${wm[1]!}`; receive = wm[2]!; rest = wm[3]!; }
    let lower: number | undefined;
    let upper: number | undefined;
    wm = /^\s+l:(\d+)(.*)$/.exec(rest);
    if (wm) { lower = Number(wm[1]); rest = wm[2]!; }
    wm = /^\s+u:(\d+)(.*)$/.exec(rest);
    if (wm) { upper = Number(wm[1]); rest = wm[2]!; }
    if (/\S/.test(rest)) { ctx.error(l, `invalid real server line, around "${rest.trim()}"`); continue; }
    if (weight > 65535) ctx.error(l, `weight ${weight} is above 65535`);
    if (first === undefined || last === undefined || p === undefined) continue;
    let addrs = [first];
    if (m[2] !== undefined) {
      if (v6) { ctx.error(l, 'address ranges are IPv4 only (as in ldirectord)'); continue; }
      const a = ipToInt(first);
      const b = ipToInt(last);
      if (a > b) { ctx.error(l, `invalid range ${first}->${last}: the first address must not be above the last`); continue; }
      if (b - a + 1 > MAX_RANGE) { ctx.error(l, `range ${first}->${last} has ${b - a + 1} addresses; at most ${MAX_RANGE}`); continue; }
      addrs = [];
      for (let n = a; n <= b; n++) addrs.push(intToIp(n));
    }
    // The kernel keeps the service's port for gate/ipip (ipvsadm does so silently); NAT maps port 0 to it too.
    const tablePort = forward === 'nat' ? (p || vport) : vport;
    if (forward !== 'nat' && p !== 0 && p !== vport) {
      ctx.warn(l, `port ${p} is used for the check only: with ${forward === 'dr' ? 'gate' : 'ipip'} the kernel sends to the service's port ${vport} (ipvsadm sets it so too)`);
    }
    for (const address of addrs) {
      const rs: RsIn = { address, port: tablePort, weight, forwarding: forward };
      if (lower !== undefined) rs.lowerThreshold = lower;
      if (upper !== undefined) rs.upperThreshold = upper;
      out.push({ line: l, rs, configuredPort: p, ...(request !== undefined ? { request, receive: receive ?? '' } : {}) });
    }
  }
  void vs;
  return out;
}
