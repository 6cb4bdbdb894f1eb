// keepalived.conf syntax: lines to tokens, blocks to a statement tree with file:line:col, include globs, $PARAM substitution.
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';

export interface Pos {
  file: string;
  /** 1-based; 0 when the problem is the file as a whole. */
  line: number;
  col: number;
}

export interface KeepalivedDiagnostic extends Pos {
  /** The keepalived keyword the diagnostic is about ('' for syntax). */
  keyword: string;
  severity: 'warning' | 'error';
  message: string;
}

export interface Token {
  text: string;
  col: number;
  /** Any part of it was quoted ("..." or '...'). */
  quoted: boolean;
}

/** One statement: a keyword and its arguments on one line, with the block that follows it, if any. */
export interface Statement extends Pos {
  keyword: string;
  args: Token[];
  /** The statements of its `{ ... }` block; undefined when it has none. */
  block?: Statement[];
}

export interface ParseOptions {
  /** Absolute include paths are looked up under this directory (tests, or a config copied from another host). */
  includeRoot?: string;
  /** keepalived's config-id for `@ID` conditional lines; keepalived's default is the short host name. */
  configId: string;
}

const INCLUDES = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);
const MAX_DEPTH = 16;
/** A line after $NAME substitution: far beyond any real configuration. */
const MAX_SUBSTITUTED = 1 << 20;

interface Ctx {
  opts: ParseOptions;
  diags: KeepalivedDiagnostic[];
  params: Map<string, string>;
  /** Real paths of the files being read (include cycles). */
  stack: string[];
}

/** Parse a keepalived configuration file and everything it includes into one statement tree. */
export function parseKeepalivedFile(file: string, opts: ParseOptions): { statements: Statement[]; diagnostics: KeepalivedDiagnostic[] } {
  const ctx: Ctx = { opts, diags: [], params: new Map(), stack: [] };
  const statements = readFile(ctx, file, { file, line: 0, col: 0 }) ?? [];
  return { statements, diagnostics: ctx.diags };
}

function diag(ctx: Ctx, at: Pos, keyword: string, severity: 'warning' | 'error', message: string): void {
  ctx.diags.push({ file: at.file, line: at.line, col: at.col, keyword, severity, message });
}

function readFile(ctx: Ctx, file: string, from: Pos): Statement[] | null {
  let text: string;
  let real: string;
  try {
    real = realpathSync(file);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    diag(ctx, from, from.line ? 'include' : '', 'error', `cannot read ${file}: ${err.code ?? err.message}`);
    return null;
  }
  if (ctx.stack.includes(real)) {
    diag(ctx, from, 'include', 'error', `include loop: ${file} is already being read`);
    return null;
  }
  if (ctx.stack.length >= MAX_DEPTH) {
    diag(ctx, from, 'include', 'error', `includes nested deeper than ${MAX_DEPTH} levels`);
    return null;
  }
  ctx.stack.push(real);
  try {
    return parseText(ctx, text, file);
  } finally {
    ctx.stack.pop();
  }
}

interface Frame { owner: Statement | null; items: Statement[] }

/** Lines one statement source may produce (macros: multi-line parameters, ~SEQ/~LST) before it is refused. */
const MAX_GENERATED = 100_000;
const MAX_GENERATED_CHARS = 4 << 20;

interface Line { text: string; lineNo: number }

