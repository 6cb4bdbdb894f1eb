// `vrrpd run`: loads the config, wires the director to the real network and the control socket, handles signals.
import type { Logger } from 'pino';
import { makeLogger } from './daemon/logger.js';
import { formatIssue } from './config/issue.js';
import type { AnyLoadResult } from './config/load.js';
import { loadDaemonConfig } from './daemon/config-loader.js';
import { Director } from './daemon/director.js';
import { ControlServer } from './control/server.js';
import type { ReloadOutcome, Request } from './control/protocol.js';

export interface RunOptions {
  /** The CLI script (dist/cli.js): the config is loaded by `node CLI __config-child`; absent = in this process. */
  cli?: string;
  /** VRRP only: never touch IPVS, whatever the config says. */
  noIpvs?: boolean;
  file: string;
  socket?: string;
  logLevel?: string;
  /** Config syntax: YAML, keepalived.conf, or detected from the file (default). Reloads read it the same way. */
  format?: 'yaml' | 'keepalived' | 'ldirectord' | 'ipvsadm' | 'auto';
  /** keepalived input: unsupported keywords refuse the config instead of being warnings. */
  strict?: boolean;
  /** Command-line overrides of global.scheduling. */
  scheduling?: Partial<import('./daemon/realtime.js').SchedulingSettings>;
  /** For tests: a logger to use instead of stdout. */
  log?: Logger;
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runDaemon(opts: RunOptions): Promise<number> {
  // The IPVS table is checked with the config, whole, before anything starts (and before a reload is applied).
  // Loaded in a child process (the parsers never stay in the daemon's memory); a loader that fails is a refused config.
  const load = (): Promise<AnyLoadResult> => loadDaemonConfig({ file: opts.file, format: opts.format ?? 'auto', strict: opts.strict === true }, opts.cli)
    .catch((e: Error) => ({ ok: false, format: 'yaml', errors: [{ file: opts.file, line: 0, col: 0, path: '', message: e.message }] }));
  const loaded = await load();
  if (!loaded.ok) {
    for (const w of loaded.warnings ?? []) process.stderr.write(`${formatIssue(w)} (warning)\n`);
    for (const e of loaded.errors) process.stderr.write(`${formatIssue(e)}\n`);
    process.stderr.write(`vrrpd: ${opts.file}: configuration refused, nothing started\n`);
    return 1;
  }
  const config = loaded.config;
  const log = opts.log ?? makeLogger(opts.logLevel ?? config.global.logLevel);
  for (const w of loaded.warnings) log.warn({ file: w.file, line: w.line, path: w.path }, w.message);
  const netns = config.global.netNamespace;
  if (netns !== undefined) {
    // keepalived net_namespace: before the first socket (netlink, VRRP, IPVS, metrics, checks).
    // The control socket is a path in the filesystem: the CLI reaches it from any namespace.
    const { enterNetNamespace } = await import('./net/netns.js');
    try {
      enterNetNamespace(netns);
    } catch (e) {
      log.fatal({ err: (e as Error).message, netNamespace: netns }, 'cannot enter the network namespace');
      return 1;
    }
    log.info({ netNamespace: netns }, 'running in network namespace');
  }
  for (const n of loaded.notes ?? []) log.warn({ file: opts.file }, n);
  if (Object.keys(config.instances).length === 0 && Object.keys(config.virtualServers).length > 0) {
    log.warn({ file: opts.file }, 'no VRRP instance: standalone director, the virtual servers are programmed without failover');
  }
  const { applyScheduling } = await import('./daemon/realtime.js');
  applyScheduling({ ...config.global.scheduling, ...opts.scheduling }, log);
  installTestWedge(log);
  const { createNetIO } = await import('./net/netio.js');
  const { TimerfdWaker } = await import('./net/timerfd.js');
  const io = await createNetIO();
  const director = new Director({ config, io, log, makeWaker: (fire) => new TimerfdWaker(fire), noIpvs: opts.noIpvs ?? false });
  const socketPath = opts.socket ?? config.global.controlSocket;
  // One reload at a time; a failed validation keeps the running config untouched.
  let running = config; // the configuration in force, for the metrics
  // The SNMP subagent (global.snmp): loaded only when configured; it observes the director from before its start.
  let snmp = null as import('./daemon/snmp.js').SnmpAgent | null;
  const applySnmp = async (settings: import('./config/snmp.js').SnmpSettings | undefined): Promise<void> => {
    try {
      if (snmp && !settings) { await snmp.stop(); snmp = null; } else if (snmp && settings) await snmp.update(settings);
      else if (settings) {
        const { SnmpAgent } = await import('./daemon/snmp.js');
        snmp = new SnmpAgent(settings, { status: () => director.status(), observe: (o) => director.observe(o), config: () => running, log });
        snmp.start();
      }
    } catch (e) {
      log.error({ err: (e as Error).message }, 'SNMP subagent unavailable; VRRP runs without it');
    }
  };
  let reloading: Promise<ReloadOutcome> = Promise.resolve({ applied: false, errors: [] });
  const reload = (): Promise<ReloadOutcome> => {
    reloading = reloading.then(async () => {
      const next = await load();
      if (!next.ok) {
        const errors = next.errors.map(formatIssue);
        log.error({ file: opts.file, errors }, 'reload refused: configuration invalid; keeping the running one');
        return { applied: false, errors };
      }
      if (next.config.global.netNamespace !== netns) {
        const error = `global.netNamespace cannot change on reload (running in ${netns ?? 'the namespace vrrpd was started in'}); restart vrrpd`;
        log.error({ file: opts.file }, `reload refused: ${error}`);
        return { applied: false, errors: [error] };
      }
      try {
        const plan = await director.reload(next.config);
        running = next.config;
        await applySnmp(next.config.global.snmp);
        return { applied: true, errors: [], warnings: next.warnings.map(formatIssue), plan };
      } catch (e) {
        log.error({ err: (e as Error).message }, 'reload refused; keeping the running configuration');
        return { applied: false, errors: [(e as Error).message] };
      }
    });
    return reloading;
  };
  const control = new ControlServer(socketPath, async (req: Request) => {
    switch (req.cmd) {
      case 'status':
        return director.statusFresh();
      case 'ping':
        return 'pong';
      case 'yield':
        return director.yield(req.instance, req.holdMs ?? null, req.timeoutMs);
      case 'resume':
        return director.resume(req.instance);
      case 'reload':
        return reload();
    }
  });
  // Signals from the first moment: a SIGTERM while the services are being programmed must still stop cleanly (remove
  // what was programmed, release VIPs), not kill the process with Node's default action. Until the daemon runs, a
  // stop request is held and served once start returns, and so is a SIGHUP (one reload then).
  let pendingStop: string | null = null;
  let pendingHup = false;
  let requestStop: (signal: string) => void = (signal) => { pendingStop ??= signal; };
  let onHup: () => void = () => { pendingHup = true; };
  process.once('SIGTERM', () => requestStop('SIGTERM'));
  process.once('SIGINT', () => requestStop('SIGINT'));
  process.on('SIGHUP', () => onHup());
  await applySnmp(config.global.snmp);
  try {
    await director.start();
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'cannot start');
    await director.stop().catch(() => undefined);
    await snmp?.stop();
    return 1;
  }
  await control.listen(config.global.controlGroup);
  let metricsServer: import('node:http').Server | null = null;
  if (config.global.metricsListen) {
    const { metricsRegistry, serveMetrics } = await import('./daemon/metrics.js');
    metricsServer = await serveMetrics(metricsRegistry(director, () => running), config.global.metricsListen);
    log.info({ listen: config.global.metricsListen }, 'metrics on /metrics');
  }
  log.info({ config: opts.file, socket: socketPath, instances: Object.keys(config.instances) }, 'vrrpd running');
  const { SystemdNotifier } = await import('./daemon/systemd.js');
  const systemd = SystemdNotifier.fromEnv(log, () => director.status());
  systemd?.ready();
  const autoReload = config.global.autoReload ? await watchConfig(opts.file, config, config.global.autoReload, () => {
    log.info({ file: opts.file }, 'config file changed (autoReload): reloading');
    void reload();
  }) : null;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      const t0 = process.hrtime.bigint();
      systemd?.stopping();
      if (autoReload) clearInterval(autoReload);
      await director.stop();
      await snmp?.stop();
      await control.close();
      metricsServer?.close();
      log.info({ signal, stopMs: Number(process.hrtime.bigint() - t0) / 1e6 }, 'vrrpd stopped');
      systemd?.close();
      resolve(0);
    };
    requestStop = (signal) => void stop(signal);
    onHup = () => {
      log.info({ file: opts.file }, 'SIGHUP: reloading');
      void reload();
    };
    if (pendingStop) {
      log.info({ signal: pendingStop }, 'stop requested while starting: stopping now');
      requestStop(pendingStop);
    } else if (pendingHup) {
      onHup();
    }
  });
}

