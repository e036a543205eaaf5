/**
 * TensorFlow.js's gradient functions, which autograd (`tf.grads`, `tf.valueAndGrads`) needs and
 * `@tensorflow/tfjs-core` does not register by itself. It ships them only as ES modules
 * (`dist/register_all_gradients.js`) whose imports name neither extensions nor index files
 * (`'./gradients'`, where a `gradients.js` file and a `gradients/` folder sit side by side) —
 * which bundlers (and vitest) resolve but Node's own ES-module loader refuses. So before that
 * import, a resolve hook (`module.register`) completes such relative specifiers inside
 * tfjs-core's `dist/` with `.js`, and nothing else. The gradients then register into tfjs's global
 * registry, which every copy of tfjs-core shares.
 *
 * @example
 * ```ts
 * await ensureTfGradients();
 * const g = tf.grad((x) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));
 * ```
 */
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const RESOLVE_HOOK = `export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/') && specifier.startsWith('.') && !/\\.[cm]?js$/.test(specifier)) {
    try { return await next(specifier + '.js', context); } catch {}
  }
  return next(specifier, context);
}`;

let loading: Promise<void> | undefined;

/** Registers every tfjs gradient once (a no-op where a bundler or test runner already did). */
export function ensureTfGradients(): Promise<void> {
  loading ??= (async () => {
    if (tf.getGradient('Sum')) return;
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    if (!tf.getGradient('Sum')) throw new Error('ensureTfGradients: the tfjs gradients did not register');
  })();
  return loading;
}
