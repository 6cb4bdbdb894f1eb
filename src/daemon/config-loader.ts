// The daemon's config, loaded and validated in a short-lived child (config-child.ts) so the parsers never stay resident.
import { fork } from 'node:child_process';
import type { AnyLoadResult } from '../config/load.js';
import type { ConfigRequest } from './config-child.js';

/** A child that has not answered after this long is killed; the load fails (the running config stays). */
const CHILD_TIMEOUT_MS = 120_000;

/**
 * Load like loadAnyConfig with the IPVS table validator: in `node CLI __config-child` when the daemon was started by
 * the CLI (`cli`, its script), in this process otherwise (a test calling runDaemon). The result crosses with the
 * structured clone (`serialization: 'advanced'`), which keeps every value a config holds.
 */
export async function loadDaemonConfig(req: ConfigRequest, cli?: string): Promise<AnyLoadResult> {
  if (cli === undefined || process.env.VRRPD_CONFIG_INLINE === '1') {
    const [{ loadAnyConfig }, { validateIpvsTable }] = await Promise.all([import('../config/load.js'), import('../ipvs/desired.js')]);
    return loadAnyConfig(req.file, { format: req.format, strict: req.strict, validators: [validateIpvsTable] });
  }
  return new Promise<AnyLoadResult>((resolve, reject) => {
    const p = fork(cli, ['__config-child'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    let answered = false;
    const timer = setTimeout(() => { p.kill('SIGKILL'); fail(new Error(`the config loader did not answer within ${CHILD_TIMEOUT_MS / 1000} s`)); }, CHILD_TIMEOUT_MS);
    const fail = (e: Error) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      reject(e);
    };
    p.once('message', (m: { result?: AnyLoadResult; error?: string }) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (m.result) resolve(m.result);
      else reject(new Error(`the config loader failed: ${m.error ?? 'no result'}`));
    });
    p.once('error', (e) => fail(new Error(`cannot run the config loader: ${e.message}`)));
    p.once('exit', (code, signal) => fail(new Error(`the config loader exited (${signal ?? code}) without a result`)));
    p.send(req);
  });
}
