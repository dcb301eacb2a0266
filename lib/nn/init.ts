/**
 * torch.nn.init: in-place weight initialisers with PyTorch's names and formulas; each runs under
 * no-grad and returns the tensor it filled.
 * @module
 */
import { noGrad } from '../autograd';
import { emptyLike, scalarTensor } from '../creation';
import { TorchError, argError } from '../errors';
import { tidy } from '../scope';
import { type Tensor, idOf } from '../tensor';
import { callInplace, callOp } from '../ops/call';

/** The `nonlinearity` names calculateGain() and the Kaiming initialisers accept (PyTorch's strings). */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** torch.nn.init.calculate_gain */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return argError('calculateGain()', 'nonlinearity', 'a known nonlinearity', nonlinearity);
  }
}

/** [fanIn, fanOut] of a weight tensor (dims >= 2), as torch.nn.init._calculate_fan_in_and_fan_out. */
export function fanInAndFanOut(t: Tensor): [number, number] {
  const shape = t.shape;
  if (shape.length < 2) throw new TorchError('fan in and fan out need a tensor with at least 2 dimensions', 'ERR_TORCH_ARG');
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

/** PyTorch's `torch.nn.init.uniform_(tensor, a=0, b=1)`: fills `t` from U(a, b) in place; returns `t`. */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  const id = idOf(t, 'uniform_()', 'tensor');
  noGrad(() => callInplace('uniform_', id, a, b));
  return t;
}

/** PyTorch's `torch.nn.init.normal_(tensor, mean=0, std=1)`: fills `t` from N(mean, std²) in place; returns `t`. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  const id = idOf(t, 'normal_()', 'tensor');
  noGrad(() => callInplace('normal_', id, mean, std));
  return t;
}

/** PyTorch's `torch.nn.init.constant_`: fills `t` with `value` in place; returns `t`. */
export function constant_(t: Tensor, value: number): Tensor {
  idOf(t, 'constant_()', 'tensor');
  noGrad(() => t.fill_(value));
  return t;
}
/** PyTorch's `torch.nn.init.zeros_`: fills `t` with 0 in place; returns `t`. */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
/** PyTorch's `torch.nn.init.ones_`: fills `t` with 1 in place; returns `t`. */
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** Options of kaimingUniform_ / kaimingNormal_ (PyTorch's keyword arguments). */
export interface KaimingOptions {
  /** The negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** `'fan_in'` (default) keeps the forward pass's variance, `'fan_out'` the backward pass's. */
  mode?: 'fan_in' | 'fan_out';
  /** The nonlinearity whose gain is used (default `'leaky_relu'`). */
  nonlinearity?: Nonlinearity;
}

/** The standard deviation Kaiming (He) initialisation aims for: gain / sqrt(fan). */
function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  const fan = (options.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  return calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fan);
}

/** PyTorch's `torch.nn.init.kaiming_uniform_`: He initialisation, U(-bound, bound) with bound = gain·sqrt(3 / fan); returns `t`. */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

/** PyTorch's `torch.nn.init.kaiming_normal_`: He initialisation, N(0, (gain / sqrt(fan))²); returns `t`. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}

/** PyTorch's `torch.nn.init.xavier_uniform_(tensor, gain=1)`: Glorot, U(-a, a) with a = gain·sqrt(6 / (fanIn + fanOut)); returns `t`. */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  const a = Math.sqrt(3) * gain * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}

/** PyTorch's `torch.nn.init.xavier_normal_(tensor, gain=1)`: Glorot, N(0, (gain·sqrt(2 / (fanIn + fanOut)))²); returns `t`. */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

// ---- trunc_normal_ -------------------------------------------------------------------------------
/**
 * erf(x) in double precision (|error| < 1e-14): a Taylor series for |x| < 3, the continued fraction of
 * erfc beyond. trunc_normal_ only uses it to choose its sampling method (p > 0.3), so a last-bit
 * difference from C's erf cannot change the random draws except on that exact boundary.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 3) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...)))), evaluated backwards
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const inplace = (key: string, t: Tensor, ...args: unknown[]): void => {
  callInplace(key, t._h, ...args);
};

/** Options of truncNormal_ (PyTorch's keyword arguments). */
export interface TruncNormalOptions {
  /** The mean of the normal (default 0). */
  mean?: number;
  /** The standard deviation of the normal (default 1). */
  std?: number;
  /** The lower cut-off (default -2). */
  a?: number;
  /** The upper cut-off (default 2). */
  b?: number;
}

/**
 * torch.nn.init.trunc_normal_(tensor, mean, std, a, b) as torch 2.15 implements it: when more than 30%
 * of the normal's mass lies in [a, b], normal_ then redraw (a whole new normal_ of the tensor's size,
 * kept through torch.where) wherever a value fell outside, until none does; otherwise uniform
 * rejection sampling against the normal's density. The same ATen calls in the same order as PyTorch,
 * so after the same seed the values are PyTorch's. In place, under no-grad; returns the tensor.
 */
export function truncNormal_(t: Tensor, options: TruncNormalOptions = {}): Tensor {
  const fn = 'truncNormal_()';
  idOf(t, fn, 'tensor');
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const a = options.a ?? -2;
  const b = options.b ?? 2;
  for (const [k, v] of Object.entries({ mean, std, a, b })) {
    if (typeof v !== 'number' || Number.isNaN(v)) argError(fn, k, 'a number', v);
  }
  if (!(std > 0)) argError(fn, 'std', 'a positive number', std);
  if (!(a < b)) throw new TorchError(`${fn}: the cut-offs must satisfy a < b, got a=${a}, b=${b}`, 'ERR_TORCH_ARG');
  const normCdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const p = normCdf((b - mean) / std) - normCdf((a - mean) / std);
  noGrad(() =>
    tidy(() => {
      if (p > 0.3) {
        // The bounds as the tensor's dtype represents them, as tensor.new_tensor(a).item().
        const lo = scalarTensor(a, { dtype: t.dtype }).item() as number;
        const hi = scalarTensor(b, { dtype: t.dtype }).item() as number;
        inplace('normal_', t, mean, std);
        let result: Tensor = t;
        for (;;) {
          const mask = result.lt(lo).logicalOr(result.gt(hi));
          if (!mask.any().item()) break;
          const redraw = emptyLike(result);
          inplace('normal_', redraw, mean, std);
          result = callOp('where.self', mask._h, redraw._h, result._h);
        }
        if (result !== t) t.copy_(result);
      } else {
        const mode = Math.max(a, Math.min(mean, b));
        const logPeak = -0.5 * ((mode - mean) / std) ** 2;
        const candidates = emptyLike(t);
        const acceptBuf = emptyLike(t);
        const logPdf = (c: Tensor) => {
          c.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(logPeak);
        };
        const accept = () => {
          inplace('uniform_', acceptBuf, 0, 1);
          return acceptBuf.log_().gt(candidates);
        };
        inplace('uniform_', t, a, b);
        candidates.copy_(t);
        logPdf(candidates);
        let pending = accept();
        if (pending.any().item()) {
          let result: Tensor = t;
          for (;;) {
            inplace('uniform_', candidates, a, b);
            result = callOp('where.self', pending._h, candidates._h, result._h);
            logPdf(candidates);
            pending = callOp('where.self', pending._h, accept()._h, pending._h);
            if (!pending.any().item()) break;
          }
          t.copy_(result);
        }
      }
    }),
  );
  return t;
}
