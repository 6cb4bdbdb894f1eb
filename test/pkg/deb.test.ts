// The .deb on a bare Debian root: built by npm run package, installed offline, run (version, check, a failover in namespaces, completion), purged clean.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createLab, labConfig, labSupported, reapOrphanLabs, REPO_ROOT, type Lab } from '../../src/lab/topology.js';
import { expectSoleHolder, waitState } from '../lab/helpers.js';

const SUITE = process.env.VRRPD_PKG_SUITE ?? 'bookworm';
const skip = !labSupported().ok || spawnSync('dpkg-deb', ['--version'], { stdio: 'ignore' }).status !== 0;
const ENV = ['/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'HOME=/root', 'DEBIAN_FRONTEND=noninteractive'];

/** out: stdout and stderr together (for messages); stdout alone where a script prints a result (a path). */
interface Out { code: number | null; out: string; stdout: string }
function sh(cmd: string, args: string[], timeoutMs = 120_000): Out {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, stdout: r.stdout ?? '' };
}

describe.skipIf(skip)(`the Debian package on a bare Debian root (${SUITE})`, () => {
  let work: string;
  let root: string;
  let deb: string;
  let before: string[];
  const times: Record<string, number> = {};
  const timed = <T>(what: string, f: () => T): T => {
    const t = performance.now();
    try { return f(); } finally { times[what] = Math.round(performance.now() - t); }
  };
  /**
   * A command in the root as on a box of its own: private mount and PID namespaces (/proc shows only its processes),
   * a network namespace with only a loopback, a clean environment. `before` runs first, outside the root (host binaries).
   */
  const inRoot = (cmd: string[], o: { before?: string } = {}): Out => sh('unshare', ['--mount', '--propagation', 'private', '--net', '--pid', '--fork',
    'sh', '-c', `mount -t proc proc /proc && mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs /run && ${o.before ?? 'true'} && exec chroot "$0" "$@"`, root, ...ENV, ...cmd]);
  /** Every path in the root but the package manager's own state, logs and caches. */
  const snapshot = (): string[] => sh('find', [root, '-xdev', '-mindepth', '1', '(', '-path', `${root}/proc`, '-o', '-path', `${root}/tmp`,
    '-o', '-path', `${root}/var/lib/dpkg`, '-o', '-path', `${root}/var/lib/apt`, '-o', '-path', `${root}/var/cache`, '-o', '-path', `${root}/var/log`,
    '-o', '-path', `${root}/etc/ld.so.cache`, ')', '-prune', '-o', '-printf', '%P\\n']).out.split('\n').filter(Boolean).sort();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vrrpd-pkgtest-'));
    const built = timed('package', () => sh(process.execPath, [join(REPO_ROOT, 'scripts/package.mjs'), '--out', work], 300_000));
    if (built.code !== 0) throw new Error(`npm run package failed:\n${built.out}`);
    deb = built.stdout.trim().split('\n').find((l) => l.endsWith('.deb'))!;
    if (!deb || !existsSync(deb)) throw new Error(`npm run package printed no .deb path:\n${built.out}`);
    const cached = timed('root (cached)', () => sh('bash', [join(REPO_ROOT, 'test/pkg/root.sh'), SUITE], 1_800_000));
    if (cached.code !== 0) throw new Error(`no ${SUITE} root:\n${cached.out}`);
    root = join(work, 'root');
    // The root's path is root.sh's last line on stdout (a first build also logs on stderr).
    const copied = timed('copy root', () => sh('cp', ['-a', cached.stdout.trim().split('\n').pop()!, root]));
    if (copied.code !== 0) throw new Error(`cannot copy the ${SUITE} root:\n${copied.out}`);
    before = snapshot();
    copyFileSync(deb, join(root, 'tmp', 'vrrpd.deb'));
  }, 2_400_000);

  afterAll(() => {
    console.log(`package test timings (ms): ${JSON.stringify(times)}`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the root is bare: no Node, no npm, no compiler, and no network during the install', () => {
    expect(inRoot(['sh', '-c', 'command -v node nodejs npm gcc cc make; true']).out.trim()).toBe('');
    expect(inRoot(['sh', '-c', 'cat /etc/debian_version']).out).toMatch(SUITE === 'bookworm' ? /^12\./ : /^(13\.|trixie)/);
    // No network: only a loopback, no route.
    expect(inRoot(['sh', '-c', 'ip -o link | cut -d: -f2; ip route; ip -6 route']).out.trim()).toBe('lo');
  });

  it('installs with apt from the .deb alone, offline, and enables nothing (the sample is not this network)', () => {
    const r = timed('apt install', () => inRoot(['apt-get', 'install', '-y', '/tmp/vrrpd.deb']));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('vrrpd: installed, not enabled');
    expect(inRoot(['dpkg-query', '-W', '-f', '${Status} ${Version}', 'vrrpd']).out).toBe(`install ok installed ${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version}`);
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/vrrpd.service'))).toBe(false);
    for (const f of ['usr/sbin/vrrpd', 'usr/lib/vrrpd/node', 'usr/lib/vrrpd/build/Release/vrrpd_native.node', 'usr/lib/systemd/system/vrrpd.service',
      'etc/vrrpd/vrrpd.yaml', 'usr/share/man/man8/vrrpd.8.gz', 'usr/share/man/man5/vrrpd.yaml.5.gz', 'usr/share/bash-completion/completions/vrrpd']) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
    expect(inRoot(['dpkg-query', '-W', '-f', '${Conffiles}', 'vrrpd']).out).toContain('/etc/vrrpd/vrrpd.yaml');
    expect(r.out).not.toMatch(/keepalived is running/);
    // Production dependencies only: no test runner, no compiler front-end in the package.
    expect(existsSync(join(root, 'usr/lib/vrrpd/node_modules/vitest'))).toBe(false);
    expect(existsSync(join(root, 'usr/lib/vrrpd/node_modules/typescript'))).toBe(false);
    expect(existsSync(join(root, 'usr/lib/vrrpd/node_modules/pino'))).toBe(true);
  });

  it('beside a running keepalived (the real one, in the same PID namespace) the maintainer script says so and starts nothing', () => {
    const empty = join(work, 'keepalived-empty.conf');
    writeFileSync(empty, '# nothing to run: the process is what the package looks for\n');
    const ka = 'command -v keepalived >/dev/null || exit 77; (keepalived --dont-fork --log-console --vrrp -f ' + empty + ' >/dev/null 2>&1 &); sleep 1';
    const r = inRoot(['sh', '-c', 'grep -l keepalived /proc/[0-9]*/comm >/dev/null && echo "keepalived seen"; /var/lib/dpkg/info/vrrpd.postinst configure 0.0.9'], { before: ka });
    if (r.code === 77) return; // keepalived is not installed here (CI installs it)
    expect(r.out).toContain('keepalived seen');
    expect(r.out).toContain('vrrpd: keepalived is running on this host: vrrpd is installed but not enabled nor started.');
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/vrrpd.service'))).toBe(false);
  });

  it('vrrpd --version and vrrpd check on the shipped sample', () => {
    const v = inRoot(['vrrpd', '--version']);
    expect(v).toMatchObject({ code: 0, out: `${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version}\n` });
    const c = inRoot(['vrrpd', 'check', '-f', '/etc/vrrpd/vrrpd.yaml']);
    expect(c).toMatchObject({ code: 0, out: '/etc/vrrpd/vrrpd.yaml: valid, 1 instance(s)\n' });
    // The check is real: a typo in the sample is refused with its line.
    const bad = inRoot(['sh', '-c', 'sed s/priority:/prority:/ /etc/vrrpd/vrrpd.yaml > /tmp/bad.yaml && vrrpd check -f /tmp/bad.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/\/tmp\/bad\.yaml:\d+:\d+: instances\.vi_1\.prority/);
  });

  it('the man pages and the unit as installed: man renders without warnings, systemd-analyze verify passes', () => {
    for (const page of ['vrrpd', 'vrrpd.yaml']) {
      const m = inRoot(['sh', '-c', `command -v man >/dev/null || exit 77; MANWIDTH=80 man --warnings ${page} 2>&1 >/dev/null; MANWIDTH=80 man ${page} | head -3`]);
      if (m.code === 77) continue; // man-db is not in this root: rendering is checked on the host (man.test.ts)
      expect(m.out).toMatch(new RegExp(`^${page.toUpperCase().replace('.', '\\.')}\\(`, 'm'));
      expect(m.out).not.toMatch(/warning/i);
    }
    // Against the installed root: the Exec paths exist there, and Documentation=man:... resolves to the installed pages.
    const v = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/usr/lib/systemd/system/vrrpd.service'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MANPATH: join(root, 'usr/share/man') } });
    if (v.error) return; // no systemd-analyze here (CI installs systemd): unit.test.ts says so
    // Only our unit's lines count: a host systemd older than the root's warns about keys of the root's other units.
    const ours = `${v.stdout}${v.stderr}`.split('\n').filter((l) => /vrrpd/.test(l.replaceAll(root, '')));
    expect({ code: v.status, ours }).toEqual({ code: 0, ours: [] });
  });

  describe('two directors in network namespaces, running the installed vrrpd (in the root, with only the unit\'s capabilities)', () => {
    let lab: Lab;
    beforeAll(async () => {
      await reapOrphanLabs();
      // The unit's CapabilityBoundingSet, applied with setpriv: the failover works with what systemd will grant.
      const unit = readFileSync(join(root, 'usr/lib/systemd/system/vrrpd.service'), 'utf8');
      const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)![1]!.trim().split(/\s+/).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
      const wrapper = join(work, 'in-root.sh');
      lab = await createLab({ vrrpd: [wrapper, '/usr/sbin/vrrpd'] });
      writeFileSync(wrapper, `#!/bin/sh
# Runs PROG ARGS from the installed root, in a private mount namespace that sees /proc, /sys of the current
# network namespace, and the lab's directory (configs, control sockets) at the same path.
root='${root}'
exec unshare --mount --propagation private sh -c '
  r=$1; shift
  mkdir -p "$r${lab.dir}" && mount --bind '${lab.dir}' "$r${lab.dir}" || exit 125
  mount -t proc proc "$r/proc" && mount --bind /sys "$r/sys" || exit 125
  exec chroot "$r" ${ENV.join(' ')} setpriv --bounding-set=-all,${caps.join(',')} --no-new-privs "$@"' sh "$root" "$@"
`);
      chmodSync(wrapper, 0o755);
    }, 60_000);
    afterAll(async () => { await lab?.destroy(); });

    it('lvs1 MASTER, lvs2 BACKUP; SIGTERM on lvs1 hands the VIPs to lvs2 within 2 s; status and completion work', async () => {
      const t0 = performance.now();
      // As test/lab's up(), with room for a cold start of the packaged Node from the copied root on a busy machine.
      for (const n of ['lvs1', 'lvs2'] as const) {
        // With /metrics on each director's own loopback (its namespace).
        const cfg = parseYaml(labConfig(n)) as { global: Record<string, unknown> };
        cfg.global.metricsListen = '127.0.0.1:9650';
        await lab.startDirector(n, lab.writeConfig(n, stringifyYaml(cfg)), { timeoutMs: 30_000 });
      }
      await waitState(lab, 'lvs1', 'MASTER', 15_000);
      await waitState(lab, 'lvs2', 'BACKUP', 5000);
      await expectSoleHolder(lab, 'lvs1');
      const pid = lab.directors.get('lvs1')!.pid!;
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('/usr/lib/vrrpd/node');
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^CapBnd:\s+0+807001$/m); // CAP_SYS_NICE | CAP_IPC_LOCK | CAP_CHOWN | CAP_NET_ADMIN | CAP_NET_RAW
      const t = performance.now();
      const exited = await lab.directors.get('lvs1')!.stop(3000);
      expect(exited.code).toBe(0);
      const tr = await lab.waitTransition('lvs2', 'MASTER', t, 5000);
      expect(tr.at - t).toBeLessThan(2000);
      await waitState(lab, 'lvs2', 'MASTER', 2000);
      await expectSoleHolder(lab, 'lvs2');
      // The installed daemon's Prometheus metrics, read with the packaged Node inside lvs2's namespace.
      const metrics = await lab.exec('lvs2', [join(work, 'in-root.sh'), '/usr/lib/vrrpd/node', '-e',
        "fetch('http://127.0.0.1:9650/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"], { check: false });
      expect(metrics.stdout, metrics.stderr).toContain('vrrpd_master{vrrp_instance="vi_100",vrid="100",family="ipv4",interface="eth1"} 1');
      expect(metrics.stdout).toMatch(/vrrpd_transitions_total\{instance="vi_100",from="BACKUP",to="MASTER",reason="master-resigned"\} 1/);
      // Bash completion of instance names, asked of the running daemon on lvs2 through the installed CLI.
      const comp = await lab.exec('lvs2', [join(work, 'in-root.sh'), 'bash', '-c',
        `. /usr/share/bash-completion/completions/vrrpd; COMP_WORDS=(vrrpd yield --socket ${lab.socketPath('lvs2')} v); COMP_CWORD=4; _vrrpd; echo "[\${COMPREPLY[*]}]"`], { check: false });
      expect(comp.stdout.trim(), comp.stderr).toBe('[vi_100]');
      times['failover scenario'] = Math.round(performance.now() - t0);
    }, 60_000);
  });

  it('remove keeps the conffile; purge leaves nothing behind, also enablement links and an edited conffile', () => {
    // What `systemctl enable vrrpd` and an operator's edit leave (no systemd runs in the root: made by hand).
    inRoot(['sh', '-c', 'mkdir -p /etc/systemd/system/multi-user.target.wants && ln -s /usr/lib/systemd/system/vrrpd.service /etc/systemd/system/multi-user.target.wants/vrrpd.service && echo "# edited" >> /etc/vrrpd/vrrpd.yaml']);
    const rm = inRoot(['apt-get', 'remove', '-y', 'vrrpd']);
    expect(rm.code, rm.out).toBe(0);
    expect(existsSync(join(root, 'usr/lib/vrrpd'))).toBe(false);
    expect(readFileSync(join(root, 'etc/vrrpd/vrrpd.yaml'), 'utf8')).toContain('# edited');
    expect(inRoot(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'vrrpd']).out.trim()).toBe('rc');
    const purge = inRoot(['apt-get', 'purge', '-y', 'vrrpd']);
    expect(purge.code, purge.out).toBe(0);
    expect(inRoot(['dpkg-query', '-W', 'vrrpd']).code).not.toBe(0);
    const after = snapshot();
    expect({ added: after.filter((p) => !before.includes(p)), removed: before.filter((p) => !after.includes(p)) }).toEqual({ added: [], removed: [] });
  });
});
