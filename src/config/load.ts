// Loads and validates a YAML config whole: zod schema, cross-field rules, errors with file:line:col and field path.
import { readFile } from 'node:fs/promises';
import { addressToBytes } from '../protocol/addr.js';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.js';
import type { KeepalivedDiagnostic } from './keepalived-parse.js';
import { detectFormat } from './detect.js';
import { positionOf as kaPositionOf } from './positions.js';
import { parseLdirectordConfig } from './ldirectord.js';
import { parseIpvsadmRules } from './ipvsadm.js';
export { detectFormat } from './detect.js';
import { expandSyncGroups, syncGroupChecks } from './sync-groups.js';
import { announceChecks } from './announce.js';
import { dirname, resolve } from 'node:path';
import { familyOfText, instanceFamily } from './family.js';
export { instanceFamily } from './family.js';
import type { MappedInput, Pos } from './input-ctx.js';

import type { ConfigIssue } from './issue.js';
export { formatIssue, type ConfigIssue } from './issue.js';

/**
 * A rule from a floor above config (e.g. src/ipvs validateIpvsTable: the IPVS table as the kernel will take it),
 * run on a schema-valid config; its issues are errors at their field paths, with file and line like any other.
 */
export type ConfigValidator = (cfg: Config) => { path: (string | number)[]; message: string; warning?: boolean }[];

export interface ParseOptions {
  /** Run after the schema, before the cross-field rules (in this order). */
  validators?: readonly ConfigValidator[];
}

export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[] };

type Path = (string | number)[];

/** Where a path points in the YAML text: the key of the deepest existing node (1-based line/col). */
function locate(doc: Document, lc: LineCounter, path: Path, unknownKey?: string): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = 0;
  const full = unknownKey === undefined ? path : [...path, unknownKey];
  for (const seg of full) {
    if (!node || typeof node !== 'object' || !('items' in node)) break;
    const items = (node as { items: unknown[] }).items;
    let next: unknown = undefined;
    if (isMap(node)) {
      const pair = (node.items as { key: unknown; value: unknown }[]).find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const k = pair.key as YamlNode;
      if (k.range) offset = k.range[0];
      next = pair.value;
    } else if (typeof seg === 'number') {
      next = items[seg];
      const r = (next as YamlNode | undefined)?.range;
      if (r) offset = r[0];
    }
    node = next;
  }
  const p = lc.linePos(offset);
  return { line: p.line, col: p.col };
}

