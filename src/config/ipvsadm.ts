// ipvsadm rule sets as vrrpd input: `ipvsadm -S` output and shell scripts running ipvsadm, replayed into virtualServers.
import { readFileSync } from 'node:fs';
export { isIpvsadmRules } from './detect.js';
import type { ConfigInput } from './schema.js';
import { duration } from './keepalived-ctx.js';
import { InputContext, type MappedInput, type Where } from './input-ctx.js';
import { readScript, type ShellCommand } from './ipvsadm-shell.js';
import { IPVSADM_OPTIONS } from './ipvsadm-options.js';
import { resolvePort } from './services.js';

type VsIn = NonNullable<ConfigInput['virtualServers']>[string];
type RsIn = NonNullable<VsIn['realServers']>[number];

const PROGRAM = /^(?:\/usr)?(?:\/s?bin\/)?ipvsadm$/;


interface Service { key: string; name: string; where: Where; vs: VsIn; reals: Map<string, { where: Where; rs: RsIn }> }

/** One ipvsadm invocation's options, long names normalized (what ipvsadm's popt table accepts). */
interface Parsed { cmd?: string; opts: Map<string, { value?: string; col: number }> }

function parseArgs(ctx: InputContext, c: ShellCommand, args: string[]): Parsed | undefined {
  const out: Parsed = { opts: new Map() };
  const at = (kw: string): Where => ({ file: c.file, line: c.line, col: c.col, keyword: kw });
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const flags: { name: string; attached?: string }[] = [];
    if (a.startsWith('--')) {
      const [n, v] = a.slice(2).split(/=(.*)/s);
      const name = IPVSADM_OPTIONS[`--${n}`]?.canonical;
      if (!name) { ctx.error(at(a), `unknown ipvsadm option ${a}`); return undefined; }
      flags.push({ name, ...(v !== undefined ? { attached: v } : {}) });
    } else if (/^-[A-Za-z0-9]/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const name = IPVSADM_OPTIONS[`-${a[j]}`]?.canonical;
        if (!name) { ctx.error(at(a), `unknown ipvsadm option -${a[j]}${a.length > 2 ? ` (in ${a})` : ''}`); return undefined; }
        const info = IPVSADM_OPTIONS[name]!;
        if (info.arg !== 'none' && j + 1 < a.length) { flags.push({ name, attached: a.slice(j + 1) }); break; }
        flags.push({ name });
      }
    } else { ctx.error(at(a), `unexpected argument "${a}"`); return undefined; }
    for (const f of flags) {
      const info = IPVSADM_OPTIONS[f.name]!;
      let value = f.attached;
      if (value === undefined && info.arg === 'required') {
        value = args[++i];
        if (value === undefined) { ctx.error(at(f.name), `${f.name} needs a value`); return undefined; }
      } else if (value === undefined && info.arg === 'optional' && args[i + 1] !== undefined && /^\d+$/.test(args[i + 1]!)) value = args[++i];
      if (info.command) {
        if (out.cmd && out.cmd !== f.name) { ctx.error(at(f.name), `two commands (${out.cmd} and ${f.name}) in one ipvsadm call`); return undefined; }
        out.cmd = f.name;
        if (info.class === 'refused') return out; // its arguments do not matter: the command is refused
      }
      out.opts.set(f.name, { ...(value !== undefined ? { value } : {}), col: c.col });
    }
  }
  return out;
}

