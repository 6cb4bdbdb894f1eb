// A running instance as the director holds it: engine, settings, resolved interfaces, per-instance shell state.
import type { VrrpInstance } from '../engine/instance.js';
import type { InstanceConfig } from '../engine/types.js';
import type { InstanceSettings, Vip } from '../config/schema.js';
import type { YieldResult } from './director.js';
import type { Notifier } from './notify.js';

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
