/**
 * Built-in layers with PyTorch's parameter and buffer names (state dicts interoperate), PyTorch's
 * initialisation (same ATen random calls in the same order: after manualSeed they match PyTorch's
 * values), and PyTorch's printed form (extra_repr).
 */
import { empty, ones, zeros, tensor, type TensorOptions } from '../creation';
import type { DeviceLike } from '../device';
import type { DType } from '../dtype';
import { TorchError, argError } from '../errors';
import { Tensor } from '../tensor';
import * as F from './functional';
import { fanInAndFanOut, kaimingUniform_, normal_, ones_, uniform_, zeros_ } from './init';
import { Module, Parameter, RAW, TRAPS, baseTraps, setSlot } from './module';

export interface FactoryOptions {
  dtype?: DType;
  device?: DeviceLike;
}

type Pair = number | [number, number];

/** Python's repr of a float: 1e-05, 0.1, 1.0. */
export function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e16)) return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(x);
}
const pyBool = (b: boolean) => (b ? 'True' : 'False');
const pyTuple = (xs: number[]) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`);

function posInt(fn: string, param: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) argError(fn, param, 'a positive integer', v);
  return v;
}

function tupleOf(fn: string, param: string, v: unknown, n: number, min = 0): number[] {
  const xs = typeof v === 'number' ? Array(n).fill(v) : v;
  if (!Array.isArray(xs) || xs.length !== n || !xs.every((x) => Number.isInteger(x) && x >= min)) {
    argError(fn, param, `an integer >= ${min} or an array of ${n} of them`, v);
  }
  return xs as number[];
}

/** @internal A new parameter of the given shape (uninitialised: the layer's resetParameters() fills it). */
export function newParam(shape: number[], o: FactoryOptions): Parameter {
  const t = empty(shape, o as TensorOptions);
  const p = new Parameter(t);
  t.dispose();
  return p;
}

/** The norm layers' reset_parameters: an affine weight to 1, its bias to 0 (either may be absent). */
function resetAffine(m: { weight: Parameter | null; bias: Parameter | null }): void {
  if (m.weight) ones_(m.weight);
  if (m.bias) zeros_(m.bias);
}

function checkInputDim(name: string, x: Tensor, dims: number[]): void {
  if (!(x instanceof Tensor)) argError(`${name}.forward()`, 'input', 'a Tensor', x);
  const d = x.dim();
  if (!dims.includes(d)) {
    throw new TorchError(`${name}: expected ${dims.map((n) => `${n}D`).join(' or ')} input (got ${d}D input)`, 'ERR_TORCH_ARG');
  }
}

// ---- linear -------------------------------------------------------------------------------------
export class Linear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    posInt('Linear()', 'inFeatures', inFeatures);
    posInt('Linear()', 'outFeatures', outFeatures);
    this.registerParameter('weight', newParam([outFeatures, inFeatures], options));
    this.registerParameter('bias', options.bias === false ? null : newParam([outFeatures], options));
    this.resetParameters();
  }
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = fanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }
  override forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

export class Bilinear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  constructor(
    readonly in1Features: number,
    readonly in2Features: number,
    readonly outFeatures: number,
    options: { bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    this.registerParameter('weight', newParam([outFeatures, in1Features, in2Features], options));
    this.registerParameter('bias', options.bias === false ? null : newParam([outFeatures], options));
    this.resetParameters();
  }
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.weight.shape[1]);
    uniform_(this.weight, -bound, bound);
    if (this.bias) uniform_(this.bias, -bound, bound);
  }
  override forward(x1: Tensor, x2: Tensor): Tensor {
    return F.bilinear(x1, x2, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

// ---- convolutions -----------------------------------------------------------------------------
export interface ConvOptions extends FactoryOptions {
  stride?: Pair;
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

abstract class ConvNd extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  protected constructor(
    name: string,
    n: number,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: ConvOptions,
    transposed = false,
  ) {
    super();
    const fn = `${name}()`;
    posInt(fn, 'inChannels', inChannels);
    posInt(fn, 'outChannels', outChannels);
    this.kernelSize = tupleOf(fn, 'kernelSize', kernelSize, n, 1);
    this.stride = tupleOf(fn, 'stride', options.stride ?? 1, n, 1);
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : tupleOf(fn, 'padding', padding, n);
    this.dilation = tupleOf(fn, 'dilation', options.dilation ?? 1, n, 1);
    this.groups = posInt(fn, 'groups', options.groups ?? 1);
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new TorchError(`${fn}: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`, 'ERR_TORCH_ARG');
    }
    const wshape = transposed
      ? [inChannels, outChannels / this.groups, ...this.kernelSize]
      : [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.registerParameter('weight', newParam(wshape, options));
    this.registerParameter('bias', options.bias === false ? null : newParam([outChannels], options));
    this.resetParameters();
  }
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = fanInAndFanOut(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }
  protected extra(outputPadding?: number[]): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (outputPadding?.some((p) => p !== 0)) s += `, output_padding=${pyTuple(outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    return s;
  }
  override extraRepr(): string {
    return this.extra();
  }
}

