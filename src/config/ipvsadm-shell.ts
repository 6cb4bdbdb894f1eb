// The shell scripts directors carry, read far enough for ipvsadm: lines, continuations, variables, case branches.
import type { InputContext } from './input-ctx.js';

/** One simple command of the script, its words expanded. */
export interface ShellCommand {
  file: string;
  line: number;
  col: number;
  words: string[];
  /** The enclosing if/for/while (not evaluated), e.g. "if at line 12". */
  inside?: string;
}

const CONTROL = /^(then|else|elif|fi|do|done|case|esac|in|\{|\}|;;|exit|return|set|shift|function|local|trap|umask|:|true)$/;

/** Split one line into commands (; && ||), then words; quotes kept apart so variables expand outside '...'. */
function splitCommands(text: string): { col: number; raw: string }[] {
  const out: { col: number; raw: string }[] = [];
  let start = 0;
  let q: string | null = null;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (q) { if (c === q) q = null; else if (c === '\\' && q === '"') i++; continue; }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '\\') { i++; continue; }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) { out.push({ col: start + 1, raw: text.slice(start, i) }); return out.filter((x) => x.raw.trim() !== ''); }
    const sep = c === undefined ? 1 : c === ';' ? (text[i + 1] === ';' ? 0 : 1) : (c === '&' && text[i + 1] === '&') || (c === '|' && text[i + 1] === '|') ? 2 : 0;
    if (c === undefined || sep) {
      out.push({ col: start + 1, raw: text.slice(start, i) });
      i += sep - 1;
      start = i + 1;
    }
  }
  return out.filter((c) => c.raw.trim() !== '');
}

/** Words of a command with $X / ${X} expanded (not inside single quotes); undefined variables refused. */
function expandWords(raw: string, vars: Map<string, string>, onMissing: (name: string) => void): string[] {
  const out: string[] = [];
  let w: string | null = null;
  let q: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (!q && /\s/.test(c)) { if (w !== null) out.push(w); w = null; continue; }
    w ??= '';
    if (q === "'") { if (c === "'") q = null; else w += c; continue; }
    if (c === q) { q = null; continue; }
    if (!q && (c === '"' || c === "'")) { q = c; continue; }
    if (c === '\\' && i + 1 < raw.length) { w += raw[++i]; continue; }
    if (c === '$') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(raw.slice(i));
      if (m) {
        const name = m[1] ?? m[2]!;
        const v = vars.get(name);
        if (v === undefined) onMissing(name);
        w += v ?? '';
        i += m[0].length - 1;
        continue;
      }
    }
    w += c;
  }
  if (w !== null) out.push(w);
  return out;
}

/**
 * The commands of a script in order. `NAME=value` lines set variables (expanded as they are set); in a `case`
 * (init scripts) only the branches whose pattern names start/restart/reload are read; a function's body is read
 * only for start-like functions; other branches are skipped with one warning each. ipvsadm-save lines
 * (`-A -t ...`) are commands without the program name.
 */
export function readScript(text: string, file: string, ctx: InputContext): ShellCommand[] {
  const vars = new Map<string, string>();
  const out: ShellCommand[] = [];
  const lines = text.split('\n');
  let skipping: { what: string; line: number } | null = null;
  let depthFn = 0;
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let text1 = lines[i]!.replace(/\r$/, '');
    while (text1.endsWith('\\') && i + 1 < lines.length) text1 = text1.slice(0, -1) + ' ' + lines[++i]!.replace(/\r$/, '');
    if (first === 1 && text1.startsWith('#!')) continue;
    const trimmed = text1.trim();
    const branch = /^([A-Za-z0-9_|"'*-]+)\)(.*)$/.exec(trimmed);
    if (branch && !/^\(/.test(trimmed)) {
      const label = branch[1]!.replace(/["']/g, '');
      skipping = /(^|\|)(start|restart|reload|force-reload)(\||$)/.test(label) ? null : { what: `the "${label})" branch`, line: first };
      if (skipping) ctx.warn({ file, line: first, col: 1, keyword: label }, `skipped: commands of ${skipping.what} of the script (only start branches are read)`);
      text1 = branch[2]!;
      if (text1.trim() === '') continue;
    }
    const fn = /^(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\)\s*\{?\s*$/.exec(trimmed);
    if (fn) {
      depthFn = 1;
      skipping = /^(start|do_start|start_lvs|setup)/i.test(fn[1]!) ? null : { what: `function ${fn[1]}()`, line: first };
      if (skipping) ctx.warn({ file, line: first, col: 1, keyword: fn[1]! }, `skipped: the body of ${skipping.what} (only start functions are read)`);
      continue;
    }
    if (depthFn && trimmed === '}') { depthFn = 0; skipping = null; continue; }
    if (/^;;/.test(trimmed) || /;;\s*$/.test(trimmed)) {
      const keep = skipping;
      skipping = null;
      if (keep || trimmed === ';;') continue;
      text1 = text1.replace(/;;\s*$/, '');
    }
    if (trimmed === 'esac') { skipping = null; continue; }
    if (skipping) continue;
    for (const c of splitCommands(text1)) {
      const words = expandWords(c.raw, vars, (name) => ctx.error({ file, line: first, col: c.col, keyword: `$${name}` }, `variable $${name} is not set by a NAME=value line before it`));
      if (!words.length) continue;
      const assign = /^(?:export\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(c.raw.trim());
      if (assign && words.length === 1 + (/^(export|readonly)\s/.test(c.raw.trim()) ? 1 : 0)) {
        const name = assign[1]!;
        const value = words[words.length - 1]!.slice(name.length + 1);
        if (/\$\(|`/.test(assign[2]!)) {
          ctx.warn({ file, line: first, col: c.col, keyword: name }, `${name} is set by a command substitution, which is not run: using $${name} is refused`);
          vars.delete(name);
        } else vars.set(name, value);
        continue;
      }
      if (/^(if|while|until|for)$/.test(words[0]!)) blocks.push(`${words[0]} at line ${first}`);
      else if ((words[0] === 'fi' || words[0] === 'done') && blocks.length) blocks.pop();
      if (/^(if|while|until|for)$/.test(words[0]!) || CONTROL.test(words[0]!)) continue;
      out.push({ file, line: first, col: c.col, words, ...(blocks.length ? { inside: blocks[blocks.length - 1]! } : {}) });
    }
  }
  return out;
}
