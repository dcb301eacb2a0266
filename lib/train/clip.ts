/**
 * torch.nn.utils.clip_grad_norm_ / clip_grad_value_: gradient clipping, in place, under no-grad,
 * with PyTorch's semantics (total norm over every gradient, clip coefficient max_norm / (norm + 1e-6)
 * clamped to 1 and applied to every gradient even when it is 1, as PyTorch does).
 */
import { noGrad } from '../autograd';
import type { Id } from '../binding';
import { scalarTensor } from '../creation';
import { TorchError, argError } from '../errors';
import { stack } from '../functions';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { callOp } from '../ops/call';

export type Parameters = Tensor | Iterable<Tensor>;

function gradsOf(fn: string, parameters: Parameters): Tensor[] {
  let ps: Tensor[];
  if (parameters instanceof Tensor) ps = [parameters];
  else if (parameters != null && typeof (parameters as any)[Symbol.iterator] === 'function') ps = [...(parameters as Iterable<Tensor>)];
  else return argError(fn, 'parameters', 'a Tensor or an iterable of Tensors', parameters);
  const grads: Tensor[] = [];
  ps.forEach((p, i) => {
    if (!(p instanceof Tensor)) argError(fn, `parameters[${i}]`, 'a Tensor', p);
    const g = p.grad;
    if (g !== null) grads.push(g);
  });
  return grads;
}

function vectorNorm(t: Tensor, ord: number): Tensor {
  return callOp('linalg_vector_norm', t._h as Id, ord, null, false, null);
}

function normTypeOf(fn: string, v: unknown): number {
  if (v === 'inf' || v === Infinity) return Infinity;
  if (v === '-inf' || v === -Infinity) return -Infinity;
  if (typeof v !== 'number' || Number.isNaN(v)) argError(fn, 'normType', "a number, Infinity or 'inf'", v);
  return v as number;
}

export interface ClipGradNormOptions {
  /** The p of the p-norm: 2 by default; Infinity (or 'inf') for the max-abs norm. */
  normType?: number | 'inf' | '-inf';
  /** Throw when the total norm is NaN or infinite (then no gradient is changed). */
  errorIfNonfinite?: boolean;
  /** Accepted for PyTorch compatibility; ignored. */
  foreach?: boolean | null;
}

/**
 * Scales every gradient of `parameters` in place so that their total norm (the norm of all of them
 * together, as if concatenated) is at most maxNorm. Returns the total norm before clipping, a 0-dim
 * tensor (a new one, owned by the caller's scope). Parameters without a gradient are skipped; with
 * none at all it returns tensor(0.).
 */
export function clipGradNorm_(parameters: Parameters, maxNorm: number, options: ClipGradNormOptions = {}): Tensor {
  const fn = 'clipGradNorm_()';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) argError(fn, 'maxNorm', 'a number', maxNorm);
  if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ normType, errorIfNonfinite }', options);
  const normType = normTypeOf(fn, options.normType ?? 2);
  const grads = gradsOf(fn, parameters);
  if (grads.length === 0) return scalarTensor(0.0);
  return noGrad(() =>
    tidy(() => {
      const device = grads[0].device;
      const norms = grads.map((g) => {
        const n = vectorNorm(g, normType);
        return n.device === device ? n : n.to(device);
      });
      const total = vectorNorm(stack(norms), normType);
      if (options.errorIfNonfinite) {
        const v = total.item() as number;
        if (!Number.isFinite(v)) {
          throw new TorchError(
            `${fn}: the total norm of order ${normType === Infinity ? 'inf' : normType} for gradients from \`parameters\` is non-finite, ` +
              'so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`',
            'ERR_TORCH',
          );
        }
      }
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1.0);
      for (const g of grads) {
        if (g.device === device) g.mul_(coef);
        else g.mul_(coef.to(g.device));
      }
      return total;
    }),
  );
}

/** Clamps every gradient of `parameters` in place to [-clipValue, clipValue]. */
export function clipGradValue_(parameters: Parameters, clipValue: number): void {
  const fn = 'clipGradValue_()';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) argError(fn, 'clipValue', 'a number', clipValue);
  const grads = gradsOf(fn, parameters);
  noGrad(() => {
    for (const g of grads) g.clamp_(-clipValue, clipValue);
  });
}
