// Announce groups against the rest of the config: which virtual servers a group depends on, what is refused, what is risky.
import type { Config } from './schema.js';
import { canonicalAddress } from '../protocol/addr.js';

type Path = (string | number)[];
export interface AnnounceIssue { path: Path; message: string; warning?: boolean }

/** The virtualServers keys a group depends on: its `services`, else every virtual server whose address is one of its VIPs. */
export function groupServices(cfg: Config, group: string): string[] {
  const g = cfg.announce[group];
  if (!g) return [];
  if (g.services) return [...g.services];
  const vips = new Set(g.vips.map((v) => v.address));
  return Object.entries(cfg.virtualServers)
    .filter(([, vs]) => vs.address !== undefined && vips.has(canonicalAddress(vs.address) ?? vs.address))
    .map(([name]) => name);
}

/**
 * What announce mode cannot honour is refused; what makes an active-active table fragile is a warning. Nothing here
 * can know whether the other directors run the same table: that is the operator's part (conf/README.md).
 */
export function announceChecks(cfg: Config): AnnounceIssue[] {
  const out: AnnounceIssue[] = [];
  const groups = Object.entries(cfg.announce);
  if (groups.length === 0) return out;
  if (Object.keys(cfg.instances).length > 0) {
    out.push({ path: ['announce'], message: 'announce groups and VRRP instances in one config are not supported: an announce '
      + 'director programs its virtual servers always (every director the same table), a VRRP director only while MASTER' });
  }
  const vipOwner = new Map<string, string>();
  for (const [name, inst] of Object.entries(cfg.instances)) for (const v of [...inst.vips, ...inst.excludedVips]) vipOwner.set(v.address, `instance "${name}"`);
  const serviceOwner = new Map<string, string>();
  for (const [name, g] of groups) {
    const at = (...p: Path): Path => ['announce', name, ...p];
    if (g.interface === 'lo') out.push({ path: at('interface'), message: 'lo cannot be the announce interface: a withdrawn group\'s VIPs stay on lo while it drains' });
    g.vips.forEach((v, i) => {
      if (v.dev !== undefined) out.push({ path: at('vips', i), message: `an announce VIP goes on the group's interface (${g.interface}): remove "dev ${v.dev}"` });
      if (v.label !== undefined) out.push({ path: at('vips', i), message: 'an announce VIP takes no label' });
      const other = vipOwner.get(v.address);
      if (other !== undefined) out.push({ path: at('vips', i), message: `VIP ${v.address} is also in ${other}` });
      vipOwner.set(v.address, `announce group "${name}"`);
    });
    const services = groupServices(cfg, name);
    (g.services ?? []).forEach((s, i) => {
      if (!(s in cfg.virtualServers)) out.push({ path: at('services', i), message: `no virtual server "${s}"` });
    });
    if (services.length === 0) {
      out.push({ path: at('vips'), message: 'no virtual server has one of these VIPs as its address (or list them under services): '
        + 'the group would announce addresses nothing serves' });
    }
    for (const s of services) {
      const vs = cfg.virtualServers[s];
      if (!vs) continue;
      const where = g.services ? at('services', g.services.indexOf(s)) : at('vips');
      const prev = serviceOwner.get(s);
      if (prev !== undefined) out.push({ path: where, message: `virtual server "${s}" is already in announce group "${prev}"` });
      serviceOwner.set(s, name);
      if (vs.address !== undefined && !g.vips.some((v) => v.address === (canonicalAddress(vs.address!) ?? vs.address))) {
        out.push({ path: where, message: `virtual server "${s}" (${vs.address}) is on none of the group's VIPs` });
      }
      if (vs.realServers.length < g.minHealthy) {
        out.push({ path: at('minHealthy'), message: `virtual server "${s}" has ${vs.realServers.length} real server(s): minHealthy ${g.minHealthy} could never be met` });
      }
      const nat = vs.forwarding === 'nat' || vs.realServers.some((r) => r.forwarding === 'nat');
      if (nat) {
        out.push({ path: ['virtualServers', s, 'forwarding'], message: `announce group "${name}": virtual server "${s}" uses NAT: a real server's replies go back through its one gateway, `
          + 'not through whichever director ECMP picked; announce mode needs DR or TUN' });
      }
      const hashed = (vs.scheduler === 'mh' && vs.schedulerFlags.includes('mh-port')) || (vs.scheduler === 'sh' && vs.schedulerFlags.includes('sh-port'));
      if (!hashed) {
        out.push({ warning: true, path: ['virtualServers', s, 'scheduler'], message: `announce group "${name}": scheduler ${vs.scheduler}`
          + `${vs.schedulerFlags.length ? ` (${vs.schedulerFlags.join(',')})` : ''} is not mh with mh-port or sh with sh-port: a flow ECMP moves to `
          + 'another director may be sent to another real server there and be reset' });
      } else if (!vs.inhibitOnFailure && vs.realServers.some((r) => r.inhibitOnFailure !== true)) {
        out.push({ warning: true, path: ['virtualServers', s, 'inhibitOnFailure'], message: `announce group "${name}": without inhibitOnFailure a `
          + 'real server that fails and comes back is appended to the kernel\'s list, so its order (and the mh/sh table) can differ between directors' });
      }
      if (vs.persistence > 0) {
        out.push({ warning: true, path: ['virtualServers', s, 'persistence'], message: `announce group "${name}": persistence templates are per director: `
          + 'a client ECMP sends to two directors can get two real servers' });
      }
    }
  }
  if (!cfg.ipvs.activeActive.sloppyTcp && Object.values(cfg.virtualServers).some((vs) => vs.protocol === 'tcp' || vs.fwmark !== undefined)) {
    out.push({ warning: true, path: ['ipvs', 'activeActive', 'sloppyTcp'], message: 'sloppyTcp off: a TCP flow moved to another director (one died, '
      + 'or the number of next hops changed) is reset there' });
  }
  return out;
}
