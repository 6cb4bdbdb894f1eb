// BIRD's state as the daemon shows it: polled over the control socket, off the daemon's path, backing off while BIRD is away.
import type { Logger } from 'pino';
import { readBirdState, type BirdState } from '../net/bird.js';

const MAX_BACKOFF_MS = 30_000;
const QUERY_TIMEOUT_MS = 3000;

export interface BirdView {
  socket: string;
  /** ok: the last read answered; unknown: BIRD absent, restarting or not answering (never "not exported"). */
  state: 'ok' | 'unknown';
  error: string | null;
  /** Wall time of the last answer, ISO; null before one. */
  lastOk: string | null;
  version: string | null;
  peers: BirdState['peers'];
}

/**
 * One poller per BIRD socket. A failure keeps the last answer out of status (unknown), logs once per outage, and
 * retries after 2x the previous wait (up to 30 s); an answer resets the pace. Nothing waits for BIRD.
 */
export class BirdWatch {
  private view: BirdView;
  private timer: NodeJS.Timeout | null = null;
  private waitMs: number;
  private stopped = false;
  private inFlight = false;

  constructor(readonly socket: string, private protocols: readonly string[] | undefined, private pollMs: number, private readonly log: Logger) {
    this.view = { socket, state: 'unknown', error: 'not read yet', lastOk: null, version: null, peers: [] };
    this.waitMs = pollMs;
  }

  start(): void {
    void this.poll();
  }

  /** New settings (reload): used from the next poll. */
  configure(protocols: readonly string[] | undefined, pollMs: number): void {
    this.protocols = protocols;
    this.pollMs = pollMs;
  }

  current(): BirdView {
    return this.view;
  }

  /** Read now (a status request), unless a read is under way; resolves when this read is done. */
  async poll(): Promise<void> {
    if (this.stopped || this.inFlight) return;
    this.inFlight = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      const st = await readBirdState(this.socket, this.protocols, QUERY_TIMEOUT_MS);
      if (this.view.state !== 'ok') this.log.info({ bird: this.socket, version: st.version }, 'BIRD answers on its control socket');
      this.view = { socket: this.socket, state: 'ok', error: null, lastOk: new Date().toISOString(), version: st.version, peers: st.peers };
      this.waitMs = this.pollMs;
    } catch (e) {
      const error = (e as Error).message;
      if (this.view.state === 'ok' || this.view.lastOk === null && this.view.error === 'not read yet') {
        this.log.warn({ bird: this.socket, err: error }, 'BIRD state unknown: its control socket does not answer (retrying with backoff)');
      }
      this.view = { ...this.view, state: 'unknown', error, peers: [] };
      this.waitMs = Math.min(MAX_BACKOFF_MS, Math.max(this.pollMs, this.waitMs * 2));
    } finally {
      this.inFlight = false;
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.poll(), this.view.state === 'ok' ? this.pollMs : this.waitMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
