// AF_PACKET raw sender bound to one interface: sends whole Ethernet frames (GARP, unsolicited NA) built elsewhere.
import { constants, native } from './native.js';
import { sockaddrLl } from './sockaddr.js';

/** Protocol 0 on an AF_PACKET socket: send only, the kernel queues nothing for us to read. */
const NO_RECEIVE = 0;

export class PacketSocket {
  readonly ifindex: number;
  private fd: number;

  constructor(ifindex: number) {
    const c = constants();
    this.ifindex = ifindex;
    this.fd = native.socket(c.AF_PACKET, c.SOCK_RAW, NO_RECEIVE);
    try {
      native.bind(this.fd, sockaddrLl({ ifindex, protocol: NO_RECEIVE }));
    } catch (e) {
      native.close(this.fd);
      this.fd = -1;
      throw e;
    }
  }

  /** Opens a sender on the interface called `name`. */
  static open(name: string): PacketSocket {
    return new PacketSocket(native.ifNameToIndex(name));
  }

  /** Sends one frame, Ethernet header included; returns the bytes sent. Throws a system error (ENETDOWN, ...). */
  send(frame: Uint8Array): number {
    if (this.fd < 0) throw new Error('PacketSocket is closed');
    if (frame.length < 14) throw new RangeError(`an Ethernet frame has at least 14 bytes, not ${frame.length}`);
    // sll_protocol = the frame's ethertype, so skb->protocol is right on kernels that do not parse it themselves.
    const ethertype = (frame[12]! << 8) | frame[13]!;
    return native.sendmsg(this.fd, frame, sockaddrLl({ ifindex: this.ifindex, protocol: ethertype }), null, 0);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    native.close(fd);
  }
}