function valueAt(root: unknown, path: Path): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v !== null && typeof v === 'object' ? undefined : v;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      return issue.message.replace(/^Invalid input: /, '');
    case 'too_big': {
      const what = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      return `expected ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${what}`;
    }
    case 'too_small': {
      const what = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      return `expected ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}${what}`;
    }
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/** Rules that need several fields at once; each returns issues with their paths. */
function crossChecks(cfg: Config): { path: Path; message: string; warning?: boolean }[] {
  const out: { path: Path; message: string; warning?: boolean }[] = [];
  const seenVrid = new Map<string, string>();
  const seenVip = new Map<string, string>();
  for (const [name, inst] of Object.entries(cfg.instances)) {
    const at = (...p: Path): Path => ['instances', name, ...p];
    const fam = instanceFamily(inst);
    if (inst.version === 2 && fam !== 4) out.push({ path: at('version'), message: 'VRRPv2 is IPv4 only (RFC 3768); use version 3 for IPv6' });
    // RFC 3768 §5.3.7: v2 Adver Int in whole seconds; RFC 5798 §5.2.7: v3 in centiseconds, 12 bits.
    const iv = inst.advertInterval;
    if (inst.version === 2 && (iv % 1000 !== 0 || iv < 1000 || iv > 255_000)) {
      out.push({ path: at('advertInterval'), message: `VRRPv2 needs whole seconds from 1 s to 255 s, got ${iv} ms` });
    }
    if (inst.version === 3 && (iv % 10 !== 0 || iv < 10 || iv > 40_950)) {
      out.push({ path: at('advertInterval'), message: `VRRPv3 needs 10 ms steps from 10 ms to 40.95 s, got ${iv} ms` });
    }
    if (inst.auth && inst.auth.type !== 'none' && inst.version !== 2) {
      out.push({ path: at('auth'), message: 'authentication exists only in VRRPv2 (RFC 5798 removed it)' });
    }
    if (inst.auth?.type === 'pass') {
      if (inst.auth.password.length === 0) out.push({ path: at('auth', 'password'), message: 'a PASS password must not be empty' });
      if (new TextEncoder().encode(inst.auth.password).length > 8) {
        out.push({ path: at('auth', 'password'), message: 'only the first 8 bytes of a PASS password are sent (as keepalived does)', warning: true });
      }
    }
    if (inst.priority === 255 && !inst.preempt) out.push({ path: at('preempt'), message: 'the address owner (priority 255) always preempts; remove "preempt: false"' });
    if (!inst.preempt && inst.preemptDelay > 0) out.push({ path: at('preemptDelay'), message: 'preemptDelay has no effect with "preempt: false"' });
    if (inst.preemptDelay > 1_000_000) out.push({ path: at('preemptDelay'), message: 'preemptDelay is at most 1000 s' });
    inst.vips.forEach((v, i) => {
      if (v.family !== fam) out.push({ path: at('vips', i), message: `IPv${v.family} VIP in an IPv${fam} instance: adverts carry one family` });
    });
    [...inst.vips, ...inst.excludedVips].forEach((v, i) => {
      const key = `${v.address}`;
      const other = seenVip.get(key);
      const p = i < inst.vips.length ? at('vips', i) : at('excludedVips', i - inst.vips.length);
      // The same address twice in one instance: added once (the kernel refuses the second), advertised as listed (keepalived does so).
      if (other === name) out.push({ path: p, message: `VIP ${key} is listed twice in this instance: added once, advertised as listed`, warning: true });
      else if (other !== undefined) out.push({ path: p, message: `VIP ${key} is also in instance "${other}"` });
      seenVip.set(key, name);
      if (v.label && !v.label.startsWith(v.dev ?? inst.interface)) {
        out.push({ path: p, message: `label "${v.label}" must start with the device name "${v.dev ?? inst.interface}" (a kernel rule)` });
      }
    });
    if (inst.sourceAddress && familyOfText(inst.sourceAddress) !== fam) {
      out.push({ path: at('sourceAddress'), message: `IPv${familyOfText(inst.sourceAddress)} source for an IPv${fam} instance` });
    }
    inst.unicastPeers.forEach((p, i) => {
      if (familyOfText(p) !== fam) out.push({ path: at('unicastPeers', i), message: `IPv${familyOfText(p)} peer for an IPv${fam} instance` });
      if (inst.sourceAddress && p === inst.sourceAddress) out.push({ path: at('unicastPeers', i), message: 'a peer cannot be our own source address' });
    });
    inst.extraPaths.forEach((x, i) => {
      if (familyOfText(x.peer) !== fam) out.push({ path: at('extraPaths', i, 'peer'), message: `IPv${familyOfText(x.peer)} peer for an IPv${fam} instance` });
      if (x.sourceAddress && familyOfText(x.sourceAddress) !== fam) out.push({ path: at('extraPaths', i, 'sourceAddress'), message: `IPv${familyOfText(x.sourceAddress)} source for an IPv${fam} instance` });
      if (x.sourceAddress && x.sourceAddress === x.peer) out.push({ path: at('extraPaths', i, 'peer'), message: 'a peer cannot be our own source address' });
      if (x.interface === inst.interface) out.push({ path: at('extraPaths', i, 'interface'), message: `${x.interface} is the instance's own interface: an extra path needs another link` });
      else if (inst.extraPaths.findIndex((y) => y.interface === x.interface) !== i) out.push({ path: at('extraPaths', i, 'interface'), message: `a second extra path on ${x.interface}` });
    });
    inst.trackScripts.forEach((t, i) => {
      if (!(t.name in cfg.trackScripts)) out.push({ path: at('trackScripts', i), message: `no track script "${t.name}" under trackScripts` });
    });
    inst.trackFiles.forEach((t, i) => {
      if (!(t.name in cfg.trackFiles)) out.push({ path: at('trackFiles', i), message: `no track file "${t.name}" under trackFiles` });
    });
    // RFC 5798 §5.2.3: the VRID identifies the router on its LAN: unique per interface and family.
    const vkey = `${inst.interface}/${fam}/${inst.vrid}`;
    const prev = seenVrid.get(vkey);
    if (prev !== undefined) out.push({ path: at('vrid'), message: `VRID ${inst.vrid} on ${inst.interface} (IPv${fam}) is already used by instance "${prev}"` });
    seenVrid.set(vkey, name);
  }
  // An extra path's adverts arrive on its interface: its VRID there must name one instance only.
  for (const [name, inst] of Object.entries(cfg.instances)) {
    inst.extraPaths.forEach((x, i) => {
      const vkey = `${x.interface}/${instanceFamily(inst)}/${inst.vrid}`;
      const prev = seenVrid.get(vkey);
      if (prev !== undefined && prev !== name) out.push({ path: ['instances', name, 'extraPaths', i, 'interface'], message: `VRID ${inst.vrid} on ${x.interface} (IPv${instanceFamily(inst)}) is already used by instance "${prev}"` });
      seenVrid.set(vkey, name);
    });
  }
  for (const [name, vs] of Object.entries(cfg.virtualServers)) {
    const at = (...p: Path): Path => ['virtualServers', name, ...p];
    const byAddr = vs.address !== undefined;
    if (byAddr === (vs.fwmark !== undefined)) out.push({ path: at(), message: 'a virtual server has either address and port, or fwmark' });
    if (byAddr && vs.port === undefined) out.push({ path: at('address'), message: 'an address-based virtual server needs a port' });
    if (vs.instance !== undefined && !(vs.instance in cfg.instances)) out.push({ path: at('instance'), message: `no instance "${vs.instance}"` });
    const fam = byAddr ? familyOfText(vs.address!) : vs.family;
    for (const [where, a] of [...vs.realServers.map((r, i) => [['realServers', i, 'address'], r.address] as const),
      ...(vs.sorryServer ? [[['sorryServer', 'address'], vs.sorryServer.address] as const] : [])]) {
      const b = addressToBytes(a);
      const multicast = b !== null && (b.length === 4 ? (b[0]! & 0xf0) === 0xe0 : b[0] === 0xff);
      const unspecified = b !== null && b.every((x) => x === 0);
      if (multicast || unspecified) out.push({ path: at(...where), message: `${a} cannot be a real server (${multicast ? 'multicast' : 'unspecified'} address)` });
    }
    vs.realServers.forEach((r, i) => {
      if (familyOfText(r.address) !== fam && (r.forwarding ?? vs.forwarding) !== 'tun') {
        out.push({ path: at('realServers', i, 'address'), message: `IPv${familyOfText(r.address)} real server for an IPv${fam} service` });
      }
    });
  }
  return out;
}

