/**
 * `runMethodOnCategory` with CFA filled in, for callers that run CFA alone (its specs, the
 * fidelity target): one category, fit and predict, CFA++ with `ensemble: 'cfa++'`.
 *
 * @example
 * ```ts
 * const run = await runCfaOnCategory({ config, root: 'data/synthetic', category: 'weave', engine });
 * run.summary.radius; // the learned r
 * ```
 */
import { type CategoryRun, type RunCategoryOptions, runMethodOnCategory } from '@cfa/method-kit';
import { cfaMethod } from './cfa-method';
import type { CfaConfig } from './config';
import type { FittedCfa } from './fit';

export type CfaRun = CategoryRun<CfaConfig, FittedCfa>;
export type RunCfaOptions = Omit<RunCategoryOptions<CfaConfig, FittedCfa>, 'method'>;

export function runCfaOnCategory(options: RunCfaOptions): Promise<CfaRun> {
  return runMethodOnCategory({ ...options, method: cfaMethod });
}
