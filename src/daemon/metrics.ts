// Prometheus /metrics (prom-client): state, priority, transitions, adverts, drops, GARPs, loop lag, timer lateness, real-server health, announce groups.
import { createServer, type Server } from 'node:http';
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Director } from './director.js';
import type { Config } from '../config/schema.js';
import type { StatusReport } from './status.js';
import { DROP_REASONS } from '../protocol/drop.js';
import { canonicalAddress } from '../protocol/addr.js';
import { skewTimeMs } from '../engine/timers.js';
import { liveWeight } from '../ipvs/quorum.js';

/** Per virtual server: healthy and failed real servers, the live weight and the quorum it needs (keepalived's rules). */
export function serviceHealth(virtualServers: Config['virtualServers'], checks: NonNullable<StatusReport['ipvs']>['checks'] = []):
  { service: string; healthy: number; failed: number; liveWeight: number; quorum: number }[] {
  const failing = new Set(checks.filter((c) => !c.healthy).map((c) => `${c.service}\t${c.address}\t${c.port}`));
  const healthy = (service: string, rs: { address: string; port: number }) =>
    !failing.has(`${service}\t${canonicalAddress(rs.address) ?? rs.address}\t${rs.port}`);
  return Object.entries(virtualServers).map(([service, vs]) => {
    const ok = vs.realServers.filter((rs) => healthy(service, rs)).length;
    return { service, healthy: ok, failed: vs.realServers.length - ok, liveWeight: liveWeight(service, vs, healthy), quorum: vs.quorum };
  });
}

const STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;

/**
 * Builds a registry whose values are read from the director at scrape time (no second bookkeeping).
 * config: the running configuration (it changes on reload), for the real-server and quorum gauges.
 */
