// Operator requests on instances (yield, resume): select the instances, feed the engine, wait for the yield's outcome.
import type { EngineEvent } from '../engine/types.js';
import type { Runner, YieldResult } from './runner.js';

type Feed = (r: Runner, ev: EngineEvent) => void;

function select(runners: readonly Runner[], name: string | undefined): readonly Runner[] {
  if (name === undefined) return runners;
  const r = runners.find((x) => x.name === name);
  if (!r) throw new Error(`no instance named "${name}"`);
  return [r];
}

/**
 * Hand MASTER over (every MASTER, or the named instance); resolves per instance with who took over,
 * or "reclaimed" when nobody did within Master_Down_Interval (the engine never orphans the VIPs).
 */
export function yieldInstances(runners: readonly Runner[], name: string | undefined, holdMs: number | null, timeoutMs: number,
  feed: Feed): Promise<YieldResult[]> {
  const targets = select(runners, name).filter((r) => name !== undefined || r.inst.state.state === 'MASTER');
  return Promise.all(targets.map((r) => new Promise<YieldResult>((resolve) => {
    if (r.inst.state.state !== 'MASTER') {
      resolve({ instance: r.name, outcome: 'refused', detail: `not MASTER (${r.inst.state.state})` });
      return;
    }
    const t = setTimeout(() => resolve({ instance: r.name, outcome: 'timeout' }), timeoutMs);
    r.yieldWaiters.push((res) => { clearTimeout(t); resolve(res); });
    feed(r, { type: 'yield', holdMs });
  })));
}

/** End the hold of held instances (all, or the named one); returns the names resumed. */
export function resumeInstances(runners: readonly Runner[], name: string | undefined, feed: Feed): string[] {
  const held = select(runners, name).filter((r) => r.inst.state.held);
  for (const r of held) feed(r, { type: 'resume' });
  return held.map((r) => r.name);
}
