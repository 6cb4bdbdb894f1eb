// Datagrams read in batches (recvmmsg) into buffers kept for the socket's life: one system call for what is queued.
import { native } from './native.js';

/** One datagram: copies of its bytes, address and ancillary data (the batch buffers are reused). */
export interface RxMessage {
  data: Uint8Array;
  name: Uint8Array;
  control: Uint8Array;
  flags: number;
}

/** Messages per system call. */
const PER_CALL = 16;
const NAME_SLOT = 128; // sizeof(struct sockaddr_storage)

/**
 * Before, each datagram cost a recvmsg (and one more to learn the queue was empty), two mallocs and three Buffers
 * with external backing stores made by the addon. Now one recvmmsg takes up to 16 into slots of buffers allocated
 * once, and each datagram is copied out by JavaScript (tens of bytes, young-generation garbage).
 */
export class RxBatch {
  private readonly data: Uint8Array;
  private readonly names = new Uint8Array(PER_CALL * NAME_SLOT);
  private readonly control: Uint8Array;
  private readonly meta = new Int32Array(PER_CALL * 4);

  constructor(private readonly slot: number, private readonly controlSlot: number) {
    this.data = new Uint8Array(PER_CALL * slot);
    this.control = new Uint8Array(PER_CALL * Math.max(controlSlot, 1));
  }

  /**
   * Reads until the queue is empty or `limit` datagrams came; each is handed to `each` (in arrival order). Returns
   * how many were read. A socket error goes to `onError` and ends the read; what `each` throws is not caught here.
   */
  read(fd: number, limit: number, each: (m: RxMessage) => void, onError: (e: Error) => void, isOpen: () => boolean = () => true): number {
    let total = 0;
    while (total < limit && isOpen()) {
      const want = Math.min(PER_CALL, limit - total);
      let n: number;
      try {
        n = native.recvmmsg(fd, this.data, this.slot, this.names, NAME_SLOT, this.control, this.controlSlot, this.meta, want, 0);
      } catch (e) {
        onError(e as Error);
        return total;
      }
      for (let i = 0; i < n; i++) {
        const m = this.meta;
        const d = i * this.slot;
        const a = i * NAME_SLOT;
        const c = i * this.controlSlot;
        each({
          data: this.data.slice(d, d + m[4 * i]!),
          name: this.names.slice(a, a + m[4 * i + 1]!),
          control: this.control.slice(c, c + m[4 * i + 2]!),
          flags: m[4 * i + 3]!,
        });
      }
      total += n;
      if (n < want) break; // the queue is empty
    }
    return total;
  }
}