export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options);
  }
  override forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: ConvOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, options);
  }
  override forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export class ConvTranspose2d extends ConvNd {
  readonly outputPadding: number[];
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: Omit<ConvOptions, 'padding'> & { padding?: Pair; outputPadding?: Pair } = {},
  ) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, options, true);
    this.outputPadding = tupleOf('ConvTranspose2d()', 'outputPadding', options.outputPadding ?? 0, 2);
  }
  override forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }
  override extraRepr(): string {
    return this.extra(this.outputPadding);
  }
}

// ---- normalisation ----------------------------------------------------------------------------
export interface BatchNormOptions extends FactoryOptions {
  eps?: number;
  /** null: cumulative average, as PyTorch's momentum=None */
  momentum?: number | null;
  affine?: boolean;
  /** With affine: learn an additive bias too (PyTorch 2.15's bias=True). */
  bias?: boolean;
  trackRunningStats?: boolean;
}

/** PyTorch's _BatchNorm: what BatchNorm1d/2d/3d and SyncBatchNorm share (convertSyncBatchnorm converts these). */
export abstract class BatchNormNd extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;
  readonly eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  protected constructor(
    protected readonly kind: string,
    private readonly dims: number[],
    readonly numFeatures: number,
    options: BatchNormOptions,
  ) {
    super();
    posInt(`${kind}()`, 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const o = options as TensorOptions;
    if (this.affine) {
      this.registerParameter('weight', newParam([numFeatures], options));
      this.registerParameter('bias', options.bias === false ? null : newParam([numFeatures], options));
      this.resetParameters();
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures], o));
      this.registerBuffer('running_var', ones([numFeatures], o));
      this.registerBuffer('num_batches_tracked', tensor(0, { dtype: 'int64', device: o.device }));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
    // camelCase views of the snake_case buffer names (the state-dict names stay PyTorch's).
    Object.defineProperties(this, {
      runningMean: { get: () => this._buffers.get('running_mean') ?? null, configurable: true },
      runningVar: { get: () => this._buffers.get('running_var') ?? null, configurable: true },
      numBatchesTracked: { get: () => this._buffers.get('num_batches_tracked') ?? null, configurable: true },
    });
  }
  /** PyTorch's reset_running_stats: running mean 0, variance 1, batches tracked 0. */
  resetRunningStats(): void {
    const rm = this._buffers.get('running_mean');
    const rv = this._buffers.get('running_var');
    const nbt = this._buffers.get('num_batches_tracked');
    if (rm) zeros_(rm);
    if (rv) ones_(rv);
    if (nbt) zeros_(nbt);
  }
  /** PyTorch's reset_parameters: the running statistics reset, then weight 1 and bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    resetAffine(this);
  }
  protected checkInput(x: Tensor): void {
    checkInputDim(this.kind, x, this.dims);
  }
  /** The normalization itself, given what forward() decided (SyncBatchNorm synchronizes the statistics here). */
  protected normalize(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, training: boolean, momentum: number): Tensor {
    return F.batchNorm(x, runningMean, runningVar, { weight: this.weight, bias: this.bias, training, momentum, eps: this.eps });
  }
  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    let factor = this.momentum ?? 0;
    const nbt = this._buffers.get('num_batches_tracked') ?? null;
    if (this.training && this.trackRunningStats && nbt) {
      nbt.add_(1);
      if (this.momentum === null) factor = 1 / (nbt.item() as number);
    }
    const rm = this._buffers.get('running_mean') ?? null;
    const rv = this._buffers.get('running_var') ?? null;
    const bnTraining = this.training || (rm === null && rv === null);
    const useStats = !this.training || this.trackRunningStats;
    return this.normalize(x, useStats ? rm : null, useStats ? rv : null, bnTraining, factor);
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, bias=${pyBool(this.bias !== null)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', [2, 3], numFeatures, options);
  }
}

