// VRRPv3 over IPv6 in the lab: election from link-local sources, unsolicited NA moving the client, priority-0 handover.
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labSupported, reapOrphanLabs, waitFor, CLI, MAC, type Lab, type DirectorName } from '../../src/lab/topology.js';

const skip = !labSupported().ok;
const VIP6 = 'fd00:1::250';

function config6(node: DirectorName): string {
  return [
    'instances:',
    '  vi_6:',
    '    interface: eth1',
    '    vrid: 106',
    '    version: 3',
    `    priority: ${node === 'lvs1' ? 100 : 90}`,
    '    advertInterval: 100ms',
    `    vips: [ "${VIP6}/64 dev eth0" ]`,
    '    garp: { masterDelay: 0 }',
    '',
  ].join('\n');
}

describe.skipIf(skip)('VRRPv3 over IPv6 (real vrrpd)', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI) || !daemonAvailable()) throw new Error('dist is not built: npm run build');
    await reapOrphanLabs();
  });
  beforeEach(async () => { lab = await createLab(); });
  afterEach(async () => { await lab?.destroy(); });

  it('elects over link-local adverts, the client follows the unsolicited NA on a priority-0 handover', async () => {
    await lab.exec('client', ['ip', '-6', 'addr', 'add', 'fd00:1::10/64', 'dev', 'eth0', 'nodad'], { check: true });
    for (const n of ['lvs1', 'lvs2'] as const) await lab.startDirector(n, lab.writeConfig(n, config6(n)));
    const st = async (n: DirectorName) => (await lab.instance(n, 'vi_6'))?.state;
    await waitFor(async () => (await st('lvs1')) === 'MASTER' && (await st('lvs2')) === 'BACKUP', 8000, 100, 'lvs1 MASTER over IPv6');
    const s2 = await lab.instance('lvs2', 'vi_6');
    expect(s2?.master).toMatch(/^fe80::/); // RFC 5798 §5.1.2.1: adverts come from the link-local address
    expect(s2?.counters.advertsReceived).toBeGreaterThan(3);
    // The client reaches the VIP (neighbour entry → lvs1's MAC).
    expect((await lab.exec('client', ['ping', '-6', '-c', '1', '-W', '2', VIP6])).code).toBe(0);
    const neigh = async () => (await lab.exec('client', ['ip', '-6', 'neigh', 'show', VIP6])).stdout;
    expect(await neigh()).toContain(MAC.lvs1.eth0);
    lab.directors.get('lvs1')!.signal('SIGTERM');
    await waitFor(async () => ((await st('lvs2')) === 'MASTER' ? true : null), 3000, 50, 'lvs2 MASTER');
    // No traffic from the client: only lvs2's unsolicited NA (O flag) can have moved the entry.
    await waitFor(async () => ((await neigh()).includes(MAC.lvs2.eth0) ? true : null), 3000, 100, 'client neighbour entry on lvs2');
    expect((await lab.exec('lvs1', ['ip', '-o', '-6', 'addr'])).stdout).not.toContain(VIP6);
    expect((await lab.exec('lvs2', ['ip', '-o', '-6', 'addr'])).stdout).toContain(VIP6);
  });
});