/** -t/-u/--sctp-service ADDR[:PORT], -f MARK: the service identity. */
function serviceOf(ctx: InputContext, at: Where, p: Parsed): { key: string; name: string; vs: VsIn } | undefined {
  const proto = p.opts.has('--tcp-service') ? 'tcp' : p.opts.has('--udp-service') ? 'udp' : p.opts.has('--sctp-service') ? 'sctp' : undefined;
  const fw = p.opts.get('--fwmark-service');
  if ([...p.opts.keys()].filter((k) => /^--(tcp|udp|sctp|fwmark)-service$/.test(k)).length !== 1) {
    ctx.error(at, 'one service is needed: -t, -u, --sctp-service ADDRESS:PORT or -f MARK');
    return undefined;
  }
  if (fw) {
    const n = /^\d+$/.test(fw.value ?? '') ? Number(fw.value) : /^0x[0-9a-f]+$/i.test(fw.value ?? '') ? Number(fw.value) : NaN;
    if (!(n >= 1 && n <= 0xffffffff)) { ctx.error(at, `-f needs a firewall mark 1-4294967295, got "${fw.value}"`); return undefined; }
    const family = p.opts.has('--ipv6') ? 6 : 4;
    return { key: `fwm:${family}:${n}`, name: `ipvs-fwm-${n}${family === 6 ? '-v6' : ''}`, vs: { fwmark: n, family } };
  }
  const a = hostPort(ctx, at, p.opts.get(`--${proto}-service`)!.value!);
  if (!a) return undefined;
  const vs: VsIn = { address: a.address, port: a.port ?? 0 };
  if (proto !== 'tcp') vs.protocol = proto;
  return { key: `${proto}:${a.address}:${vs.port}`, name: `ipvs-${a.address.replace(/[^A-Za-z0-9]/g, '_')}-${vs.port}${proto === 'tcp' ? '' : `-${proto}`}`, vs };
}

function hostPort(ctx: InputContext, at: Where, text: string): { address: string; port?: number } | undefined {
  const m = /^\[([0-9A-Fa-f:.]+)\](?::([A-Za-z0-9_-]+))?$/.exec(text) ?? /^([^:[\]]+)(?::([A-Za-z0-9_-]+))?$/.exec(text);
  if (!m) { ctx.error(at, `"${text}" is not ADDRESS[:PORT]`); return undefined; }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]!) && !m[1]!.includes(':')) {
    ctx.error(at, `"${m[1]}" is a host name: write the address (save rules with ipvsadm -Sn; vrrpd does not resolve names)`);
    return undefined;
  }
  if (m[2] === undefined) return { address: m[1]! };
  const port = resolvePort(m[2]);
  if (port === undefined) { ctx.error(at, `"${m[2]}" is not a port number or a known service name (write the number)`); return undefined; }
  return { address: m[1]!, port };
}

const FORWARDING: Record<string, 'dr' | 'nat' | 'tun'> = { '--gatewaying': 'dr', '--masquerading': 'nat', '--ipip': 'tun' };

/** Read ipvsadm rules (ipvsadm-save output or a shell script) and map the table they build to a vrrpd config. */
export function parseIpvsadmRules(file: string, opts: { strict?: boolean; text?: string } = {}): MappedInput<ConfigInput> {
  const ctx = new InputContext(opts.strict === true);
  let text = opts.text;
  if (text === undefined) {
    try { text = readFileSync(file, 'utf8'); } catch (e) {
      ctx.error({ file, line: 0, col: 0, keyword: '' }, `cannot read: ${(e as Error).message}`);
      return { ok: false, config: { instances: {} }, diagnostics: ctx.diagnostics, positions: ctx.positions, notes: ctx.notes };
    }
  }
  const services = new Map<string, Service>();
  for (const c of readScript(text, file, ctx)) {
    let words = c.words;
    if (words[0] === 'sudo') words = words.slice(1);
    const at: Where = { file: c.file, line: c.line, col: c.col, keyword: words[0]! };
    if (!PROGRAM.test(words[0]!) && !words[0]!.startsWith('-')) {
      vipHint(ctx, at, words);
      ctx.warn(at, `skipped: ${words[0]} is not ipvsadm (not run by vrrpd)`);
      continue;
    }
    if (c.inside) { ctx.error(at, `ipvsadm inside ${c.inside}: conditional or repeated rules are not evaluated; write the rules out`); continue; }
    const p = parseArgs(ctx, c, PROGRAM.test(words[0]!) ? words.slice(1) : words);
    if (!p) continue;
    apply(ctx, at, p, services);
  }
  const virtualServers: Record<string, VsIn> = {};
  for (const s of services.values()) {
    const reals = [...s.reals.values()];
    const fwd = reals[0]?.rs.forwarding ?? 'dr';
    s.vs.forwarding = fwd;
    s.vs.realServers = reals.map(({ rs }) => (rs.forwarding === fwd ? (({ forwarding: _f, ...rest }) => rest)(rs) : rs));
    virtualServers[s.name] = s.vs;
    ctx.at(`virtualServers.${s.name}`, s.where);
    reals.forEach((r, i) => ctx.at(`virtualServers.${s.name}.realServers.${i}`, r.where));
  }
  if (services.size) ctx.notes.push('ipvsadm rules carry no health checks: every real server stays in the table whatever its state. Add checks to each real server (http, https, tcp, dns, smtp, udp, ping, misc; see conf/README.md) before relying on it.');
  return { ok: ctx.ok, config: { instances: {}, virtualServers }, diagnostics: ctx.diagnostics, positions: ctx.positions, notes: ctx.notes };
}