export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', [4], numFeatures, options);
  }
}

export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm3d', [5], numFeatures, options);
  }
}

export class LayerNorm extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  constructor(normalizedShape: number | number[], options: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } & FactoryOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    if (this.elementwiseAffine) {
      this.registerParameter('weight', ones_(newParam(this.normalizedShape, options)) as Parameter);
      this.registerParameter('bias', options.bias === false ? null : (zeros_(newParam(this.normalizedShape, options)) as Parameter));
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
  }
  /** PyTorch's reset_parameters: weight 1, bias 0. */
  resetParameters(): void {
    resetAffine(this);
  }
  override forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}, bias=${pyBool(this.bias !== null)}`;
  }
}

export class GroupNorm extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly eps: number;
  readonly affine: boolean;
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: { eps?: number; affine?: boolean; bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new TorchError(`GroupNorm(): numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`, 'ERR_TORCH_ARG');
    }
    this.eps = options.eps ?? 1e-5;
    this.affine = options.affine ?? true;
    this.registerParameter('weight', this.affine ? (ones_(newParam([numChannels], options)) as Parameter) : null);
    this.registerParameter('bias', this.affine && options.bias !== false ? (zeros_(newParam([numChannels], options)) as Parameter) : null);
  }
  /** PyTorch's reset_parameters: weight 1, bias 0. */
  resetParameters(): void {
    resetAffine(this);
  }
  override forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}, bias=${pyBool(this.bias !== null)}`;
  }
}

