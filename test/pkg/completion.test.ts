// bash completion: commands and each command's options as --help has them (instance names from a live daemon: deb.test.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli.js';

const FILE = join(import.meta.dirname, '..', '..', 'conf', 'vrrpd.bash-completion');
const haveBash = spawnSync('bash', ['--version'], { stdio: 'ignore' }).status === 0;

/** COMPREPLY for a command line whose last word is being completed. */
function complete(words: string[]): string[] {
  const script = `. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vrrpd; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script, 'bash', FILE, ...words], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe.skipIf(!haveBash)('bash completion (conf/vrrpd.bash-completion)', () => {
  it('completes the commands', () => {
    expect(complete(['vrrpd', ''])).toEqual([...Object.keys(COMMANDS), 'help', '--help', '--version'].sort());
    expect(complete(['vrrpd', 'st'])).toEqual(['status']);
  });

  it("completes each command's options, exactly those of its --help", () => {
    for (const [name, cmd] of Object.entries(COMMANDS)) {
      expect(complete(['vrrpd', name, '--']), name).toEqual([...Object.keys(cmd.options).map((o) => `--${o}`), '--help'].sort());
    }
  });

  it('completes option values: formats, log levels', () => {
    expect(complete(['vrrpd', 'run', '--format', ''])).toEqual(['auto', 'ipvsadm', 'keepalived', 'ldirectord', 'yaml']);
    expect(complete(['vrrpd', 'run', '--log-level', 'd'])).toEqual(['debug']);
    expect(complete(['vrrpd', 'help', 're'])).toEqual(['reload', 'resume']);
  });

  it('asks the daemon for instance names; none when it does not answer', () => {
    expect(complete(['vrrpd', 'yield', '--socket', '/nonexistent/vrrpd.sock', ''])).toEqual([]);
  });
});
