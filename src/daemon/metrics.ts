// Prometheus /metrics (prom-client): state, priority, transitions, adverts, drops, GARPs, loop lag, timer lateness.
import { createServer, type Server } from 'node:http';
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Director } from './director.js';
import { DROP_REASONS } from '../protocol/drop.js';

const STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;

/** Builds a registry whose values are read from the director at scrape time (no second bookkeeping). */
export function metricsRegistry(director: Director): Registry {
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
  return reg;
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
