/**
 * torch.nn.functional: layers and losses as functions, each one ATen operator reached through the
 * dispatcher (as PyTorch's own F.* do), so results and gradients are PyTorch's. Options objects take
 * PyTorch's keyword names in camelCase: F.conv2d(x, w, b, { stride: 2, padding: 1 }).
 * @module
 */
import { TorchError, argError, checkOptions } from '../errors';
import { bindArgs, checkBool, checkInt, checkNumber, checkProbability, idOf, optIdOf } from '../checks';
import { native } from '../binding';
import { CONV, POOL, TERNARY, codeOf } from '../ops/codes';
import { Tensor, wrap } from '../tensor';
import type { DType } from '../dtype';
import { callInplace, callOp as call } from '../ops/call';

type IntOrPair = number | number[];
/** How a loss combines its per-element values: PyTorch's `reduction=` strings. */
export type Reduction = 'none' | 'mean' | 'sum';

const REDUCTIONS: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function reductionCode(fn: string, r: unknown = 'mean'): number {
  const code = REDUCTIONS[r as Reduction];
  if (code === undefined) argError(fn, 'reduction', "'none', 'mean' or 'sum'", r);
  return code;
}

const nonNegInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
function ints(fn: string, param: string, v: unknown): IntOrPair {
  if (nonNegInt(v)) return v as number;
  if (Array.isArray(v)) {
    let ok = true;
    for (let i = 0; i < v.length; i++) ok &&= nonNegInt(v[i]);
    if (ok) return v;
  }
  return argError(fn, param, 'a non-negative integer or an array of them', v);
}

/** ints() as a list of n (a number stands for n of itself, as PyTorch's int[2]); small ones are shared. */
const repeated = (n: number) => Array.from({ length: 65 }, (_, x) => Object.freeze(Array(n).fill(x)) as number[]);
const REPEATED: number[][][] = [[], repeated(1), repeated(2)];
function intList(fn: string, param: string, v: unknown, n: 1 | 2): number[] {
  const x = ints(fn, param, v);
  if (typeof x !== 'number') return x;
  return x <= 64 ? REPEATED[n][x] : Array(n).fill(x);
}

// The unboxed entry points (binding/ops/pointwise.def) of the layers a forward pass calls most.
const LINEAR = codeOf(TERNARY, 'linear');
const CONV1D = codeOf(CONV, 'conv1d');
const CONV2D = codeOf(CONV, 'conv2d');
const MAX_POOL2D = codeOf(POOL, 'maxPool2d');

// ---- layers ------------------------------------------------------------------------------------
/** PyTorch's `F.linear(input, weight, bias=None)`: input·weightᵀ + bias; weight is [out, in]. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const fn = 'linear()';
  return wrap(native.ternary(LINEAR, idOf(input, fn, 'input'), idOf(weight, fn, 'weight'), optIdOf(bias, fn, 'bias')));
}

/** PyTorch's `F.bilinear(input1, input2, weight, bias=None)`: x1ᵀ·A·x2 + b; weight is [out, in1, in2]. */
export function bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const fn = 'bilinear()';
  return call('bilinear', idOf(input1, fn, 'input1'), idOf(input2, fn, 'input2'), idOf(weight, fn, 'weight'), optIdOf(bias, fn, 'bias'));
}

/** The keyword arguments of PyTorch's `F.conv1d` / `F.conv2d`. */
export interface ConvOptions {
  /** The stride (default 1). */
  stride?: IntOrPair;
  /** Numbers, or 'same' / 'valid' as PyTorch. */
  padding?: IntOrPair | 'same' | 'valid';
  /** The spacing between kernel elements (default 1). */
  dilation?: IntOrPair;
  /** Blocked connections from input to output channels (default 1). */
  groups?: number;
}

