// keepalived.conf as vrrpd input: format detection, and parse + map to a vrrpd config object (YAML input shape) with diagnostics.
import { hostname } from 'node:os';
export { isKeepalivedConfig } from './detect.js';
export { positionOf } from './positions.js';
import { stringify } from 'yaml';
import type { ConfigInput } from './schema.js';
import { MapContext, type KeywordTable } from './keepalived-ctx.js';
import { GLOBAL_DEFS, type GlobalDefs } from './keepalived-global.js';
import { mapVirtualServer } from './keepalived-lvs.js';
import { parseGroup, type GroupDraft } from './keepalived-vsg.js';
import { parseKeepalivedFile, type KeepalivedDiagnostic, type Pos, type Statement } from './keepalived-parse.js';
import {
  finishInstance, finishScript, newInstance, TRACK_FILE, VRRP_INSTANCE, VRRP_SCRIPT, type FileDraft, type InstanceDraft, type ScriptDraft,
} from './keepalived-vrrp.js';
import { finishSyncGroup, newSyncGroup, syncMemberTracking, VRRP_SYNC_GROUP, type SyncGroupDraft } from './keepalived-sync.js';

export type { KeepalivedDiagnostic, Pos } from './keepalived-parse.js';

export interface KeepalivedOptions {
  /** Unsupported keywords are errors instead of warnings. */
  strict?: boolean;
  /**
   * Look absolute include paths up under this directory (tests; a config copied from another host).
   * Without it, as in production, an absolute include path is used as it is.
   */
  includeRoot?: string;
  /** keepalived's config-id for `@ID` lines (keepalived -i); default, as keepalived: the short host name. */
  configId?: string;
}

export interface KeepalivedResult {
  /** No error diagnostics (the config still has to pass vrrpd's validation). */
  ok: boolean;
  /** What a vrrpd YAML file would contain (the input shape of configSchema). */
  config: ConfigInput;
  diagnostics: KeepalivedDiagnostic[];
  /** Dotted config path -> where the keepalived file sets it. */
  positions: Map<string, Pos>;
  /** Per source file (the config and what it includes): its settings (statements), in reading order. */
  settings: Map<string, Pos[]>;
}


interface Top {
  ctx: MapContext;
  globals: GlobalDefs;
  instances: InstanceDraft[];
  scripts: ScriptDraft[];
  files: FileDraft[];
  /** virtual_server blocks, mapped once every virtual_server_group is known (a group may be defined after its use). */
  vsStatements: { stmt: Statement; filesBefore: number }[];
  groups: Map<string, GroupDraft>;
  syncGroups: SyncGroupDraft[];
}

function named(s: Statement, top: Top): string | undefined {
  const name = top.ctx.arg(s, 0, 'a name');
  top.ctx.extra(s, 1);
  return name;
}

const trackFile = (s: Statement, top: Top): void => {
  const name = named(s, top);
  if (name === undefined) return;
  const d: FileDraft = { ctx: top.ctx, name, stmt: s, path: `trackFiles.${name}`, out: {} };
  top.ctx.at(d.path, s);
  top.ctx.dispatch(top.ctx.needBlock(s), TRACK_FILE, d, 'track_file');
  top.files.push(d);
};

const STATIC = 'vrrpd configures no static addresses, routes or rules (the director would lack them): keep them in the system\'s network configuration';

