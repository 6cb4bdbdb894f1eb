// Notify scripts on state changes, keepalived style: in order, one at a time per instance, with a timeout.
import type { Logger } from 'pino';
import type { NotifySettings } from '../config/schema.js';
import type { VrrpState } from '../engine/types.js';
import { runScript } from '../os/scripts.js';

export class Notifier {
  private chain: Promise<void> = Promise.resolve();

  /** kind GROUP: a sync group's scripts (keepalived passes GROUP name state 0). */
  constructor(private readonly instance: string, private readonly log: Logger, private readonly kind: 'INSTANCE' | 'GROUP' = 'INSTANCE') {}

  /** Queue the scripts for one state change; never awaited by the VRRP path. */
  notify(settings: NotifySettings | undefined, state: VrrpState | 'STOP', priority: number): void {
    if (!settings) return;
    const specific = { MASTER: settings.master, BACKUP: settings.backup, FAULT: settings.fault, STOP: settings.stop, INIT: undefined }[state];
    const jobs: [string, string[]][] = [];
    if (specific) jobs.push([specific, []]);
    // keepalived's generic notify: INSTANCE name state priority, or GROUP name state 0.
    if (settings.any) jobs.push([settings.any, [this.kind, this.instance, state, String(this.kind === 'GROUP' ? 0 : priority)]]);
    for (const [cmd, args] of jobs) {
      this.chain = this.chain.then(async () => {
        const r = await runScript(cmd, args, settings.timeout);
        if (r.ok) this.log.debug({ [this.kind === 'GROUP' ? 'group' : 'instance']: this.instance, state, script: cmd, ms: r.ms }, 'notify script done');
        else this.log.warn({ instance: this.instance, state, script: cmd, code: r.code, signal: r.signal, timedOut: r.timedOut, stderr: r.stderr }, 'notify script failed');
      });
    }
  }

  /** Resolves when every queued script has finished (used at shutdown, bounded by the caller). */
  idle(): Promise<void> {
    return this.chain;
  }
}