function conv(name: 'conv1d' | 'conv2d', input: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: ConvOptions) {
  const n = name === 'conv1d' ? 1 : 2;
  const fn = n === 1 ? 'conv1d()' : 'conv2d()';
  const x = idOf(input, fn, 'input');
  const w = idOf(weight, fn, 'weight');
  const b = optIdOf(bias, fn, 'bias');
  const stride = intList(fn, 'stride', o.stride ?? 1, n);
  const groups = o.groups ?? 1;
  checkInt(fn, 'groups', groups, 1);
  const dilation = intList(fn, 'dilation', o.dilation ?? 1, n);
  // padding 'same' / 'valid' is another overload: the dispatcher's; numbers are the unboxed call.
  if (o.padding === 'same' || o.padding === 'valid') return call(`${name}.padding`, x, w, b, stride, o.padding, dilation, groups);
  const padding = intList(fn, 'padding', o.padding ?? 0, n);
  // The lists as trailing arguments (binding.ts); a length other than n is ATen's error to give.
  if (stride.length !== n || padding.length !== n || dilation.length !== n) return call(name, x, w, b, stride, padding, dilation, groups);
  if (n === 1) return wrap(native.convOp(CONV1D, x, w, b, groups, stride[0], padding[0], dilation[0]));
  // Square parameters as one value each (ATen expands a one-element list to every spatial dimension): three fewer N-API reads.
  if (stride[0] === stride[1] && padding[0] === padding[1] && dilation[0] === dilation[1])
    return wrap(native.convOp(CONV2D, x, w, b, groups, stride[0], padding[0], dilation[0]));
  return wrap(native.convOp(CONV2D, x, w, b, groups, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]));
}

/** PyTorch's `F.conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`: input [N, C, L], weight [out, C / groups, k]. */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  checkOptions('conv1d()', options, ['stride', 'padding', 'dilation', 'groups']);
  return conv('conv1d', input, weight, bias, options);
}

/** PyTorch's `F.conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`: input [N, C, H, W], weight [out, C / groups, kH, kW]. */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  checkOptions('conv2d()', options, ['stride', 'padding', 'dilation', 'groups']);
  return conv('conv2d', input, weight, bias, options);
}

/**
 * PyTorch's `F.conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)`:
 * weight is [C, out / groups, kH, kW].
 */
export function convTranspose2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: { stride?: IntOrPair; padding?: IntOrPair; outputPadding?: IntOrPair; groups?: number; dilation?: IntOrPair } = {},
): Tensor {
  checkOptions('convTranspose2d()', options, ['stride', 'padding', 'outputPadding', 'groups', 'dilation']);
  const fn = 'convTranspose2d()';
  return call(
    'conv_transpose2d.input',
    idOf(input, fn, 'input'),
    idOf(weight, fn, 'weight'),
    optIdOf(bias, fn, 'bias'),
    ints(fn, 'stride', options.stride ?? 1),
    ints(fn, 'padding', options.padding ?? 0),
    ints(fn, 'outputPadding', options.outputPadding ?? 0),
    options.groups ?? 1,
    ints(fn, 'dilation', options.dilation ?? 1),
  );
}

/** The keyword arguments maxPool2d and avgPool2d share. */
export interface PoolOptions {
  /** Defaults to kernelSize, as PyTorch. */
  stride?: IntOrPair | null;
  /** Implicit padding on each side (default 0). */
  padding?: IntOrPair;
  /** Round the output size up rather than down (default false). */
  ceilMode?: boolean;
}

/**
 * PyTorch's `F.max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)`:
 * the maximum over each window. One unboxed call (native.poolOp), which pools a float input of 8 or
 * more channels that needs no gradient through ATen's channels-last kernel: the same values, 3-4x
 * faster (binding/ops/pointwise.cc, MaxPool2d).
 */
export function maxPool2d(input: Tensor, kernelSize: IntOrPair, options: PoolOptions & { dilation?: IntOrPair } = {}): Tensor {
  checkOptions('maxPool2d()', options, ['stride', 'padding', 'ceilMode', 'dilation']);
  const fn = 'maxPool2d()';
  const x = idOf(input, fn, 'input');
  const k = intList(fn, 'kernelSize', kernelSize, 2);
  const st = options.stride == null ? k : intList(fn, 'stride', options.stride, 2);
  const pd = intList(fn, 'padding', options.padding ?? 0, 2);
  const dl = intList(fn, 'dilation', options.dilation ?? 1, 2);
  const ceil = checkBool(fn, 'ceilMode', options.ceilMode ?? false);
  // A list of another length is ATen's error to give (the dispatcher's call).
  if (k.length !== 2 || st.length !== 2 || pd.length !== 2 || dl.length !== 2) return call('max_pool2d', x, k, st, pd, dl, ceil);
  return wrap(native.poolOp(MAX_POOL2D, x, ceil, k[0], k[1], st[0], st[1], pd[0], pd[1], dl[0], dl[1]));
}

