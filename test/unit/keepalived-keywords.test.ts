// docs/keepalived-keywords.md is the reference: every keyword's class matches the mapper, and no traffic-affecting keyword is only warned.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeywordTable } from '../../src/config/keepalived-ctx.js';
import { parseKeepalivedConfig, TOP_LEVEL } from '../../src/config/keepalived.js';
import { GLOBAL_DEFS } from '../../src/config/keepalived-global.js';
import { TRACK_FILE, VRRP_INSTANCE, VRRP_SCRIPT } from '../../src/config/keepalived-vrrp.js';
import { VRRP_SYNC_GROUP } from '../../src/config/keepalived-sync.js';
import { REAL_SERVER, VIRTUAL_SERVER } from '../../src/config/keepalived-lvs.js';
import { DNS_CHECK, FILE_CHECK, HTTP_CHECK, MISC_CHECK, PING_CHECK, SMTP_CHECK, TCP_CHECK, UDP_CHECK } from '../../src/config/keepalived-checkers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOC = readFileSync(`${ROOT}docs/keepalived-keywords.md`, 'utf8');
type Class = 'implemented' | 'warned' | 'refused';
const ROWS = [...DOC.matchAll(/^\| ([\w-]+) \| `([^`]+)` \| (implemented|warned|refused) \| (.*) \|$/gm)]
  .map((m) => ({ context: m[1]!, keyword: m[2]!, cls: m[3] as Class, why: m[4]! }));

/**
 * Traffic-affecting keywords: they change which real server gets traffic, how a server is checked, which
 * address a director holds or when it fails over. Written out here, independently of the doc's classes.
 */
/** What every network checker takes (keepalived's install_checker_common_keywords(true)). */
const CONN = ['connect_ip', 'connect_port', 'bindto', 'bind_if', 'bind_port', 'fwmark', 'alpha', 'connect_timeout', 'retry', 'delay_before_retry',
  'warmup', 'delay_loop'];
const TRAFFIC: Record<string, string[]> = {
  top: ['vrrp_instance', 'vrrp_script', 'vrrp_sync_group', 'virtual_server', 'virtual_server_group', 'track_file', 'vrrp_track_file',
    'static_ipaddress', 'static_routes', 'static_rules', 'track_group', 'interface_up_down_delays', 'SSL'],
  global_defs: ['net_namespace', 'net_namespace_ipvs', 'router_id', 'vrrp_mcast_group4', 'vrrp_mcast_group6', 'lvs_sync_daemon', 'lvs_timeouts',
    'lvs_flush', 'vrrp_down_timer_adverts', 'vrrp_version', 'v3_checksum_as_v2', 'vrrp_check_unicast_src', 'vrrp_skip_check_adv_addr',
    'vrrp_startup_delay', 'vrrp_delay_after_boot', 'vrrp_garp_master_delay', 'vrrp_garp_master_repeat'],
  vrrp_instance: ['state', 'interface', 'vrf', 'use_vmac', 'use_vmac_addr', 'vmac_xmit_base', 'use_ipvlan', 'dont_track_primary', 'track_interface',
    'track_script', 'track_file', 'track_process', 'track_bfd', 'mcast_src_ip', 'unicast_src_ip', 'mcast_dst_ip', 'version', 'check_unicast_src',
    'unicast_peer', 'down_timer_adverts', 'virtual_router_id', 'priority', 'advert_int', 'authentication', 'virtual_ipaddress',
    'virtual_ipaddress_excluded', 'virtual_routes', 'virtual_rules', 'nopreempt', 'preempt', 'preempt_delay', 'skip_check_adv_addr',
    'v3_checksum_as_v2', 'lvs_sync_daemon_interface', 'auth_hmac'],
  authentication: ['auth_type', 'auth_pass'],
  virtual_ipaddress: ['dev', 'label', 'use_vmac'],
  unicast_peer: ['min_ttl', 'max_ttl'],
  vrrp_script: ['script', 'interval', 'timeout', 'weight', 'rise', 'fall'],
  track_file: ['file', 'weight'],
  vrrp_sync_group: ['group', 'track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd', 'sync_group_tracking_weight', 'global_tracking'],
  virtual_server_group: ['fwmark'],
  virtual_server: ['lvs_sched', 'lb_algo', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback', 'ops', 'lvs_method',
    'lb_kind', 'persistence_engine', 'persistence_timeout', 'persistence_granularity', 'protocol', 'virtualhost', 'alpha', 'omega', 'quorum',
    'hysteresis', 'quorum_up', 'quorum_down', 'ip_family', 'sorry_server', 'sorry_server_inhibit', 'sorry_server_lvs_method', 'connect_timeout',
    'retry', 'nb_get_retry', 'delay_before_retry', 'warmup', 'delay_loop', 'inhibit_on_failure', 'real_server'],
  real_server: ['weight', 'lvs_method', 'lb_kind', 'uthreshold', 'lthreshold', 'virtualhost', 'alpha', 'connect_timeout', 'retry', 'nb_get_retry',
    'delay_before_retry', 'warmup', 'delay_loop', 'inhibit_on_failure', 'HTTP_GET', 'SSL_GET', 'TCP_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'MISC_CHECK',
    'BFD_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK'],
  HTTP_GET: ['connect_ip', 'connect_port', 'bindto', 'bind_if', 'bind_port', 'fwmark', 'alpha', 'connect_timeout', 'retry', 'nb_get_retry',
    'delay_before_retry', 'warmup', 'delay_loop', 'url', 'virtualhost'],
  url: ['path', 'digest', 'status_code', 'virtualhost', 'regex', 'regex_no_match', 'regex_options', 'regex_min_offset', 'regex_max_offset'],
  TCP_CHECK: ['connect_ip', 'connect_port', 'bindto', 'bind_if', 'bind_port', 'fwmark', 'alpha', 'connect_timeout', 'retry', 'nb_get_retry',
    'delay_before_retry', 'warmup', 'delay_loop'],
  MISC_CHECK: ['misc_path', 'misc_timeout', 'misc_dynamic', 'alpha', 'retry', 'delay_before_retry', 'warmup', 'delay_loop'],
  SMTP_CHECK: [...CONN, 'helo_name', 'host'], DNS_CHECK: [...CONN, 'type', 'name'],
  UDP_CHECK: [...CONN, 'payload', 'require_reply', 'min_reply_length', 'max_reply_length'], PING_CHECK: CONN.filter((k) => k !== 'connect_port'),
  // FILE_CHECK `dynamic` (in keepalived.conf(5)) is no keyword of keepalived 2.2's FILE_CHECK parser: no effect there.
  FILE_CHECK: ['track_file', 'weight'], BFD_CHECK: ['name'], SSL: ['password', 'ca', 'certificate', 'key'],
};

const TABLES: Record<string, KeywordTable<never>> = {
  top: TOP_LEVEL, global_defs: GLOBAL_DEFS, vrrp_instance: VRRP_INSTANCE, vrrp_script: VRRP_SCRIPT, track_file: TRACK_FILE,
  vrrp_sync_group: VRRP_SYNC_GROUP, virtual_server: VIRTUAL_SERVER, real_server: REAL_SERVER, HTTP_GET: HTTP_CHECK, TCP_CHECK, MISC_CHECK,
  DNS_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK, FILE_CHECK,
} as unknown as Record<string, KeywordTable<never>>;

const classOf = (t: KeywordTable<never>, k: string): Class | undefined =>
  Object.hasOwn(t.handlers, k) ? 'implemented' : Object.hasOwn(t.ignored, k) ? 'warned' : Object.hasOwn(t.refused, k) ? 'refused' : undefined;

/** A config with a @@@ placeholder line in the context (undefined: a context read as a whole block). */
function inContext(context: string): string | undefined {
  const inst = (body: string) => `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  track_script {\n    S\n  }\n  track_file {\n    F\n  }\n${body}}\n`;
  const scripts = 'vrrp_script S {\n  script /bin/true\n}\ntrack_file F {\n  file /tmp/f\n}\n';
  const vs = (rs: string, body = '') => `virtual_server 10.0.0.1 80 {\n  protocol TCP\n${body}  real_server 10.0.0.2 80 {\n${rs}  }\n}\n`;
  switch (context) {
    case 'top': return `@@@\n`;
    case 'global_defs': return `global_defs {\n@@@\n}\n`;
    case 'vrrp_instance': return scripts + inst('@@@\n');
    case 'vrrp_script': return `vrrp_script S {\n  script /bin/true\n@@@\n}\ntrack_file F {\n  file /tmp/f\n}\n${inst('')}`;
    case 'track_file': return `vrrp_script S {\n  script /bin/true\n}\ntrack_file F {\n  file /tmp/f\n@@@\n}\n${inst('')}`;
    case 'vrrp_sync_group': return `${scripts}${inst('')}vrrp_sync_group G {\n  group {\n    VI_1\n  }\n@@@\n}\n`;
    case 'virtual_ipaddress': return scripts + inst('  virtual_ipaddress {\n    10.0.0.5 @@@\n  }\n');
    case 'unicast_peer': return scripts + inst('  unicast_peer {\n    10.0.0.9 @@@\n  }\n');
    case 'virtual_server': return vs('', '@@@\n');
    case 'real_server': return vs('@@@\n');
    case 'HTTP_GET': return vs('    HTTP_GET {\n      url {\n        path /\n      }\n@@@\n    }\n');
    case 'url': return vs('    HTTP_GET {\n      url {\n        path /\n@@@\n      }\n    }\n');
    case 'TCP_CHECK': return vs('    TCP_CHECK {\n@@@\n    }\n');
    case 'MISC_CHECK': return vs('    MISC_CHECK {\n      misc_path /bin/true\n@@@\n    }\n');
    case 'DNS_CHECK': case 'UDP_CHECK': case 'PING_CHECK': case 'SMTP_CHECK': return vs(`    ${context} {\n@@@\n    }\n`);
    case 'FILE_CHECK': return `track_file F {\n  file /tmp/f\n}\n${vs('    FILE_CHECK {\n      track_file F\n@@@\n    }\n')}`;
    default: return undefined; // blocks read whole (bfd_instance, vrrp_track_process, garp_group, BFD_CHECK, SSL, vsg entries)
  }
}

describe('docs/keepalived-keywords.md', () => {
  it('lists keepalived.conf(5)\'s keywords, each once per context', () => {
    expect(ROWS.length).toBeGreaterThan(400);
    const keys = ROWS.map((r) => `${r.context} ${r.keyword}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    // a sample of what keepalived.conf(5) documents, from each part of it
    for (const k of ['global_defs net_namespace', 'global_defs lvs_timeouts', 'global_defs vrrp_strict', 'vrrp_instance use_vmac', 'vrrp_sync_group notify_fault',
      'virtual_server sh-port', 'virtual_server quorum_down', 'real_server inhibit_on_failure', 'url regex_no_match', 'UDP_CHECK require_reply',
      'FILE_CHECK dynamic', 'bfd_instance max_hops', 'vrrp_track_process fork_delay', 'garp_group interfaces', 'SSL certificate', 'top virtual_server_group']) {
      expect(keys).toContain(k);
    }
  });

  it('states the counts it lists', () => {
    const n = (c: Class) => ROWS.filter((r) => r.cls === c).length;
    expect(DOC).toContain(`In all: ${ROWS.length} keywords; ${n('implemented')} implemented, ${n('warned')} warned, ${n('refused')} refused.`);
  });

  it('(a) each keyword of a mapper table is in the doc with the table\'s class, and the other way round', () => {
    const wrong: string[] = [];
    for (const [context, t] of Object.entries(TABLES)) {
      for (const k of [...Object.keys(t.handlers), ...Object.keys(t.ignored), ...Object.keys(t.refused)]) {
        const row = ROWS.find((r) => r.context === context && r.keyword === k);
        if (row?.cls !== classOf(t, k)) wrong.push(`${context} ${k}: table ${classOf(t, k)}, doc ${row?.cls ?? 'missing'}`);
      }
    }
    for (const r of ROWS.filter((x) => TABLES[x.context])) {
      if (classOf(TABLES[r.context]!, r.keyword) !== r.cls) wrong.push(`${r.context} ${r.keyword}: doc ${r.cls}, table ${classOf(TABLES[r.context]!, r.keyword) ?? 'none'}`);
    }
    expect(wrong).toEqual([]);
  });

  it('(a) a warned keyword gives a warning at its line, a refused one an error at its line (a config that uses it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vrrpd-kw-'));
    const wrong: string[] = [];
    let i = 0;
    for (const r of ROWS.filter((x) => x.cls !== 'implemented')) {
      const text = inContext(r.context);
      if (text === undefined) continue;
      const lines = text.split('\n');
      const at = lines.findIndex((l) => l.includes('@@@')) + 1;
      const file = join(dir, `${++i}.conf`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, text.replace('@@@', r.context === 'virtual_ipaddress' || r.context === 'unicast_peer' ? `${r.keyword} 1` : `  ${r.keyword}`));
      const m = await parseKeepalivedConfig(file, { configId: 'x' });
      const here = m.diagnostics.filter((d) => d.line === at);
      const want = r.cls === 'warned' ? 'warning' : 'error';
      if (!here.some((d) => d.severity === want) || (r.cls === 'warned' && here.some((d) => d.severity === 'error'))) {
        wrong.push(`${r.context} ${r.keyword} (${r.cls}): ${here.map((d) => `${d.severity} ${d.message}`).join('; ') || 'nothing'} at line ${at}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('(b) no traffic-affecting keyword is in the warned class, and each one is in the doc', () => {
    const warned = ROWS.filter((r) => r.cls === 'warned' && TRAFFIC[r.context]?.includes(r.keyword)).map((r) => `${r.context} ${r.keyword}`);
    expect(warned).toEqual([]);
    const missing = Object.entries(TRAFFIC).flatMap(([c, ks]) => ks.filter((k) => !ROWS.some((r) => r.context === c && r.keyword === k)).map((k) => `${c} ${k}`));
    expect(missing).toEqual([]);
  });
});
