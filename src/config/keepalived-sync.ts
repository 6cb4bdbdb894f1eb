// keepalived vrrp_sync_group -> vrrpd syncGroups: members, group notify and tracking, members' weighted tracking as keepalived drops it.
import type { KeywordTable, MapContext } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';
import { REFUSE_TRACK, trackEntries, type InstanceDraft, type TrackRef } from './keepalived-vrrp.js';

export interface SyncGroupDraft {
  ctx: MapContext;
  name: string;
  stmt: Statement;
  path: string;
  members: { name: string; stmt: Statement }[];
  notify: InstanceDraft['notify'];
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  /** sync_group_tracking_weight: members keep their weighted tracking (keepalived otherwise drops it). */
  keepWeights: boolean;
}

const groupNotify = (key: keyof InstanceDraft['notify']) => (s: Statement, g: SyncGroupDraft): void => {
  const cmd = g.ctx.command(s);
  if (cmd === undefined) return;
  g.notify[key] = cmd;
  g.ctx.at(`${g.path}.notify.${key}`, s);
};

export const VRRP_SYNC_GROUP: KeywordTable<SyncGroupDraft> = {
  handlers: {
    group: (s, g) => {
      g.ctx.extra(s, 0);
      for (const m of g.ctx.needBlock(s)) {
        g.ctx.noBlock(m);
        for (const name of [m.keyword, ...m.args.map((t) => t.text)]) g.members.push({ name, stmt: m });
      }
      g.ctx.at(`${g.path}.instances`, s);
    },
    track_interface: (s, g) => {
      for (const r of trackEntries(g.ctx, s)) {
        g.ctx.at(`${g.path}.trackInterfaces.${g.trackInterfaces.length}`, r.stmt);
        g.trackInterfaces.push(r);
      }
    },
    track_script: (s, g) => { g.trackScripts.push(...trackEntries(g.ctx, s)); },
    track_file: (s, g) => { g.trackFiles.push(...trackEntries(g.ctx, s)); },
    notify_master: groupNotify('master'),
    notify_backup: groupNotify('backup'),
    notify_fault: groupNotify('fault'),
    notify_stop: groupNotify('stop'),
    notify: groupNotify('any'),
    sync_group_tracking_weight: (s, g) => { g.ctx.extra(s, 0); g.keepWeights = true; },
    global_tracking: (s, g) => { g.ctx.extra(s, 0); g.keepWeights = true; },
  },
  ignored: {
    smtp_alert: 'vrrpd sends no e-mail (use notify scripts)',
    notify_deleted: 'no DELETED notify state in vrrpd (a reload that removes an instance notifies FAULT)',
    notify_priority_changes: 'notify FIFOs are not supported',
  },
  refused: { track_process: REFUSE_TRACK, track_bfd: REFUSE_TRACK },
};

export function newSyncGroup(ctx: MapContext, s: Statement, name: string): SyncGroupDraft {
  return { ctx, name, stmt: s, path: `syncGroups.${name}`, members: [], notify: {}, trackInterfaces: [], trackScripts: [], trackFiles: [], keepWeights: false };
}

/** What a sync group member keeps of its own tracking, given the scripts' and files' default weights. */
export function syncMemberTracking(d: InstanceDraft, group: string, scriptWeight: (n: string) => number | undefined, fileWeight: (n: string) => number | undefined): void {
  const why = `weighted tracking of a sync group member (group ${group}) is dropped, as keepalived does (sync_group_tracking_weight keeps it)`;
  d.trackInterfaces = d.trackInterfaces.map((t, i) => {
    if (typeof t === 'string' || t.weight === 0) return t;
    d.ctx.warn(d.stmt, `track_interface ${t.name}: ${why}: weight 0 (down = FAULT)`, 'track_interface');
    void i;
    return t.name;
  });
  d.trackScripts = d.trackScripts.filter((t) => {
    const w = t.weight ?? scriptWeight(t.name) ?? 0;
    if (w === 0) return true;
    d.ctx.warn(t.stmt, `track_script ${t.name} (weight ${w}): ${why}: not tracked`, 'track_script');
    return false;
  });
  d.trackFiles = d.trackFiles.flatMap((t) => {
    const w = t.weight ?? fileWeight(t.name) ?? 1;
    if (w === 0) return [t];
    d.ctx.warn(t.stmt, `track_file ${t.name} (weight ${w}): ${why}: ${w === 1 ? 'weight 0' : 'not tracked'}`, 'track_file');
    return w === 1 ? [{ ...t, weight: 0 }] : [];
  });
}

/** The group in the YAML input shape; members are checked (they exist, one group each) by the caller. */
export function finishSyncGroup(g: SyncGroupDraft, scripts: Set<string>, files: Set<string>): Record<string, unknown> {
  const { ctx } = g;
  const refs = (list: TrackRef[], known: Set<string>, kind: string) => list.filter((r) => {
    if (known.has(r.name)) return true;
    ctx.error(r.stmt, `no ${kind} "${r.name}"`);
    return false;
  }).map((r) => (r.weight === undefined ? r.name : { name: r.name, weight: r.weight }));
  const out: Record<string, unknown> = { instances: [...new Set(g.members.map((m) => m.name))] };
  if (Object.keys(g.notify).length) out.notify = { ...g.notify };
  if (g.trackInterfaces.length) out.trackInterfaces = g.trackInterfaces.map((r) => (r.weight === undefined ? r.name : { name: r.name, weight: r.weight }));
  const ts = refs(g.trackScripts, scripts, 'vrrp_script');
  const tf = refs(g.trackFiles, files, 'track_file');
  if (ts.length) out.trackScripts = ts;
  if (tf.length) out.trackFiles = tf;
  return out;
}