// ---- dropout ----------------------------------------------------------------------------------
export class Dropout extends Module {
  readonly inplace: boolean;
  constructor(
    public p = 0.5,
    options: { inplace?: boolean } = {},
  ) {
    super();
    if (typeof p !== 'number' || p < 0 || p > 1) argError('Dropout()', 'p', 'a probability between 0 and 1', p);
    this.inplace = inplaceOption('Dropout()', options);
  }
  override forward(x: Tensor): Tensor {
    return F.dropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}

export class Dropout2d extends Dropout {
  override forward(x: Tensor): Tensor {
    return F.dropout2d(x, { p: this.p, training: this.training });
  }
}

// ---- embedding --------------------------------------------------------------------------------
export class Embedding extends Module {
  declare weight: Parameter;
  readonly paddingIdx: number | null;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: { paddingIdx?: number | null } & FactoryOptions = {},
  ) {
    super();
    posInt('Embedding()', 'numEmbeddings', numEmbeddings);
    posInt('Embedding()', 'embeddingDim', embeddingDim);
    let pad = options.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        argError('Embedding()', 'paddingIdx', `an integer in [-${numEmbeddings}, ${numEmbeddings})`, pad);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.registerParameter('weight', newParam([numEmbeddings, embeddingDim], options));
    this.resetParameters();
  }
  /** PyTorch's reset_parameters: N(0, 1), the padding row zeroed. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.weight.select(0, this.paddingIdx);
      zeros_(row);
      row.dispose();
    }
  }
  override forward(x: Tensor): Tensor {
    return F.embedding(x, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
  }
}

// ---- pooling ------------------------------------------------------------------------------------
const pyIntOrTuple = (v: Pair) => (typeof v === 'number' ? String(v) : pyTuple(v));

export class MaxPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;
  constructor(
    readonly kernelSize: Pair,
    options: { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {},
  ) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.ceilMode = options.ceilMode ?? false;
  }
  override forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }
  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

export class AvgPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  constructor(
    readonly kernelSize: Pair,
    options: { stride?: Pair | null; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {},
  ) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
  }
  override forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }
  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}

// ---- activations --------------------------------------------------------------------------------
export class ReLU extends Module {
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('ReLU()', options);
  }
  override forward(x: Tensor): Tensor {
    return F.relu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}
export class SiLU extends Module {
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('SiLU()', options);
  }
  override forward(x: Tensor): Tensor {
    return F.silu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}
/** The `inplace` option of ReLU6, Hardswish and Hardsigmoid. */
function inplaceOption(fn: string, options: { inplace?: boolean }): boolean {
  if (options === null || typeof options !== 'object') argError(fn, 'options', '{ inplace }', options);
  const v = options.inplace ?? false;
  if (typeof v !== 'boolean') argError(fn, 'inplace', 'a boolean', v);
  return v;
}
/** nn.ReLU6({ inplace }): min(max(x, 0), 6). */
export class ReLU6 extends Module {
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('ReLU6()', options);
  }
  override forward(x: Tensor): Tensor {
    return F.relu6(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}
/** nn.Hardswish({ inplace }): x * relu6(x + 3) / 6 (printed without inplace, as PyTorch does). */
export class Hardswish extends Module {
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('Hardswish()', options);
  }
  override forward(x: Tensor): Tensor {
    return F.hardswish(x, { inplace: this.inplace });
  }
}
/** nn.Hardsigmoid({ inplace }): relu6(x + 3) / 6. */
export class Hardsigmoid extends Module {
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('Hardsigmoid()', options);
  }
  override forward(x: Tensor): Tensor {
    return F.hardsigmoid(x, { inplace: this.inplace });
  }
}
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
export class LogSoftmax extends Softmax {
  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }
}

// ---- containers -------------------------------------------------------------------------------------
const INDEX_RE = /^-?\d+$/;

/** Python's _get_abs_string_index: a position in [-n, n) made absolute, else PyTorch's IndexError. */
function absIndex(c: IndexedModules, fn: string, i: unknown): number {
  const n = c._modules.size;
  if (typeof i !== 'number' || !Number.isInteger(i)) argError(fn, 'index', 'an integer', i);
  if (i < -n || i >= n) throw new TorchError(`${fn}: index ${i} is out of range for ${n} modules`, 'ERR_TORCH_INDEX');
  return i < 0 ? i + n : i;
}

/**
 * Index traps for Sequential and ModuleList: `seq[-1]` reads from the end, a missing index throws
 * PyTorch's IndexError, `seq[i] = m` replaces in place and `delete seq[i]` removes and renumbers,
 * as Python's __getitem__/__setitem__/__delitem__.
 */
const indexedTraps: ProxyHandler<Module> = {
  ...baseTraps,
  get(target, key, receiver) {
    if (typeof key === 'string' && INDEX_RE.test(key) && !(key in target)) {
      const c = target as IndexedModules;
      return c._item(`${c.constructor.name}[${key}]`, Number(key));
    }
    return Reflect.get(target, key, receiver);
  },
  defineProperty(target, key, desc) {
    if (typeof key === 'string' && INDEX_RE.test(key) && 'value' in desc) {
      const c = target as IndexedModules;
      const i = absIndex(c, `${c.constructor.name}[${key}] = ...`, Number(key));
      return baseTraps.defineProperty!(target, [...c._modules.keys()][i], desc);
    }
    return baseTraps.defineProperty!(target, key, desc);
  },
  deleteProperty(target, key) {
    if (typeof key === 'string' && INDEX_RE.test(key)) {
      (target as IndexedModules).delete(Number(key));
      return true;
    }
    return baseTraps.deleteProperty!(target, key);
  },
};

