/** What the built-in layers share: factory options, argument checks, PyTorch's printed forms, parameter creation. */
import { bindArgs, checkBool } from '../../checks';
import { empty } from '../../creation';
import type { DeviceLike } from '../../device';
import type { DType } from '../../dtype';
import { TorchError, argError, checkOptions } from '../../errors';
import { Tensor } from '../../tensor';
import { ones_, zeros_ } from '../init';
import { Parameter } from '../module';

/** Where a layer's parameters are made: PyTorch's factory keyword arguments `dtype=` and `device=`. */
export interface FactoryOptions {
  /** The parameters' dtype (default float32). */
  dtype?: DType;
  /** The parameters' device (default `'cpu'`). */
  device?: DeviceLike;
}

/** A size given as one number for both spatial dimensions, or as `[h, w]` (PyTorch's `_size_2_t`). */
export type Pair = number | [number, number];

/** @internal Python's repr of a float: 1e-05, 0.1, 1.0 (for extraRepr). */
export function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e16)) return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(x);
}
export const pyBool = (b: boolean) => (b ? 'True' : 'False');
export const pyTuple = (xs: number[]) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`);

export function tupleOf(fn: string, param: string, v: unknown, n: number, min = 0): number[] {
  const xs = typeof v === 'number' ? Array(n).fill(v) : v;
  if (!Array.isArray(xs) || xs.length !== n || !xs.every((x) => Number.isInteger(x) && x >= min)) {
    argError(fn, param, `an integer >= ${min} or an array of ${n} of them`, v);
  }
  return xs as number[];
}

/** @internal A new parameter of the given shape (uninitialised: the layer's resetParameters() fills it). */
export function newParam(shape: number[], o: FactoryOptions): Parameter {
  const t = empty(shape, { dtype: o.dtype, device: o.device });
  const p = new Parameter(t);
  t.dispose();
  return p;
}

/** The norm layers' reset_parameters: an affine weight to 1, its bias to 0 (either may be absent). */
export function resetAffine(m: { weight: Parameter | null; bias: Parameter | null }): void {
  if (m.weight) ones_(m.weight);
  if (m.bias) zeros_(m.bias);
}

export function checkInputDim(name: string, x: Tensor, dims: number[]): void {
  if (!(x instanceof Tensor)) argError(`${name}.forward()`, 'input', 'a Tensor', x);
  const d = x.dim();
  if (!dims.includes(d)) {
    throw new TorchError(`${name}: expected ${dims.map((n) => `${n}D`).join(' or ')} input (got ${d}D input)`, 'ERR_TORCH_ARG');
  }
}

export function inplaceOption(fn: string, options: boolean | { inplace?: boolean } | undefined): boolean {
  return checkBool(fn, 'inplace', bindArgs(fn, ['inplace'], [options]).inplace ?? false);
}

/**
 * A layer's options object, checked: an object whose every key the layer takes (Python raises a
 * TypeError for an unexpected keyword argument; a misspelt or snake_case key must not be ignored).
 */
export function layerOptions<T extends object>(fn: string, options: T, known: readonly string[]): T {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) argError(fn, 'options', `an options object (${known.join(', ')})`, options);
  checkOptions(fn, options, known);
  return options;
}

/** The keys of FactoryOptions, for layerOptions. */
export const FACTORY_KEYS = ['dtype', 'device'] as const;
