// Real-server health and quorum for /metrics (serviceHealth): from the config and the health checks' status, as the quorum rules count them.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { serviceHealth } from '../../src/daemon/metrics.js';

const cfg = parseConfig(`instances:
  vi_1: { interface: eth1, vrid: 1, vips: [ "192.0.2.10/32 dev eth0" ] }
virtualServers:
  web:
    address: 192.0.2.10
    port: 80
    quorum: 60
    instance: vi_1
    realServers:
      - { address: 198.51.100.11, port: 80, weight: 50, checks: [{ type: tcp }, { type: http, urls: [{ path: / }] }] }
      - { address: 198.51.100.12, port: 80, weight: 30, checks: [{ type: tcp }] }
      - { address: 198.51.100.13, port: 80, weight: 20 }
`, 't.yaml');

const check = (address: string, healthy: boolean) => ({ service: 'web', address, port: 80, healthy, lastError: null, lastChange: null });

describe('serviceHealth', () => {
  if (!cfg.ok) throw new Error(cfg.errors.map((e) => e.message).join('; '));
  const vs = cfg.config.virtualServers;

  it('every server healthy when every check passes (a server without checks always is)', () => {
    expect(serviceHealth(vs, [check('198.51.100.11', true), check('198.51.100.11', true), check('198.51.100.12', true)]))
      .toEqual([{ service: 'web', healthy: 3, failed: 0, liveWeight: 100, quorum: 60 }]);
    expect(serviceHealth(vs, undefined)).toEqual([{ service: 'web', healthy: 3, failed: 0, liveWeight: 100, quorum: 60 }]);
  });

  it('one failing check of several fails the server: the live weight drops below quorum', () => {
    expect(serviceHealth(vs, [check('198.51.100.11', true), check('198.51.100.11', false), check('198.51.100.12', true)]))
      .toEqual([{ service: 'web', healthy: 2, failed: 1, liveWeight: 50, quorum: 60 }]);
  });

  it('checks of another service or port do not count', () => {
    expect(serviceHealth(vs, [{ ...check('198.51.100.12', false), service: 'other' }, { ...check('198.51.100.12', false), port: 81 }]))
      .toEqual([{ service: 'web', healthy: 3, failed: 0, liveWeight: 100, quorum: 60 }]);
  });
});
