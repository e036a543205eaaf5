/**
 * Two pieces of a PyTorch training loop that act on the whole optimiser step, in plain numbers so
 * that any engine's gradients go through them:
 *
 * - `stepLrFactor`: `torch.optim.lr_scheduler.StepLR` (γ every `stepSize` epochs) as a loop that
 *   calls `scheduler.step(epoch)` after each epoch — UniAD's and CRAD's `train_val.py` do — uses
 *   it: that call sets the closed form γ^⌊epoch / stepSize⌋ for the *next* epoch, so epoch e
 *   (0-based) trains at γ^⌊max(e − 1, 0) / stepSize⌋ — the first decay one epoch later than a
 *   plain `step()` would give.
 * - `clipGradientNorm`: `torch.nn.utils.clip_grad_norm_` (2-norm over all gradients together,
 *   scaled by min(1, max / (norm + 1e-6))), in place.
 *
 * @example
 * ```ts
 * const norm = clipGradientNorm(grads, 0.1);
 * optimizer.step(grads, stepLrFactor({ epoch, stepSize: 40, gamma: 0.1 }));
 * ```
 */

/** The learning-rate factor of epoch `epoch` (0-based) under the `scheduler.step(epoch)` pattern. */
export function stepLrFactor({ epoch, stepSize, gamma }: { epoch: number; stepSize: number; gamma: number }): number {
  if (!Number.isInteger(stepSize) || stepSize < 1)
    throw new Error(`stepLrFactor: stepSize must be a positive integer, got ${stepSize}`);
  return gamma ** Math.floor(Math.max(epoch - 1, 0) / stepSize);
}

/**
 * Scales the gradients in place so their joint 2-norm is at most `maxNorm`; returns the norm before
 * clipping (what torch returns).
 */
export function clipGradientNorm(grads: Float32Array[], maxNorm: number): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  const norm = Math.sqrt(sum);
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  if (scale < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= scale;
  return norm;
}