/** Validate config text. Nothing is applied here: the caller gets a whole config or a list of errors. */
export function parseConfig(text: string, file: string, opts: ParseOptions = {}): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: ConfigIssue[] = [];
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    errors.push({ file, line: p.line, col: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (errors.length) return { ok: false, errors };
  let raw: unknown;
  try {
    // Unresolved aliases and alias expansion beyond yaml's maxAliasCount throw here (found by fuzzing).
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, col: 1, path: '', message: `YAML: ${(e as Error).message.split('\n')[0]}` }] };
  }
  const warnings: ConfigIssue[] = [];
  const included = raw && typeof raw === 'object' && !Array.isArray(raw) ? expandIncludes(raw as Record<string, unknown>, file, errors, warnings) : new Map<string, Map<string, Pos>>();
  const where = (path: Path, unknown?: string) => {
    const inc = path[0] === 'virtualServers' && typeof path[1] === 'string' ? included.get(path[1]) : undefined;
    const at = inc ? kaPositionOf(inc, [...path, ...(unknown !== undefined ? [unknown] : [])].join('.')) : undefined;
    return at ? { file: at.file, line: at.line, col: at.col } : { file, ...locate(doc, lc, path, unknown) };
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Path;
      const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      const pos = where(path, unknown);
      const shown = unknown === undefined ? path : [...path, unknown];
      const got = unknown === undefined ? valueAt(raw, path) : undefined;
      const gotText = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
      errors.push({ ...pos, path: shown.join('.'), message: describeIssue(issue) + gotText });
    }
    return { ok: false, errors };
  }
  // Rules of the floors above (the IPVS table as the kernel will get it: `vrrpd check` runs the same ones as run).
  for (const validate of opts.validators ?? []) {
    for (const c of validate(parsed.data)) {
      const issue = { ...where(c.path), path: c.path.join('.'), message: c.message };
      (c.warning ? warnings : errors).push(issue);
    }
  }
  for (const c of [...crossChecks(parsed.data), ...syncGroupChecks(parsed.data), ...announceChecks(parsed.data)]) {
    const issue = { ...where(c.path), path: c.path.join('.'), message: c.message };
    (c.warning ? warnings : errors).push(issue);
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, config: expandSyncGroups(parsed.data), warnings };
}

