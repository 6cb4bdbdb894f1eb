// The LVS-NAT director pair of issue 9 on a real kernel (test VM): a two-member sync group (public VIP on the LAN,
// the real servers' gateway VIP inside), IPVS NAT services and the sync daemon; a client's requests answered by the
// real server behind NAT before and after a cable cut on lvs1 (an established connection survives through lvs2);
// a virtual_server_group's address range (YAML form) creates every service; quorumDown/quorumUp run on quorum
// loss/gain with a failed server kept at weight 0 (inhibitOnFailure). One guest script: test/vm/guest/lvs-nat.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, runInVm, vmSupported, type VmResult } from './vm.js';

const vm = vmSupported();
if (!vm.ok) console.log(`VM tests skipped: ${vm.reason}`);

const GUEST = join(REPO, 'test/vm/guest/lvs-nat.mjs');

/** Every src/**.ts newer than its dist/**.js: the guest runs dist/ (read-only), so build on the host first. */
function buildDist(): void {
  const stale = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
          const js = join(REPO, 'dist', relative(join(REPO, 'src'), p)).replace(/\.ts$/, '.js');
          if (!existsSync(js) || statSync(p).mtimeMs > statSync(js).mtimeMs) out.push(p);
        }
      }
    };
    walk(join(REPO, 'src'));
    return out;
  };
  if (stale().length === 0) return;
  spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { stdio: 'ignore' });
  const left = stale();
  if (left.length > 0) throw new Error(`dist/ was not rebuilt for ${left.join(', ')}`);
}

const CHECKS = {
  net: 'the guest builds the namespaces (LAN, inside network, crossover) and the real server\'s echo servers',
  election: 'lvs1 MASTER of the group (both members) with both VIPs and every NAT service; lvs2 BACKUP with none (vrrpd status --json, ip addr, ipvsadm)',
  'vsg-services': 'a virtual_server_group range (192.168.1.240-242 port 8080, YAML form) is one service per address, each with the shared real server',
  'nat-request': 'a client request through the public VIP is answered by the real server behind NAT (the real server sees the client, its gateway is lvs1)',
  'conn-synced-lvs2': 'the sync daemon copies the established NAT connection to lvs2',
  'quorum-down': 'a real server failing its check drops the live weight below quorum: quorumDown runs (on both directors), the server stays at weight 0 (inhibitOnFailure)',
  'quorum-up': 'the server passing again: quorumUp runs, weight back to 1',
  'failover-both-vips': "lvs1's LAN cable cut: both VIPs and every service move to lvs2 (vi_gw follows through the group), group notify on lvs2",
  'conn-survives-failover': 'the established connection keeps answering through lvs2 (synced entry)',
  'nat-request-after-failover': 'a new connection is answered by the real server through lvs2',
  'stop-both': 'both daemons exit 0 on SIGTERM and leave no service',
} as const;

describe.skipIf(!vm.ok)('LVS-NAT pair with a sync group on a real kernel (test VM)', () => {
  let r: VmResult;
  const results = new Map<string, string>();

  beforeAll(async () => {
    buildDist();
    r = await runInVm(GUEST, { timeoutMs: 420_000 });
    for (const m of r.output.matchAll(/^CHECK (\S+) (ok|FAIL.*)$/gm)) results.set(m[1]!, m[2]!);
    for (const m of r.output.matchAll(/^INFO (.*)$/gm)) console.log(`vm: ${m[1]}`);
    console.log(`vm: boot ${r.bootMs === null ? '?' : (r.bootMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(1)} s, exit ${r.code}`);
    if (r.code !== 0) console.log(`guest output:\n${r.output}\nrun.sh:\n${r.log}`);
  }, 900_000);

  it('the guest script ran every check to the end', () => {
    expect(r.timedOut).toBe(false);
    expect(r.output).toMatch(/^DONE \d+$/m);
    expect([...results.keys()]).toEqual(Object.keys(CHECKS));
  });

  for (const [name, what] of Object.entries(CHECKS)) {
    it(what, () => {
      expect(results.get(name)).toBe('ok');
    });
  }
});
