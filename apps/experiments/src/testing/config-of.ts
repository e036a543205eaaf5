/**
 * A spec's view of one method's config: once several methods are registered, a run config is a
 * union, and a spec that reads CFA's `training` (or PatchCore's `coreset`) narrows it first.
 */
import { expect } from 'vitest';
import type { RunConfig } from '../run/run-config';

/** `config` as method `name`'s run config (the spec fails when it is another method's). */
export function configOf<N extends RunConfig['method']>(name: N, config: RunConfig): Extract<RunConfig, { method: N }> {
  expect(config.method).toBe(name);
  return config as Extract<RunConfig, { method: N }>;
}