/** `ifconfig eth0:0 VIP ...` / `ip addr add VIP/24 dev eth0`: the address a VRRP instance should hold. */
function vipHint(ctx: InputContext, at: Where, w: string[]): void {
  let addr: string | undefined;
  let dev: string | undefined;
  if (/(^|\/)ifconfig$/.test(w[0]!) && w[1] && /^\d+\.\d+\.\d+\.\d+$/.test(w[2]?.replace(/^inet$/, '') ?? '')) { dev = w[1]; addr = w[2]; }
  else if (/(^|\/)ifconfig$/.test(w[0]!) && w[2] === 'inet' && w[3]) { dev = w[1]; addr = w[3]; }
  else if (/(^|\/)ip$/.test(w[0]!) && /^a(ddr?|ddress)?$/.test(w[1] ?? '') && w[2] === 'add') {
    addr = w.slice(3).find((x) => /^[0-9a-fA-F:.]+(\/\d+)?$/.test(x) && /[.:]/.test(x));
    const d = w.indexOf('dev');
    if (d > 0) dev = w[d + 1];
  }
  if (addr && dev && !dev.startsWith('lo')) ctx.notes.push(`${at.file}:${at.line}: ${addr} on ${dev} is set up by the script: give it to a VRRP instance (vips) rather than to the system`);
}

