// A running instance as the director holds it: engine, settings, resolved interfaces, per-instance shell state.
import type { Logger } from 'pino';
import { VrrpInstance } from '../engine/instance.js';
import type { InstanceConfig } from '../engine/types.js';
import type { InstanceSettings, Vip } from '../config/schema.js';
import { instanceFamily } from '../config/load.js';
import type { YieldResult } from './director.js';
import { Notifier } from './notify.js';
import type { Addr, Link } from './io.js';
import { advertDestinations } from './reload.js';
import { primaryAddress, toEngineConfig } from './status.js';

export interface VipPlace {
  vip: Vip;
  dev: string;
  ifindex: number;
  mac: string | null;
}

/** One configured instance with what the shell needs around its engine. */
export interface Runner {
  name: string;
  settings: InstanceSettings;
  family: 4 | 6;
  ifindex: number;
  engineCfg: InstanceConfig;
  inst: VrrpInstance;
  vips: VipPlace[];
  advertDsts: string[];
  ipId: number;
  queue: Promise<void>;
  yieldWaiters: ((r: YieldResult) => void)[];
  garpSent: number;
  vipsHeld: boolean;
  /** No source address was found at start: the instance runs in FAULT. */
  noSource: boolean;
  notifier: Notifier;
  /** Encoded adverts by priority and destination; cleared when the settings change. */
  adverts: Map<string, Uint8Array>;
}

/** A runner for one instance; throws (nothing applied yet) when an interface is missing. */
/** syncGroup: the group the instance is in (config/sync-groups.ts groupOfInstance), if any. */
export function buildRunner(name: string, s: InstanceSettings, addrs: Addr[], links: Link[], now: number, log: Logger, syncGroup?: string): Runner {
  const byName = (n: string) => links.find((l) => l.name === n);
  const link = byName(s.interface);
  if (!link) throw new Error(`instance ${name}: interface ${s.interface} does not exist`);
  const family = instanceFamily(s);
  const primary = s.sourceAddress ?? primaryAddress(addrs, link.index, family);
  const vips: VipPlace[] = [];
  for (const v of [...s.vips, ...s.excludedVips]) {
    const dev = v.dev ?? s.interface;
    const l = byName(dev);
    if (!l) throw new Error(`instance ${name}: VIP ${v.address} device ${dev} does not exist`);
    vips.push({ vip: v, dev, ifindex: l.index, mac: l.mac });
  }
  const engineCfg = toEngineConfig(name, s, family, primary ?? (family === 4 ? '0.0.0.0' : '::'), syncGroup);
  return {
    name, settings: s, family, ifindex: link.index, engineCfg, inst: new VrrpInstance(engineCfg, now),
    vips, advertDsts: advertDestinations(s, family), ipId: 0, queue: Promise.resolve(), yieldWaiters: [],
    garpSent: 0, vipsHeld: false, noSource: primary === null, notifier: new Notifier(name, log), adverts: new Map(),
  };
}