export const TOP_LEVEL: KeywordTable<Top> = {
  handlers: {
    global_defs: (s, top) => {
      top.ctx.extra(s, 0);
      top.ctx.dispatch(top.ctx.needBlock(s), GLOBAL_DEFS, top.globals, 'global_defs');
    },
    vrrp_instance: (s, top) => {
      const name = named(s, top);
      if (name === undefined) return;
      if (top.instances.some((i) => i.name === name)) top.ctx.error(s, `a second vrrp_instance "${name}"`);
      const d = newInstance(top.ctx, s, name);
      top.ctx.at(d.path, s);
      top.ctx.dispatch(top.ctx.needBlock(s), VRRP_INSTANCE, d, 'vrrp_instance');
      top.instances.push(d);
    },
    vrrp_script: (s, top) => {
      const name = named(s, top);
      if (name === undefined) return;
      const d: ScriptDraft = { ctx: top.ctx, name, stmt: s, path: `trackScripts.${name}`, out: {} };
      top.ctx.at(d.path, s);
      top.ctx.dispatch(top.ctx.needBlock(s), VRRP_SCRIPT, d, 'vrrp_script');
      top.scripts.push(d);
    },
    track_file: trackFile,
    vrrp_track_file: trackFile,
    vrrp_sync_group: (s, top) => {
      const name = named(s, top);
      if (name === undefined) return;
      const g = newSyncGroup(top.ctx, s, name);
      top.ctx.at(g.path, s);
      top.ctx.dispatch(top.ctx.needBlock(s), VRRP_SYNC_GROUP, g, 'vrrp_sync_group');
      top.syncGroups.push(g);
    },
    virtual_server: (s, top) => { top.ctx.skipBlock(s); top.vsStatements.push({ stmt: s, filesBefore: top.files.length }); },
    virtual_server_group: (s, top) => {
      const g = parseGroup(top.ctx, s);
      if (!g) return;
      const prev = top.groups.get(g.name);
      if (prev) top.ctx.error(s, `a second virtual_server_group "${g.name}" (the first is at line ${prev.stmt.line})`);
      top.groups.set(g.name, g);
    },
    net_namespace: (s, top) => GLOBAL_DEFS.handlers.net_namespace!(s, top.globals),
  },
  ignored: {
    linkbeat_interfaces: 'vrrpd follows link state through netlink (a link that goes down is seen either way)',
    garp_group: 'per-interface GARP spacing is not supported; the global vrrp_garp_interval applies (spacing, not which router holds the address)',
    vrrp_track_process: 'process tracking is not supported (an instance that tracks one is refused)',
    bfd_instance: 'BFD is not supported (an instance that tracks one is refused)',
    namespace_with_ipsets: 'vrrpd installs no firewall rules',
    instance: 'one vrrpd per config file (pid files: systemd)',
    use_pid_dir: 'one vrrpd per config file (pid files: systemd)',
    linkbeat_use_polling: 'vrrpd follows link state through netlink',
    child_wait_time: 'vrrpd is one process',
  },
  refused: {
    static_ipaddress: STATIC, static_routes: STATIC, static_rules: STATIC,
    track_group: 'track groups watch static addresses, routes and rules, which vrrpd does not configure',
    interface_up_down_delays: 'link changes take effect at once in vrrpd (no debouncing): failover would come sooner',
    net_namespace_ipvs: 'IPVS in another namespace than VRRP: vrrpd programs IPVS where it runs',
    SSL: 'TLS client settings (CA, certificate, key) of SSL_GET checks: vrrpd checks with the system defaults, so a check could judge differently',
  },
};

/** Read a keepalived configuration (and its includes) and map it to a vrrpd config object. */
export async function parseKeepalivedConfig(path: string, opts: KeepalivedOptions = {}): Promise<KeepalivedResult> {
  const strict = opts.strict === true;
  const parsed = parseKeepalivedFile(path, {
    configId: opts.configId ?? hostname().split('.')[0]!,
    ...(opts.includeRoot !== undefined ? { includeRoot: opts.includeRoot } : {}),
  });
  const ctx = new MapContext(strict);
  for (const d of parsed.diagnostics) ctx.diagnostics.push(strict ? { ...d, severity: 'error' } : d);
  const top: Top = { ctx, globals: { ctx }, instances: [], scripts: [], files: [], vsStatements: [], groups: new Map(), syncGroups: [] };
  ctx.dispatch(parsed.statements, TOP_LEVEL, top, 'the top level');
  const config = assemble(top);
  const settings = new Map<string, Pos[]>();
  const walk = (list: Statement[]): void => {
    for (const st of list) {
      const mine = settings.get(st.file) ?? settings.set(st.file, []).get(st.file)!;
      mine.push({ file: st.file, line: st.line, col: st.col });
      if (st.block) walk(st.block);
    }
  };
  walk(parsed.statements);
  return { ok: !ctx.diagnostics.some((d) => d.severity === 'error'), config, diagnostics: ctx.diagnostics, positions: ctx.positions, settings };
}

/**
 * Per source file: how many settings (statements) were carried over, refused (an error on their line) and warned
 * about (a warning, no error). A line with several statements counts each.
 */
