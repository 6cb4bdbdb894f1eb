// keepalived.conf input, diagnostics: warnings/--strict with file:line, validation positions, syntax, includes, keyword docs, the CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatIssue, loadAnyConfig, type AnyLoadResult, type LoadResult } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { parseKeepalivedConfig, type KeepalivedOptions } from '../../src/config/keepalived.js';
import { expandBraces, globMatch } from '../../src/config/keepalived-parse.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SEED = `${ROOT}test/fixtures/keepalived-conf/seed-001`;
const SEED_CONF = `${SEED}/etc/keepalived/keepalived.conf`;
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-ka-'));
let n = 0;

/** Write files (name -> text) into a fresh directory; returns the path of the first. */
function files(spec: Record<string, string>): string {
  const dir = join(TMP, String(++n));
  for (const [name, text] of Object.entries(spec)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, Object.keys(spec)[0]!);
}
const conf = (text: string) => files({ 'keepalived.conf': text });
const load = (text: string, opts: { strict?: boolean } = {}) => loadAnyConfig(conf(text), { format: 'keepalived', ...opts });
const map = (text: string, opts: KeepalivedOptions = {}) => parseKeepalivedConfig(conf(text), opts);
const inst = (body: string, name = 'VI_1') => `vrrp_instance ${name} {\n    interface eth1\n    virtual_router_id 10\n${body}}\n`;
const ok = (r: LoadResult): Config => {
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return r.config;
};
const msgs = (r: AnyLoadResult) => (r.ok ? r.warnings : [...r.errors, ...(r.warnings ?? [])]).map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);

describe('unsupported keywords: warnings with file:line, errors with --strict', () => {
  const text = `global_defs {
    notification_email {
        admin@example.com
    }
    smtp_server 127.0.0.1
    router_id X
    frobnicate 1
}
${inst('  use_vmac\n')}`;

  it('warns, naming file:line:col, and refuses what would change the election', async () => {
    const r = await load(text);
    expect(r.ok).toBe(false); // use_vmac
    expect(msgs(r)).toEqual([
      '12:3 use_vmac: not supported: VMACs/ipvlans: vrrpd puts the VIPs on the interface with its own MAC',
      '2:5 notification_email: ignored: vrrpd sends no e-mail (use notify scripts)',
      '5:5 smtp_server: ignored: vrrpd sends no e-mail (use notify scripts)',
      '7:5 frobnicate: unknown keyword in global_defs; ignored',
    ]);
    expect(formatIssue(r.warnings![0]!)).toMatch(/keepalived\.conf:2:5: notification_email: ignored/);
  });

  it('without the refused keyword it loads, with the warnings', async () => {
    const r = await load(text.replace('  use_vmac\n', ''));
    expect(ok(r).global.routerId).toBe('X');
    expect(msgs(r)).toHaveLength(3);
  });

  it('--strict turns every warning into an error', async () => {
    const r = await load(text.replace('  use_vmac\n', ''), { strict: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => `${e.line}:${e.col} ${e.path}`)).toEqual(['2:5 notification_email', '5:5 smtp_server', '7:5 frobnicate']);
  });

  it('unknown keywords anywhere: top level, instance, virtual server, real server, checker, url', async () => {
    const r = await load(`bogus_top 1\n${inst('  bogus_inst\n')}virtual_server 10.0.0.1 80 {\n  bogus_vs\n  real_server 10.0.0.2 80 {
    bogus_rs\n    HTTP_GET {\n      bogus_check\n      url {\n        path /\n        bogus_url\n      }\n    }\n  }\n}\n`);
    expect(msgs(r)).toEqual([
      '1:1 bogus_top: unknown keyword in the top level; ignored',
      '5:3 bogus_inst: unknown keyword in vrrp_instance; ignored',
      '8:3 bogus_vs: unknown keyword in virtual_server; ignored',
      '10:5 bogus_rs: unknown keyword in real_server; ignored',
      '12:7 bogus_check: unknown keyword in HTTP_GET; ignored',
      '15:9 bogus_url: unknown keyword in url; ignored',
      '7:1 protocol: no protocol: UDP, as keepalived 2.2 defaults (write "protocol TCP" for TCP)',
    ]);
  });
});

