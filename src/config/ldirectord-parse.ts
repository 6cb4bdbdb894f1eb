// ldirectord.cf syntax: global KEY=VALUE lines, virtual sections continued by indented lines, comments; file:line:col.
import type { InputContext, Where } from './input-ctx.js';

/** One `key = value` line. */
export interface LdLine extends Where {
  /** The value as written, trimmed, comment removed. */
  raw: string;
  /** The value with one pair of surrounding double quotes removed. */
  value: string;
  quoted: boolean;
}

export interface LdVirtual {
  head: LdLine;
  options: LdLine[];
}

export interface LdFile {
  globals: LdLine[];
  virtuals: LdVirtual[];
}

/** Drop a `#` comment that is not inside double quotes. */
function stripComment(s: string): string {
  let q = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') q = !q;
    else if (s[i] === '#' && !q) return s.slice(0, i);
  }
  return s;
}

function keyValue(file: string, line: number, col: number, text: string, ctx: InputContext): LdLine | undefined {
  const m = /^([A-Za-z][A-Za-z0-9_]*)\s*(?:=\s*(.*))?$/.exec(text);
  if (!m) {
    ctx.error({ file, line, col, keyword: '' }, `not a "keyword = value" line: ${text}`);
    return undefined;
  }
  const raw = (m[2] ?? '').trim();
  const quoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"');
  return { file, line, col, keyword: m[1]!, raw, value: quoted ? raw.slice(1, -1) : raw, quoted };
}

/**
 * ldirectord's reading rules: a `virtual=` (or `virtual6=`) line starts a section; the lines after it that are
 * indented by a tab or at least 4 spaces belong to it; a comment line (first non-blank character `#`) is skipped
 * anywhere; a blank or less indented line ends the section. A global line starts in column 1.
 */
export function parseLdirectord(text: string, file: string, ctx: InputContext): LdFile {
  const out: LdFile = { globals: [], virtuals: [] };
  let current: LdVirtual | undefined;
  text.split('\n').forEach((rawLine, i) => {
    const line = i + 1;
    const expanded = rawLine.replace(/\r$/, '').replace(/\t/g, '    ');
    if (/^\s*#/.test(expanded)) return;
    const body = stripComment(expanded).replace(/\s+$/, '');
    if (body.trim() === '') {
      current = undefined;
      return;
    }
    const indent = /^ */.exec(body)![0].length;
    if (indent >= 4 && current) {
      const kv = keyValue(file, line, indent + 1, body.trim(), ctx);
      if (kv) current.options.push(kv);
      return;
    }
    current = undefined;
    if (indent > 0) {
      ctx.error({ file, line, col: indent + 1, keyword: '' },
        'indented line outside a virtual section (a blank line or a line indented by less than 4 spaces ends a section; ldirectord refuses this too)');
      return;
    }
    const kv = keyValue(file, line, 1, body, ctx);
    if (!kv) return;
    if (kv.keyword === 'virtual' || kv.keyword === 'virtual6') {
      current = { head: kv, options: [] };
      out.virtuals.push(current);
    } else out.globals.push(kv);
  });
  return out;
}