function parseText(ctx: Ctx, text: string, file: string): Statement[] {
  const root: Frame = { owner: null, items: [] };
  const stack: Frame[] = [root];
  const lines = text.split(/\r?\n/);
  // Lines still to read: the file's, and in front of them the lines a macro expands to (at the macro's line number).
  // A stack: the next line to read is the last element.
  const queue: Line[] = lines.map((t, i) => ({ text: t, lineNo: i + 1 })).reverse();
  let generated = 0;
  let generatedChars = 0;
  const push = (produced: Line[], at: Pos): boolean => {
    generated += produced.length;
    for (const p of produced) generatedChars += p.text.length;
    // Lines and characters: a parameter whose value names itself grows each line it expands to (found by fuzzing).
    if (generated > MAX_GENERATED || generatedChars > MAX_GENERATED_CHARS) {
      diag(ctx, at, '$', 'error', `macros expand to more than ${generated > MAX_GENERATED ? `${MAX_GENERATED} lines` : `${MAX_GENERATED_CHARS} characters`}: refused`);
      queue.length = 0;
      return false;
    }
    for (let k = produced.length - 1; k >= 0; k--) queue.push(produced[k]!);
    return true;
  };
  while (queue.length) {
    const { text: raw, lineNo } = queue.pop()!;
    const at = (col: number): Pos => ({ file, line: lineNo, col });
    let line = stripComment(raw);
    // Conditional configuration: "@ID rest" is kept only on that host, "@^ID rest" everywhere else.
    const cond = /^(\s*)@(\^?)(\S*)(\s*)/.exec(line);
    if (cond) {
      const match = cond[3] === ctx.opts.configId;
      if ((cond[2] === '^') === match) continue;
      line = ' '.repeat(cond[0].length) + line.slice(cond[0].length);
    }
    // keepalived spots includes before any other processing: the rest of the line is the pattern, braces and all.
    const inc = /^(\s*)(include[rmwba]?)\s+(\S.*?)\s*$/.exec(line);
    if (inc) {
      const arg: Token = { text: inc[3]!.replace(/^(["'])(.*)\1$/, '$2'), col: line.indexOf(inc[3]!) + 1, quoted: false };
      stack[stack.length - 1]!.items.push(...include(ctx, { file, line: lineNo, col: inc[1]!.length + 1, keyword: inc[2]!, args: [arg] }));
      continue;
    }
    // ~SEQ(var, start, step, end) / ~SEQx(...) / ~LST(var, v1, v2...) REST: REST once per value, with $var set.
    const gen = /^\s*~(SEQx?|LST)\(/.exec(line);
    if (gen) {
      const g = generator(ctx, line, at(line.search(/\S/) + 1), (t) => substitute(ctx, t, file, at(1)));
      if (g) push(g.flatMap((defs) => [...defs.map((d) => ({ text: d, lineNo })), { text: g.rest, lineNo }]), at(1));
      continue;
    }
    const def = /^(\s*)\$([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (def) {
      let value = def[3]!.trim();
      if (value.endsWith('\\')) {
        // Multi-line definition: every line ending in "\\" continues it (blank lines inside are skipped).
        const parts: string[] = [];
        value = value.slice(0, -1).trim();
        if (value) parts.push(value);
        for (;;) {
          const next = queue[queue.length - 1];
          if (!next) break;
          const t = stripComment(next.text).trimEnd();
          queue.pop();
          if (t.trim() === '') continue;
          const more = t.endsWith('\\');
          parts.push(more ? t.slice(0, -1).trimEnd() : t);
          if (!more) break;
        }
        value = parts.join('\n');
      }
      ctx.params.set(def[2]!, value); // empty values are allowed
      continue;
    }
    line = substitute(ctx, line, file, at(1));
    if (line.includes('\n')) {
      // A multi-line parameter: its lines are read in turn (definitions, conditions and macros inside work).
      push(line.split('\n').map((t) => ({ text: t.trimStart(), lineNo })), at(1));
      continue;
    }
    const tokens = tokenize(ctx, line, at(1));
    let words: Token[] = [];
    const flush = () => {
      if (!words.length) return;
      const [kw, ...args] = words;
      const st: Statement = { file, line: lineNo, col: kw!.col, keyword: kw!.text, args };
      words = [];
      const top = stack[stack.length - 1]!;
      if (INCLUDES.has(st.keyword)) top.items.push(...include(ctx, st));
      else top.items.push(st);
    };
    for (const t of tokens) {
      if (!t.quoted && t.text === '{') {
        const top = stack[stack.length - 1]!;
        let owner: Statement | undefined;
        if (words.length) {
          flush();
          owner = top.items[top.items.length - 1];
        } else {
          // "{" alone on a line opens the block of the statement on the line before.
          const prev = top.items[top.items.length - 1];
          if (prev && !prev.block && prev.line <= lineNo && prev.file === file) owner = prev;
        }
        if (!owner || owner.block || INCLUDES.has(owner.keyword)) {
          diag(ctx, at(t.col), '{', 'error', 'syntax error: "{" without a keyword before it');
          owner = { file, line: lineNo, col: t.col, keyword: '{', args: [] };
        }
        owner.block = [];
        stack.push({ owner, items: owner.block });
      } else if (!t.quoted && t.text === '}') {
        flush();
        if (stack.length === 1) diag(ctx, at(t.col), '}', 'error', 'syntax error: "}" without a matching "{"');
        else stack.pop();
      } else {
        words.push(t);
      }
    }
    flush();
  }
  while (stack.length > 1) {
    const open = stack.pop()!.owner!;
    diag(ctx, open, open.keyword, 'error', `syntax error: the "{" of "${open.keyword}" (line ${open.line}) is never closed in ${file}`);
  }
  return root.items;
}

/**
 * A ~SEQ/~SEQx/~LST line: the parameter definitions for each round and the rest of the line (which may start with
 * another ~SEQ/~LST: nested rounds). Errors (bad numbers, no values, an endless sequence) are reported; undefined then.
 */
function generator(ctx: Ctx, line: string, at: Pos, subst: (t: string) => string): { rest: string } & string[][] | undefined {
  const m = /^\s*~(SEQx?|LST)\(/.exec(line)!;
  let depth = 1;
  let i = m[0].length;
  for (; i < line.length && depth > 0; i++) {
    if (line[i] === '(') depth++;
    else if (line[i] === ')') depth--;
  }
  if (depth > 0) {
    diag(ctx, at, `~${m[1]!}`, 'error', `~${m[1]!}( without its closing ")"`);
    return undefined;
  }
  const inner = subst(line.slice(m[0].length, i - 1));
  const rest = line.slice(i).trim();
  const fail = (why: string): undefined => {
    diag(ctx, at, `~${m[1]!}`, 'error', `~${m[1]!}(${inner}): ${why}`);
    return undefined;
  };
  let rounds: string[][];
  if (m[1] === 'LST') {
    // ~LST(var, v1, v2...) or ~LST({a, b}, {1, 2}, {3, 4})
    const items = inner.match(/\{[^}]*\}|[^,{}]+/g)?.map((x) => x.trim()).filter(Boolean) ?? [];
    const split = (x: string) => (x.startsWith('{') ? x.slice(1, -1).split(',').map((y) => y.trim()) : [x]);
    const vars = split(items[0] ?? '');
    if (!vars.every((v) => /^[A-Za-z_]\w*$/.test(v))) return fail('the first item must name the variable(s)');
    if (items.length < 2) return fail('no values');
    rounds = [];
    for (const item of items.slice(1)) {
      const vals = split(item);
      if (vals.length !== vars.length) return fail(`"${item}" does not give ${vars.length} value(s)`);
      rounds.push(vars.map((v, k) => `$${v}=${vals[k]!}`));
    }
  } else {
    const parts = inner.split(',').map((x) => x.trim());
    const name = parts[0] ?? '';
    if (!/^[A-Za-z_]\w*$/.test(name)) return fail('the first item must name the variable');
    const num = (x: string): number => {
      const neg = x.startsWith('-');
      const body = neg ? x.slice(1) : x;
      const v = /^0x[0-9a-f]+$/i.test(body) ? Number.parseInt(body, 16) : /^\d+$/.test(body) ? Number(body) : NaN;
      return neg ? -v : v;
    };
    const nums = parts.slice(1).map(num);
    if (nums.length < 1 || nums.length > 3 || nums.some((x) => !Number.isSafeInteger(x))) return fail('expected (var, [start, [step,]] end) with whole numbers');
    const end = nums[nums.length - 1]!;
    const start = nums.length >= 2 ? nums[0]! : end >= 0 ? 1 : -1;
    const step = nums.length === 3 ? nums[1]! : end >= start ? 1 : -1;
    if (step === 0) return fail('a step of 0 never ends');
    rounds = [];
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
      if (rounds.length >= MAX_GENERATED) return fail(`more than ${MAX_GENERATED} values`);
      rounds.push([`$${name}=${m[1] === 'SEQx' ? v.toString(16) : String(v)}`]);
    }
  }
  return Object.assign(rounds, { rest });
}

/** Everything from an unquoted '#' or '!' to the end of the line is a comment. */
function stripComment(line: string): string {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '\\') i++;
      else if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' || c === '!') return line.slice(0, i);
  }
  return line;
}

/** $NAME (followed by a space or the end) and ${NAME}: defined parameters only; undefined ones stay as written. */
function substitute(ctx: Ctx, line: string, file: string, at: Pos): string {
  if (!line.includes('$')) return line;
  const builtin = (name: string, arg: string): string | undefined => {
    switch (name) {
      case '_PWD': return dirname(resolve(file));
      case '_HASH': return '#';
      case '_BANG': return '!';
      case '_INSTANCE': return ctx.opts.configId;
      case '_ENV': return process.env[arg] ?? '';
      case '_RANDOM':
        diag(ctx, at, '${_RANDOM}', 'error', '${_RANDOM} is not supported: a generated config must be reproducible');
        return undefined;
      default: return undefined;
    }
  };
  let out = line;
  for (let round = 0; round < 20; round++) {
    const next = out.replace(/\$\{(\w+)(?:\s+([^}]*))?\}|\$([A-Za-z_]\w*)(?=\s|$)/g, (whole, braced?: string, arg?: string, bare?: string) => {
      const name = (braced ?? bare)!;
      const v = ctx.params.get(name) ?? (name.startsWith('_') ? builtin(name, (arg ?? '').trim()) : undefined);
      return v ?? whole;
    });
    // A parameter that refers to itself more than once doubles the line each round (found by fuzzing).
    if (next.length > MAX_SUBSTITUTED) {
      diag(ctx, at, '$', 'error', `parameter substitution makes a line longer than ${MAX_SUBSTITUTED} characters (a parameter refers to itself)`);
      return line;
    }
    // A multi-line value: its lines are read one by one (a definition in it applies to the lines after it).
    if (next === out || next.includes('\n')) return next;
    out = next;
  }
  diag(ctx, at, '$', 'error', 'parameter substitution does not terminate (a parameter refers to itself)');
  return out;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Words split on whitespace; "{" and "}" stand alone; quotes group words and are removed. */
function tokenize(ctx: Ctx, line: string, at: Pos): Token[] {
  const out: Token[] = [];
  let cur: Token | null = null;
  let q: string | null = null;
  let inParam = false; // an unresolved ${NAME} stays one word
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && i + 1 < line.length) {
        const n = line[++i]!;
        let m: RegExpExecArray | null;
        if (ESCAPES[n] !== undefined) cur!.text += ESCAPES[n];
        else if ((m = /^x([0-9a-fA-F]{1,2})/.exec(line.slice(i)))) { cur!.text += String.fromCharCode(parseInt(m[1]!, 16)); i += m[0].length - 1; }
        else if ((m = /^[0-7]{1,3}/.exec(line.slice(i)))) { cur!.text += String.fromCharCode(parseInt(m[0], 8)); i += m[0].length - 1; }
        else if (n === 'c' && i + 1 < line.length) cur!.text += String.fromCharCode(line.charCodeAt(++i) & 0x1f);
        else cur!.text += n;
      } else cur!.text += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (cur) out.push(cur);
      cur = null;
    } else if (cur && ((c === '{' && cur.text.endsWith('$')) || (c === '}' && inParam))) {
      inParam = c === '{';
      cur.text += c;
    } else if (c === '{' || c === '}') {
      inParam = false; // "${NAME }": the space ended the word (found by fuzzing: the brace had no word to join)
      if (cur) out.push(cur);
      cur = null;
      out.push({ text: c, col: i + 1, quoted: false });
    } else {
      cur ??= { text: '', col: i + 1, quoted: false };
      if (c === '"' || c === "'") {
        q = c;
        cur.quoted = true;
      } else cur.text += c;
    }
  }
  if (q) diag(ctx, { ...at, col: cur?.col ?? 1 }, '', 'error', `syntax error: unterminated ${q} quote`);
  if (cur) out.push(cur);
  return out;
}

/** The statements of the files an include names, in glob order; the include itself is not kept. */
function include(ctx: Ctx, st: Statement): Statement[] {
  const pattern = st.args[0]?.text;
  if (pattern === undefined) {
    diag(ctx, st, st.keyword, 'error', `${st.keyword} needs a file name or pattern`);
    return [];
  }
  let full = pattern;
  if (isAbsolute(pattern)) {
    if (ctx.opts.includeRoot) full = join(ctx.opts.includeRoot, pattern);
  } else full = resolve(dirname(st.file), pattern);
  const wild = /[*?[]/.test(pattern);
  const files = expandBraces(full).flatMap((p) => glob(p));
  if (files.length === 0) {
    const mustMatch = st.keyword === 'includea' || st.keyword === 'includew' || (st.keyword === 'includem' && !wild);
    diag(ctx, st, st.keyword, mustMatch ? 'error' : 'warning', `no file matches ${pattern}${full !== pattern ? ` (${full})` : ''}`);
    return [];
  }
  return files.flatMap((f) => readFile(ctx, f, st) ?? []);
}

/** csh-style braces: "a{b,c}d" -> ["abd", "acd"] (nested braces allowed). */
export function expandBraces(s: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') {
      if (depth++ === 0) start = i;
    } else if (s[i] === '}' && depth > 0 && --depth === 0) {
      const parts: string[] = [];
      let d = 0;
      let from = start + 1;
      for (let j = start + 1; j < i; j++) {
        if (s[j] === '{') d++;
        else if (s[j] === '}') d--;
        else if (s[j] === ',' && d === 0) { parts.push(s.slice(from, j)); from = j + 1; }
      }
      parts.push(s.slice(from, i));
      if (parts.length < 2) continue;
      const rest = s.slice(i + 1);
      return parts.flatMap((p) => expandBraces(s.slice(0, start) + p + rest));
    }
  }
  return [s];
}

/** Match one path component against a glob: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`/`[^x]`; no leading-dot matches. */
export function globMatch(pattern: string, name: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = pattern.slice(i + 1, end);
      const neg = body[0] === '!' || body[0] === '^';
      if (neg) body = body.slice(1);
      re += `[${neg ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's').test(name);
}

/** The regular files an absolute pattern matches, sorted per component like glob(3). */
export function glob(pattern: string): string[] {
  const parts = pattern.split(sep).filter((p, i) => p !== '' || i === 0);
  let found = [parts[0] === '' ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (globMatch(part, n)) next.push(join(dir, n));
    }
    found = next;
  }
  return found.filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}
