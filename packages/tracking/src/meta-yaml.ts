/**
 * The `meta.yaml` files of MLflow's file store, written byte for byte as MLflow writes them and
 * read back whatever wrote them, without a YAML dependency.
 *
 * MLflow writes them with `yaml.dump(data, default_flow_style=False, allow_unicode=True,
 * sort_keys=True, Dumper=CSafeDumper)` (`mlflow/utils/yaml_utils.py`): PyYAML's resolver decides
 * whether a string may stay plain, and libyaml's emitter picks the style and folds long values at
 * 80 columns. `dumpMetaYaml` reproduces that for the flat mappings MLflow stores (strings, ints,
 * null, booleans, `[]`): `'0'` is quoted because it would read as an int, `'yes'` as a bool,
 * `'a: b'` for its indicator; control characters, tabs and characters beyond the BMP (emoji) go
 * double-quoted with escapes, as libyaml does. `meta-yaml.spec.ts` checks this against PyYAML when
 * a python3 with PyYAML is at hand.
 *
 * `parseMetaYaml` reads flat block mappings in any of YAML's scalar styles, with folded lines.
 *
 * @example
 * ```ts
 * dumpMetaYaml({ experiment_id: '0', name: 'Default', end_time: null, tags: [] });
 * // "end_time: null\nexperiment_id: '0'\nname: Default\ntags: []\n"
 * parseMetaYaml("experiment_id: '0'\n").experiment_id; // '0'
 * ```
 */

export type MetaValue = string | number | boolean | null | readonly never[];

const BEST_WIDTH = 80;
const VALUE_INDENT = 2;

// PyYAML's SafeResolver implicit resolvers (resolver.py), chosen by the first character. Python's
// `$` also matches before a final newline, hence `\n?$`.
const RESOLVERS: { first: string; pattern: RegExp }[] = [
  {
    first: 'yYnNtTfFoO',
    pattern: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?$/,
  },
  {
    first: '-+0123456789.',
    pattern:
      /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?$/,
  },
  {
    first: '-+0123456789',
    pattern:
      /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?$/,
  },
  { first: '<', pattern: /^(?:<<)\n?$/ },
  { first: '~nN', pattern: /^(?:~|null|Null|NULL|)\n?$/ },
  {
    first: '0123456789',
    pattern:
      /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\n?$/,
  },
  { first: '=', pattern: /^(?:=)\n?$/ },
];

/** Would a plain scalar with this text read back as something other than a string? */
function resolvesToNonString(s: string): boolean {
  if (s === '') return true; // null
  return RESOLVERS.some((r) => r.first.includes(s[0]) && r.pattern.test(s));
}

const isBreak = (c: string | undefined) =>
  c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlankZ = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\0' || isBreak(c);

/** libyaml's IS_PRINTABLE on a code point (astral planes are not printable for it). */
function isPrintable(cp: number): boolean {
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  );
}

interface Analysis {
  blockPlain: boolean;
  singleQuoted: boolean;
}

/** libyaml's yaml_emitter_analyze_scalar, for block context. */
function analyze(chars: string[]): Analysis {
  if (chars.length === 0) return { blockPlain: true, singleQuoted: true };
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false,
    leadingBreak = false,
    trailingSpace = false,
    trailingBreak = false,
    breakSpace = false,
    spaceBreak = false;
  let previousSpace = false,
    previousBreak = false;
  const head = chars.slice(0, 3).join('');
  if (head === '---' || head === '...') blockIndicators = true;
  let precededByWhitespace = true;
  let followedByWhitespace = isBlankZ(chars[1]);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      if ((c === '?' || c === ':') && followedByWhitespace) blockIndicators = true;
      if (c === '-' && followedByWhitespace) blockIndicators = true;
    } else {
      if (c === ':' && followedByWhitespace) blockIndicators = true;
      if (c === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (!isPrintable(c.codePointAt(0)!)) special = true;
    if (isBreak(c)) lineBreaks = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankZ(c);
    followedByWhitespace = isBlankZ(chars[i + 2]);
  }
  let blockPlain = true;
  let singleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (breakSpace) blockPlain = singleQuoted = false;
  if (spaceBreak || special) blockPlain = singleQuoted = false;
  if (lineBreaks) blockPlain = false;
  if (blockIndicators) blockPlain = false;
  return { blockPlain, singleQuoted };
}

