// Sync groups at load time: cross-field rules (members exist, one group per instance) and expansion of group tracking onto members.
import type { Config, SyncGroup } from './schema.js';

export interface SyncGroupIssue {
  path: (string | number)[];
  message: string;
  warning?: boolean;
}

/** The group each instance belongs to (after validation an instance is in at most one). */
export function groupOfInstance(cfg: Pick<Config, 'syncGroups'>, instance: string): string | undefined {
  for (const [g, sg] of Object.entries(cfg.syncGroups)) if (sg.instances.includes(instance)) return g;
  return undefined;
}

/** Rules that span groups and instances; paths point into the YAML so errors carry file:line. */
export function syncGroupChecks(cfg: Config): SyncGroupIssue[] {
  const out: SyncGroupIssue[] = [];
  const memberOf = new Map<string, string>();
  for (const [g, sg] of Object.entries(cfg.syncGroups)) {
    const at = (...p: (string | number)[]) => ['syncGroups', g, ...p];
    const seen = new Set<string>();
    sg.instances.forEach((name, i) => {
      if (!(name in cfg.instances)) {
        out.push({ path: at('instances', i), message: `no instance "${name}" under instances` });
        return;
      }
      if (seen.has(name)) {
        out.push({ path: at('instances', i), message: `instance "${name}" is listed twice` });
        return;
      }
      seen.add(name);
      const other = memberOf.get(name);
      if (other !== undefined) {
        out.push({ path: at('instances', i), message: `instance "${name}" is already in sync group "${other}"; an instance can be in one group only` });
        return;
      }
      memberOf.set(name, g);
    });
    const members = [...seen];
    // keepalived: a group with owners and non-owners "won't work": the owners are MASTER at once, the
    // others must be elected, so the group could never be whole. Refused rather than run half-synced.
    const owners = members.filter((m) => cfg.instances[m]!.priority === 255);
    if (owners.length > 0 && owners.length < members.length) {
      out.push({ path: at('instances'), message: `members ${owners.join(', ')} are address owners (priority 255) and ${members.filter((m) => !owners.includes(m)).join(', ')} are not: the group could never move together` });
    }
    if (sg.instances.length === 1) {
      out.push({ path: at('instances'), message: 'a sync group with one member behaves exactly like no group', warning: true });
    }
    sg.trackScripts.forEach((t, i) => {
      if (!(t.name in cfg.trackScripts)) out.push({ path: at('trackScripts', i), message: `no track script "${t.name}" under trackScripts` });
    });
    sg.trackFiles.forEach((t, i) => {
      if (!(t.name in cfg.trackFiles)) out.push({ path: at('trackFiles', i), message: `no track file "${t.name}" under trackFiles` });
    });
    // keepalived reports the same object tracked by a member and its group as a config error (and
    // silently uses the group's weight); two weights for one object is ambiguous, so it is refused.
    for (const m of members) {
      const inst = cfg.instances[m]!;
      const dup = (kind: 'trackInterfaces' | 'trackScripts' | 'trackFiles', i: number, name: string): void => {
        out.push({ path: at(kind, i), message: `${name} is tracked by both the group and its member "${m}"; track it in one place` });
      };
      sg.trackInterfaces.forEach((t, i) => { if (inst.trackInterfaces.some((x) => x.name === t.name)) dup('trackInterfaces', i, `interface ${t.name}`); });
      sg.trackScripts.forEach((t, i) => { if (inst.trackScripts.some((x) => x.name === t.name)) dup('trackScripts', i, `script ${t.name}`); });
      sg.trackFiles.forEach((t, i) => { if (inst.trackFiles.some((x) => x.name === t.name)) dup('trackFiles', i, `file ${t.name}`); });
    }
  }
  return out;
}

/** The config with every group's trackInterfaces / trackScripts / trackFiles appended to each member's. */
export function expandSyncGroups(cfg: Config): Config {
  const groups = Object.values(cfg.syncGroups);
  if (groups.every((g) => !g.trackInterfaces.length && !g.trackScripts.length && !g.trackFiles.length)) return cfg;
  const instances = { ...cfg.instances };
  for (const sg of groups as SyncGroup[]) {
    for (const m of new Set(sg.instances)) {
      const inst = instances[m];
      if (!inst) continue;
      instances[m] = {
        ...inst,
        trackInterfaces: [...inst.trackInterfaces, ...sg.trackInterfaces],
        trackScripts: [...inst.trackScripts, ...sg.trackScripts],
        trackFiles: [...inst.trackFiles, ...sg.trackFiles],
      };
    }
  }
  return { ...cfg, instances };
}
