// IPVS client over generic netlink: services, destinations, sync daemons, info; requests pipelined on one socket.
import type { NetlinkOptions } from '../net/netlink.js';
import {
  decodeConfig, decodeDaemon, decodeDest, decodeInfo, decodeService, getConfigRequest, setConfigRequest, delDaemonRequest, delDestRequest, delServiceRequest, destLabel,
  getDaemonRequest, getDestRequest, getInfoRequest, getServiceRequest, ipvsCmdName, newDaemonRequest, newDestRequest,
  newServiceRequest, serviceLabel, setDestRequest, setServiceRequest, zeroRequest, IPVS_CMD_DEL_DAEMON, IPVS_CMD_DEL_DEST,
  IPVS_CMD_NEW_DAEMON, IPVS_CMD_NEW_DEST, IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_DEST, IPVS_CMD_SET_INFO, IPVS_CMD_SET_SERVICE,
  IPVS_GENL_NAME, type DaemonSpec, type DestEntry, type DestId, type DestSpec, type IpvsInfo, type IpvsRequest,
  type IpvsTimeouts, type ServiceEntry, type ServiceId, type ServiceSpec, type SyncState, IPVS_CMD_SET_CONFIG,
} from './codec.js';
import { GenlFamilyNotFoundError, GenlSocket, IpvsUnavailableError, type GenlFamily, type GenlMsg, type GenlRequestOptions } from './genl.js';
import type { Result } from '../net/nlmsg.js';

// asm-generic/errno-base.h, errno.h (negative, as netlink reports them)
const EPERM = -1;
const ENOENT = -2;
const ESRCH = -3;
const ENODEV = -19;
const EEXIST = -17;
const EINVAL = -22;
const ERANGE = -34;
const EAFNOSUPPORT = -97;
const EPROTO = -71;
const DAEMON_TIMEOUT_MS = 15_000;

/** What the kernel's errno means for each command (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_sync.c). */
function hintFor(cmd: number, what: { scheduler?: string }): (errno: number) => string | undefined {
  return (errno) => {
    if (errno === EPERM) return 'IPVS needs CAP_NET_ADMIN';
    if (errno === ESRCH) return cmd === IPVS_CMD_DEL_DAEMON ? 'that sync daemon is not running' : 'no such virtual service';
    if (errno === EAFNOSUPPORT) return 'this kernel has IPVS without IPv6 (CONFIG_IP_VS_IPV6)';
    if (cmd === IPVS_CMD_NEW_SERVICE || cmd === IPVS_CMD_SET_SERVICE) {
      if (errno === ENOENT) return `scheduler "${what.scheduler}" not available (kernel module ip_vs_${what.scheduler})`;
      if (errno === EEXIST) return 'the virtual service already exists';
    }
    if (cmd === IPVS_CMD_NEW_DEST && errno === EEXIST) return 'the real server already exists';
    if ((cmd === IPVS_CMD_SET_DEST || cmd === IPVS_CMD_DEL_DEST) && errno === ENOENT) return 'no such real server';
    if ((cmd === IPVS_CMD_NEW_DEST || cmd === IPVS_CMD_SET_DEST) && errno === ERANGE) return 'weight below 0, or lower threshold above upper';
    if (cmd === IPVS_CMD_NEW_DAEMON && errno === EEXIST) return 'this sync daemon is already running';
    if (cmd === IPVS_CMD_NEW_DAEMON && errno === ENODEV) return 'no such interface';
    if (cmd === IPVS_CMD_NEW_DAEMON && errno === EINVAL) {
      return 'the sync protocol will not run while a service has a real server of another address family (a mixed IPv4/IPv6 tunnel)';
    }
    return undefined;
  };
}

const nothing = (): void => undefined;

/** The operations the reconciler needs; IpvsClient implements them (a fake can, in tests). */
export interface IpvsOps {
  listServices(): Promise<ServiceEntry[]>;
  /** One service with its destinations, null when absent (optional: the reconciler's read-back falls back to listServices). */
  getService?(id: ServiceId): Promise<ServiceEntry | null>;
  /**
   * Send a request encoded beforehand (optional: the reconciler encodes a whole plan once to check it, then sends
   * those bytes instead of encoding every operation again). `context` names the operation in an error.
   */
  sendPrepared?(request: IpvsRequest, context: () => string, scheduler?: string): Promise<void>;
  addService(spec: ServiceSpec): Promise<void>;
  editService(spec: ServiceSpec): Promise<void>;
  deleteService(id: ServiceId): Promise<void>;
  addDest(service: ServiceId, dest: DestSpec): Promise<void>;
  editDest(service: ServiceId, dest: DestSpec): Promise<void>;
  deleteDest(service: ServiceId, dest: DestId): Promise<void>;
}