const ESCAPES: Record<number, string> = {
  0x00: '0',
  0x07: 'a',
  0x08: 'b',
  0x09: 't',
  0x0a: 'n',
  0x0b: 'v',
  0x0c: 'f',
  0x0d: 'r',
  0x1b: 'e',
  0x22: '"',
  0x5c: '\\',
  0x85: 'N',
  0xa0: '_',
  0x2028: 'L',
  0x2029: 'P',
};

/** libyaml's emitter state for one `key: value` line (and its folded continuations). */
class ValueWriter {
  out = '';
  column = 0;
  whitespace = false;
  indention = false;

  constructor(key: string) {
    this.out = `${key}:`;
    this.column = [...key].length + 1;
  }

  put(s: string): void {
    this.out += s;
    this.column += 1;
  }

  putBreak(): void {
    this.out += '\n';
    this.column = 0;
  }

  writeIndent(): void {
    if (!this.indention || this.column > VALUE_INDENT || (this.column === VALUE_INDENT && !this.whitespace))
      this.putBreak();
    while (this.column < VALUE_INDENT) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  indicator(s: string, needWhitespace: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const c of s) this.put(c);
    this.whitespace = false;
    this.indention = false;
  }

  plain(chars: string[]): void {
    if (!this.whitespace && chars.length) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      if (c === ' ') {
        if (!spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.putBreak();
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  singleQuoted(chars: string[]): void {
    this.indicator("'", true);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      if (c === ' ') {
        if (!spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1 && chars[i + 1] !== ' ')
          this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        if (c === '\n') this.putBreak();
        else {
          this.out += c;
          this.column = 0;
        }
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === "'") this.put("'");
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    if (breaks) this.writeIndent();
    this.indicator("'", false);
  }

  doubleQuoted(chars: string[]): void {
    this.indicator('"', true);
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      const cp = c.codePointAt(0)!;
      if (!isPrintable(cp) || cp === 0xfeff || isBreak(c) || c === '"' || c === '\\') {
        this.put('\\');
        const named = ESCAPES[cp];
        if (named !== undefined) this.put(named);
        else {
          const [letter, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter);
          for (const d of cp.toString(16).toUpperCase().padStart(width, '0')) this.put(d);
        }
        spaces = false;
      } else if (c === ' ') {
        if (!spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1) {
          this.writeIndent();
          if (chars[i + 1] === ' ') this.put('\\');
        } else this.put(c);
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    }
    this.indicator('"', false);
  }
}

function dumpString(key: string, value: string): string {
  const chars = [...value];
  const w = new ValueWriter(key);
  const a = analyze(chars);
  if (!resolvesToNonString(value) && a.blockPlain) w.plain(chars);
  else if (a.singleQuoted) w.singleQuoted(chars);
  else w.doubleQuoted(chars);
  return w.out;
}

/** A flat mapping as MLflow's `write_yaml` writes it: sorted keys, one `key: value` each. */
export function dumpMetaYaml(data: Readonly<Record<string, MetaValue | undefined>>): string {
  const lines: string[] = [];
  for (const key of Object.keys(data).sort()) {
    const v = data[key];
    if (v === undefined) continue;
    if (v === null) lines.push(`${key}: null`);
    else if (typeof v === 'boolean') lines.push(`${key}: ${v}`);
    else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TypeError(`meta.yaml field '${key}': expected an integer, got ${v}`);
      lines.push(`${key}: ${v}`);
    } else if (Array.isArray(v)) {
      if (v.length)
        throw new TypeError(`meta.yaml field '${key}': only empty lists are written, got ${v.length} items`);
      lines.push(`${key}: []`);
    } else lines.push(dumpString(key, v as string));
  }
  return lines.map((l) => `${l}\n`).join('');
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Folds the lines of a multi-line flow scalar: one break → a space, n breaks → n-1 newlines. */
function fold(lines: string[]): string {
  let out = lines[0];
  let empties = 0;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '' && i < lines.length - 1) {
      empties++;
      continue;
    }
    out += empties ? '\n'.repeat(empties) : ' ';
    out += lines[i];
    empties = 0;
  }
  return out;
}

const UNESCAPE: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_WIDTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * A single- or double-quoted scalar starting at `text[0]`, as PyYAML's scanner reads it
 * (scan_flow_scalar): a line break folds to a space, n breaks to n-1 newlines, blanks around
 * breaks go, U+2028/U+2029 are kept as they are, and in double quotes escapes (an escaped break
 * joins lines without a space).
 */
function scanFlowScalar(text: string, field: string): string {
  const double = text[0] === '"';
  const quote = text[0];
  const chunks: string[] = [];
  let i = 1;
  const unterminated = () =>
    new SyntaxError(`meta.yaml field '${field}': unterminated ${double ? 'double' : 'single'}-quoted value`);
  const lineBreak = (): string => {
    const c = text[i];
    if (c === '\r' && text[i + 1] === '\n') {
      i += 2;
      return '\n';
    }
    i++;
    return c === '\u2028' || c === '\u2029' ? c : '\n';
  };
  const breaks = (): string[] => {
    const out: string[] = [];
    for (;;) {
      while (text[i] === ' ' || text[i] === '\t') i++;
      if (isBreak(text[i])) out.push(lineBreak());
      else return out;
    }
  };
  const nonSpaces = () => {
    for (;;) {
      let len = 0;
      while (i + len < text.length && !`'"\\\0 \t`.includes(text[i + len]) && !isBreak(text[i + len])) len++;
      if (len) {
        chunks.push(text.slice(i, i + len));
        i += len;
      }
      const c = text[i];
      if (c === undefined) throw unterminated();
      if (!double && c === "'" && text[i + 1] === "'") {
        chunks.push("'");
        i += 2;
      } else if ((double && c === "'") || (!double && (c === '"' || c === '\\'))) {
        chunks.push(c);
        i++;
      } else if (double && c === '\\') {
        const n = text[i + 1];
        i += 2;
        if (n in UNESCAPE) chunks.push(UNESCAPE[n]);
        else if (n in HEX_WIDTH) {
          const hex = text.slice(i, i + HEX_WIDTH[n]);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== HEX_WIDTH[n])
            throw new SyntaxError(`meta.yaml field '${field}': bad escape \\${n}${hex}`);
          chunks.push(String.fromCodePoint(parseInt(hex, 16)));
          i += HEX_WIDTH[n];
        } else if (isBreak(n)) {
          i--;
          lineBreak();
          chunks.push(...breaks());
        } else throw new SyntaxError(`meta.yaml field '${field}': unknown escape \\${n}`);
      } else return;
    }
  };
  nonSpaces();
  while (text[i] !== quote) {
    let len = 0;
    while (text[i + len] === ' ' || text[i + len] === '\t') len++;
    const blanks = text.slice(i, i + len);
    i += len;
    if (i >= text.length) throw unterminated();
    if (isBreak(text[i])) {
      const first = lineBreak();
      const more = breaks();
      if (first !== '\n') chunks.push(first);
      else if (!more.length) chunks.push(' ');
      chunks.push(...more);
    } else chunks.push(blanks);
    nonSpaces();
  }
  return chunks.join('');
}

