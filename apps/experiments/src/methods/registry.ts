/**
 * Every method the toolkit runs, in one list: the run config's `method` field picks one of them
 * (`cfa` when a config names none), bundles are read back through them, and `--method` offers
 * them. A method is a package of its own over @cfa/method-kit; adding one is one line here.
 */
import { type AnyMethod, type ConfigOf, type MethodConfigBase, methodConfigSchema } from '@cfa/method-kit';
import { cfaMethod } from '@cfa/cfa';
import { cradMethod } from '@cfa/crad';
import { fydMethod } from '@cfa/fyd';
import { padimMethod } from '@cfa/padim';
import { patchcoreMethod } from '@cfa/patchcore';

export const METHODS = [
  cfaMethod,
  patchcoreMethod,
  padimMethod,
  fydMethod,
  cradMethod,
] as const satisfies readonly AnyMethod[];

export type MethodName = (typeof METHODS)[number]['name'];
export const METHOD_NAMES = METHODS.map((m) => m.name) as [MethodName, ...MethodName[]];

/** One method's config, chosen by `method` (a discriminated union; another method's field is named as such). */
export const MethodConfigSchema = methodConfigSchema(METHODS);
export type MethodConfig = ConfigOf<(typeof METHODS)[number]>;

/**
 * What every method's config has (`training` and `evaluation` only where the method trains in
 * epochs), readable on the union without narrowing on `method`.
 */
export function sharedFields(config: MethodConfig): MethodConfigBase {
  return config;
}

/** The registered method a config names. */
export function methodOf(config: { method: string }): AnyMethod {
  const method = METHODS.find((m) => m.name === config.method);
  if (!method) throw new Error(`unknown method '${config.method}': expected one of ${METHOD_NAMES.join(', ')}`);
  return method;
}
