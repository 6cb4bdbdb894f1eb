// ipvs.onBackup on the IPVS controller over the fake kernel: remove takes a BACKUP's services out, keep (the default) installs them
// (also on a BACKUP that was never MASTER) and restores them at an audit; FAULT and stop remove them either way.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { IpvsController } from '../../src/daemon/ipvs.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import { parseConfig } from '../../src/config/load.js';
import { FakeIpvsKernel } from '../ipvs/fake-ipvs.js';
import type { VrrpState } from '../../src/engine/types.js';

const log = pino({ level: 'silent' });
const yaml = (onBackup?: string) => (onBackup ? `ipvs:\n  onBackup: ${onBackup}\n` : '')
  + 'instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    vips: [ "192.168.1.250/32 dev eth0" ]\n'
  + '  vi_2:\n    interface: eth1\n    vrid: 2\n    vips: [ "192.168.1.251/32 dev eth0" ]\n'
  + 'virtualServers:\n'
  + '  web:\n    address: 192.168.1.250\n    port: 80\n    instance: vi_1\n    realServers:\n      - { address: 10.0.0.1, port: 80 }\n'
  + '  mail:\n    address: 192.168.1.251\n    port: 25\n    instance: vi_2\n    realServers:\n      - { address: 10.0.0.2, port: 25 }\n';

async function controller(onBackup?: 'remove' | 'keep') {
  const r = parseConfig(yaml(onBackup), 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  const kernel = new FakeIpvsKernel();
  const c = await IpvsController.open(r.config, log, await IpvsClient.open({ sys: kernel }));
  const sync = (s: Record<string, VrrpState>, audit = false) => c.sync(new Map(Object.entries(s)), audit);
  const ports = () => [...kernel.services.values()].map((x) => x.port).sort((a, b) => a - b);
  return { c, kernel, sync, ports };
}

describe('ipvs.onBackup', () => {
  it('remove: a BACKUP holds none of its services; the MASTER its own', async () => {
    const { sync, ports } = await controller('remove');
    await sync({ vi_1: 'BACKUP', vi_2: 'BACKUP' });
    expect(ports()).toEqual([]);
    await sync({ vi_1: 'MASTER', vi_2: 'BACKUP' });
    expect(ports()).toEqual([80]);
    await sync({ vi_1: 'BACKUP', vi_2: 'BACKUP' });
    expect(ports()).toEqual([]);
  });

  it('keep is the default: a BACKUP installs its services', async () => {
    const { sync, ports } = await controller();
    await sync({ vi_1: 'BACKUP', vi_2: 'BACKUP' });
    expect(ports()).toEqual([25, 80]);
  });

  it('keep: a BACKUP that was never MASTER installs its services; FAULT and stop remove them', async () => {
    const { c, sync, ports } = await controller('keep');
    await sync({ vi_1: 'BACKUP', vi_2: 'BACKUP' });
    expect(ports()).toEqual([25, 80]);
    await sync({ vi_1: 'MASTER', vi_2: 'BACKUP' });
    expect(ports()).toEqual([25, 80]);
    await sync({ vi_1: 'FAULT', vi_2: 'BACKUP' });
    expect(ports()).toEqual([25]);
    await sync({ vi_1: 'INIT', vi_2: 'INIT' });
    expect(ports()).toEqual([]);
    await sync({ vi_1: 'BACKUP', vi_2: 'MASTER' });
    await c.close();
    expect(ports()).toEqual([]);
  });

  it('keep: an audit on a BACKUP restores services deleted from outside (ipvsadm -C)', async () => {
    const { kernel, sync, ports } = await controller('keep');
    await sync({ vi_1: 'BACKUP', vi_2: 'BACKUP' });
    kernel.services.clear();
    await sync({ vi_1: 'BACKUP', vi_2: 'BACKUP' }, true);
    expect(ports()).toEqual([25, 80]);
  });
});
