// A NOTIFY_SOCKET as systemd holds it: an AF_UNIX datagram socket (a path or "@abstract") recording every message with its arrival time.
import { constants, native, watchReadable, type PollHandle } from '../../src/net/native.js';
import { sockaddrUn } from '../../src/net/sockaddr.js';

export interface NotifyMessage { at: number; text: string }

export class NotifyListener {
  readonly messages: NotifyMessage[] = [];
  private readonly fd: number;
  private readonly poll: PollHandle;

  constructor(readonly path: string) {
    this.fd = native.socket(constants().AF_UNIX, constants().SOCK_DGRAM, 0);
    native.bind(this.fd, sockaddrUn(path));
    this.poll = watchReadable(this.fd, () => {
      for (let m = native.recvmsg(this.fd, 4096, 0, 0); m; m = native.recvmsg(this.fd, 4096, 0, 0)) {
        this.messages.push({ at: performance.now(), text: m.data.toString('utf8') });
      }
    }, () => undefined);
  }

  /** Messages carrying an assignment, e.g. has('READY=1'). */
  with(assignment: string): NotifyMessage[] {
    return this.messages.filter((m) => m.text.split('\n').includes(assignment));
  }

  close(): void {
    this.poll.stop();
    native.close(this.fd);
  }
}