/**
 * ldirectord's autoreload: poll the config file and the files it takes virtual servers from every `everyMs`;
 * a change in their content calls onChange (the usual reload: validated whole, a bad file keeps the running config).
 */
async function watchConfig(file: string, config: import('./config/schema.js').Config, everyMs: number, onChange: () => void): Promise<NodeJS.Timeout> {
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const { dirname, resolve } = await import('node:path');
  const files = [file, ...config.virtualServersFrom.map((f) => resolve(dirname(file), f.ldirectord ?? f.ipvsadm ?? ''))];
  const digest = async () => (await Promise.all(files.map((f) => readFile(f).then((b) => createHash('sha256').update(b).digest('hex'), () => 'unreadable')))).join(',');
  let last = await digest();
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    void digest().then((d) => {
      busy = false;
      if (d !== last) { last = d; onChange(); }
    });
  }, everyMs);
}

/**
 * Test hook (VRRPD_TEST_WEDGE_MS set): SIGUSR2 blocks the event loop that long, as a wedged daemon
 * would; the systemd watchdog pings must stop meanwhile. Never installed otherwise.
 */
function installTestWedge(log: Logger): void {
  const ms = Number(process.env.VRRPD_TEST_WEDGE_MS);
  if (!Number.isFinite(ms) || ms <= 0) return;
  log.warn({ ms }, 'test hook: SIGUSR2 wedges the event loop');
  process.on('SIGUSR2', () => {
    const end = performance.now() + ms;
    while (performance.now() < end) { /* wedged on purpose */ }
  });
}
