// The config loader's child process (`vrrpd __config-child`): reads, parses and validates the daemon's config, sends it back.
// The parsers, yaml and zod weigh ~20 MB of RSS; loaded here, they never stay in the daemon (config-loader.ts).
import { loadAnyConfig, type AnyLoadOptions } from '../config/load.js';
import { validateIpvsTable } from '../ipvs/desired.js';

/** What the daemon asks (one request per child). */
export interface ConfigRequest { file: string; format: NonNullable<AnyLoadOptions['format']>; strict: boolean }

/** Answer the one request of the parent; resolves with the exit code once the reply is sent. */
export function serveConfigChild(): Promise<number> {
  return new Promise((done) => {
    process.once('message', (req: ConfigRequest) => {
      const reply = (m: unknown, code: number) => process.send!(m, () => { process.disconnect(); done(code); });
      loadAnyConfig(req.file, { format: req.format, strict: req.strict, validators: [validateIpvsTable] }).then(
        (result) => reply({ result }, 0),
        (e: unknown) => reply({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 1),
      );
    });
  });
}