/** PyTorch's `F.avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)`: the mean over each window. */
export function avgPool2d(
  input: Tensor,
  kernelSize: IntOrPair,
  options: PoolOptions & { countIncludePad?: boolean; divisorOverride?: number | null } = {},
): Tensor {
  checkOptions('avgPool2d()', options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const fn = 'avgPool2d()';
  return call(
    'avg_pool2d',
    idOf(input, fn, 'input'),
    ints(fn, 'kernelSize', kernelSize),
    options.stride == null ? [] : ints(fn, 'stride', options.stride),
    ints(fn, 'padding', options.padding ?? 0),
    options.ceilMode ?? false,
    options.countIncludePad ?? true,
    options.divisorOverride ?? null,
  );
}

/** PyTorch's `F.adaptive_avg_pool2d(input, output_size)`: average pooling to an [H, W] output whatever the input size. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: IntOrPair): Tensor {
  const fn = 'adaptiveAvgPool2d()';
  return call('adaptive_avg_pool2d', idOf(input, fn, 'input'), ints(fn, 'outputSize', outputSize));
}

/** The keywords of F.dropout and F.dropout2d (PyTorch's p=0.5, training=True, inplace=False). */
export interface DropoutOptions {
  /** The probability of an element (a channel for dropout2d) being zeroed (default 0.5). */
  p?: number;
  /** Apply dropout (default true); false: the identity. */
  training?: boolean;
  /** Overwrite and return the input itself (default false). */
  inplace?: boolean;
}

/** dropout/dropout2d: `name` out of place, or `name_` on the input itself (returned), as PyTorch's F.dropout(x, p, training, inplace). */
function dropoutOp(fn: string, name: string, input: Tensor, given: unknown[]): Tensor {
  const id = idOf(input, fn, 'input');
  const a = bindArgs(fn, ['p', 'training', 'inplace'], given);
  const args = [checkProbability(fn, 'p', a.p ?? 0.5), a.training === undefined ? true : checkBool(fn, 'training', a.training)];
  if (!checkBool(fn, 'inplace', a.inplace ?? false)) return call(name, id, ...args);
  callInplace(`${name}_`, id, ...args);
  return input;
}

/**
 * PyTorch's `F.dropout(input, p=0.5, training=True, inplace=False)`: zeroes elements with probability p and scales the rest by 1/(1-p); the identity when not
 * training. Positional as Python's (`F.dropout(x, 0.2, true)`) or keywords (`F.dropout(x, { p: 0.2, inplace: true })`).
 */
export function dropout(input: Tensor, p?: number | DropoutOptions, training?: boolean | DropoutOptions, inplace?: boolean | DropoutOptions): Tensor {
  return dropoutOp('dropout()', 'dropout', input, [p, training, inplace]);
}

/**
 * PyTorch's `F.dropout2d(input, p=0.5, training=True, inplace=False)`: zeroes whole channels x[n, c] with probability p and scales the rest by 1/(1-p);
 * with inplace the input itself is overwritten and returned (in eval mode too, unchanged), as in PyTorch.
 */
export function dropout2d(input: Tensor, p?: number | DropoutOptions, training?: boolean | DropoutOptions, inplace?: boolean | DropoutOptions): Tensor {
  return dropoutOp('dropout2d()', 'feature_dropout', input, [p, training, inplace]);
}

/**
 * batch_norm. In training mode the running statistics are updated in place, as in PyTorch.
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: { weight?: Tensor | null; bias?: Tensor | null; training?: boolean; momentum?: number; eps?: number } = {},
): Tensor {
  checkOptions('batchNorm()', options, ['weight', 'bias', 'training', 'momentum', 'eps']);
  const fn = 'batchNorm()';
  const training = options.training ?? false;
  if (!training && (runningMean == null || runningVar == null)) {
    throw new TorchError(`${fn}: 'runningMean' and 'runningVar' are needed when training is false`, 'ERR_TORCH_ARG');
  }
  if (training && input instanceof Tensor && input.dim() >= 2) {
    // PyTorch's _verify_batch_size: batch statistics of one value per channel are meaningless
    const s = input.shape;
    if (s[0] * s.slice(2).reduce((a, b) => a * b, 1) === 1) {
      throw new TorchError(`${fn}: expected more than 1 value per channel when training, got input size [${s.join(', ')}]`, 'ERR_TORCH_ARG');
    }
  }
  return call(
    'batch_norm',
    idOf(input, fn, 'input'),
    optIdOf(options.weight, fn, 'weight'),
    optIdOf(options.bias, fn, 'bias'),
    optIdOf(runningMean, fn, 'runningMean'),
    optIdOf(runningVar, fn, 'runningVar'),
    training,
    checkNumber(fn, 'momentum', options.momentum ?? 0.1),
    checkNumber(fn, 'eps', options.eps ?? 1e-5),
    true,
  );
}

/** PyTorch's `F.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05)`: normalises over the trailing `normalizedShape`. */
export function layerNorm(input: Tensor, normalizedShape: number[], options: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {}): Tensor {
  checkOptions('layerNorm()', options, ['weight', 'bias', 'eps']);
  const fn = 'layerNorm()';
  return call(
    'layer_norm',
    idOf(input, fn, 'input'),
    ints(fn, 'normalizedShape', normalizedShape),
    optIdOf(options.weight, fn, 'weight'),
    optIdOf(options.bias, fn, 'bias'),
    checkNumber(fn, 'eps', options.eps ?? 1e-5),
  );
}

/** PyTorch's `F.group_norm(input, num_groups, weight=None, bias=None, eps=1e-05)`: normalises each group of channels of [N, C, ...]. */
export function groupNorm(input: Tensor, numGroups: number, options: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {}): Tensor {
  checkOptions('groupNorm()', options, ['weight', 'bias', 'eps']);
  const fn = 'groupNorm()';
  checkInt(fn, 'numGroups', numGroups, 1);
  return call(
    'group_norm',
    idOf(input, fn, 'input'),
    numGroups,
    optIdOf(options.weight, fn, 'weight'),
    optIdOf(options.bias, fn, 'bias'),
    checkNumber(fn, 'eps', options.eps ?? 1e-5),
  );
}

/** PyTorch's `F.embedding(input, weight, padding_idx=None)`: the rows of `weight` at the integer indices in `input`; the padding row gets no gradient. */
export function embedding(input: Tensor, weight: Tensor, options: { paddingIdx?: number | null; scaleGradByFreq?: boolean } = {}): Tensor {
  const fn = 'embedding()';
  checkOptions(fn, options, ['paddingIdx', 'scaleGradByFreq']);
  let pad = options.paddingIdx ?? -1;
  if (!Number.isInteger(pad)) argError(fn, 'paddingIdx', 'an integer or null', pad);
  if (options.paddingIdx != null && pad < 0) pad += weight.size(0);
  return call('embedding', idOf(weight, fn, 'weight'), idOf(input, fn, 'input'), pad, checkBool(fn, 'scaleGradByFreq', options.scaleGradByFreq ?? false));
}

/** F.pad(x, [left, right, top, bottom, ...], { mode: 'constant' | 'reflect' | 'replicate' | 'circular', value }) */
export function pad(input: Tensor, padding: number[], options: { mode?: 'constant' | 'reflect' | 'replicate' | 'circular'; value?: number } = {}): Tensor {
  checkOptions('pad()', options, ['mode', 'value']);
  const fn = 'pad()';
  if (!Array.isArray(padding) || padding.length % 2 !== 0 || !padding.every(Number.isInteger)) {
    argError(fn, 'pad', 'an array of integers of even length', padding);
  }
  const mode = options.mode ?? 'constant';
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) argError(fn, 'mode', "'constant', 'reflect', 'replicate' or 'circular'", mode);
  return call('pad', idOf(input, fn, 'input'), padding, mode, mode === 'constant' ? (options.value ?? 0) : null);
}