export async function loadConfig(file: string, opts: ParseOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, errors: [{ file, line: 0, col: 0, path: '', message: `cannot read: ${err.code ?? ''} ${err.message}`.trim() }] };
  }
  return parseConfig(text, file, opts);
}

/**
 * virtualServersFrom: each file is mapped (ldirectord.cf or ipvsadm rules, relative to the YAML file) and its virtual
 * servers added to raw.virtualServers (tied to `instance` when given). Returns name -> positions in the included file.
 */
function expandIncludes(raw: Record<string, unknown>, file: string, errors: ConfigIssue[], warnings: ConfigIssue[]): Map<string, Map<string, Pos>> {
  const out = new Map<string, Map<string, Pos>>();
  const list = raw.virtualServersFrom;
  if (!Array.isArray(list)) return out;
  const vss = (raw.virtualServers ?? {}) as Record<string, unknown>;
  if (raw.virtualServers !== undefined && (typeof raw.virtualServers !== 'object' || raw.virtualServers === null)) return out;
  for (const [i, inc] of list.entries()) {
    if (!inc || typeof inc !== 'object') continue;
    const { ldirectord, ipvsadm, instance } = inc as Record<string, unknown>;
    const rel = typeof ldirectord === 'string' ? ldirectord : typeof ipvsadm === 'string' ? ipvsadm : undefined;
    if (rel === undefined) continue;
    const path = resolve(dirname(file), rel);
    const m = typeof ldirectord === 'string' ? parseLdirectordConfig(path) : parseIpvsadmRules(path);
    for (const d of m.diagnostics) (d.severity === 'error' ? errors : warnings).push({ file: d.file, line: d.line, col: d.col, path: d.keyword, message: d.message });
    if (!m.ok) continue;
    for (const [name, vs] of Object.entries(m.config.virtualServers ?? {})) {
      if (Object.hasOwn(vss, name)) {
        errors.push({ ...(kaPositionOf(m.positions, `virtualServers.${name}`) ?? { file: path, line: 0, col: 0 }), path: `virtualServersFrom.${i}`, message: `virtual server "${name}" is also defined in ${file}` });
        continue;
      }
      vss[name] = typeof instance === 'string' ? { ...(vs as object), instance } : vs;
      const pos = new Map<string, Pos>();
      for (const [k, v] of m.positions) if (k === `virtualServers.${name}` || k.startsWith(`virtualServers.${name}.`)) pos.set(k, v);
      out.set(name, pos);
    }
  }
  raw.virtualServers = vss;
  return out;
}

export type ConfigFormat = 'yaml' | 'keepalived' | 'ldirectord' | 'ipvsadm' | 'auto';

