// Entering a named network namespace (keepalived net_namespace): setns(2) on the main thread before any socket is opened.
import { closeSync, openSync } from 'node:fs';
import { constants, native } from './native.js';

/** Where `ip netns add NAME` puts its handle. */
export const NETNS_RUN_DIR = '/run/netns';

/**
 * Moves the calling thread — the main thread, where every socket, netlink socket and child process of
 * the daemon is created — into /run/netns/NAME. libuv's threadpool threads, started before, stay
 * where they were: nothing network-facing may run there (no dns.lookup of names; file I/O is fine).
 * Throws a Node-style error (errno, code, syscall) when the namespace cannot be opened or entered.
 */
export function enterNetNamespace(name: string): void {
  const fd = openSync(`${NETNS_RUN_DIR}/${name}`, 'r');
  try {
    native.setns(fd, constants().CLONE_NEWNET);
  } finally {
    closeSync(fd);
  }
}
