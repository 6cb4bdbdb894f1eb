// The man pages: generated from --help and conf/README.md, rendered by man without warnings, nothing lost on the way.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli.js';

const REPO = join(import.meta.dirname, '..', '..');
const haveMan = spawnSync('man', ['--version'], { stdio: 'ignore' }).status === 0;

/** The page as man renders it (wide, so that no option is split), and man's warnings. */
function render(file: string): { text: string; warnings: string } {
  const env = { ...process.env, LANG: 'C.UTF-8', MANWIDTH: '200', MAN_KEEP_FORMATTING: '' };
  const r = spawnSync('man', ['--warnings', '-l', file], { encoding: 'utf8', env, timeout: 30_000 });
  // eslint-disable-next-line no-control-regex -- overstrike (char, backspace) is how man marks bold without a terminal
  return { text: (r.stdout ?? '').replace(/.\x08/g, ''), warnings: `${r.stderr ?? ''}${r.status === 0 ? '' : ` (exit ${r.status})`}` };
}

describe.skipIf(!haveMan)('man pages vrrpd(8) and vrrpd.yaml(5)', () => {
  let dir: string;
  let p8: { text: string; warnings: string };
  let p5: { text: string; warnings: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vrrpd-man-'));
    const g = spawnSync(process.execPath, [join(REPO, 'scripts/man.mjs'), dir], { encoding: 'utf8', timeout: 30_000 });
    if (g.status !== 0) throw new Error(`scripts/man.mjs: ${g.stderr} (is dist/ built?)`);
    p8 = render(join(dir, 'vrrpd.8'));
    p5 = render(join(dir, 'vrrpd.yaml.5'));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('render without a warning', () => {
    expect(p8.warnings).toBe('');
    expect(p5.warnings).toBe('');
    expect(p8.text).toMatch(/^VRRPD\(8\)/);
    expect(p5.text).toMatch(/^VRRPD\.YAML\(5\)/);
  });

  it('vrrpd(8) has every command and every option of --help, the exit codes, signals and files', () => {
    for (const [name, cmd] of Object.entries(COMMANDS)) {
      expect(p8.text, name).toContain(`vrrpd ${name}\n`);
      expect(p8.text, name).toContain(cmd.summary);
      for (const [opt, o] of Object.entries(cmd.options)) {
        expect(p8.text, `${name} --${opt}`).toContain(`--${opt}`);
        if (o.short) expect(p8.text, `${name} -${o.short}`).toContain(`-${o.short}, --${opt}`);
      }
      // Each option line of the command's help survives as a term of its section.
      const section = p8.text.slice(p8.text.indexOf(`   vrrpd ${name}\n`));
      for (const m of cmd.help.matchAll(/^ {2}(-{1,2}[a-z][\w-]*(?:, --[\w-]+)?(?: [A-Z.]+)?)/gm)) {
        expect(section, `${name}: ${m[1]}`).toContain(m[1]!);
      }
    }
    for (const s of ['EXIT STATUS', 'SIGNALS', 'FILES', 'SEE ALSO', '--version', '--help', 'SIGHUP', 'SIGTERM', '/etc/vrrpd/vrrpd.yaml', '/run/vrrpd/vrrpd.sock']) {
      expect(p8.text).toContain(s);
    }
  });

  it('vrrpd.yaml(5) has every field and every section of conf/README.md', () => {
    const md = readFileSync(join(REPO, 'conf/README.md'), 'utf8');
    const fields = [...md.matchAll(/^\| `([^`]+)`(?:[^|]*)\|/gm)].flatMap((m) => m[0].match(/`([^`]+)`/g)!.map((f) => f.slice(1, -1)));
    expect(fields.length).toBeGreaterThan(80);
    const flat = p5.text.replace(/\s+/g, ' ');
    for (const f of fields) expect(flat, f).toContain(f);
    for (const h of md.matchAll(/^##+ (.*)$/gm)) expect(flat, h[1]).toContain(h[1]!.replace(/`/g, '').replace(/\s+/g, ' '));
  });
});
