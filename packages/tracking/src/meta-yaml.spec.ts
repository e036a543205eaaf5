import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dumpMetaYaml, parseMetaYaml } from './meta-yaml';

/** What MLflow 3.6 (PyYAML CSafeDumper, width 80) wrote for `{name: value}` on our machines. */
const MLFLOW_WROTE: [string, string][] = [
  ['0', "name: '0'\n"],
  ['yes', "name: 'yes'\n"],
  ['a: b', "name: 'a: b'\n"],
  ['🚀 run', 'name: "\\U0001F680 run"\n'],
  ['tab\there', 'name: "tab\\there"\n'],
  ['multi\nline', "name: 'multi\n\n  line'\n"],
  ["it's", "name: it's\n"],
  ['-x', 'name: -x\n'],
  ['- x', "name: '- x'\n"],
  ['a #b', "name: 'a #b'\n"],
  ['', "name: ''\n"],
  ['2020-01-01', "name: '2020-01-01'\n"],
  ['1e5', 'name: 1e5\n'],
  ['1.5', "name: '1.5'\n"],
  ['08', 'name: 08\n'],
  ['1_000', "name: '1_000'\n"],
  ['null', "name: 'null'\n"],
  [' lead', "name: ' lead'\n"],
  ['é', 'name: é\n'],
  ['\ufeffbom', 'name: "\\uFEFFbom"\n'],
  [
    `${'long name '.repeat(12)}`,
    "name: 'long name long name long name long name long name long name long name long\n  name long name long name long name long name '\n",
  ],
];

describe('dumpMetaYaml: the bytes MLflow writes', () => {
  it.each(MLFLOW_WROTE)('%j', (value, expected) => {
    expect(dumpMetaYaml({ name: value })).toBe(expected);
    expect(parseMetaYaml(expected).name).toBe(value.startsWith('long') ? value : value);
  });

  it('sorts keys, writes null, ints, booleans and []; refuses what MLflow never writes', () => {
    expect(dumpMetaYaml({ z: null, a: 12, m: [], b: true, c: 'x' })).toBe('a: 12\nb: true\nc: x\nm: []\nz: null\n');
    expect(() => dumpMetaYaml({ f: 0.5 })).toThrow(/integer/);
  });
});

describe('parseMetaYaml: whatever wrote it', () => {
  it('reads plain, single- and double-quoted scalars, folded lines, escapes, ints, null, []', () => {
    const text =
      'a: plain text\nb: \'it\'\'s\'\nc: "esc \\t \\u00e9 \\U0001F680 \\"q\\""\nd: 42\ne: null\nf: []\ng: folded plain\n  continues\nh: "split \\\n  joined"\ni: \'0\'\nj: ~\n';
    expect(parseMetaYaml(text)).toEqual({
      a: 'plain text',
      b: "it's",
      c: 'esc \t é 🚀 "q"',
      d: 42,
      e: null,
      f: [],
      g: 'folded plain continues',
      h: 'split joined',
      i: '0',
      j: null,
    });
  });

  it('names the line it cannot read', () => {
    expect(() => parseMetaYaml('good: 1\n  \nnot a mapping line\n')).toThrow(/line 3/);
    expect(() => parseMetaYaml("a: 'open\n")).toThrow(/field 'a'/);
  });
});

/** A fixed pseudo-random corpus: the same strings on every run. */
function corpus(): string[] {
  const alphabet = [
    'a',
    'Z',
    '0',
    '9',
    ' ',
    ' ',
    '-',
    ':',
    '#',
    "'",
    '"',
    '\\',
    '\n',
    '\t',
    '.',
    '?',
    '!',
    '&',
    '*',
    '[',
    ']',
    '{',
    '}',
    ',',
    '%',
    '@',
    '`',
    '|',
    '>',
    'é',
    '中',
    '🚀',
    '\u0085',
    '\u00a0',
    '\u2028',
    '\ufeff',
    '\r',
    '\x07',
    '~',
    '=',
    '<',
    '_',
    '+',
    'e',
    'y',
    'n',
    'T',
    'u',
    'l',
  ];
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const out: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const len = next(3) === 0 ? next(160) : next(12);
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[next(alphabet.length)];
    out.push(s);
  }
  return out;
}

function pyyaml(strings: string[]): { dumped: string[]; loaded: string[] } | string {
  const py =
    "import sys, json, yaml\nfrom yaml import CSafeDumper, CSafeLoader\nd = [yaml.dump({'name': s}, default_flow_style=False, allow_unicode=True, sort_keys=True, Dumper=CSafeDumper) for s in json.load(sys.stdin)]\nprint(json.dumps({'dumped': d, 'loaded': [yaml.load(x, Loader=CSafeLoader)['name'] for x in d]}))";
  try {
    return JSON.parse(
      execFileSync('python3', ['-c', py], {
        input: JSON.stringify(strings),
        maxBuffer: 1 << 26,
        stdio: ['pipe', 'pipe', 'pipe'],
      }).toString(),
    );
  } catch (error) {
    return `python3 with PyYAML (libyaml) is not available: ${(error as Error).message.split('\n')[0]}`;
  }
}

const strings = corpus();
const reference = pyyaml(strings);
if (typeof reference === 'string')
  process.stderr.write(`[tracking] meta.yaml comparison with PyYAML skipped: ${reference}\n`);

describe.skipIf(typeof reference === 'string')('against PyYAML itself (1500 generated strings)', () => {
  const ref = reference as { dumped: string[]; loaded: string[] };
  it('dumps byte for byte what yaml.dump(..., Dumper=CSafeDumper) writes', () => {
    const mismatches = strings.filter((s, i) => dumpMetaYaml({ name: s }) !== ref.dumped[i]);
    expect(mismatches).toEqual([]);
  });
  it('reads back what PyYAML reads back', () => {
    const mismatches = strings.filter((_, i) => parseMetaYaml(ref.dumped[i]).name !== ref.loaded[i]);
    expect(mismatches).toEqual([]);
  });
});