/** The input format of a file's text: keepalived, ldirectord, ipvsadm rules, else YAML. */
export interface AnyLoadOptions extends ParseOptions {
  /** 'auto' (default): keepalived syntax when the file looks like it, YAML otherwise. */
  format?: ConfigFormat;
  /** keepalived input: unsupported keywords are errors instead of warnings. */
  strict?: boolean;
  /** keepalived input: absolute include paths are looked up under this directory (see keepalived.ts). */
  includeRoot?: string;
}

/** Like LoadResult; for keepalived input also the mapped config (YAML input shape) and the warnings when refused. */
export type AnyLoadResult = LoadResult & {
  format: 'yaml' | 'keepalived' | 'ldirectord' | 'ipvsadm';
  mapped?: ConfigInput;
  warnings?: ConfigIssue[];
  /** ldirectord / ipvsadm input: facts to print at start and in `vrrpd import` (no health checks, VIP hints...). */
  notes?: string[];
  /** keepalived input: per source file, settings carried over, refused and warned about (vrrpd import prints it). */
  summary?: { file: string; carried: number; refused: number; warned: number }[];
};

/**
 * Load a YAML or keepalived config. A keepalived file is mapped to the YAML shape, then validated by the same
 * schema and cross-field rules; issues point at the keepalived line that set the field, else name the field path.
 */
export async function loadAnyConfig(file: string, opts: AnyLoadOptions = {}): Promise<AnyLoadResult> {
  let format = opts.format ?? 'auto';
  if (format === 'auto') {
    const text = await readFile(file, 'utf8').catch(() => null);
    format = text !== null ? detectFormat(text) : 'yaml';
  }
  const parse: ParseOptions = opts.validators ? { validators: opts.validators } : {};
  if (format === 'yaml') return { ...(await loadConfig(file, parse)), format };
  // keepalived.conf's mapper (the largest) is loaded only for a keepalived file.
  const ka: Pick<MappedInput<ConfigInput>, 'config' | 'diagnostics' | 'positions'> & { notes?: string[]; settings?: Map<string, Pos[]> } = format === 'keepalived'
    ? await (await import('./keepalived.js')).parseKeepalivedConfig(file, { strict: opts.strict === true, ...(opts.includeRoot ? { includeRoot: opts.includeRoot } : {}) })
    : format === 'ldirectord' ? parseLdirectordConfig(file, { strict: opts.strict === true }) : parseIpvsadmRules(file, { strict: opts.strict === true });
  const notes = ka.notes ?? [];
  const fromKa = (d: KeepalivedDiagnostic): ConfigIssue => ({ file: d.file, line: d.line, col: d.col, path: d.keyword, message: d.message });
  const kaWarnings = ka.diagnostics.filter((d) => d.severity === 'warning').map(fromKa);
  const kaErrors = ka.diagnostics.filter((d) => d.severity === 'error').map(fromKa);
  // JSON is YAML: the same parser, schema and cross-field rules as a YAML file; positions come from the mapper.
  const r = parseConfig(JSON.stringify(ka.config), file, parse);
  const relocate = (i: ConfigIssue): ConfigIssue => {
    const at = kaPositionOf(ka.positions, i.path);
    return { ...i, file: at?.file ?? file, line: at?.line ?? 0, col: at?.col ?? 0 };
  };
  const all = [...ka.diagnostics, ...(r.ok ? r.warnings.map((w) => ({ ...relocate(w), severity: 'warning' as const })) : r.errors.map((e) => ({ ...relocate(e), severity: 'error' as const })))];
  const summary = ka.settings
    ? { summary: (await import('./keepalived.js')).importSummary({ settings: ka.settings, diagnostics: all.map((d) => ({ keyword: '', message: d.message, file: d.file, line: d.line, col: d.col, severity: d.severity })) }) }
    : {};
  if (!r.ok || kaErrors.length) {
    return { ok: false, errors: [...kaErrors, ...(r.ok ? [] : r.errors.map(relocate))], warnings: kaWarnings, format, mapped: ka.config, notes, ...summary };
  }
  return { ok: true, config: r.config, warnings: [...kaWarnings, ...r.warnings.map(relocate)], format, mapped: ka.config, notes, ...summary };
}
