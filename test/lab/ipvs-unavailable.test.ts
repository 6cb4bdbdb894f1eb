// A host kernel without IPVS (this machine's: ipvsadm says "Protocol not available"): a real `vrrpd run` whose config has
// virtual servers keeps the instance in FAULT ("IPVS unavailable") and never takes the VIP. The IPVS paths themselves
// run in the test VM (test/vm/daemon-ipvs.test.ts); test/unit/director.test.ts covers this with a fake.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labConfig, labSupported, reapOrphanLabs, sleep, CLI, VIP, type Lab } from '../../src/lab/topology.js';

const hostHasIpvs = existsSync('/proc/net/ip_vs');
const skip = !labSupported().ok || hostHasIpvs;
if (hostHasIpvs) console.log('skipped: this kernel has IPVS loaded (the VM suite covers the IPVS paths)');

describe.skipIf(skip)('no IPVS in the kernel (real vrrpd in a namespace)', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI) || !daemonAvailable()) throw new Error('dist is not built: npm run build');
    await reapOrphanLabs();
    lab = await createLab();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('an instance carrying virtual servers stays FAULT ("IPVS unavailable") past Master_Down_Interval, without the VIP', async () => {
    const vs = `virtualServers:\n  web:\n    address: ${VIP}\n    port: 80\n    instance: vi_100\n    realServers:\n      - address: 192.168.1.10\n`;
    await lab.startDirector('lvs1', lab.writeConfig('lvs1', `${labConfig('lvs1')}${vs}`));
    await sleep(4500); // > 3 x 1 s + skew: a working director would be MASTER by now
    const st = await lab.status('lvs1');
    const i = st.instances.find((x) => x.name === 'vi_100')!;
    expect(i.state).toBe('FAULT');
    expect(i.faults).toEqual(['IPVS unavailable']);
    expect(st.ipvs).toMatchObject({ available: false, syncRole: 'none', services: [] });
    expect(st.ipvs?.error).toMatch(/IPVS unavailable/);
    expect(await lab.vipHolders(VIP)).toEqual([]);
  });
});
