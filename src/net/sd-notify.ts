// sd_notify(3) without libsystemd: one datagram on the AF_UNIX socket named by NOTIFY_SOCKET (a path, or "@" abstract).
import { constants, native } from './native.js';
import { sockaddrUn } from './sockaddr.js';

/** A notify socket; send() never throws (systemd may be gone: the daemon must not care). */
export class SdNotifySocket {
  private fd: number | null;
  private readonly addr: Buffer;
  /** The last send error, for the log. */
  lastError: Error | null = null;

  private constructor(path: string) {
    this.addr = sockaddrUn(path);
    this.fd = native.socket(constants().AF_UNIX, constants().SOCK_DGRAM, 0);
  }

  /** From NOTIFY_SOCKET; null when systemd did not set it (not Type=notify, or not under systemd). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SdNotifySocket | null {
    const path = env.NOTIFY_SOCKET;
    if (!path || (!path.startsWith('/') && !path.startsWith('@'))) return null;
    return new SdNotifySocket(path);
  }

  /** Newline-separated VAR=value assignments, as sd_notify(3) takes them. */
  send(state: string): boolean {
    if (this.fd === null) return false;
    try {
      native.sendmsg(this.fd, Buffer.from(state, 'utf8'), this.addr, null, constants().MSG_DONTWAIT);
      this.lastError = null;
      return true;
    } catch (e) {
      this.lastError = e as Error;
      return false;
    }
  }

  close(): void {
    if (this.fd !== null) native.close(this.fd);
    this.fd = null;
  }
}
