// A precise one-shot wake-up on timerfd (CLOCK_MONOTONIC, absolute), polled on the event loop like a socket.
import { native, type PollHandle } from './native.js';

export class TimerfdWaker {
  private readonly fd: number;
  private readonly poller: PollHandle;
  private closed = false;

  constructor(onFire: () => void) {
    this.fd = native.timerfdCreate();
    this.poller = native.poll(this.fd, () => {
      if (this.closed) return;
      if (native.timerfdRead(this.fd) > 0) onFire();
    });
  }

  /** Absolute deadline in ms on process.hrtime's clock (CLOCK_MONOTONIC); null disarms. */
  arm(absMs: number | null): void {
    if (!this.closed) native.timerfdSet(this.fd, absMs === null ? 0 : Math.max(absMs, 1e-6));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    native.close(this.fd);
  }
}