/** The sync daemon operations (listDaemons, startDaemon, stopDaemon). */
export interface IpvsDaemonOps {
  listDaemons(): Promise<DaemonSpec[]>;
  startDaemon(spec: DaemonSpec): Promise<void>;
  stopDaemon(state: SyncState): Promise<void>;
}

function unwrap<T>(r: Result<T>, op: string): T {
  if (!r.ok) throw new IpvsProtocolError(op, r.error);
  return r.value;
}

/** A reply the codec could not read (errno EPROTO). */
export class IpvsProtocolError extends Error {
  readonly errno = EPROTO;
  readonly code = 'EPROTO';
  constructor(op: string, detail: string) {
    super(`${op}: malformed reply: ${detail}`);
    this.name = 'IpvsProtocolError';
  }
}

/** IPVS over its generic netlink family. Every method may be called concurrently: requests pipeline on one socket. */
export class IpvsClient implements IpvsOps, IpvsDaemonOps {
  private constructor(private readonly sock: GenlSocket, private readonly daemonTimeoutMs: number) {}

  /** Resolve the "IPVS" family and open a socket for it; IpvsUnavailableError when the ip_vs module is absent. */
  static async open(options: NetlinkOptions = {}): Promise<IpvsClient> {
    try {
      const sock = await GenlSocket.open(IPVS_GENL_NAME, { ...options, cmdName: ipvsCmdName });
      // Starting or stopping a sync daemon waits on kernel threads (kthread_stop): give it longer than a table edit.
      return new IpvsClient(sock, Math.max(options.timeoutMs ?? 0, DAEMON_TIMEOUT_MS));
    } catch (e) {
      if (e instanceof GenlFamilyNotFoundError) throw new IpvsUnavailableError();
      throw e;
    }
  }

  /** The resolved family (id, version, maxattr). */
  get family(): GenlFamily {
    return this.sock.family;
  }

  private send(r: IpvsRequest, context?: string | (() => string), hint?: { scheduler?: string }, timeoutMs?: number): Promise<GenlMsg[]> {
    const opts: GenlRequestOptions = { dump: r.dump, hint: hintFor(r.cmd, hint ?? {}) };
    if (context) opts.context = context;
    if (timeoutMs) opts.timeoutMs = timeoutMs;
    return this.sock.request(r.cmd, r.attrs, opts);
  }

  /** IPVS version and connection table size (IPVS_CMD_GET_INFO). */
  async getInfo(): Promise<IpvsInfo> {
    const msgs = await this.send(getInfoRequest());
    const m = msgs.find((x) => x.cmd === IPVS_CMD_SET_INFO) ?? msgs[0];
    if (!m) throw new IpvsProtocolError('IPVS_CMD_GET_INFO', 'no reply');
    return unwrap(decodeInfo(m.attrs), 'IPVS_CMD_GET_INFO');
  }

  /** The connection timeouts in seconds (IPVS_CMD_GET_CONFIG; ipvsadm -L --timeout). */
  async getTimeouts(): Promise<IpvsTimeouts> {
    const msgs = await this.send(getConfigRequest());
    const m = msgs.find((x) => x.cmd === IPVS_CMD_SET_CONFIG) ?? msgs[0];
    if (!m) throw new IpvsProtocolError('IPVS_CMD_GET_CONFIG', 'no reply');
    return unwrap(decodeConfig(m.attrs), 'IPVS_CMD_GET_CONFIG');
  }

  /** IPVS_CMD_SET_CONFIG (ipvsadm --set): the timeouts given and above 0; the others stay as they are. */
  async setTimeouts(t: Partial<IpvsTimeouts>): Promise<void> {
    await this.send(setConfigRequest(t), 'IPVS connection timeouts');
  }

  /**
   * Every service of the network namespace with its stats, and (unless `dests` is false) its destinations with
   * connection counts: one GET_SERVICE dump, then one GET_DEST dump per service, all queued at once.
   */
  async listServices(options: { dests?: boolean } = {}): Promise<ServiceEntry[]> {
    const msgs = await this.send(getServiceRequest());
    const services = msgs.map((m) => unwrap(decodeService(m.attrs), 'IPVS_CMD_GET_SERVICE'));
    if (options.dests !== false) {
      const dests = await Promise.all(services.map((s) => this.listDests(s)));
      services.forEach((s, i) => { s.dests = dests[i]!; });
    }
    return services;
  }

  /** One service with its destinations; null when there is none. */
  async getService(id: ServiceId): Promise<ServiceEntry | null> {
    let msgs: GenlMsg[];
    try {
      msgs = await this.send(getServiceRequest(id), serviceLabel(id));
    } catch (e) {
      if ((e as { errno?: number }).errno === ESRCH) return null;
      throw e;
    }
    const m = msgs[0];
    if (!m) return null;
    const s = unwrap(decodeService(m.attrs), 'IPVS_CMD_GET_SERVICE');
    s.dests = await this.listDests(s);
    return s;
  }

