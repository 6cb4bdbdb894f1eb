// RxBatch over a real UDP socket on loopback: datagrams queued before the read come in order, a limit is kept, the
// buffers are reused but what the callback got is a copy, and an empty queue reads nothing.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { constants, native } from '../../src/net/native.js';
import { RxBatch } from '../../src/net/rx-batch.js';
import { parseSockaddrInet, sockaddrIn } from '../../src/net/sockaddr.js';

const PORT = 47_000 + (process.pid % 1000);

describe('RxBatch (recvmmsg)', () => {
  it('reads 40 queued datagrams as 25 then 15, in order, as copies; nothing when the queue is empty', async () => {
    const c = constants();
    const fd = native.socket(c.AF_INET, c.SOCK_DGRAM, 0);
    try {
      native.bind(fd, sockaddrIn('127.0.0.1', PORT));
      const tx = createSocket('udp4');
      for (let i = 0; i < 40; i++) await new Promise<void>((res, rej) => tx.send(Buffer.from([i, 0xaa, i]), PORT, '127.0.0.1', (e) => (e ? rej(e) : res())));
      tx.close();
      const rx = new RxBatch(64, 0);
      const got: { data: Uint8Array; src: string | null }[] = [];
      const errors: Error[] = [];
      expect(rx.read(fd, 25, (m) => got.push({ data: m.data, src: parseSockaddrInet(m.name)?.address ?? null }), (e) => errors.push(e))).toBe(25);
      expect(rx.read(fd, 100, (m) => got.push({ data: m.data, src: parseSockaddrInet(m.name)?.address ?? null }), (e) => errors.push(e))).toBe(15);
      expect(rx.read(fd, 100, () => { throw new Error('nothing should come'); }, (e) => errors.push(e))).toBe(0);
      expect(errors).toEqual([]);
      // Every datagram intact after later reads reused the buffers: copies, not views.
      expect(got.map((g) => [...g.data])).toEqual(Array.from({ length: 40 }, (_, i) => [i, 0xaa, i]));
      expect(new Set(got.map((g) => g.src))).toEqual(new Set(['127.0.0.1']));
    } finally {
      native.close(fd);
    }
  });

  it('a socket error goes to onError and ends the read (a closed fd: EBADF)', () => {
    const c = constants();
    const fd = native.socket(c.AF_INET, c.SOCK_DGRAM, 0);
    native.close(fd);
    const errors: NodeJS.ErrnoException[] = [];
    expect(new RxBatch(64, 0).read(fd, 10, () => undefined, (e) => errors.push(e))).toBe(0);
    expect(errors.map((e) => [e.code, e.syscall])).toEqual([['EBADF', 'recvmmsg']]);
  });
});
