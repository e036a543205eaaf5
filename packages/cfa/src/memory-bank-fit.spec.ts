import { describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { assertMemoryBankFits } from './memory-bank-fit';

const config = (input: object) => CfaConfigSchema.parse(input);

describe('assertMemoryBankFits', () => {
  it('names γc, the patch grid and the neighbours needed when γc leaves too few centres', () => {
    expect(() =>
      assertMemoryBankFits(config({ memoryBank: { gammaC: 100000 } }), 3136, '56×56 = 3136 patches'),
    ).toThrow(
      /^memoryBank\.gammaC = 100000 leaves ⌊3136 \/ 100000⌋ = 0 memory-bank centre\(s\) for the 56×56 = 3136 patches of this backbone and view, but loss\.K \+ loss\.J = 6 nearest centres are needed per patch: use γc ≤ 522$/,
    );
  });

  it('accepts the largest γc that leaves K + J centres, and refuses the next', () => {
    expect(() => assertMemoryBankFits(config({ memoryBank: { gammaC: 522 } }), 3136)).not.toThrow();
    expect(() => assertMemoryBankFits(config({ memoryBank: { gammaC: 523 } }), 3136)).toThrow(/= 5 memory-bank/);
  });

  it('needs only the scoring K when nothing is trained', () => {
    const none = config({ memoryBank: { gammaC: 1000 }, loss: { terms: 'none' } });
    expect(() => assertMemoryBankFits(none, 3136)).not.toThrow();
    const fewer = config({ memoryBank: { kind: 'paper', gammaC: 2000 }, loss: { terms: 'none' } });
    expect(() => assertMemoryBankFits(fewer, 3136)).toThrow(/but scoring\.K = 3 nearest centres are needed/);
  });
});
