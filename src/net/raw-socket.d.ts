// Types for the parts of the raw-socket package vrrpd uses (it ships none).
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';
  export const AddressFamily: { IPv4: number; IPv6: number };
  export interface RawSocket extends EventEmitter {
    send(buffer: Buffer, offset: number, length: number, address: string,
      beforeCallback: (() => void) | ((err: Error | null, bytes: number) => void),
      afterCallback?: (err: Error | null, bytes: number) => void): this;
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    close(): this;
    on(event: 'message', cb: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', cb: (err: Error) => void): this;
    on(event: 'close', cb: () => void): this;
  }
  export function createSocket(options: { addressFamily?: number; protocol?: number; bufferSize?: number; generateChecksums?: boolean }): RawSocket;
  const raw: { createSocket: typeof createSocket; AddressFamily: typeof AddressFamily };
  export default raw;
}
