// The systemd unit: hardened (systemd-analyze security <= 3.5), valid, runs the packaged paths; the net_namespace drop-in widens only what it must.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CONF = join(import.meta.dirname, '..', '..', 'conf');
const UNIT = join(CONF, 'vrrpd.service');
const probe = spawnSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8', timeout: 30_000 });
const why = probe.error ? `systemd-analyze cannot run here: ${probe.error.message}` : '';

/** `systemd-analyze security --offline` of the unit as installed in a scratch root, with optional drop-ins. */
function security(dropIns: Record<string, string> = {}): { score: number; lines: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'vrrpd-unit-'));
  roots.push(root);
  mkdirSync(join(root, 'usr/lib/systemd/system'), { recursive: true });
  copyFileSync(UNIT, join(root, 'usr/lib/systemd/system/vrrpd.service'));
  for (const [name, file] of Object.entries(dropIns)) {
    mkdirSync(join(root, 'etc/systemd/system/vrrpd.service.d'), { recursive: true });
    copyFileSync(file, join(root, 'etc/systemd/system/vrrpd.service.d', name));
  }
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, '--no-pager', 'vrrpd.service'], { encoding: 'utf8', timeout: 30_000 });
  const m = /Overall exposure level for vrrpd\.service: ([\d.]+)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`systemd-analyze security: exit ${r.status}: ${r.stderr}`);
  return { score: Number(m[1]), lines: (r.stdout ?? '').split('\n') };
}
const roots: string[] = [];
const line = (lines: string[], setting: string) => lines.find((l) => l.includes(` ${setting} `)) ?? `(no line for ${setting})`;

describe.skipIf(why !== '')(`the systemd unit (conf/vrrpd.service)${why ? `: ${why}` : ''}`, () => {
  afterAll(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

  it('systemd-analyze security rates it 3.5 or better (keepalived\'s Debian unit: 9.6)', () => {
    const { score, lines } = security();
    expect(score, lines.filter((l) => l.startsWith('✗')).join('\n')).toBeLessThanOrEqual(3.5);
    // Only the capabilities VRRP, IPVS and the control socket's group need.
    expect(line(lines, 'CapabilityBoundingSet=~CAP_SYS_ADMIN')).toMatch(/^✓/);
    expect(line(lines, 'CapabilityBoundingSet=~CAP_NET_ADMIN')).toMatch(/^✗/);
    expect(line(lines, 'RestrictNamespaces=~net')).toMatch(/^✓/);
    expect(line(lines, 'SystemCallFilter=~@clock')).toMatch(/^✓/);
  });

  it('runs the packaged command, with the runtime directory, never beside keepalived', () => {
    const unit = readFileSync(UNIT, 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/vrrpd run -f \/etc\/vrrpd\/vrrpd\.yaml --rt-priority 50 --lock-memory$/m);
    expect(unit).toMatch(/^ExecStartPre=\/usr\/sbin\/vrrpd check -f \/etc\/vrrpd\/vrrpd\.yaml --quiet$/m);
    expect(unit).toMatch(/^RuntimeDirectory=vrrpd$/m);
    expect(unit).toMatch(/^Conflicts=keepalived\.service$/m);
  });

  it('the net_namespace drop-in (conf/vrrpd-netns.conf) adds CAP_SYS_ADMIN and network namespaces only, and stays <= 3.5', () => {
    const { score, lines } = security({ 'netns.conf': join(CONF, 'vrrpd-netns.conf') });
    expect(line(lines, 'CapabilityBoundingSet=~CAP_SYS_ADMIN')).toMatch(/^✗/);
    expect(line(lines, 'RestrictNamespaces=~net')).toMatch(/^✗/);
    for (const ns of ['user', 'mnt', 'pid', 'ipc', 'uts', 'cgroup']) expect(line(lines, `RestrictNamespaces=~${ns}`)).toMatch(/^✓/);
    expect(score).toBeLessThanOrEqual(3.5);
  });

  it('systemd-analyze verify accepts the unit syntax (paths are checked on the installed root: deb.test.ts)', () => {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', timeout: 30_000 });
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !/is not executable: No such file|man vrrpd|extra certs/.test(l));
    expect(problems).toEqual([]);
  });
});
