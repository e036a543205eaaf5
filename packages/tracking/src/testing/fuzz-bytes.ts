/**
 * Byte-level damage for property tests of the decoders (file store, spool): random bytes,
 * truncations of a valid file, and point mutations of it (set, insert, delete), plus hostile
 * texts chosen by hand (YAML alias bombs, deep nesting, huge numbers, odd encodings).
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(damaged(validBytes, HOSTILE_YAML), async ({ bytes }) => { … }));
 * ```
 */
import fc from 'fast-check';

export type Damage =
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'truncated'; bytes: Uint8Array; at: number }
  | { kind: 'mutated'; bytes: Uint8Array }
  | { kind: 'hostile'; bytes: Uint8Array };

type Edit = [position: number, byte: number, op: 'set' | 'insert' | 'delete'];

function applyEdits(valid: Uint8Array, edits: Edit[]): Uint8Array {
  const out = [...valid];
  for (const [position, byte, op] of edits) {
    const at = out.length ? position % (out.length + (op === 'insert' ? 1 : 0)) : 0;
    if (op === 'insert') out.splice(at, 0, byte);
    else if (!out.length) continue;
    else if (op === 'delete') out.splice(at, 1);
    else out[at] = byte;
  }
  return Uint8Array.from(out);
}

/** Any of the four kinds of damage to `valid`. */
export function damaged(valid: Uint8Array, hostile: string[] = []): fc.Arbitrary<Damage> {
  const kinds: fc.Arbitrary<Damage>[] = [
    fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ kind: 'random' as const, bytes })),
    fc.nat({ max: valid.length }).map((at) => ({ kind: 'truncated' as const, bytes: valid.subarray(0, at), at })),
    fc
      .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
        minLength: 1,
        maxLength: 6,
      })
      .map((edits) => ({ kind: 'mutated' as const, bytes: applyEdits(valid, edits as Edit[]) })),
  ];
  if (hostile.length)
    kinds.push(fc.constantFrom(...hostile).map((text) => ({ kind: 'hostile' as const, bytes: Buffer.from(text) })));
  return fc.oneof(...kinds);
}

/** Texts that have broken YAML and JSON readers elsewhere. */
export const HOSTILE_TEXTS = [
  // alias bomb ("billion laughs")
  `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`,
  `${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
  `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}\n`,
  'status: 99999999999999999999999999\nstart_time: -1\n',
  'experiment_id: !!python/object/apply:os.system ["true"]\n',
  'run_id: ~\nexperiment_id: []\nstatus: .nan\n',
  '\ufeffname: bom\n',
  'a: 1\n\0\0\0',
  '{"seq":1e400,"op":"updateRun","request":{"runId":"r","status":"FINISHED"}}\n',
  '{"__proto__":{"polluted":true},"seq":1,"op":"updateRun","request":{"runId":"r","status":"FINISHED"}}\n',
  '{"ack":9007199254740993}\n',
  '1 2 3\n'.repeat(5_000),
  '9999999999999999999999 1e999 99999999999999999999\n',
];
