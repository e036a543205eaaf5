/** Property modules for property-worker.spec.ts: one that passes, one that hangs, one that eats memory. */
import type { NoteInput, PropertyOutcome } from '../testing/property-worker';

export async function passes(note: NoteInput): Promise<PropertyOutcome> {
  note('input 1');
  return { failures: [], runs: { sample: 1 } };
}

export async function hangs(note: NoteInput): Promise<PropertyOutcome> {
  note('the input that hangs');
  for (;;) {
    // a decoder stuck in a loop that never yields
  }
}

export async function eatsMemory(note: NoteInput): Promise<PropertyOutcome> {
  note('the input that eats memory');
  const hoard: object[] = [];
  for (;;) hoard.push({ a: hoard.length, b: [hoard.length] });
}

export async function fails(note: NoteInput): Promise<PropertyOutcome> {
  note('input 1');
  return { failures: ['decode: Counterexample: [[1, 2]]\nGot: TypeError: oops'], runs: { decode: 7 } };
}

export async function idle(): Promise<PropertyOutcome> {
  return { failures: [], runs: { decode: 4, header: 0 } };
}