describe('validation errors point at the keepalived line', () => {
  it('schema and cross-field errors', async () => {
    const r = await load(`${inst('  priority 300\n  virtual_ipaddress {\n    192.168.1.300\n  }\n')}vrrp_instance VI_2 {\n  interface eth1\n}\n`);
    expect(r.ok).toBe(false);
    expect(msgs(r)).toEqual([
      '4:3 instances.VI_1.priority: expected at most 255, got 300',
      '6:5 instances.VI_1.vips.0: "192.168.1.300" is not an IPv4 or IPv6 address, got "192.168.1.300"',
      '9:1 instances.VI_2.vrid: expected number, received undefined',
    ]);
  });
  it('a non-number where a number is needed', async () => {
    const r = await load(inst('  priority high\n'));
    expect(msgs(r)).toEqual(['4:3 priority: "high" is not a whole number']);
  });
});

describe('syntax', () => {
  it('comments (# and !, also after a value), quoted strings, "{" on its own line, one-line blocks', async () => {
    const c = ok(await load(`# comment
! comment too
vrrp_instance VI_1
{
    interface eth1   # the crossover
    virtual_router_id 10 ! VRID
    notify "/bin/echo a # b"
    virtual_ipaddress { 10.0.0.1 }
}
`));
    expect(c.instances.VI_1).toMatchObject({ interface: 'eth1', vrid: 10, notify: { any: '/bin/echo a # b' } });
    expect(c.instances.VI_1!.vips.map((v) => v.address)).toEqual(['10.0.0.1']);
  });

  it('an unclosed "{" and a stray "}" are errors with file:line', async () => {
    const r = await map(`vrrp_instance VI_1 {\n  interface eth1\n  authentication {\n    auth_type PASS\n}\n`);
    expect(r.ok).toBe(false);
    expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.severity}: ${d.message}`)).toContain(
      `1:1 error: syntax error: the "{" of "vrrp_instance" (line 1) is never closed in ${r.diagnostics[0]!.file}`);
    const stray = await map(`global_defs {\n  router_id a\n}\n}\n`);
    expect(stray.diagnostics.map((d) => `${d.file.endsWith('keepalived.conf')} ${d.line}:${d.col} ${d.message}`))
      .toEqual(['true 4:1 syntax error: "}" without a matching "{"']);
  });

  it('a block after a keyword that takes none is warned about, not silently dropped', async () => {
    const r = await load(inst('  priority 50 {\n    nested 1\n  }\n'));
    expect(ok(r).instances.VI_1!.priority).toBe(50);
    expect(msgs(r)).toEqual(['4:3 priority: takes no { ... } block; the block is ignored']);
  });

  it('an unterminated quote is an error', async () => {
    const r = await map(inst('  notify "/bin/x\n'));
    expect(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual(['4:10 syntax error: unterminated " quote']);
  });

  it('$PARAM definitions and substitution (undefined ones stay), ${_PWD}, @config-id lines', async () => {
    const path = conf(`$PRIO=150\n$IF=eth7\n${inst(`  priority $PRIO\n  @lvs1 state MASTER\n  @^lvs1 notify \${_PWD}/n.sh\n  authentication {\n    auth_type PASS\n    auth_pass $up3r\n  }\n`).replace('interface eth1', 'interface ${IF}')}`);
    const one = await parseKeepalivedConfig(path, { configId: 'lvs1' });
    expect(one.config.instances!.VI_1).toMatchObject({ interface: 'eth7', priority: 150, state: 'MASTER', auth: { password: '$up3r' } });
    expect(one.config.instances!.VI_1!.notify).toBeUndefined();
    const two = await parseKeepalivedConfig(path, { configId: 'lvs2' });
    expect(two.config.instances!.VI_1).toMatchObject({ state: 'BACKUP', notify: { any: `${dirname(path)}/n.sh` } });
    expect(two.diagnostics).toEqual([]);
  });

  it('multi-line $NAME=\\ definitions expand where used, with @conditions and nested definitions inside', async () => {
    const r = await parseKeepalivedConfig(`${ROOT}test/fixtures/keepalived-conf/features/macros.conf`, { configId: 'high' });
    expect(r.diagnostics).toEqual([]);
    expect(r.config.instances!.VI_0).toMatchObject({ interface: 'eth0', vrid: 10, priority: 130, vips: ['10.0.0.254/24'] });
    expect(r.config.instances!.VI_1).toMatchObject({ interface: 'eth1', vrid: 11, priority: 130, vips: ['10.0.1.254/24'] });
    const low = await parseKeepalivedConfig(`${ROOT}test/fixtures/keepalived-conf/features/macros.conf`, { configId: 'low' });
    expect(low.config.instances!.VI_0!.priority).toBe(120);
    // positions: the lines a macro produces are reported at the line that uses it
    expect(r.positions.get('instances.VI_1.interface')?.line).toBe(15);
  });

  it('~SEQ, ~SEQx (hex), ~LST with several variables, nested on one line', async () => {
    const r = await parseKeepalivedConfig(`${ROOT}test/fixtures/keepalived-conf/features/macros.conf`, { configId: 'high' });
    expect(r.config.instances!.X!.vips).toEqual(['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.1.2.90', '10.1.2.a0', '10.3.4.90', '10.3.4.a0']);
    const down = await map(inst('  virtual_ipaddress {\n    ~SEQ(A, 3, -1, 1) 10.0.0.$A\n    ~SEQ(B, 2) 10.1.0.$B\n  }\n'));
    expect(down.config.instances!.VI_1!.vips).toEqual(['10.0.0.3', '10.0.0.2', '10.0.0.1', '10.1.0.1', '10.1.0.2']);
  });

  it('the man page\'s nested $VS / $RS example: 2 virtual servers of 3 real servers each', async () => {
    const text = `$RS= \\
real_server 192.168.\${VS_NUM}.\${RS_NUM} 80 { \\
    weight 1 \\
    MISC_CHECK { \\
        misc_path "/bin/check \${VS_NUM}.\${RS_NUM}" \\
    } \\

}
$VS= \\
virtual_server 10.0.\${VS_NUM}.4 80 { \\
    protocol TCP \\
    $RS_NUM=1 \\
    $RS \\
    $RS_NUM=2 \\
    $RS \\
    $RS_NUM=3 \\
    $RS \\
}
$VS_NUM=0
$VS
$VS_NUM=1
$VS
`;
    const r = await map(text);
    expect(r.diagnostics).toEqual([]);
    const vss = r.config.virtualServers!;
    expect(Object.keys(vss)).toEqual(['vs-10.0.0.4-80', 'vs-10.0.1.4-80']);
    expect(vss['vs-10.0.1.4-80']!.realServers!.map((x) => [x.address, x.checks?.[0]?.type === 'misc' ? x.checks[0].script : ''])).toEqual([
      ['192.168.1.1', '/bin/check 1.1'], ['192.168.1.2', '/bin/check 1.2'], ['192.168.1.3', '/bin/check 1.3'],
    ]);
  });

  it('bad ~SEQ/~LST are errors at their line; a macro that expands without end is stopped', async () => {
    const r = await map(`~SEQ(1x, 1, 3) a\n~SEQ(I, 1, 0, 3) a\n~LST(I) a\n~LST({A, B}, {1}) a\n~SEQ(I, 1, 3 a\n$L=$L\n$M= \\\n $M \\\n $M\n$M\n`);
    expect(r.diagnostics.map((d) => `${d.line} ${d.severity} ${d.message}`)).toEqual([
      '1 error ~SEQ(1x, 1, 3): the first item must name the variable',
      '2 error ~SEQ(I, 1, 0, 3): a step of 0 never ends',
      '3 error ~LST(I): no values',
      '4 error ~LST({A, B}, {1}): "{1}" does not give 2 value(s)',
      '5 error ~SEQ( without its closing ")"',
      '10 error macros expand to more than 100000 lines: refused',
    ]);
  });
});

describe('include', () => {
  it('globs relative to the including file, sorted, in place (also inside a block)', async () => {
    const main = files({
      'keepalived.conf': 'include conf.d/*.conf\nvrrp_instance VI_1 {\n  include inst/??.inc\n  virtual_router_id 9\n}\n',
      'conf.d/b.conf': 'vrrp_script s_b {\n  script /bin/b\n}\n',
      'conf.d/a.conf': 'vrrp_script s_a {\n  script /bin/a\n}\n',
      'conf.d/.hidden.conf': 'bogus\n',
      'conf.d/c.txt': 'bogus\n',
      'inst/if.inc': 'interface eth3\ntrack_script {\n  s_a\n  s_b\n}\n',
    });
    const r = await loadAnyConfig(main);
    const c = ok(r);
    expect(c.instances.VI_1).toMatchObject({ interface: 'eth3', vrid: 9 });
    expect(Object.keys(c.trackScripts)).toEqual(['s_a', 's_b']);
    expect(msgs(r)).toEqual([]);
  });

  it('positions name the included file', async () => {
    const main = files({ 'keepalived.conf': `include sub/x.conf\n`, 'sub/x.conf': `\n${inst('  priority 0\n')}` });
    const r = await loadAnyConfig(main);
    if (r.ok) throw new Error('expected an error');
    expect(r.errors.map((e) => `${e.file.slice(dirname(main).length)}:${e.line}:${e.col}`)).toEqual(['/sub/x.conf:5:3']);
  });

  it('no match is a warning (an error with includea/includew, or --strict); [..] and {a,b} patterns', async () => {
    const main = files({
      'keepalived.conf': 'include none/*.conf\nincludea none/x.conf\ninclude d/[a-b]1.conf\ninclude d/{c,d}1.conf\n',
      'd/a1.conf': 'vrrp_script a1 {\n  script /bin/true\n}\n',
      'd/c1.conf': 'vrrp_script c1 {\n  script /bin/true\n}\n',
      'd/e1.conf': 'vrrp_script e1 {\n  script /bin/true\n}\n',
    });
    const r = await parseKeepalivedConfig(main);
    expect(r.diagnostics.map((d) => `${basename(d.file)}:${d.line}:${d.col} ${d.keyword} ${d.severity}: ${d.message.split(' (')[0]}`)).toEqual([
      'keepalived.conf:1:1 include warning: no file matches none/*.conf',
      'keepalived.conf:2:1 includea error: no file matches none/x.conf',
      'a1.conf:1:1 vrrp_script warning: vrrp_script "a1" is tracked by no vrrp_instance: keepalived never runs it; not imported',
      'c1.conf:1:1 vrrp_script warning: vrrp_script "c1" is tracked by no vrrp_instance: keepalived never runs it; not imported',
    ]);
    expect((await parseKeepalivedConfig(main, { strict: true })).diagnostics.every((d) => d.severity === 'error')).toBe(true);
  });

  it('an include loop is an error', async () => {
    const main = files({ 'keepalived.conf': 'include b.conf\n', 'b.conf': 'include keepalived.conf\n' });
    const r = await parseKeepalivedConfig(main);
    expect(r.diagnostics.map((d) => `${d.file.slice(dirname(main).length)}:${d.line} ${d.severity}: ${d.message.replace(dirname(main), '')}`))
      .toEqual(['/b.conf:1 error: include loop: /keepalived.conf is already being read']);
  });

  it('glob and brace helpers', () => {
    expect(globMatch('*.conf', 'a.conf')).toBe(true);
    expect(globMatch('*.conf', '.a.conf')).toBe(false);
    expect(globMatch('?.conf', 'ab.conf')).toBe(false);
    expect(globMatch('[!a]*', 'b1')).toBe(true);
    expect(globMatch('[!a]*', 'a1')).toBe(false);
    expect(globMatch('fwm-[0-9][0-9][0-9].conf', 'fwm-100.conf')).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(expandBraces('/x/{a,b{1,2}}/*.conf')).toEqual(['/x/a/*.conf', '/x/b1/*.conf', '/x/b2/*.conf']);
  });
});

// --- the CLI end to end (dist/cli.js) ----------------------------------------------------------
const CLI = `${ROOT}dist/cli.js`;
function vrrpd(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vrrpd import / check (built CLI)', () => {
  beforeAll(() => {
    const newest = Math.max(...['src/cli.ts', 'src/daemon.ts', ...readdirSync(`${ROOT}src/config`).map((f) => `src/config/${f}`)]
      .map((f) => statSync(ROOT + f).mtimeMs));
    if (existsSync(CLI) && (statSync(`${ROOT}dist/config/keepalived.js`, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= newest) return;
    // Others edit other files concurrently: tsc still emits, so only our files' errors count here.
    const r = spawnSync(process.execPath, [`${ROOT}scripts/build.mjs`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout.split('\n').filter((l) => /^src\/(cli|daemon|config\/)/.test(l))).toEqual([]);
  }, 120_000);

  it('import prints YAML with a header naming the file and the warnings; check accepts it', () => {
    const r = vrrpd(['import', '-f', SEED_CONF, '--include-root', SEED]);
    expect(r.status).toBe(0);
    // per source file: settings carried, refused, warned (the auth_pass truncation is a warning on line 19)
    expect(r.stderr).toMatch(new RegExp(`${SEED_CONF}: (\\d+) settings: \\d+ carried, 0 refused, 1 warned\n`));
    expect(r.stderr).toMatch(/conf\.d\/fwm-100\.conf: \d+ settings: \d+ carried, 0 refused, 0 warned\n/);
    expect(vrrpd(['import', SEED_CONF, '--include-root', SEED]).stdout).toBe(r.stdout);
    expect(r.stdout).toMatch(new RegExp(`^# vrrpd configuration imported from ${SEED_CONF} by \`vrrpd import\`\\.\n`));
    expect(r.stdout).toContain('# 1 warning: keepalived settings not carried over or changed:\n#   ');
    expect(r.stdout).toContain('keepalived.conf:19:17: instances.vi_100.auth.password: only the first 8 bytes');
    expect(r.stderr).toContain('keepalived.conf:19:17: instances.vi_100.auth.password');
    expect(r.stdout).toContain('  fwm-100:\n    fwmark: 100\n');
    const out = join(TMP, 'imported.yaml');
    writeFileSync(out, r.stdout);
    const check = vrrpd(['check', '-f', out]);
    expect([check.status, check.stdout]).toEqual([0, `${out}: valid, 1 instance(s)\n`]);
  });

  it('check and --format: a keepalived.conf is detected or named; --format yaml reads it as YAML (invalid)', () => {
    const file = `${ROOT}test/fixtures/keepalived/v3-100ms.conf`;
    expect(vrrpd(['check', '-f', file]).status).toBe(0);
    expect(vrrpd(['check', '-f', file, '--format', 'keepalived']).stdout).toBe(`${file}: valid, 1 instance(s)\n`);
    expect(vrrpd(['check', '-f', file, '--format', 'yaml']).status).toBe(1);
    expect(vrrpd(['check', '-f', file, '--format', 'xml']).status).toBe(2);
    expect(vrrpd(['check', '-f', `${ROOT}conf/lvs1.yaml`, '--format', 'auto']).status).toBe(0);
  });

  it('import exits 1 on errors and with --strict on warnings; 2 without a file', () => {
    const bad = conf(inst('  use_vmac\n'));
    const r = vrrpd(['import', bad]);
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain('keepalived.conf:4:3: use_vmac: not supported: VMACs');
    const warned = conf(`global_defs {\n  smtp_server 10.0.0.1\n}\n${inst('')}`);
    expect(vrrpd(['import', warned]).status).toBe(0);
    const strict = vrrpd(['import', warned, '--strict']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('keepalived.conf:2:3: smtp_server: ignored: vrrpd sends no e-mail');
    expect(vrrpd(['import']).status).toBe(2);
    expect(vrrpd(['--help']).stdout).toContain('import');
  });

  it('run reads a keepalived.conf the same way: refused before anything starts, --strict and --format passed through', () => {
    const refused = vrrpd(['run', '-f', conf(inst('  use_vmac\n'))]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/keepalived\.conf:4:3: use_vmac: not supported: VMACs[^\n]*\n.*configuration refused, nothing started/s);
    const warned = conf(`global_defs {\n  smtp_server 10.0.0.1\n}\n${inst('')}`);
    const strict = vrrpd(['run', '-f', warned, '--strict']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('keepalived.conf:2:3: smtp_server: ignored: vrrpd sends no e-mail');
    // Read as YAML, the keepalived file is a YAML error.
    const yaml = vrrpd(['run', '-f', warned, '--format', 'yaml']);
    expect([yaml.status, yaml.stderr.includes('configuration refused')]).toEqual([1, true]);
    expect(vrrpd(['run', '-f', warned, '--format', 'xml']).status).toBe(2);
  });
});