/** F.interpolate for 4-d input: mode 'nearest' or 'bilinear', by size or scaleFactor. */
export function interpolate(
  input: Tensor,
  options: { size?: IntOrPair; scaleFactor?: number | number[]; mode?: 'nearest' | 'bilinear'; alignCorners?: boolean },
): Tensor {
  checkOptions('interpolate()', options, ['size', 'scaleFactor', 'mode', 'alignCorners']);
  const fn = 'interpolate()';
  const id = idOf(input, fn, 'input');
  if ((options.size == null) === (options.scaleFactor == null)) {
    throw new TorchError(`${fn}: give exactly one of 'size' and 'scaleFactor'`, 'ERR_TORCH_ARG');
  }
  const size =
    options.size == null
      ? null
      : (() => {
          const s = ints(fn, 'size', options.size);
          return typeof s === 'number' ? [s, s] : s;
        })();
  const scale = options.scaleFactor == null ? null : typeof options.scaleFactor === 'number' ? [options.scaleFactor, options.scaleFactor] : options.scaleFactor;
  const mode = options.mode ?? 'nearest';
  if (mode === 'nearest') {
    if (options.alignCorners !== undefined) throw new TorchError(`${fn}: 'alignCorners' only applies to 'bilinear'`, 'ERR_TORCH_ARG');
    return call('upsample_nearest2d.vec', id, size, scale);
  }
  if (mode === 'bilinear') return call('upsample_bilinear2d.vec', id, size, options.alignCorners ?? false, scale);
  return argError(fn, 'mode', "'nearest' or 'bilinear'", mode);
}

