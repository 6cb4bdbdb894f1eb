// The CLI commands that talk to a running daemon: status (table or JSON), yield, resume; and `run`.
import type { ReloadOutcome, StatusReport, YieldResult } from './protocol.js';
import { request, ControlError } from './client.js';
import { DEFAULT_SOCKET } from './defaults.js';
import { parseDuration } from '../config/duration.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes of the control commands. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

function sock(values: Record<string, unknown>): string {
  return typeof values.socket === 'string' ? values.socket : DEFAULT_SOCKET;
}

function fail(io: Io, e: unknown): number {
  io.stderr(`vrrpd: ${(e as Error).message}\n`);
  return e instanceof ControlError && e.code !== 'daemon' ? EXIT.unreachable : EXIT.failed;
}

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 120) return `${s.toFixed(0)}s`;
  if (s < 7200) return `${(s / 60).toFixed(0)}m`;
  if (s < 172800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

export function formatStatus(st: StatusReport): string {
  const head = ['INSTANCE', 'VRID', 'STATE', 'PRIO', 'MASTER', 'VIPS', 'SINCE', 'REASON', 'RX/TX'];
  const rows = st.instances.map((i) => [
    i.name,
    String(i.vrid),
    i.state + (i.held ? ' (held)' : ''),
    i.effectivePriority === i.priority ? String(i.priority) : `${i.effectivePriority} (${i.priority})`,
    i.master ?? '-',
    i.vips.length ? i.vips.join(',') : '-',
    ago(i.since),
    i.reason ?? '-',
    `${String(i.counters.advertsReceived)}/${String(i.counters.advertsSent)}`,
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((x, c) => (c === r.length - 1 ? x : x.padEnd(widths[c]!))).join('  ');
  const drops = Object.entries(st.daemon.drops);
  const tail = drops.length ? `\ndropped: ${drops.map(([k, v]) => `${k} ${v}`).join(', ')}` : '';
  return [line(head), ...rows.map(line)].join('\n') + tail + '\n' + (st.announce?.length ? formatAnnounce(st.announce) : '') + (st.ipvs ? formatIpvs(st.ipvs) : '');
}

/** Announce groups: phase, fitness, whether the VIPs are on the interface, BIRD's view of the exports. */
export function formatAnnounce(groups: NonNullable<StatusReport['announce']>): string {
  const head = ['GROUP', 'PHASE', 'FIT', 'ON', 'VIPS', 'BIRD', 'EXPORTED TO', 'SINCE', 'REASON'];
  const rows = groups.map((g) => {
    const peers = [...new Set(Object.values(g.bird.exportedTo).flat())];
    return [
      g.name, g.phase + (g.held ? ' (held)' : ''), g.fit ? 'yes' : 'no', g.announced ? g.interface : '-', g.vips.join(','),
      g.bird.state, g.bird.state === 'ok' ? (peers.length ? peers.join(',') : 'none') : 'unknown', ago(g.since), g.reason,
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((x, c) => (c === r.length - 1 ? x : x.padEnd(widths[c]!))).join('  ');
  const notes: string[] = [];
  for (const g of groups) {
    if (!g.fit) notes.push(`  ${g.name} unfit: ${g.why.join('; ')}`);
    if (g.drain) notes.push(`  ${g.name} draining (${g.drain.cause}) since ${g.drain.startedAt}, ${g.drain.activeConns ?? '?'} active connection(s)`);
    if (g.bird.state !== 'ok') notes.push(`  ${g.name} BIRD (${g.bird.socket}): ${g.bird.error ?? 'unknown'}`);
    if (g.error) notes.push(`  ${g.name} error: ${g.error}`);
  }
  return `\n${[line(head), ...rows.map(line), ...notes].join('\n')}\n`;
}

const FWD: Record<string, string> = { dr: 'Route', nat: 'Masq', tun: 'Tunnel' };

/** The IPVS table the way `ipvsadm -Ln` shows it. */
export function formatIpvs(ipvs: NonNullable<StatusReport['ipvs']>): string {
  if (!ipvs.available) return `\nIPVS unavailable: ${ipvs.error ?? ''}\n`;
  const out = [`\nIPVS (sync daemon: ${ipvs.syncRole})${ipvs.error ? `  last error: ${ipvs.error}` : ''}`,
    'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  for (const s of ipvs.services) {
    const [proto, ...rest] = s.service.split(' ');
    const head = proto === 'fwmark' ? `FWM  ${rest.join(' ')}` : `${proto!.toUpperCase().padEnd(4)} ${rest.join(' ')}`;
    out.push(`${head} ${s.scheduler}${s.persistent ? ` persistent ${s.timeout}` : ''}`);
    for (const d of s.dests) {
      const addr = `${d.address.includes(':') ? `[${d.address}]` : d.address}:${d.port}`;
      out.push(`  -> ${addr.padEnd(28)} ${(FWD[d.forwarding] ?? d.forwarding).padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${d.inactConns}`);
    }
  }
  const checks = ipvs.checks ?? [];
  if (checks.length) {
    const down = checks.filter((c) => !c.healthy);
    out.push(`health checks: ${checks.length - down.length} up, ${down.length} down`);
    for (const c of down) out.push(`  down ${c.service} ${c.address}:${c.port}: ${c.lastError ?? ''}`);
  }
  return `${out.join('\n')}\n`;
}

export async function statusCommand(values: Record<string, unknown>, io: Io): Promise<number> {
  try {
    const st = (await request(sock(values), { cmd: 'status' })) as StatusReport;
    io.stdout(values.json ? `${JSON.stringify(st)}\n` : formatStatus(st));
    return EXIT.ok;
  } catch (e) {
    return fail(io, e);
  }
}

export function describeYield(r: YieldResult): string {
  switch (r.outcome) {
    case 'taken-over':
      return `${r.instance}: ${r.by} took over in ${r.afterMs!.toFixed(0)} ms`;
    case 'reclaimed':
      return `${r.instance}: no peer took over; reclaimed after ${(r.afterMs! / 1000).toFixed(1)} s`;
    case 'refused':
      return `${r.instance}: not yielded: ${r.detail}`;
    case 'timeout':
      return `${r.instance}: no outcome within the wait`;
    case 'drained':
      return `${r.instance}: withdrawn; drained in ${(r.afterMs! / 1000).toFixed(1)} s (${r.detail ?? ''})`;
    case 'drain-timeout':
      return `${r.instance}: withdrawn; not drained within its drainTimeout (${(r.afterMs! / 1000).toFixed(1)} s: ${r.detail ?? ''})`;
  }
}

export async function yieldCommand(values: Record<string, unknown>, positionals: string[], io: Io): Promise<number> {
  let holdMs: number | null = null;
  if (typeof values.for === 'string') {
    const d = parseDuration(values.for);
    if (d === null) {
      io.stderr(`vrrpd yield: --for ${values.for}: expected a duration like 30s, 5m, 1h\n`);
      return EXIT.usage;
    }
    holdMs = d;
  }
  try {
    const req = { cmd: 'yield' as const, holdMs, ...(positionals[0] ? { instance: positionals[0] } : {}) };
    // An announce group's drain can take its drainTimeout (the daemon bounds it): wait long enough.
    const res = (await request(sock(values), req, 15 * 60_000)) as YieldResult[];
    if (res.length === 0) {
      io.stdout('nothing to yield: this node is MASTER of no instance\n');
      return EXIT.failed;
    }
    for (const r of res) io.stdout(`${describeYield(r)}\n`);
    return res.every((r) => r.outcome === 'taken-over' || r.outcome === 'drained') ? EXIT.ok : EXIT.failed;
  } catch (e) {
    return fail(io, e);
  }
}

export async function resumeCommand(values: Record<string, unknown>, positionals: string[], io: Io): Promise<number> {
  try {
    const req = { cmd: 'resume' as const, ...(positionals[0] ? { instance: positionals[0] } : {}) };
    const done = (await request(sock(values), req)) as string[];
    io.stdout(done.length ? `resumed: ${done.join(', ')}\n` : 'no instance was held\n');
    return EXIT.ok;
  } catch (e) {
    return fail(io, e);
  }
}

export async function reloadCommand(values: Record<string, unknown>, io: Io): Promise<number> {
  try {
    const r = (await request(sock(values), { cmd: 'reload' }, 30_000)) as ReloadOutcome;
    if (!r.applied) {
      for (const e of r.errors) io.stderr(`${e}\n`);
      io.stderr('reload refused: the daemon keeps running its previous configuration\n');
      return EXIT.failed;
    }
    for (const w of r.warnings ?? []) io.stderr(`${w} (warning)\n`);
    const p = r.plan!;
    const parts = (['unchanged', 'updated', 'restarted', 'added', 'removed'] as const)
      .filter((k) => p[k].length).map((k) => `${k}: ${p[k].join(', ')}`);
    io.stdout(`reloaded${parts.length ? `; ${parts.join('; ')}` : ''}\n`);
    return EXIT.ok;
  } catch (e) {
    return fail(io, e);
  }
}
