// Control-socket constants, apart from the zod schemas so that the CLI's commands load nothing heavy.

/** Longest request line we accept; anything longer is an error and the connection is closed. */
export const MAX_LINE = 64 * 1024;

export const DEFAULT_SOCKET = '/run/vrrpd/vrrpd.sock';
