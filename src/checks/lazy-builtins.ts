// node:crypto and node:tls loaded on first use: most directors never need them, and loading them costs ~4 MB of RSS.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let cryptoModule: typeof import('node:crypto') | undefined;
let tlsModule: typeof import('node:tls') | undefined;

export const crypto = (): typeof import('node:crypto') => (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
export const tls = (): typeof import('node:tls') => (tlsModule ??= load('node:tls') as typeof import('node:tls'));
