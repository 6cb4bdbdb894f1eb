// Instance lifecycle work the director delegates: stale-VIP removal at start, live setting changes on reload.
import type { Logger } from 'pino';
import type { Addr, NetIO } from '../net/ports.js';
import type { Executor } from './executor.js';
import type { Runner, VipPlace } from './runner.js';
import type { VipOps } from './vips.js';

/**
 * Reconcile: an instance that starts is master of nothing, so its VIPs found on the box are
 * leftovers (a SIGKILLed predecessor). keepalived would keep the duplicate forever.
 */
export async function removeStaleVips(rs: readonly Runner[], addrs: readonly Addr[], io: NetIO, log: Logger): Promise<void> {
  for (const r of rs) {
    for (const p of r.vips) {
      if (!addrs.some((a) => a.index === p.ifindex && a.address === p.vip.address)) continue;
      log.warn({ instance: r.name, vip: p.vip.address, dev: p.dev }, 'removing stale VIP left by a previous run');
      await io.deleteAddress({ ifindex: p.ifindex, family: p.vip.family, address: p.vip.address, prefixLen: p.vip.prefixLen })
        .catch((e: Error) => log.error({ err: e.message, vip: p.vip.address }, 'cannot remove stale VIP'));
    }
  }
}

const placeKey = (p: VipPlace): string => `${p.ifindex}/${p.vip.address}/${p.vip.prefixLen}`;

/**
 * Live changes on a running instance (reload): the VIP list by delta while the VIPs are held (GARP
 * for new ones only), then the engine settings through step() like any other input.
 */
export function applyLive(r: Runner, b: Runner, exec: Executor, vipOps: VipOps, now: number): void {
  const before = new Map(r.vips.map((p) => [placeKey(p), p]));
  const after = new Map(b.vips.map((p) => [placeKey(p), p]));
  const gone = [...before].filter(([k]) => !after.has(k)).map(([, p]) => p);
  const added = [...after].filter(([k]) => !before.has(k)).map(([, p]) => p);
  r.settings = b.settings;
  r.adverts.clear();
  r.engineCfg = { ...b.engineCfg, primaryAddress: r.engineCfg.primaryAddress };
  r.advertDsts = b.advertDsts;
  r.paths = b.paths;
  r.vips = b.vips;
  if (r.inst.state.vipsHeld && (gone.length || added.length)) {
    exec.track(r, vipOps.setList(r, gone, false));
    exec.track(r, vipOps.setList(r, added, true));
    exec.track(r, vipOps.announce(r, added, r.settings.garp.masterRepeat));
  }
  exec.run(r, r.inst.reconfigure(now, r.engineCfg));
}
