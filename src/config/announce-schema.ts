// Announce mode's config (zod): groups of VIPs announced by BGP through BIRD while this director is fit, and the IPVS sysctls of active-active.
import { z } from 'zod';
import { duration, ifname, vip } from './fields.js';

/** A BIRD protocol name as `show protocols` prints it (BIRD symbols: a letter or "_", then letters, digits, "_"). */
const birdProtocol = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a BIRD protocol name (letters, digits, "_")');

/**
 * One announce group: its VIPs are put on `interface` (a dummy, created if missing) only while the director is fit
 * for them; BIRD's `protocol direct` on that interface exports them to the BGP peers (conf/bird/).
 */
export const announceSchema = z.strictObject({
  /** The addresses announced (host routes: /32, /128 when no prefix is given; a VIP's `dev` is not allowed). */
  vips: z.array(vip).min(1),
  /** The interface the VIPs go on while fit; BIRD exports what is there. */
  interface: ifname.default('lb0'),
  /** The virtual servers the group depends on (virtualServers keys); default every one whose address is one of the VIPs. */
  services: z.array(z.string().min(1)).optional(),
  /** Fit needs, in every service, at least this many real servers in the kernel's table with a weight above 0. */
  minHealthy: z.number().int().min(1).default(1),
  /** Fit without a break this long before the VIPs are announced (hysteresis on the way up). */
  upDelay: duration.default(1000),
  /** Unfit without a break this long before they are withdrawn (hysteresis on the way down; 0: at once). */
  downDelay: duration.default(0),
  /** After a withdrawal, no new announcement before this long has passed (a flapping check does not flap BGP). */
  holdDown: duration.default(5000),
  /**
   * A withdrawal drains: the VIPs leave `interface` (BIRD withdraws the routes) and stay on `lo`, so IPVS still
   * serves the packets that arrive until no packet has come for `drainQuiet`, no connection is active, or this passes.
   */
  drainTimeout: duration.default(60_000),
  /** No packet for the group's services for this long while draining: drained. */
  drainQuiet: duration.default(2000),
  /** At stop (SIGTERM): withdraw, then keep serving this long before IPVS is removed. */
  stopGrace: duration.default(1000),
  bird: z.strictObject({
    /** BIRD's control socket (what `birdc -s` takes). */
    socket: z.string().min(1).default('/run/bird/bird.ctl'),
    /** The BGP protocols whose exports are shown; default every BGP protocol BIRD has. */
    protocols: z.array(birdProtocol).optional(),
    /** How often BIRD's state is read (backing off up to 30 s while BIRD does not answer). */
    pollInterval: duration.default(2000),
  }).prefault({}),
});

/**
 * IPVS sysctls of the network namespace for active-active directors, set at start when there is an announce group
 * (net.ipv4.vs.*): a flow that ECMP moves to another director must be picked up mid-connection there.
 */
export const activeActiveSchema = z.strictObject({
  /** sloppy_tcp: a director creates a connection from any TCP segment, not only a SYN (flows moved from a dead director). */
  sloppyTcp: z.boolean().default(true),
  /** sloppy_sctp: the same for SCTP. */
  sloppySctp: z.boolean().default(true),
  /** conn_reuse_mode (0-3): 1, the kernel's default, reschedules a reused client port; with mh/sh every choice is the same real server. */
  connReuseMode: z.number().int().min(0).max(3).default(1),
});

export type AnnounceSettings = z.output<typeof announceSchema>;
export type ActiveActiveSettings = z.output<typeof activeActiveSchema>;
