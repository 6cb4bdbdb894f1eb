// Issue 11: IPVS services and the sync daemon deleted or altered from outside (ipvsadm -C/-D/-e/-E, --stop-daemon) are
// restored by the daemon's audit, on a real kernel (test VM); the audit's cost with nothing changed is measured.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, runGuestChecks, vmSupported } from './vm.js';

const vm = vmSupported();
const CHECKS = ['master', 'flush', 'delete-service', 'edit-dest', 'edit-service', 'stop-daemon', 'logged-counted', 'audit-cost'];

describe.skipIf(!vm.ok)('IPVS audit: the table and the sync daemon heal (test VM)', () => {
  let results = new Map<string, string>();
  beforeAll(async () => {
    ({ results } = await runGuestChecks(join(REPO, 'test/vm/guest/ipvs-heal.mjs'), {
      timeoutMs: 400_000,
      showAll: (res) => res.size < CHECKS.length || [...res.values()].some((v) => v !== 'ok'),
    }));
  }, 900_000);

  for (const name of CHECKS) it(name, () => expect(results.get(name)).toBe('ok'));
});