/** Children named '0', '1', ... with list access: what Sequential and ModuleList share. */
abstract class IndexedModules extends Module {
  get length(): number {
    return this._modules.size;
  }
  /** list[i] (negative counts from the end); `container[i]` works too. */
  at(i: number): Module {
    return this._item(`${this.constructor.name}.at()`, i);
  }
  /** @internal list[i] for `fn`'s messages. */
  _item(fn: string, i: unknown): Module {
    return [...this._modules.values()][absIndex(this, fn, i)] as Module;
  }
  /** Adds a module at the end (Python's append). */
  append(m: Module): this {
    if (!(m instanceof Module)) argError(`${this.constructor.name}.append()`, 'module', 'a Module', m);
    this.registerModule(String(this._modules.size), m);
    return this;
  }
  /** Appends every module of an array or container (Python's extend). */
  extend(modules: Iterable<Module>): this {
    if (modules === null || typeof (modules as any)?.[Symbol.iterator] !== 'function') {
      argError(`${this.constructor.name}.extend()`, 'modules', 'an array or container of modules', modules);
    }
    for (const m of [...modules]) this.append(m);
    return this;
  }
  /** Inserts a module before position `index` (negative counts from the end), renumbering the rest. */
  insert(index: number, m: Module): this {
    const fn = `${this.constructor.name}.insert()`;
    if (!(m instanceof Module)) argError(fn, 'module', 'a Module', m);
    const n = this._modules.size;
    if (typeof index !== 'number' || !Number.isInteger(index)) argError(fn, 'index', 'an integer', index);
    if (index < -n || index > n) throw new TorchError(`${fn}: index ${index} is out of range for ${n} modules`, 'ERR_TORCH_INDEX');
    const at = index < 0 ? index + n : index;
    const list = [...this._modules.values()] as Module[];
    list.splice(at, 0, m);
    this._renumber(list);
    return this;
  }
  /** Removes the module at `index` (default: the last) and returns it, renumbering the rest. */
  pop(index = -1): Module {
    const m = this.at(index);
    this.delete(index);
    return m;
  }
  /** Python's `del container[i]` (also `delete container[i]`): removes and renumbers. */
  delete(index: number): void {
    const i = absIndex(this, `${this.constructor.name}.delete()`, index);
    const list = [...this._modules.values()] as Module[];
    list.splice(i, 1);
    this._renumber(list);
  }
  /** The modules at positions [start, end) (negatives count from the end), as Python's `container[start:end]`. */
  abstract slice(start?: number, end?: number): IndexedModules;
  /** @internal [key, module] of a Python slice [start:end]. */
  protected _sliceEntries(start?: number, end?: number): [string, Module][] {
    const entries = [...this._modules] as [string, Module][];
    for (const [v, name] of [[start, 'start'], [end, 'end']] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) argError(`${this.constructor.name}.slice()`, name, 'an integer', v);
    }
    return entries.slice(start, end);
  }
  /** @internal Re-registers `list` as '0', '1', ... (Python's renumbering after a deletion). */
  _renumber(list: Module[]): void {
    const raw = (this as any)[RAW] as Module;
    for (const k of [...this._modules.keys()]) {
      this._modules.delete(k);
      Reflect.deleteProperty(raw, k);
    }
    list.forEach((m, i) => {
      this._modules.set(String(i), m);
      setSlot(this, String(i), m);
    });
  }
  [Symbol.iterator](): Iterator<Module> {
    return ([...this._modules.values()].filter(Boolean) as Module[])[Symbol.iterator]();
  }
}
(IndexedModules.prototype as any)[TRAPS] = indexedTraps;

