// Monitoring: the alert rules pass promtool check and promtool's unit tests; the dashboard's queries parse and use only metrics vrrpd exports.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { metricsRegistry } from '../../src/daemon/metrics.js';
import type { Director } from '../../src/daemon/director.js';
import type { StatusReport } from '../../src/daemon/status.js';
import { parseConfig } from '../../src/config/load.js';

const REPO = join(import.meta.dirname, '..', '..');
const RULES = join(REPO, 'conf/vrrpd.rules.yml');
const havePromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'vrrpd-rules-'));
const promtool = (...args: string[]) => {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000, cwd: REPO });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

interface Panel { type: string; title: string; targets?: { expr: string }[]; datasource?: { uid: string } }
const dashboard = JSON.parse(readFileSync(join(REPO, 'conf/grafana-dashboard.json'), 'utf8')) as { panels: Panel[]; annotations: { list: { expr: string }[] } };
const dashExprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.annotations.list.map((a) => a.expr)];
const ruleExprs = (parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.expr));

/** The metric names a real registry exposes: one instance, one virtual server with a check, as a scrape shows them. */
async function exportedNames(): Promise<Set<string>> {
  const cfg = parseConfig(`instances:\n  vi_1: { interface: eth1, vrid: 1, vips: [ "192.0.2.10/32 dev eth0" ] }\nvirtualServers:\n  web:\n    address: 192.0.2.10\n    port: 80\n    realServers: [{ address: 198.51.100.11, port: 80, checks: [{ type: tcp }] }]\n`, 't.yaml');
  if (!cfg.ok) throw new Error('config');
  const status: StatusReport = {
    daemon: { pid: 1, startedAt: new Date(0).toISOString(), drops: {}, socketDrops: { 'ipv4/2': 0 } },
    ipvs: { available: true, error: null, syncRole: 'none', services: [], checks: [{ service: 'web', address: '198.51.100.11', port: 80, healthy: false, lastError: 'refused', lastChange: null }] },
    instances: [{ name: 'vi_1', vrid: 1, version: 3, interface: 'eth1', state: 'MASTER', priority: 100, effectivePriority: 100, master: '192.0.2.1', masterPriority: 100,
      primaryAddress: '192.0.2.1', vips: [], configuredVips: [], since: new Date(0).toISOString(), reason: 'no-master', reasonDetail: '', held: false, faults: [],
      advertIntervalMs: 1000, masterAdverIntervalMs: 1000, counters: { drops: {} } }],
  };
  // The registry reads the director only through these at scrape time.
  const director = { status: () => status, transitions: new Map([['vi_1\tBACKUP\tMASTER\tno-master', 1]]), timing: () => ({ lastLatenessMs: 0.1, maxLatenessMs: 0.2, lag: { p50: 1, p99: 2, max: 3 } }) };
  const text = await metricsRegistry(director as unknown as Director, () => cfg.config).metrics();
  return new Set([...text.matchAll(/^(vrrpd_\w+?)(?:\{| )/gm)].map((m) => m[1]!));
}

describe.skipIf(!havePromtool)('Prometheus alert rules (conf/vrrpd.rules.yml) and the Grafana dashboard', () => {
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('promtool check rules', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.out).toMatch(/SUCCESS: 8 rules found/);
    expect(r.code, r.out).toBe(0);
  });

  it('promtool test rules: each alert fires on its condition, none on a healthy pair', () => {
    const r = promtool('test', 'rules', 'test/pkg/vrrpd.rules.test.yml');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('every metric the rules and the dashboard use is one vrrpd exports', async () => {
    const names = await exportedNames();
    for (const n of ['vrrpd_master', 'vrrpd_skew_time_seconds', 'vrrpd_real_servers', 'vrrpd_service_live_weight', 'vrrpd_service_quorum']) expect(names).toContain(n);
    const used = new Set([...ruleExprs, ...dashExprs].flatMap((e) => [...e.matchAll(/\bvrrpd_\w+/g)].map((m) => m[0])));
    expect([...used].filter((n) => !names.has(n))).toEqual([]);
  });

  it("the dashboard's queries are valid PromQL (checked by promtool as recording rules), on the dashboard's data source", () => {
    const exprs = dashExprs.map((e) => e.replace(/\$__rate_interval/g, '5m').replace(/\$(job|director)/g, '.*'));
    const file = join(tmp, 'dashboard-exprs.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })) }] }));
    const r = promtool('check', 'rules', file);
    expect(r.code, r.out).toBe(0);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}');
    expect(exprs.length).toBeGreaterThan(10);
  });
});
