// systemd integration: READY=1 when running, STATUS= one-line summary, WATCHDOG=1 from the event loop, STOPPING=1.
import type { Logger } from 'pino';
import { SdNotifySocket } from '../net/sd-notify.js';
import type { StatusReport } from './status.js';

/** The watchdog ping period systemd asks for (WATCHDOG_USEC, half of it as sd_watchdog_enabled advises); null when off. */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null; // meant for another process
  return Math.max(1, usec / 2000);
}

/** "vi_100 MASTER, vi_101 BACKUP" (and the IPVS error, if any): what `systemctl status` shows. */
export function statusLine(st: StatusReport): string {
  const parts = st.instances.map((i) => `${i.name} ${i.state}${i.faults.length ? ` (${i.faults.join(', ')})` : ''}`);
  if (st.ipvs?.error) parts.push(`IPVS: ${st.ipvs.error}`);
  return (parts.join(', ') || 'no VRRP instance').replace(/\n/g, ' ').slice(0, 200);
}

/**
 * The daemon's side of Type=notify. The pings come from a plain timer on the event loop: if the loop
 * wedges, they stop and systemd (WatchdogSec=) kills and restarts us. STATUS= is sent when it changes,
 * checked at each ping (or every second without a watchdog).
 */
export class SystemdNotifier {
  private timer: NodeJS.Timeout | null = null;
  private lastStatus = '';

  constructor(private readonly sock: SdNotifySocket, private readonly log: Logger, private readonly status: () => StatusReport,
    private readonly periodMs: number | null) {}

  static fromEnv(log: Logger, status: () => StatusReport): SystemdNotifier | null {
    const sock = SdNotifySocket.fromEnv();
    return sock && new SystemdNotifier(sock, log, status, watchdogPeriodMs());
  }

  /** Sockets open, every instance started, control socket listening. */
  ready(): void {
    this.lastStatus = statusLine(this.status());
    this.send(`READY=1\nSTATUS=${this.lastStatus}\nMAINPID=${process.pid}`);
    const every = this.periodMs ?? 1000;
    this.timer = setInterval(() => this.tick(), every);
    if (this.periodMs !== null) this.log.info({ periodMs: this.periodMs }, 'systemd watchdog on');
  }

  private tick(): void {
    const line = statusLine(this.status());
    const status = line !== this.lastStatus ? `STATUS=${line}` : '';
    this.lastStatus = line;
    const msg = [this.periodMs !== null ? 'WATCHDOG=1' : '', status].filter(Boolean).join('\n');
    if (msg) this.send(msg);
  }

  /** Graceful stop begins: pings end (systemd's stop timeout applies from here). */
  stopping(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.send('STOPPING=1\nSTATUS=stopping');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.sock.close();
  }

  private send(msg: string): void {
    if (!this.sock.send(msg)) this.log.debug({ err: this.sock.lastError?.message }, 'sd_notify failed');
  }
}