function apply(ctx: InputContext, at: Where, p: Parsed, services: Map<string, Service>): void {
  const cmd = p.cmd;
  if (!cmd) { ctx.error(at, 'no ipvsadm command (-A, -E, -D, -a, -e, -d, -C...)'); return; }
  const info = IPVSADM_OPTIONS[cmd]!;
  if (info.class === 'refused') { ctx.error({ ...at, keyword: cmd }, `not supported: ${info.note}`); return; }
  if (info.class === 'warned') { ctx.warn({ ...at, keyword: cmd }, `skipped: ${info.note}`); return; }
  for (const [name] of p.opts) {
    const o = IPVSADM_OPTIONS[name]!;
    if (o.command) continue;
    if (o.class === 'refused') { ctx.error({ ...at, keyword: name }, `not supported: ${o.note}`); return; }
    if (o.class === 'warned') ctx.warn({ ...at, keyword: name }, `ignored: ${o.note}`);
  }
  if (cmd === '--clear') { services.clear(); return; }
  const svc = serviceOf(ctx, at, p);
  if (!svc) return;
  const existing = services.get(svc.key);
  if (cmd === '--add-service' || cmd === '--edit-service') {
    if (cmd === '--add-service' && existing) { ctx.error(at, `service already exists (added at line ${existing.where.line}); ipvsadm refuses a second -A`); return; }
    if (cmd === '--edit-service' && !existing) { ctx.error(at, 'no such service to edit (-E before -A)'); return; }
    const s: Service = existing ?? { key: svc.key, name: svc.name, where: at, vs: { ...svc.vs }, reals: new Map() };
    // ipvsadm -E takes the options given and ipvsadm's defaults for the others (it sends a whole service).
    s.vs = { ...svc.vs, scheduler: (p.opts.get('--scheduler')?.value ?? 'wlc') as VsIn['scheduler'] };
    const pers = p.opts.get('--persistent');
    if (pers) {
      // ipvsadm's IPVS_SVC_PERSISTENT_TIMEOUT (6*60 s), what `ipvsadm -p` gives the kernel (read back in the VM test).
      const t = pers.value === undefined ? 360 : Number(pers.value);
      if (!Number.isInteger(t) || t < 1) ctx.error(at, `-p needs a timeout in seconds, got "${pers.value}"`);
      s.vs.persistence = duration(t);
      const nm = p.opts.get('--netmask');
      if (nm) s.vs.persistenceNetmask = nm.value!;
    } else if (p.opts.has('--netmask')) ctx.warn({ ...at, keyword: '-M' }, 'a netmask without -p has no effect');
    if (s.vs.port === 0 && !pers && s.vs.fwmark === undefined) ctx.error(at, 'a port-zero service needs persistence (-p), as ipvsadm requires');
    const flags = p.opts.get('--sched-flags');
    if (flags) (s.vs as Record<string, unknown>).schedulerFlags = flags.value!.split(',');
    if (p.opts.has('--ops')) (s.vs as Record<string, unknown>).onePacket = true;
    const pe = p.opts.get('--pe');
    if (pe) (s.vs as Record<string, unknown>).persistenceEngine = pe.value;
    s.where = existing?.where ?? at;
    services.set(svc.key, s);
    return;
  }
  if (cmd === '--delete-service') {
    if (!existing) ctx.error(at, 'no such service to delete');
    services.delete(svc.key);
    return;
  }
  if (!existing) { ctx.error(at, `no service ${svc.key.replace(/^(tcp|udp|sctp|fwm):/, '')} (add it with -A first)`); return; }
  const r = p.opts.get('--real-server');
  if (!r) { ctx.error(at, `${cmd} needs -r ADDRESS[:PORT]`); return; }
  const a = hostPort(ctx, at, r.value!);
  if (!a) return;
  const fwds = [...p.opts.keys()].filter((k) => k in FORWARDING);
  if (fwds.length > 1) { ctx.error(at, `several forwarding methods (${fwds.join(', ')})`); return; }
  const forwarding = fwds.length ? FORWARDING[fwds[0]!]! : 'dr';
  const vport = existing.vs.port ?? 0;
  let port = a.port ?? vport;
  if (forwarding !== 'nat' && port !== vport) {
    ctx.warn({ ...at, keyword: '-r' }, `port ${port} is not used: with ${forwarding === 'dr' ? '-g' : '-i'} the kernel sends to the service's port ${vport} (ipvsadm sets it so)`);
    port = vport;
  }
  const key = `${a.address}:${port}`;
  if (cmd === '--delete-server') {
    if (!existing.reals.delete(key)) ctx.error(at, `no real server ${key} in this service`);
    return;
  }
  const old = existing.reals.get(key);
  if (cmd === '--add-server' && old) { ctx.error(at, `real server ${key} already added at line ${old.where.line}; ipvsadm refuses a second -a`); return; }
  if (cmd === '--edit-server' && !old) { ctx.error(at, `no real server ${key} to edit (-e before -a)`); return; }
  const num = (name: string, def: number, max: number): number => {
    const v = p.opts.get(name)?.value;
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) > max) { ctx.error({ ...at, keyword: name }, `${name} needs a whole number 0-${max}, got "${v}"`); return def; }
    return Number(v);
  };
  const rs: RsIn = { address: a.address, port, weight: num('--weight', 1, 65535), forwarding };
  const upper = num('--u-threshold', 0, 0x7fffffff);
  const lower = num('--l-threshold', 0, 0x7fffffff);
  if (upper) rs.upperThreshold = upper;
  if (lower) rs.lowerThreshold = lower;
  existing.reals.set(key, { where: old?.where ?? at, rs });
}