function resolvePlain(s: string): unknown {
  if (/^(?:~|null|Null|NULL|)$/.test(s)) return null;
  if (/^(?:true|True|TRUE|yes|Yes|YES|on|On|ON)$/.test(s)) return true;
  if (/^(?:false|False|FALSE|no|No|NO|off|Off|OFF)$/.test(s)) return false;
  if (/^[-+]?(?:0|[1-9][0-9_]*)$/.test(s)) return Number(s.replaceAll('_', ''));
  if (/^[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?$/.test(s)) return Number(s.replaceAll('_', ''));
  return s;
}

/** YAML's white space is spaces and tabs only (not JS's `trim()` set, which takes NBSP too). */
const trimBlanks = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

/** A flat block mapping (what MLflow's meta.yaml files are), values in any scalar style. */
export function parseMetaYaml(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line === '' || line.startsWith('#') || line === '---' || line === '...') {
      i++;
      continue;
    }
    const m = /^([^ \t:#][^:]*?):(?:[ \t]+|$)(.*)$/s.exec(line);
    if (!m) throw new SyntaxError(`meta.yaml line ${i + 1}: expected 'key: value', got ${JSON.stringify(line)}`);
    const key = m[1];
    const continuation: string[] = [];
    i++;
    while (i < lines.length && (lines[i] === '' || /^[ \t\u0085\u2028\u2029]/.test(lines[i])))
      continuation.push(lines[i++]);
    while (continuation.length && trimBlanks(continuation[continuation.length - 1]) === '') continuation.pop();
    const first = m[2];
    const raw = [first, ...continuation].join('\n');
    if (first.startsWith("'") || first.startsWith('"')) out[key] = scanFlowScalar(raw, key);
    else if (trimBlanks(first) === '[]') out[key] = [];
    else if (trimBlanks(first) === '{}') out[key] = {};
    else out[key] = resolvePlain(fold([first, ...continuation].map(trimBlanks)).replace(/[ \t]+#.*$/s, ''));
  }
  return out;
}