// ---- activations ---------------------------------------------------------------------------------
/** F.relu; with { inplace: true } it overwrites and returns the input, as PyTorch's F.relu(x, inplace=True). */
export function relu(input: Tensor, inplace?: boolean | { inplace?: boolean }): Tensor {
  const options = bindArgs('relu()', ['inplace'], [inplace]);
  return activation('relu()', 'relu', input, options);
}
/** PyTorch's `F.sigmoid`: 1 / (1 + exp(-x)). */
export const sigmoid = (input: Tensor): Tensor => (idOf(input, 'sigmoid()', 'input'), input.sigmoid());
/** PyTorch's `F.tanh`. */
export const tanh = (input: Tensor): Tensor => (idOf(input, 'tanh()', 'input'), input.tanh());
/** F.silu; with { inplace: true } it overwrites and returns the input. */
export function silu(input: Tensor, inplace?: boolean | { inplace?: boolean }): Tensor {
  const options = bindArgs('silu()', ['inplace'], [inplace]);
  return activation('silu()', 'silu', input, options);
}
/** PyTorch's `F.gelu(input, approximate='none')`: the Gaussian error linear unit (`approximate: 'tanh'` for the tanh approximation). */
export const gelu = (input: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor => (idOf(input, 'gelu()', 'input'), input.gelu(options));
/** PyTorch's `F.softmax(input, dim, dtype=None)`: exp(x) normalised to sum to 1 along `dim` (`dtype` casts the input first). */
export const softmax = (input: Tensor, dim: number, options?: { dtype?: DType }): Tensor => (idOf(input, 'softmax()', 'input'), input.softmax(dim, options));
/** PyTorch's `F.log_softmax(input, dim, dtype=None)`: log(softmax(x)) along `dim`, computed stably (`dtype` casts the input first). */
export const logSoftmax = (input: Tensor, dim: number, options?: { dtype?: DType }): Tensor => (
  idOf(input, 'logSoftmax()', 'input'), input.logSoftmax(dim, options)
);
/** PyTorch's `F.leaky_relu(input, negative_slope=0.01, inplace=False)`: positional, or `leakyRelu(x, 0.2, { inplace: true })`, `leakyRelu(x, { negativeSlope })`. */
export function leakyRelu(
  input: Tensor,
  negativeSlope?: number | { negativeSlope?: number; inplace?: boolean },
  inplace?: boolean | { inplace?: boolean },
): Tensor {
  const fn = 'leakyRelu()';
  const id = idOf(input, fn, 'input');
  const a = bindArgs(fn, ['negativeSlope', 'inplace'], [negativeSlope, inplace]);
  const slope = checkNumber(fn, 'negativeSlope', a.negativeSlope ?? 0.01);
  if (!inplaceFlag(fn, a)) return input.leakyRelu(slope);
  callInplace('leaky_relu_', id, slope);
  return input;
}
/** PyTorch's `F.elu(input, alpha=1.0, inplace=False)`: x for x > 0, alpha·(exp(x) - 1) otherwise; positional, or `elu(x, { alpha, inplace })`. */
export function elu(input: Tensor, alpha?: number | { alpha?: number; inplace?: boolean }, inplace?: boolean | { inplace?: boolean }): Tensor {
  const fn = 'elu()';
  const a = bindArgs(fn, ['alpha', 'inplace'], [alpha, inplace]);
  return activation(fn, 'elu', input, a, checkNumber(fn, 'alpha', a.alpha ?? 1.0));
}
/** PyTorch's `F.hardtanh(input, min_val=-1, max_val=1, inplace=False)`: x clamped to [minVal, maxVal]; positional, or `hardtanh(x, { minVal, maxVal, inplace })`. */
export function hardtanh(
  input: Tensor,
  minVal?: number | { minVal?: number; maxVal?: number; inplace?: boolean },
  maxVal?: number | { maxVal?: number; inplace?: boolean },
  inplace?: boolean | { inplace?: boolean },
): Tensor {
  const fn = 'hardtanh()';
  const a = bindArgs(fn, ['minVal', 'maxVal', 'inplace'], [minVal, maxVal, inplace]);
  const lo = checkNumber(fn, 'minVal', a.minVal ?? -1);
  const hi = checkNumber(fn, 'maxVal', a.maxVal ?? 1);
  if (lo > hi) throw new TorchError(`${fn}: minVal (${lo}) cannot be greater than maxVal (${hi}), as in PyTorch`, 'ERR_TORCH_ARG');
  return activation(fn, 'hardtanh', input, a, lo, hi);
}
/** The `inplace` option of the activations that have one (PyTorch's inplace=False default). */
function inplaceFlag(fn: string, options: { inplace?: unknown } | undefined): boolean {
  return checkBool(fn, 'inplace', options?.inplace ?? false);
}
/**
 * Runs an activation out of place (`name`) or, with `{ inplace: true }`, in place (`name_`) and
 * returns the input itself, as PyTorch's F.relu6(x, inplace=True) does.
 */
function activation(fn: string, name: string, input: Tensor, options: { inplace?: unknown } | undefined, ...args: unknown[]): Tensor {
  const id = idOf(input, fn, 'input');
  if (!inplaceFlag(fn, options)) return call(name, id, ...args);
  callInplace(`${name}_`, id, ...args);
  return input;
}
/** F.relu6: min(max(x, 0), 6), which PyTorch computes as hardtanh(x, 0, 6). */
export function relu6(input: Tensor, inplace?: boolean | { inplace?: boolean }): Tensor {
  const options = bindArgs('relu6()', ['inplace'], [inplace]);
  return activation('relu6()', 'hardtanh', input, options, 0, 6);
}
/** F.hardswish: x * relu6(x + 3) / 6. */
export function hardswish(input: Tensor, inplace?: boolean | { inplace?: boolean }): Tensor {
  const options = bindArgs('hardswish()', ['inplace'], [inplace]);
  return activation('hardswish()', 'hardswish', input, options);
}
/** F.hardsigmoid: relu6(x + 3) / 6. */
export function hardsigmoid(input: Tensor, inplace?: boolean | { inplace?: boolean }): Tensor {
  const options = bindArgs('hardsigmoid()', ['inplace'], [inplace]);
  return activation('hardsigmoid()', 'hardsigmoid', input, options);
}
/** PyTorch's `F.softplus(input, beta=1, threshold=20)`: log(1 + exp(beta·x)) / beta, linear where beta·x > threshold. */
export function softplus(input: Tensor, beta = 1, threshold = 20): Tensor {
  return call('softplus', idOf(input, 'softplus()', 'input'), checkNumber('softplus()', 'beta', beta), checkNumber('softplus()', 'threshold', threshold));
}
/** PyTorch's `F.logsigmoid`: log(sigmoid(x)), computed stably. */
export function logSigmoid(input: Tensor): Tensor {
  return call('log_sigmoid', idOf(input, 'logSigmoid()', 'input'));
}
/** PyTorch's `F.one_hot(tensor, num_classes=-1)`: int64 indices to one-hot int64 vectors in a new last dimension (-1: max index + 1 classes). */
export function oneHot(input: Tensor, numClasses = -1): Tensor {
  return call('one_hot', idOf(input, 'oneHot()', 'input'), numClasses);
}

// ---- losses ------------------------------------------------------------------------------------
/**
 * PyTorch's `F.cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)`:
 * log-softmax then negative log-likelihood; input is logits [N, C, ...], target class indices (int64) or class probabilities.
 */
export function crossEntropy(
  input: Tensor,
  target: Tensor,
  options: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction; labelSmoothing?: number } = {},
): Tensor {
  checkOptions('crossEntropy()', options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  const fn = 'crossEntropy()';
  const ls = options.labelSmoothing ?? 0;
  if (typeof ls !== 'number' || !(ls >= 0 && ls <= 1)) argError(fn, 'labelSmoothing', 'a number between 0 and 1', ls);
  return call(
    'cross_entropy_loss',
    idOf(input, fn, 'input'),
    idOf(target, fn, 'target'),
    optIdOf(options.weight, fn, 'weight'),
    reductionCode(fn, options.reduction),
    options.ignoreIndex ?? -100,
    ls,
  );
}

/** PyTorch's `F.nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean')`: input is log-probabilities [N, C, ...], target class indices (int64). */
export function nllLoss(input: Tensor, target: Tensor, options: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {}): Tensor {
  checkOptions('nllLoss()', options, ['weight', 'ignoreIndex', 'reduction']);
  const fn = 'nllLoss()';
  return call(
    'nll_loss_nd',
    idOf(input, fn, 'input'),
    idOf(target, fn, 'target'),
    optIdOf(options.weight, fn, 'weight'),
    reductionCode(fn, options.reduction),
    options.ignoreIndex ?? -100,
  );
}

/** PyTorch's `F.mse_loss(input, target, reduction='mean')`: the squared error. */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkOptions('mseLoss()', options, ['reduction']);
  const fn = 'mseLoss()';
  return call('mse_loss', idOf(input, fn, 'input'), idOf(target, fn, 'target'), reductionCode(fn, options.reduction));
}

