// Quorum of a virtual server (keepalived quorum/hysteresis/quorum_up/quorum_down/omega), pure: live weight in, state out.
import type { RealServer, VirtualServer } from '../config/schema.js';

/** Health of a real server: true when every check passes (a server without checks is always healthy). */
export type Healthy = (service: string, server: RealServer) => boolean;

/** A quorum change of one virtual server, for the daemon to log and to run the service's script. */
export interface QuorumTransition {
  /** The virtualServers key. */
  service: string;
  /** The state now: true = quorum gained (quorumUp), false = lost (quorumDown). */
  up: boolean;
  /**
   * change: the live weight crossed the threshold; start: the service started without quorum and has a sorry server
   * (keepalived's "Starting with quorum down": only then does it run quorum_down at start); removed: the service left
   * the config while it had quorum; stop: the daemon stops and the service has omega.
   */
  cause: 'change' | 'start' | 'removed' | 'stop';
  /** Sum of the weights of the live real servers. */
  weightSum: number;
  /** The threshold that was crossed: quorum + hysteresis to gain, quorum - hysteresis to lose. */
  threshold: number;
  /** The service's quorumUp (up) or quorumDown (down) command, if it has one. */
  command?: string;
}

/** Sum of the configured weights of the healthy real servers (keepalived weigh_live_realservers). */
export function liveWeight(service: string, vs: VirtualServer, healthy?: Healthy): number {
  let sum = 0;
  for (const rs of vs.realServers) if (healthy?.(service, rs) ?? true) sum += rs.weight;
  return sum;
}

/**
 * The quorum state after one evaluation (keepalived update_quorum_state): unknown before (start) or down, it is up
 * when the live weight reaches quorum + hysteresis; up, it is lost when the live weight falls below
 * quorum - hysteresis, or to 0 whatever the threshold.
 */
export function nextQuorum(prev: boolean | undefined, weightSum: number, quorum: number, hysteresis: number): boolean {
  if (prev !== true) return weightSum >= quorum + hysteresis;
  return weightSum > 0 && weightSum >= quorum - hysteresis;
}

export interface QuorumEvaluation {
  /** Every configured service's quorum state (true = up). */
  states: Map<string, boolean>;
  /** What changed since `prev`, in service name order. */
  transitions: QuorumTransition[];
}

const transition = (service: string, vs: VirtualServer | undefined, up: boolean, cause: QuorumTransition['cause'],
  weightSum: number): QuorumTransition => {
  const q = vs?.quorum ?? 1;
  const h = vs?.hysteresis ?? 0;
  const t: QuorumTransition = { service, up, cause, weightSum, threshold: up ? q + h : q - h };
  const command = up ? vs?.quorumUp : vs?.quorumDown;
  if (command !== undefined) t.command = command;
  return t;
};

/**
 * Every service's quorum from the real servers' health and the previous states (`prev`: empty at start; after a
 * reload the old states, so a service kept across it keeps its state). A service in `prev` no longer configured is
 * reported down ('removed') when it had quorum, as keepalived does when a reload removes it.
 */
export function evaluateQuorum(virtualServers: Readonly<Record<string, VirtualServer>>, healthy: Healthy | undefined,
  prev: ReadonlyMap<string, boolean>): QuorumEvaluation {
  const states = new Map<string, boolean>();
  const transitions: QuorumTransition[] = [];
  const names = [...new Set([...Object.keys(virtualServers), ...prev.keys()])].sort();
  for (const name of names) {
    const vs = virtualServers[name];
    const before = prev.get(name);
    if (!vs) {
      if (before === true) transitions.push(transition(name, undefined, false, 'removed', 0));
      continue;
    }
    const sum = liveWeight(name, vs, healthy);
    const up = nextQuorum(before, sum, vs.quorum, vs.hysteresis);
    states.set(name, up);
    if (before === undefined) {
      if (!up && vs.sorryServer) transitions.push(transition(name, vs, false, 'start', sum));
    } else if (before !== up) transitions.push(transition(name, vs, up, 'change', sum));
  }
  return { states, transitions };
}

/**
 * At shutdown: a quorumDown for every service with omega, whatever its state (keepalived runs the down notifiers on
 * the way out only in omega mode, and then for every service).
 */
export function quorumAtStop(virtualServers: Readonly<Record<string, VirtualServer>>, healthy?: Healthy): QuorumTransition[] {
  return Object.keys(virtualServers).sort().filter((n) => virtualServers[n]!.omega)
    .map((n) => transition(n, virtualServers[n], false, 'stop', liveWeight(n, virtualServers[n]!, healthy)));
}
