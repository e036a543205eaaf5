/**
 * Whether a config's memory bank can serve its loss and scoring on a given patch grid, checked
 * before any image is embedded: γc compresses the HW patch locations to ⌊HW/γc⌋ centres (paper
 * §3.2, Table 6), and every patch needs its K + J nearest centres in training (K attracting, J
 * repelling) and its K nearest in scoring. A γc too large for the grid would otherwise surface
 * after the memory bank is built, as a search asked for more neighbours than centres exist.
 *
 * @example
 * ```ts
 * assertMemoryBankFits(config, 56 * 56); // throws for memoryBank.gammaC = 100000
 * ```
 */
import { centreCount } from '@cfa/memory-bank';
import { neighboursNeeded } from '@cfa/scoring';
import type { CfaConfig } from './config';

export function assertMemoryBankFits(config: CfaConfig, hw: number, grid = `${hw} patch locations`): void {
  const gammaC = config.memoryBank.gammaC;
  const centres = centreCount(hw, gammaC);
  const trains = config.loss.terms !== 'none' && config.training.epochs > 0;
  const needs = [{ what: `scoring.K = ${config.scoring.K}`, count: config.scoring.K }];
  if (trains) {
    const loss = config.loss;
    const count = neighboursNeeded(loss);
    needs.push({ what: loss.terms === 'att+rep' ? `loss.K + loss.J = ${count}` : `loss.K = ${count}`, count });
  }
  const need = needs.reduce((a, b) => (b.count > a.count ? b : a));
  if (centres >= need.count) return;
  throw new Error(
    `memoryBank.gammaC = ${gammaC} leaves ⌊${hw} / ${gammaC}⌋ = ${centres} memory-bank centre(s) for the ${grid} of this backbone and view, ` +
      `but ${need.what} nearest centres are needed per patch: use γc ≤ ${Math.floor(hw / need.count)}`,
  );
}
