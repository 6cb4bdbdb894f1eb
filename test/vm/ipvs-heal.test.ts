// Issue 11: IPVS services and the sync daemon deleted or altered from outside (ipvsadm -C/-D/-e/-E, --stop-daemon) are
// restored by the daemon's audit, on a real kernel (test VM); the audit's cost with nothing changed is measured.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { REPO, runInVm, vmSupported, type VmResult } from './vm.js';

const vm = vmSupported();
const CHECKS = ['master', 'flush', 'delete-service', 'edit-dest', 'edit-service', 'stop-daemon', 'logged-counted', 'audit-cost'];

describe.skipIf(!vm.ok)('IPVS audit: the table and the sync daemon heal (test VM)', () => {
  let r: VmResult;
  const results = new Map<string, string>();
  beforeAll(async () => {
    spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { stdio: 'ignore' });
    r = await runInVm(join(REPO, 'test/vm/guest/ipvs-heal.mjs'), { timeoutMs: 400_000 });
    for (const m of r.output.matchAll(/^CHECK (\S+) (ok|FAIL.*)$/gm)) results.set(m[1]!, m[2]!);
    for (const m of r.output.matchAll(/^INFO (.*)$/gm)) console.log(`vm: ${m[1]}`);
    if (results.size < CHECKS.length || [...results.values()].some((v) => v !== 'ok')) console.log(`guest output:\n${r.output}\nrun.sh:\n${r.log}`);
  }, 900_000);

  for (const name of CHECKS) it(name, () => expect(results.get(name)).toBe('ok'));
});
