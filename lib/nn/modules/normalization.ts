/** Normalization (torch/nn/modules/batchnorm.py, normalization.py): BatchNorm1d/2d/3d, LayerNorm, GroupNorm. */
import { checkInt } from '../../checks';
import { ones, zeros, tensor, type TensorOptions } from '../../creation';
import { TorchError } from '../../errors';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { ones_, zeros_ } from '../init';
import { Module, type Parameter } from '../module';
import { FACTORY_KEYS, type FactoryOptions, layerOptions, pyFloat, pyBool, pyTuple, newParam, resetAffine, checkInputDim } from './common';

/** The keyword arguments of PyTorch's `nn.BatchNorm1d/2d/3d` (and SyncBatchNorm). */
export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance for numerical stability (default 1e-5). */
  eps?: number;
  /** null: cumulative average, as PyTorch's momentum=None */
  momentum?: number | null;
  /** Whether to learn a per-channel scale (weight) and shift (bias) (default true). */
  affine?: boolean;
  /** With affine: learn an additive bias too (PyTorch 2.15's bias=True). */
  bias?: boolean;
  /** Whether to keep running mean/variance buffers, used in eval mode (default true); without them batch statistics are used always. */
  trackRunningStats?: boolean;
}

/** The keys BatchNormOptions has (SyncBatchNorm takes processGroup off first). */
const BATCH_NORM_KEYS: readonly string[] = ['eps', 'momentum', 'affine', 'bias', 'trackRunningStats', ...FACTORY_KEYS];

/** PyTorch's _BatchNorm: what BatchNorm1d/2d/3d and SyncBatchNorm share (convertSyncBatchnorm converts these). */
export abstract class BatchNormNd extends Module {
  /** The learned scale, [numFeatures] (initialised to 1), or null without affine. */
  declare weight: Parameter | null;
  /** The learned shift, [numFeatures] (initialised to 0), or null without affine or with `bias: false`. */
  declare bias: Parameter | null;
  /** The `running_mean` buffer, [numFeatures], or null without trackRunningStats. */
  declare runningMean: Tensor | null;
  /** The `running_var` buffer, [numFeatures], or null without trackRunningStats. */
  declare runningVar: Tensor | null;
  /** The `num_batches_tracked` buffer (int64, 0-d), or null without trackRunningStats. */
  declare numBatchesTracked: Tensor | null;
  /** Added to the variance for numerical stability. */
  readonly eps: number;
  /** The weight of each batch in the running statistics (default 0.1), or null for a cumulative average. */
  momentum: number | null;
  /** Whether weight and bias are learned. */
  readonly affine: boolean;
  /** Whether running statistics are kept. */
  readonly trackRunningStats: boolean;
  protected constructor(
    protected readonly kind: string,
    private readonly dims: number[],
    /** The number of channels (C of [N, C, ...]). */
    readonly numFeatures: number,
    options: BatchNormOptions,
  ) {
    super();
    layerOptions(`${kind}()`, options, BATCH_NORM_KEYS);
    checkInt(`${kind}()`, 'numFeatures', numFeatures, 1);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const o: TensorOptions = { dtype: options.dtype, device: options.device };
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
  /**
   * PyTorch's `_BatchNorm` forward: each channel normalised, then weight·x̂ + bias; input [N, C] or [N, C, L] (1d), [N, C, H, W] (2d), [N, C, D, H, W] (3d) ->
   * the same shape. Training mode uses the batch's statistics and updates the running ones; eval mode uses the running ones (the batch's without
   * trackRunningStats).
   */
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

/** PyTorch's `torch.nn.BatchNorm1d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)`: over [N, C] or [N, C, L] input. */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', [2, 3], numFeatures, options);
  }
}

/** PyTorch's `torch.nn.BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)`: over [N, C, H, W] input. */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', [4], numFeatures, options);
  }
}

/** PyTorch's `torch.nn.BatchNorm3d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)`: over [N, C, D, H, W] input. */
export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm3d', [5], numFeatures, options);
  }
}

/**
 * PyTorch's `torch.nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True)`: normalises over the last
 * `normalizedShape.length` dimensions.
 */
export class LayerNorm extends Module {
  /** The learned scale, of normalizedShape (initialised to 1), or null without elementwiseAffine. */
  declare weight: Parameter | null;
  /** The learned shift, of normalizedShape (initialised to 0), or null without elementwiseAffine or with `bias: false`. */
  declare bias: Parameter | null;
  /** The trailing shape normalised over. */
  readonly normalizedShape: number[];
  /** Added to the variance for numerical stability (default 1e-5). */
  readonly eps: number;
  /** Whether weight and bias are learned (default true). */
  readonly elementwiseAffine: boolean;
  constructor(normalizedShape: number | number[], options: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } & FactoryOptions = {}) {
    super();
    layerOptions('LayerNorm()', options, ['eps', 'elementwiseAffine', 'bias', ...FACTORY_KEYS]);
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
  /**
   * PyTorch's `torch.nn.LayerNorm` forward: (x - mean) / sqrt(var + eps) over the last normalizedShape.length dimensions, then ·weight + bias; input
   * [..., ...normalizedShape] -> the same shape.
   */
  override forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** PyTorch's `torch.nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True)`: normalises each group of channels of [N, C, ...] input. */
export class GroupNorm extends Module {
  /** The learned per-channel scale, [numChannels] (initialised to 1), or null without affine. */
  declare weight: Parameter | null;
  /** The learned per-channel shift, [numChannels] (initialised to 0), or null without affine or with `bias: false`. */
  declare bias: Parameter | null;
  /** Added to the variance for numerical stability (default 1e-5). */
  readonly eps: number;
  /** Whether weight and bias are learned (default true). */
  readonly affine: boolean;
  constructor(
    /** The number of groups the channels are divided into. */
    readonly numGroups: number,
    /** The number of channels; divisible by numGroups. */
    readonly numChannels: number,
    options: { eps?: number; affine?: boolean; bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    layerOptions('GroupNorm()', options, ['eps', 'affine', 'bias', ...FACTORY_KEYS]);
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
  /**
   * PyTorch's `torch.nn.GroupNorm` forward: each sample's channels split into numGroups groups, each normalised over its channels and positions, then a
   * per-channel weight and bias; input [N, C, ...] -> the same shape.
   */
  override forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}, bias=${pyBool(this.bias !== null)}`;
  }
}