/** Sequential(a, b, c): children named '0', '1', ...; forward chains them. */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m) => this.append(m));
  }
  override forward(x: any): any {
    for (const m of this._modules.values()) if (m) x = m.call(x);
    return x;
  }
  /** Python's `seq[start:end]`: a Sequential of the same modules, which keep their keys (as PyTorch's). */
  override slice(start?: number, end?: number): Sequential {
    const out = new Sequential();
    for (const [k, m] of this._sliceEntries(start, end)) out.registerModule(k, m);
    return out;
  }
  /** Python's `seq + other`: a new Sequential of both's modules, numbered from 0. */
  add(other: Sequential): Sequential {
    if (!(other instanceof Sequential)) argError('Sequential.add()', 'other', 'a Sequential', other);
    return new Sequential(...this, ...other);
  }
}

export class ModuleList extends IndexedModules {
  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }
  /** Python's `list[start:end]`: a ModuleList of the same modules, numbered from 0 (as PyTorch's). */
  override slice(start?: number, end?: number): ModuleList {
    return new ModuleList(this._sliceEntries(start, end).map(([, m]) => m));
  }
  /** Python's `list + other`. */
  add(other: Iterable<Module>): ModuleList {
    return new ModuleList([...this, ...other]);
  }
}

/** ModuleDict: children by name; `md.get(k)`, `md.set(k, m)`, `md.k`, `delete md.k`, iteration over keys, as PyTorch's. */
export class ModuleDict extends Module {
  constructor(modules: Map<string, Module> | Record<string, Module> | [string, Module][] = {}) {
    super();
    this.update(modules);
  }
  /** md[key] (undefined when absent, as Map.get). */
  get(key: string): Module | undefined {
    return this._modules.get(key) ?? undefined;
  }
  /** @internal the module at `key`, or PyTorch's KeyError naming the keys. */
  private _need(fn: string, key: string): Module {
    const m = this._modules.get(key);
    if (m === undefined) throw new TorchError(`ModuleDict.${fn}(): no key '${key}'; keys: ${this.keys().join(', ') || '(none)'}`, 'ERR_TORCH_INDEX');
    return m as Module;
  }
  set(key: string, m: Module): this {
    if (!(m instanceof Module)) argError('ModuleDict.set()', 'module', 'a Module', m);
    this.registerModule(key, m);
    return this;
  }
  has(key: string): boolean {
    return this._modules.has(key);
  }
  /** Python's `del md[key]`. */
  delete(key: string): void {
    this._need('delete', key);
    delete (this as any)[key];
  }
  /** Removes a key and returns its module. */
  pop(key: string): Module {
    const m = this._need('pop', key);
    this.delete(key);
    return m;
  }
  clear(): void {
    for (const k of this.keys()) this.delete(k);
  }
  /** Adds or replaces each (key, module) of a Map, an object or an array of pairs. */
  update(modules: Map<string, Module> | Record<string, Module> | [string, Module][]): this {
    if (modules === null || typeof modules !== 'object') argError('ModuleDict.update()', 'modules', 'a Map, an object or [key, module] pairs', modules);
    const entries = modules instanceof Map ? [...modules] : Array.isArray(modules) ? modules : modules instanceof Module ? [...(modules as unknown as ModuleDict)._modules] : Object.entries(modules);
    for (const [k, m] of entries as [string, Module][]) this.set(k, m);
    return this;
  }
  keys(): string[] {
    return [...this._modules.keys()];
  }
  values(): Module[] {
    return [...this._modules.values()] as Module[];
  }
  /** Python's items(). */
  items(): [string, Module][] {
    return [...this._modules] as [string, Module][];
  }
  entries(): IterableIterator<[string, Module]> {
    return this.items()[Symbol.iterator]();
  }
  get size(): number {
    return this._modules.size;
  }
  get length(): number {
    return this._modules.size;
  }
  /** As Python: iterating a ModuleDict gives its keys. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}