export function importSummary(r: Pick<KeepalivedResult, 'settings' | 'diagnostics'>): { file: string; carried: number; refused: number; warned: number }[] {
  const out: { file: string; carried: number; refused: number; warned: number }[] = [];
  for (const [file, list] of r.settings) {
    const sev = new Map<number, 'error' | 'warning'>();
    for (const d of r.diagnostics) if (d.file === file && (d.severity === 'error' || !sev.has(d.line))) sev.set(d.line, d.severity);
    let refused = 0;
    let warned = 0;
    for (const p of list) {
      const v = sev.get(p.line);
      if (v === 'error') refused++;
      else if (v === 'warning') warned++;
    }
    out.push({ file, carried: list.length - refused - warned, refused, warned });
  }
  return out;
}

function assemble(top: Top): ConfigInput {
  const { ctx, globals: g } = top;
  const lastOf = <T extends { name: string; stmt: Statement }>(list: T[], kind: string): Map<string, T> => {
    const m = new Map<string, T>();
    for (const d of list) {
      const prev = m.get(d.name);
      if (prev) ctx.warn(d.stmt, `${kind} "${d.name}" is defined again (line ${prev.stmt.line}): this one is used`);
      m.set(d.name, d);
    }
    return m;
  };
  const scripts = lastOf(top.scripts, 'vrrp_script');
  const files = lastOf(top.files, 'track_file');
  const syncGroups = syncGroupsOf(top, scripts, files);
  const tracked = (pick: (i: InstanceDraft | SyncGroupDraft) => { name: string }[]) =>
    new Set([...top.instances, ...top.syncGroups].flatMap((i) => pick(i).map((r) => r.name)));
  const usedScripts = tracked((i) => i.trackScripts);
  const usedFiles = tracked((i) => i.trackFiles);
  const instances: NonNullable<ConfigInput['instances']> = {};
  const config: ConfigInput = g.routerId !== undefined ? { global: { routerId: g.routerId }, instances } : { instances };
  if (g.netNamespace !== undefined) (config.global ??= {} as NonNullable<ConfigInput['global']>).netNamespace = g.netNamespace;
  if (g.scheduling) (config.global ??= {} as NonNullable<ConfigInput['global']>).scheduling = g.scheduling;
  if (g.snmp?.enabled && !g.snmpRefused) {
    (config.global ??= {} as NonNullable<ConfigInput['global']>).snmp = { traps: g.snmp.traps, ...(g.snmp.agentx !== undefined ? { agentx: g.snmp.agentx } : {}) };
  }
  for (const d of top.instances) instances[d.name] = finishInstance(d, g, new Set(scripts.keys()), new Set(files.keys()));
  if (Object.keys(syncGroups).length) config.syncGroups = syncGroups;
  // keepalived looks a FILE_CHECK's track_file up when it reads the checker: among those defined before it.
  const used = new Set<string>();
  const vss = top.vsStatements.flatMap(({ stmt, filesBefore }) =>
    mapVirtualServer(ctx, stmt, used, top.groups, (name) => top.files.slice(0, filesBefore).findLast((f) => f.name === name)?.out));
  const trackScripts: NonNullable<ConfigInput['trackScripts']> = {};
  for (const [name, d] of scripts) {
    if (usedScripts.has(name)) trackScripts[name] = finishScript(d);
    else ctx.warn(d.stmt, `vrrp_script "${name}" is tracked by no vrrp_instance: keepalived never runs it; not imported`);
  }
  if (Object.keys(trackScripts).length) config.trackScripts = trackScripts;
  const trackFiles: NonNullable<ConfigInput['trackFiles']> = {};
  // A FILE_CHECK carries its track_file's path itself.
  const checkerFiles = new Set(vss.flatMap((v) => (v.vs.realServers ?? [])
    .flatMap((r) => (r.checks ?? []).flatMap((c) => (c.type === 'file' ? [c.file] : [])))));
  for (const [name, d] of files) {
    if (usedFiles.has(name)) trackFiles[name] = { ...d.out } as NonNullable<ConfigInput['trackFiles']>[string];
    else if (d.out.file === undefined || !checkerFiles.has(d.out.file)) ctx.warn(d.stmt, `track_file "${name}" is tracked by no vrrp_instance; not imported`);
  }
  if (Object.keys(trackFiles).length) config.trackFiles = trackFiles;
  const sync = syncDaemon(top);
  if (sync || g.timeouts) config.ipvs = { ...(g.timeouts ? { timeouts: timeoutsOf(g.timeouts) } : {}), ...(sync ? { syncDaemon: sync } : {}) };
  if (vss.length) config.virtualServers = Object.fromEntries(vss.map((v) => [v.name, v.vs]));
  return config;
}

