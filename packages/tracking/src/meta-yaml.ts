/**
 * The `meta.yaml` files of MLflow's file store, written and read with the `yaml` library.
 *
 * MLflow writes them with PyYAML (`yaml.dump(data, default_flow_style=False, allow_unicode=True,
 * sort_keys=True)`, `mlflow/utils/yaml_utils.py`) and reads them with PyYAML's safe loader. PyYAML
 * decides what a plain scalar is with its own resolver (`yaml/resolver.py`): a plain `yes`, `on`,
 * `0042` or `1:20` is a bool or an int there, while `y`, `08` and `1e5` stay strings — neither
 * YAML 1.2 nor the `yaml` library's YAML 1.1 schema agree on every case. So the schema below is
 * PyYAML's resolver, given to the `yaml` library as its tags: reading resolves plain scalars
 * exactly as MLflow does, and writing quotes every string that MLflow would otherwise read as
 * something else. Keys are sorted, collections in block style, lines never folded; a string with
 * control characters goes double-quoted as JSON, with NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR
 * — line breaks to YAML 1.1 that JSON leaves raw — escaped too. One thing is not read: a file
 * holding a raw NEL/LS/PS, which only PyYAML writes (for a name with such a character), is an
 * `MlflowCorruptStoreError` naming it — the `yaml` library knows YAML 1.2's line breaks only, and
 * an error is better than a value MLflow would read differently.
 *
 * The bytes need not be PyYAML's: what matters is that MLflow reads back the values we wrote,
 * which `local-store-readback.spec.ts` checks with the real server and `meta-yaml.spec.ts` with
 * PyYAML itself when a python3 with PyYAML is at hand. `parseMetaYaml` names the file in the
 * error it throws (`MlflowCorruptStoreError`) for anything that is not a YAML mapping.
 *
 * @example
 * ```ts
 * dumpMetaYaml({ experiment_id: '0', name: 'Default', end_time: null, tags: [] });
 * // "end_time: null\nexperiment_id: \"0\"\nname: Default\ntags: []\n"
 * parseMetaYaml("experiment_id: '0'\n", 'mlruns/0/meta.yaml').experiment_id; // '0'
 * ```
 */
import { Document, parseDocument, type ScalarTag, visit } from 'yaml';
import { MlflowCorruptStoreError } from './errors';

export type MetaValue = string | number | boolean | null | readonly MetaValue[] | { readonly [key: string]: MetaValue };

/** `[-+]?` then digits with `_`, as PyYAML's resolver writes its numbers. */
function unsigned(str: string): { sign: number; body: string } {
  const sign = str.startsWith('-') ? -1 : 1;
  return { sign, body: str.replace(/^[-+]/, '').replaceAll('_', '') };
}

