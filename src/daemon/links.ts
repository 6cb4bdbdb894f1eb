// Links as the instances see them: the interface table kept from rtnetlink, and what it and the trackers mean for one instance.
import type { EngineEvent } from '../engine/types.js';
import type { Link } from '../net/ports.js';
import type { Runner } from './runner.js';
import type { TrackerSet } from './trackers.js';

export class Links {
  private readonly byIndex = new Map<number, Link>();

  constructor(private readonly trackers: TrackerSet) {}

  all(): Link[] {
    return [...this.byIndex.values()];
  }

  /** A full table (start, reload, after an overrun). */
  load(links: readonly Link[]): void {
    for (const l of links) this.byIndex.set(l.index, l);
  }

  /**
   * One link event; false when nothing an instance cares about changed. A new MAC reaches the VIPs
   * on that link (their GARPs carry it).
   */
  update(l: Link, runners: readonly Runner[]): boolean {
    const prev = this.byIndex.get(l.index);
    this.byIndex.set(l.index, l);
    if (prev && prev.up === l.up && prev.running === l.running && prev.mac === l.mac) return false;
    for (const r of runners) for (const p of r.vips) if (p.ifindex === l.index) p.mac = l.mac;
    return true;
  }

  /** Tracked interfaces, scripts and files → engine events for one instance (faults and one summed weight). */
  events(r: Runner): EngineEvent[] {
    const t = this.trackers.evaluate(r.settings, this.all());
    const out: EngineEvent[] = [];
    for (const i of t.interfaces) out.push({ type: 'interface', ifname: i.name, up: i.up });
    for (const f of t.faults) out.push({ type: 'fault', source: f.source, active: f.active });
    if (t.weight !== r.inst.state.trackWeight) out.push({ type: 'trackWeight', weight: t.weight });
    return out;
  }
}
