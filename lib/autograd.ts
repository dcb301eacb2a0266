/**
 * Grad mode as PyTorch's context managers, as functions taking a callback: the mode holds while the
 * callback runs (libtorch's NoGradGuard / InferenceMode on this thread) and is restored afterwards,
 * also when it throws. The callback must be synchronous: a mode cannot follow an `await`.
 */
import { native } from './binding';
import { TorchError } from './errors';

function checkFn(name: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TorchError(`${name}: argument 'fn' must be a function, got ${typeof fn}`, 'ERR_TORCH_ARG');
}

function noPromise<T>(name: string, r: T): T {
  if (r instanceof Promise) {
    throw new TorchError(
      `${name}: fn returned a Promise; grad modes apply to synchronous code only (the mode was already restored when it resolved)`,
      'ERR_TORCH_ARG',
    );
  }
  return r;
}

/** with torch.no_grad(): ... */
export function noGrad<T>(fn: () => T): T {
  checkFn('noGrad()', fn);
  return noPromise('noGrad()', native.withGradMode(false, fn));
}

/** with torch.enable_grad(): ... */
export function enableGrad<T>(fn: () => T): T {
  checkFn('enableGrad()', fn);
  return noPromise('enableGrad()', native.withGradMode(true, fn));
}

/** with torch.inference_mode(): ... — tensors made inside can never join autograd later. */
export function inferenceMode<T>(fn: () => T, mode = true): T {
  checkFn('inferenceMode()', fn);
  return noPromise('inferenceMode()', native.withInferenceMode(fn, mode));
}

/** PyTorch's `torch.is_grad_enabled()`: false inside noGrad() / inferenceMode(). */
export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/** PyTorch's `torch.set_grad_enabled(mode)` as a plain setter: turns gradient recording on or off for this thread until changed back (prefer noGrad(fn)). */
export function setGradEnabled(on: boolean): void {
  native.setGradEnabled(on);
}

/** PyTorch's `torch.is_inference_mode_enabled()`: true inside inferenceMode(). */
export function isInferenceModeEnabled(): boolean {
  return native.isInferenceModeEnabled();
}