  /** A service's destinations (empty when the service does not exist: the kernel's dump then ends at once). */
  async listDests(id: ServiceId): Promise<DestEntry[]> {
    const msgs = await this.send(getDestRequest(id), () => serviceLabel(id));
    return msgs.map((m) => unwrap(decodeDest(m.attrs, id.family), 'IPVS_CMD_GET_DEST'));
  }

  /** IPVS_CMD_NEW_SERVICE: rejects with EEXIST when it exists, ENOENT when the scheduler is unknown. */
  async addService(spec: ServiceSpec): Promise<void> {
    await this.send(newServiceRequest(spec), () => serviceLabel(spec), spec);
  }

  /** IPVS_CMD_SET_SERVICE: scheduler, flags, persistence timeout and netmask of an existing service (ESRCH if none). */
  async editService(spec: ServiceSpec): Promise<void> {
    await this.send(setServiceRequest(spec), () => serviceLabel(spec), spec);
  }

  /** IPVS_CMD_DEL_SERVICE, with its destinations (ESRCH if none). */
  async deleteService(id: ServiceId): Promise<void> {
    await this.send(delServiceRequest(id), () => serviceLabel(id));
  }

  /** IPVS_CMD_NEW_DEST (EEXIST when present). */
  async addDest(service: ServiceId, dest: DestSpec): Promise<void> {
    await this.send(newDestRequest(service, dest), () => `${serviceLabel(service)} -> ${destLabel(dest)}`);
  }

  /** IPVS_CMD_SET_DEST: forwarding, weight, thresholds (ENOENT when absent). */
  async editDest(service: ServiceId, dest: DestSpec): Promise<void> {
    await this.send(setDestRequest(service, dest), () => `${serviceLabel(service)} -> ${destLabel(dest)}`);
  }

  /** IPVS_CMD_DEL_DEST (ENOENT when absent). */
  async deleteDest(service: ServiceId, dest: DestId): Promise<void> {
    await this.send(delDestRequest(service, dest), () => `${serviceLabel(service)} -> ${destLabel(dest)}`);
  }

  /** A request encoded beforehand (IpvsOps.sendPrepared): the reconciler's checked plan. */
  sendPrepared(request: IpvsRequest, context: () => string, scheduler?: string): Promise<void> {
    return this.send(request, context, scheduler === undefined ? undefined : { scheduler }).then(nothing);
  }

  /** IPVS_CMD_NEW_DAEMON: start the master or backup sync daemon (EEXIST when that one runs, ENODEV: no interface). */
  async startDaemon(spec: DaemonSpec): Promise<void> {
    await this.send(newDaemonRequest(spec), `${spec.state} sync daemon on ${spec.interface} syncid ${spec.syncId}`, {}, this.daemonTimeoutMs);
  }

  /**
   * IPVS_CMD_DEL_DAEMON: stop the master or backup sync daemon (ESRCH when it is not running). A daemon stopped
   * before its kernel thread first ran makes kthread_stop() return -EINTR, and netlink_rcv_skb() sends no ack at all
   * for -EINTR: so a GET_DAEMON dump is queued right behind the stop. The kernel handles one socket's requests in
   * order, so once the dump is answered the stop has been handled: unanswered and gone from the list means stopped.
   */
  async stopDaemon(state: SyncState): Promise<void> {
    const answer: { outcome: { error: unknown } | 'ok' | null } = { outcome: null };
    const stop = this.send(delDaemonRequest(state), `${state} sync daemon`, {}, this.daemonTimeoutMs)
      .then(() => { answer.outcome = 'ok'; }, (error: unknown) => { answer.outcome = { error }; });
    const after = await this.listDaemons();
    await new Promise<void>((r) => setImmediate(r)); // let an ack that came before the dump settle
    if (answer.outcome === null && !after.some((d) => d.state === state)) return; // stopped; the ack was swallowed
    await stop;
    if (answer.outcome !== 'ok' && answer.outcome !== null) throw answer.outcome.error;
  }

  /** The running sync daemons (IPVS_CMD_GET_DAEMON dump): none, master, backup or both. */
  async listDaemons(): Promise<DaemonSpec[]> {
    const msgs = await this.send(getDaemonRequest());
    return msgs.map((m) => unwrap(decodeDaemon(m.attrs), 'IPVS_CMD_GET_DAEMON'));
  }

  /** IPVS_CMD_ZERO: reset the counters of one service, or of all. */
  async zero(id?: ServiceId): Promise<void> {
    await this.send(zeroRequest(id), id ? serviceLabel(id) : undefined);
  }

  close(): void {
    this.sock.close();
  }
}