function timeoutsOf(t: NonNullable<GlobalDefs['timeouts']>): NonNullable<NonNullable<ConfigInput['ipvs']>['timeouts']> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, `${v}s`]));
}

/**
 * vrrp_sync_group: members must exist and belong to one group (keepalived ignores an unknown member or a second
 * group with a warning; vrrpd refuses: that member would fail over on its own). Members' weighted tracking is
 * dropped as keepalived drops it, unless sync_group_tracking_weight.
 */
function syncGroupsOf(top: Top, scripts: Map<string, ScriptDraft>, files: Map<string, FileDraft>): NonNullable<ConfigInput['syncGroups']> {
  const { ctx } = top;
  const out: Record<string, unknown> = {};
  const owner = new Map<string, SyncGroupDraft>();
  for (const gr of top.syncGroups) {
    if (Object.hasOwn(out, gr.name)) ctx.error(gr.stmt, `a second vrrp_sync_group "${gr.name}"`);
    if (!gr.members.length) ctx.error(gr.stmt, `vrrp_sync_group ${gr.name} has no group { } of instances`);
    for (const m of gr.members) {
      const inst = top.instances.find((i) => i.name === m.name);
      const prev = owner.get(m.name);
      if (!inst) ctx.error(m.stmt, `no vrrp_instance "${m.name}" (a member of sync group ${gr.name})`, 'vrrp_sync_group');
      else if (prev && prev !== gr) ctx.error(m.stmt, `vrrp_instance ${m.name} is already in sync group ${prev.name} (line ${prev.stmt.line}): an instance is in one group`, 'vrrp_sync_group');
      else {
        owner.set(m.name, gr);
        if (!gr.keepWeights) syncMemberTracking(inst, gr.name, (n) => scripts.get(n)?.out.weight, (n) => files.get(n)?.out.weight);
      }
    }
    if (gr.members.length === 1) ctx.warn(gr.stmt, `sync group ${gr.name} has one instance (keepalived warns the same): it moves alone`, 'vrrp_sync_group');
    out[gr.name] = finishSyncGroup(gr, new Set(scripts.keys()), new Set(files.keys()));
  }
  return out as NonNullable<ConfigInput['syncGroups']>;
}

/** global lvs_sync_daemon, or keepalived 1.x's lvs_sync_daemon_interface in an instance; sync id defaults to the VRID. */
function syncDaemon(top: Top): NonNullable<NonNullable<ConfigInput['ipvs']>['syncDaemon']> | undefined {
  const { ctx } = top;
  const legacy = top.instances.filter((i) => i.syncInterface);
  let def = top.globals.syncDaemon;
  for (const i of legacy) {
    if (def) ctx.warn(i.syncInterface!.stmt, `the sync daemon is already defined (line ${def.stmt.line}); this one is ignored`);
    else def = { stmt: i.syncInterface!.stmt, interface: i.syncInterface!.iface, instance: i.name };
  }
  if (!def) return undefined;
  const inst = def.instance === undefined ? undefined : top.instances.find((i) => i.name === def.instance);
  if (def.instance !== undefined && !inst) ctx.error(def.stmt, `no vrrp_instance "${def.instance}"`);
  ctx.at('ipvs.syncDaemon', def.stmt);
  return {
    interface: def.interface,
    syncId: def.syncId ?? inst?.vrid ?? 0,
    ...(def.group !== undefined ? { multicastGroup: def.group } : {}),
    ...(def.port !== undefined ? { port: def.port } : {}),
    ...(def.ttl !== undefined ? { ttl: def.ttl } : {}),
    ...(def.maxLen !== undefined ? { maxLen: def.maxLen } : {}),
  };
}


/** The YAML text of an imported config: a header naming the source and listing every warning, then the config. */
export function renderImport(source: string, config: ConfigInput, warnings: string[]): string {
  const head = [
    `# vrrpd configuration imported from ${source} by \`vrrpd import\`.`,
    '# Check it with `vrrpd check -f FILE`; docs/keepalived-keywords.md lists what maps to what.',
    warnings.length
      ? `# ${warnings.length} warning${warnings.length === 1 ? '' : 's'}: keepalived settings not carried over or changed:`
      : '# Every keepalived setting was carried over.',
    ...warnings.map((w) => `#   ${w.replace(/\n/g, ' ')}`),
  ];
  return `${head.join('\n')}\n\n${stringify(config, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}
