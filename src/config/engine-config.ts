// Config → engine: the one place an instance's settings become the engine's InstanceConfig (units: cs on the wire and in the engine).
import type { InstanceConfig } from '../engine/types.js';
import { canonicalAddress } from '../protocol/addr.js';
import { VRRP_MCAST_V4, VRRP_MCAST_V6 } from '../protocol/advert.js';
import type { InstanceSettings } from './schema.js';

/**
 * The engine's view of one instance. The advert interval changes unit exactly once here: the config
 * holds milliseconds (a duration), the engine and the wire centiseconds (RFC 5798 §5.2.7); the shell
 * encodes adverts with the `intervalCs` each sendAdvert action carries.
 */
/** Facts about an instance that come from outside its own settings. */
export interface EngineOptions {
  /** A new MASTER programs this instance's IPVS services before it takes the VIPs. */
  awaitServices?: boolean;
  /** The sync group the instance is in (keepalived vrrp_sync_group). */
  syncGroup?: string;
}

export function toEngineConfig(name: string, s: InstanceSettings, family: 4 | 6, primary: string, opts: EngineOptions = {}): InstanceConfig {
  return {
    name,
    ...(opts.syncGroup !== undefined ? { syncGroup: opts.syncGroup } : {}),
    vrid: s.vrid,
    version: s.version,
    family,
    priority: s.priority,
    advertIntervalCs: Math.round(s.advertInterval / 10),
    preempt: s.preempt,
    preemptDelayMs: s.preemptDelay,
    initialState: s.state,
    primaryAddress: primary,
    advertAddresses: s.vips.map((v) => v.address),
    authType: s.auth?.type === 'pass' ? 1 : 0,
    authPassword: s.auth?.password ?? '',
    strictAddressCheck: s.strictAddressCheck,
    garp: {
      masterDelayMs: s.garp.masterDelay,
      masterRepeat: s.garp.masterRepeat,
      masterRefreshMs: s.garp.masterRefresh,
      refreshRepeat: s.garp.refreshRepeat,
      lowerPriorityRepeat: s.garp.lowerPriorityRepeat,
    },
    awaitServices: opts.awaitServices ?? false,
    higherPrioritySendAdvert: s.higherPrioritySendAdvert,
  };
}

/** Where adverts go: the unicast peers, or the VRRP multicast group of the family (RFC 5798 §5.1.1.2). */
export function advertDestinations(s: InstanceSettings, family: 4 | 6): string[] {
  return s.unicastPeers.length ? s.unicastPeers.map((p) => canonicalAddress(p)!) : [family === 4 ? VRRP_MCAST_V4 : VRRP_MCAST_V6];
}
