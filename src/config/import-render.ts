// `vrrpd import` for the other inputs: ldirectord.cf / ipvsadm rules as one YAML, heartbeat as one YAML per node.
import { stringify } from 'yaml';
import type { ConfigInput } from './schema.js';
import { formatIssue, loadAnyConfig, parseConfig, type ConfigIssue, type ConfigValidator } from './load.js';
import { importHeartbeat, renderHeartbeat } from './heartbeat.js';

const DOCS: Record<string, string> = { ldirectord: 'docs/ldirectord-keywords.md', ipvsadm: 'docs/ipvsadm-options.md' };

/** The YAML text of an ldirectord.cf / ipvsadm import: a header with notes and warnings, then the config. */
export function renderForeign(source: string, format: 'ldirectord' | 'ipvsadm', config: ConfigInput, warnings: string[], notes: string[]): string {
  const head = [
    `# vrrpd configuration imported from ${source} (${format}) by \`vrrpd import\`; ${DOCS[format]} lists what maps to what.`,
    '# No VRRP instance: as it stands this runs a standalone director (services always programmed). To make it a',
    '# VRRP pair, add instances (see conf/lvs1.yaml), or keep the file and reference it: virtualServersFrom: [{ ' + format + ': PATH }].',
    ...(format === 'ipvsadm' ? ['# HEALTH CHECKS: none. ipvsadm rules have none; choose a check for each real server (checks: [{ type: http | https | tcp | dns | smtp | udp | ping | misc ... }], conf/README.md "Health checks").'] : []),
    ...notes.map((n) => `# NOTE ${n}`),
    ...warnings.map((w) => `# warning ${w.replace(/\n/g, ' ')}`),
  ];
  return `${head.join('\n')}\n\n${stringify(config, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}

export interface ImportOutcome { ok: boolean; text?: string; errors: ConfigIssue[]; warnings: ConfigIssue[] }

/**
 * Import FILE in FORMAT (ldirectord, ipvsadm, heartbeat); validated like `vrrpd check` (with the same validators
 * of the floors above: the IPVS table) before anything is printed.
 */
export async function importForeign(file: string, format: 'ldirectord' | 'ipvsadm' | 'heartbeat', strict: boolean,
  validators: readonly ConfigValidator[] = []): Promise<ImportOutcome> {
  if (format !== 'heartbeat') {
    const r = await loadAnyConfig(file, { format, strict, validators });
    const warnings = r.warnings ?? [];
    if (!r.ok) return { ok: false, errors: r.errors, warnings };
    return { ok: true, errors: [], warnings, text: renderForeign(file, format, r.mapped ?? {}, warnings.map(formatIssue), r.notes ?? []) };
  }
  const hb = importHeartbeat(file, { strict });
  const toIssue = (d: { file: string; line: number; col: number; keyword: string; message: string }): ConfigIssue => ({ file: d.file, line: d.line, col: d.col, path: d.keyword, message: d.message });
  const errors = hb.diagnostics.filter((d) => d.severity === 'error').map(toIssue);
  const warnings = hb.diagnostics.filter((d) => d.severity === 'warning').map(toIssue);
  // Each node's config passes the same validation as a YAML file (the ldirectord.cf it names included).
  for (const n of hb.nodes) {
    const v = parseConfig(JSON.stringify(n.config), `${file} (node ${n.node})`, { validators });
    if (!v.ok) errors.push(...v.errors);
    else warnings.push(...v.warnings);
  }
  // The nodes share the ldirectord.cf: say each of its problems once.
  const once = (list: ConfigIssue[]) => [...new Map(list.map((i) => [formatIssue(i), i])).values()];
  if (errors.length) return { ok: false, errors: once(errors), warnings: once(warnings) };
  return { ok: true, errors: [], warnings: once(warnings), text: renderHeartbeat(file, hb, once(warnings).map(formatIssue)) };
}