/** `1:20:30` → 4830: YAML 1.1's base-60 numbers. */
function sexagesimal(body: string): number {
  return body.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

// PyYAML's implicit resolvers (resolver.py, Resolver.add_implicit_resolver), in its order.
const PYYAML_TAGS: ScalarTag[] = [
  {
    tag: 'tag:yaml.org,2002:bool',
    default: true,
    identify: (v) => typeof v === 'boolean',
    test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
    resolve: (str) => /^(?:yes|true|on)$/i.test(str),
    stringify: ({ value }) => (value ? 'true' : 'false'),
  },
  {
    tag: 'tag:yaml.org,2002:float',
    default: true,
    identify: (v) => typeof v === 'number' && !Number.isInteger(v),
    test: /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    resolve: (str) => {
      const { sign, body } = unsigned(str);
      if (/^\.inf$/i.test(body)) return sign * Infinity;
      if (/^\.nan$/i.test(body)) return NaN;
      return sign * (body.includes(':') ? sexagesimal(body) : Number(body));
    },
    stringify: ({ value }) => String(value),
  },
  {
    tag: 'tag:yaml.org,2002:int',
    default: true,
    identify: (v) => typeof v === 'number' && Number.isInteger(v),
    test: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
    resolve: (str) => {
      const { sign, body } = unsigned(str);
      if (body.startsWith('0b')) return sign * Number.parseInt(body.slice(2), 2);
      if (body.startsWith('0x')) return sign * Number.parseInt(body.slice(2), 16);
      if (body.includes(':')) return sign * sexagesimal(body);
      if (body.length > 1 && body.startsWith('0')) return sign * Number.parseInt(body, 8);
      return sign * Number(body);
    },
    stringify: ({ value }) => String(value),
  },
  // `<<` and `=` are tags of their own to PyYAML, which its safe loader cannot construct: a string
  // with that text must be quoted, and a file holding them plain is read as the text
  { tag: 'tag:yaml.org,2002:merge', default: true, test: /^<<$/, resolve: (str) => str },
  {
    tag: 'tag:yaml.org,2002:null',
    default: true,
    identify: (v) => v === null || v === undefined,
    test: /^(?:~|null|Null|NULL|)$/,
    resolve: () => null,
    stringify: () => 'null',
  },
  // dates become `datetime` in PyYAML; MLflow never stores one plain, so they are read as the text
  {
    tag: 'tag:yaml.org,2002:timestamp',
    default: true,
    test: /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
    resolve: (str) => str,
  },
  { tag: 'tag:yaml.org,2002:value', default: true, test: /^=$/, resolve: (str) => str },
];

const SCHEMA = { version: '1.1', schema: 'failsafe', customTags: PYYAML_TAGS } as const;
/** Line breaks in YAML 1.1 (and so to PyYAML) that JSON-style escaping leaves raw. */
const YAML11_BREAKS = /[\u0085\u2028\u2029]/;
/**
 * Strings written double-quoted as JSON, the one style whose escapes YAML 1.1 reads exactly:
 * control characters (newlines and tabs included), YAML 1.1's extra breaks, a byte-order mark.
 */
const NEEDS_ESCAPES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;
const BREAK_ESCAPES: Record<string, string> = { '\u0085': '\\N', '\u2028': '\\L', '\u2029': '\\P' };

/** A meta.yaml document; `undefined` fields are left out, `null` ones are written as `null`. */
export function dumpMetaYaml(data: Readonly<Record<string, MetaValue | undefined>>): string {
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      throw new TypeError(`meta.yaml field '${key}': MLflow stores integers here, got ${value}`);
  }
  const doc = new Document(data, { ...SCHEMA, sortMapEntries: true });
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && NEEDS_ESCAPES.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  const text = doc.toString({ lineWidth: 0, minContentWidth: 0, indentSeq: true, doubleQuotedAsJSON: true });
  // every raw break now sits inside a double-quoted scalar, where YAML's escapes apply
  return text.replace(new RegExp(YAML11_BREAKS.source, 'g'), (c) => BREAK_ESCAPES[c]);
}

/** The mapping in a meta.yaml; `MlflowCorruptStoreError` naming `file` when it is not one. */
export function parseMetaYaml(text: string, file = 'meta.yaml'): Record<string, unknown> {
  // PyYAML folds and keeps these breaks by YAML 1.1's rules, which the yaml library does not know:
  // rather than a value that differs from MLflow's reading, say so (we never write them raw)
  if (YAML11_BREAKS.test(text))
    throw new MlflowCorruptStoreError(
      file,
      'holds a raw NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR, which this reader cannot read as PyYAML does; rename the run or experiment without it',
    );
  const doc = parseDocument(text, { ...SCHEMA, uniqueKeys: true, prettyErrors: false, logLevel: 'silent' });
  // an unknown tag (`!!python/object`, which MLflow's safe loader refuses too) is a warning to the library
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new MlflowCorruptStoreError(file, `not valid YAML (${problem.message.split('\n')[0]})`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new MlflowCorruptStoreError(file, `not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new MlflowCorruptStoreError(
      file,
      `expected a YAML mapping of fields, found ${value === null || value === undefined ? 'nothing' : Array.isArray(value) ? 'a list' : typeof value}`,
    );
  return value as Record<string, unknown>;
}