/** PyTorch's `F.l1_loss(input, target, reduction='mean')`: the absolute error. */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkOptions('l1Loss()', options, ['reduction']);
  const fn = 'l1Loss()';
  return call('l1_loss', idOf(input, fn, 'input'), idOf(target, fn, 'target'), reductionCode(fn, options.reduction));
}

/** PyTorch's `F.smooth_l1_loss(input, target, reduction='mean', beta=1.0)`: quadratic below `beta`, linear above. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  checkOptions('smoothL1Loss()', options, ['reduction', 'beta']);
  const fn = 'smoothL1Loss()';
  const beta = checkNumber(fn, 'beta', options.beta ?? 1.0);
  if (beta < 0) argError(fn, 'beta', 'a non-negative number', beta);
  return call('smooth_l1_loss', idOf(input, fn, 'input'), idOf(target, fn, 'target'), reductionCode(fn, options.reduction), beta);
}

/** PyTorch's `F.binary_cross_entropy(input, target, weight=None, reduction='mean')`: input is probabilities in [0, 1]. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  checkOptions('binaryCrossEntropy()', options, ['weight', 'reduction']);
  const fn = 'binaryCrossEntropy()';
  return call(
    'binary_cross_entropy',
    idOf(input, fn, 'input'),
    idOf(target, fn, 'target'),
    optIdOf(options.weight, fn, 'weight'),
    reductionCode(fn, options.reduction),
  );
}

/** PyTorch's `F.binary_cross_entropy_with_logits(input, target, weight=None, reduction='mean', pos_weight=None)`: sigmoid and BCE in one, numerically stable. */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  checkOptions('binaryCrossEntropyWithLogits()', options, ['weight', 'posWeight', 'reduction']);
  const fn = 'binaryCrossEntropyWithLogits()';
  return call(
    'binary_cross_entropy_with_logits',
    idOf(input, fn, 'input'),
    idOf(target, fn, 'target'),
    optIdOf(options.weight, fn, 'weight'),
    optIdOf(options.posWeight, fn, 'posWeight'),
    reductionCode(fn, options.reduction),
  );
}

/** F.kl_div: input is log-probabilities; reduction also takes 'batchmean', as PyTorch. */
export function klDiv(input: Tensor, target: Tensor, options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  checkOptions('klDiv()', options, ['reduction', 'logTarget']);
  const fn = 'klDiv()';
  const reduction = options.reduction ?? 'mean';
  const id = idOf(input, fn, 'input');
  const tid = idOf(target, fn, 'target');
  if (reduction === 'batchmean') {
    const summed = call('kl_div', id, tid, REDUCTIONS.sum, options.logTarget ?? false);
    const batch = input.dim() === 0 ? 1 : input.size(0);
    const out = summed.div(batch);
    summed.dispose();
    return out;
  }
  return call('kl_div', id, tid, reductionCode(fn, reduction), options.logTarget ?? false);
}
