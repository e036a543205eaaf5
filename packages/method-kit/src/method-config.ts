/**
 * One config schema over several methods: `method: cfa | patchcore | …` chooses which method's
 * strict schema validates the rest (a discriminated union on `method`, `cfa` when absent), and a
 * field that belongs to another method is an error naming the field and the method it belongs to
 * (`loss` on a PatchCore config: "'loss' belongs to method cfa, not patchcore"), with its path.
 *
 * The union is built from the methods handed in, so this package knows none of them: the app
 * registers every method once and validates run configs, sweep cells and bundles with it.
 *
 * @example
 * ```ts
 * const MethodConfigSchema = methodConfigSchema([cfaMethod, patchcoreMethod]);
 * MethodConfigSchema.parse({ method: 'patchcore', backbone: { name: 'wide_resnet50_2' } });
 * ```
 */
import { z } from 'zod';
import type { AnyMethod, ConfigOf } from './method';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The method a config names (`method`), or the first method's when it names none. */
export function methodNameOf(input: unknown, methods: readonly AnyMethod[]): unknown {
  return isObject(input) && input.method !== undefined ? input.method : methods[0].name;
}

export function methodConfigSchema<M extends AnyMethod>(methods: readonly M[]): z.ZodType<ConfigOf<M>> {
  if (methods.length === 0) throw new Error('methodConfigSchema: no methods');
  const names = methods.map((m) => m.name);
  return z.unknown().transform((input, ctx) => {
    const name = methodNameOf(input, methods);
    const method = methods.find((m) => m.name === name);
    if (!method) {
      ctx.addIssue({
        code: 'custom',
        path: ['method'],
        message: `unknown method ${JSON.stringify(name)}: expected one of ${names.join(', ')}`,
      });
      return z.NEVER;
    }
    const parsed = method.configSchema.safeParse(input);
    if (parsed.success) return parsed.data as ConfigOf<M>;
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
        // a top-level key another method knows: say whose it is
        const foreign = issue.keys.filter((k) => methods.some((m) => m !== method && m.configFields.includes(k)));
        for (const key of foreign) {
          const owners = methods.filter((m) => m !== method && m.configFields.includes(key)).map((m) => m.name);
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `'${key}' belongs to method ${owners.length > 1 ? `${owners.slice(0, -1).join(', ')} and ${owners.at(-1)}` : owners[0]}, not ${method.name}`,
          });
        }
        const unknown = issue.keys.filter((k) => !foreign.includes(k));
        if (unknown.length) ctx.addIssue({ ...issue, keys: unknown });
        continue;
      }
      ctx.addIssue(issue as z.core.$ZodRawIssue);
    }
    return z.NEVER;
  });
}