export function metricsRegistry(director: Director, config?: () => Config): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg, prefix: 'vrrpd_process_' });
  const status = () => director.status();
  new Gauge({
    name: 'vrrpd_instance_state', help: 'Current state of each instance (1 for the state it is in)', labelNames: ['instance', 'state'], registers: [reg],
    collect() {
      this.reset();
      for (const i of status().instances) for (const st of STATES) this.set({ instance: i.name, state: st }, i.state === st ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vrrpd_instance_priority', help: 'Effective priority (configured plus tracking)', labelNames: ['instance'], registers: [reg],
    collect() { this.reset(); for (const i of status().instances) this.set({ instance: i.name }, i.effectivePriority); },
  });
  // Per VRID, with the VRRP instance in vrrp_instance: Prometheus renames a target's own "instance" label, and the
  // alert rules (conf/vrrpd.rules.yml) sum this over the directors of a pair: 0 = no MASTER, 2 = split brain.
  new Gauge({
    name: 'vrrpd_master', help: '1 while this director is MASTER of the VRID on the link', labelNames: ['vrrp_instance', 'vrid', 'family', 'interface'], registers: [reg],
    collect() {
      this.reset();
      for (const i of status().instances) {
        const family = i.primaryAddress.includes(':') ? 'ipv6' : 'ipv4';
        this.set({ vrrp_instance: i.name, vrid: String(i.vrid), family, interface: i.interface }, i.state === 'MASTER' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'vrrpd_skew_time_seconds', help: 'Skew_Time of the instance (RFC 3768/5798 §6.1): the margin a late timer eats into', labelNames: ['instance'], registers: [reg],
    collect() {
      this.reset();
      for (const i of status().instances) {
        const cs = Math.round((i.masterAdverIntervalMs || i.advertIntervalMs) / 10);
        this.set({ instance: i.name }, skewTimeMs(i.version === 3 ? 3 : 2, i.effectivePriority, cs) / 1000);
      }
    },
  });
  if (config) {
    const health = () => serviceHealth(config().virtualServers, status().ipvs?.checks);
    new Gauge({
      name: 'vrrpd_real_servers', help: 'Real servers of each virtual server by health-check state', labelNames: ['service', 'state'], registers: [reg],
      collect() {
        this.reset();
        for (const h of health()) {
          this.set({ service: h.service, state: 'healthy' }, h.healthy);
          this.set({ service: h.service, state: 'failed' }, h.failed);
        }
      },
    });
    new Gauge({
      name: 'vrrpd_service_live_weight', help: 'Sum of the weights of the healthy real servers (compared with quorum)', labelNames: ['service'], registers: [reg],
      collect() { this.reset(); for (const h of health()) this.set({ service: h.service }, h.liveWeight); },
    });
    new Gauge({
      name: 'vrrpd_service_quorum', help: 'The live weight the virtual server needs (quorum)', labelNames: ['service'], registers: [reg],
      collect() { this.reset(); for (const h of health()) this.set({ service: h.service }, h.quorum); },
    });
  }
  // Counters exposed as gauges set at scrape time from the engine's own counters (monotonic per run).
  const counter = (name: string, help: string, key: string) => new Gauge({
    name, help, labelNames: ['instance'], registers: [reg],
    collect() { this.reset(); for (const i of status().instances) this.set({ instance: i.name }, Number(i.counters[key] ?? 0)); },
  });
  counter('vrrpd_adverts_sent_total', 'Adverts sent', 'advertsSent');
  counter('vrrpd_adverts_received_total', 'Valid adverts received', 'advertsReceived');
  counter('vrrpd_priority_zero_sent_total', 'Priority-0 adverts sent', 'priorityZeroSent');
  counter('vrrpd_priority_zero_received_total', 'Priority-0 adverts received', 'priorityZeroReceived');
  counter('vrrpd_garp_sent_total', 'Gratuitous ARPs / unsolicited NAs sent', 'garpSent');
  counter('vrrpd_vip_restores_total', 'VIPs deleted by someone else while MASTER, put back (incidents)', 'vipRestores');
  counter('vrrpd_vip_removals_total', 'VIPs added by someone else while not MASTER, removed (incidents)', 'vipRemovals');
  new Gauge({
    name: 'vrrpd_transitions_total', help: 'State transitions by reason', labelNames: ['instance', 'from', 'to', 'reason'], registers: [reg],
    collect() {
      this.reset();
      for (const [k, v] of director.transitions) {
        const [instance, from, to, reason] = k.split('\t') as [string, string, string, string];
        this.set({ instance, from, to, reason }, v);
      }
    },
  });
  new Gauge({
    name: 'vrrpd_drops_total', help: 'Received VRRP packets dropped, by reason', labelNames: ['reason'], registers: [reg],
    collect() {
      this.reset();
      const st = status();
      for (const r of DROP_REASONS) {
        const inst = st.instances.reduce((n, i) => n + Number((i.counters.drops as Record<string, number>)[r] ?? 0), 0);
        this.set({ reason: r }, (st.daemon.drops[r] ?? 0) + inst);
      }
    },
  });
  new Gauge({
    name: 'vrrpd_socket_queue_drops_total', help: 'VRRP packets the kernel dropped on a full receive queue, by socket (family/ifindex)', labelNames: ['socket'], registers: [reg],
    collect() {
      this.reset();
      for (const [socket, n] of Object.entries(status().daemon.socketDrops ?? {})) this.set({ socket }, n);
    },
  });
  new Gauge({
    name: 'vrrpd_event_loop_lag_seconds', help: 'Event-loop delay', labelNames: ['quantile'], registers: [reg],
    collect() {
      this.reset();
      const { lag } = director.timing();
      this.set({ quantile: '0.5' }, lag.p50 / 1000);
      this.set({ quantile: '0.99' }, lag.p99 / 1000);
      this.set({ quantile: '1' }, lag.max / 1000);
    },
  });
  new Gauge({
    name: 'vrrpd_timer_lateness_seconds', help: 'How late the VRRP timer fired after its deadline', labelNames: ['which'], registers: [reg],
    collect() {
      this.reset();
      const t = director.timing();
      this.set({ which: 'last' }, t.lastLatenessMs / 1000);
      this.set({ which: 'max' }, t.maxLatenessMs / 1000);
    },
  });
  announceMetrics(reg, status);
  return reg;
}

/** Announce groups: fit, announced (VIPs on the interface), held, draining, BIRD answering, and the exports per peer. */
function announceMetrics(reg: Registry, status: () => StatusReport): void {
  const per = (name: string, help: string, value: (g: NonNullable<StatusReport['announce']>[number]) => boolean) => new Gauge({
    name, help, labelNames: ['group'], registers: [reg],
    collect() { this.reset(); for (const g of status().announce ?? []) this.set({ group: g.name }, value(g) ? 1 : 0); },
  });
  per('vrrpd_announce_fit', 'Announce group: 1 while this director is fit (services programmed with enough real servers)', (g) => g.fit);
  per('vrrpd_announce_announced', 'Announce group: 1 while its VIPs are on the announce interface', (g) => g.announced);
  per('vrrpd_announce_held', 'Announce group: 1 while yielded (withdrawn until resume)', (g) => g.held);
  per('vrrpd_announce_draining', 'Announce group: 1 while withdrawn and draining', (g) => g.drain !== null);
  per('vrrpd_announce_bird_up', 'Announce group: 1 when BIRD answered on its control socket at the last read (0: unknown)', (g) => g.bird.state === 'ok');
  new Gauge({
    name: 'vrrpd_announce_exported', help: 'Announce group: 1 per VIP and BGP protocol of BIRD that exports it (absent while BIRD is unknown)',
    labelNames: ['group', 'vip', 'peer'], registers: [reg],
    collect() {
      this.reset();
      for (const g of status().announce ?? []) {
        if (g.bird.state !== 'ok') continue;
        for (const p of g.bird.peers) for (const vip of g.vips) this.set({ group: g.name, vip, peer: p.name }, g.bird.exportedTo[vip]?.includes(p.name) ? 1 : 0);
      }
    },
  });
}

/** Serve GET /metrics on host:port; anything else is 404. */
export async function serveMetrics(reg: Registry, listen: string): Promise<Server> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    reg.metrics().then(
      (body) => res.writeHead(200, { 'content-type': reg.contentType }).end(body),
      (e: Error) => res.writeHead(500).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
