// Which syntax a config file is written in (keepalived.conf, ldirectord.cf, ipvsadm rules, YAML), without loading any parser.
import { LDIRECTORD_KEYWORDS } from './ldirectord-keywords.js';

const KEEPALIVED_TOP = /^(global_defs|vrrp_instance|vrrp_script|vrrp_sync_group|virtual_server|virtual_server_group|track_file|vrrp_track_file|vrrp_track_process|static_ipaddress|static_routes|static_rules|include[rmwba]?|net_namespace|bfd_instance|garp_group|linkbeat_interfaces)\b/;

/** Format detection: YAML configs start with "key:" lines; keepalived files with keywords and { } blocks. */
export function isKeepalivedConfig(text: string): boolean {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    if (line.startsWith('---') || line.startsWith('%') || /^[A-Za-z_][\w.-]*\s*:(\s|$)/.test(line) || line.startsWith('{"')) return false;
    return KEEPALIVED_TOP.test(line) || /[{}]\s*$/.test(line) || /^[@$]/.test(line);
  }
  return false;
}

/** Format detection: `virtual=` sections or ldirectord's global keywords as `key=value` lines. */
export function isLdirectordConfig(text: string): boolean {
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(raw)) continue;
    const m = /^([a-z][a-z0-9_]*)\s*=/.exec(raw);
    if (m && (m[1] === 'virtual' || m[1] === 'virtual6' || LDIRECTORD_KEYWORDS[m[1]!]?.scope === 'global' || LDIRECTORD_KEYWORDS[m[1]!]?.scope === 'both')) return true;
    if (!m) return false;
  }
  return false;
}

/** Format detection: ipvsadm-save lines (-A/-a) or a script that runs ipvsadm. */
export function isIpvsadmRules(text: string): boolean {
  return text.split(/\r?\n/).some((l) => /^\s*-[AaEe]\s+-[tufs]/.test(l) || /^\s*-[Aa][tuf]\s/.test(l) || /^\s*(sudo\s+)?(\/usr)?(\/s?bin\/)?ipvsadm\s+-/.test(l) || /^\s*\$\{?IPVSADM\}?\s+-/.test(l));
}

export type DetectedFormat = 'yaml' | 'keepalived' | 'ldirectord' | 'ipvsadm';

export function detectFormat(text: string): DetectedFormat {
  if (isKeepalivedConfig(text)) return 'keepalived';
  if (isLdirectordConfig(text)) return 'ldirectord';
  if (isIpvsadmRules(text)) return 'ipvsadm';
  return 'yaml';
}
