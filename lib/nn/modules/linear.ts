/** Linear layers and their neighbours (torch/nn/modules/linear.py, flatten.py): Linear, Bilinear, Identity, Flatten. */
import { bindArgs, checkInt } from '../../checks';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { fanInAndFanOut, kaimingUniform_, uniform_ } from '../init';
import { Module, type Parameter } from '../module';
import { FACTORY_KEYS, type FactoryOptions, layerOptions, pyBool, newParam } from './common';

/**
 * PyTorch's `torch.nn.Linear(in_features, out_features, bias=True)`: y = x·Wᵀ + b over the last dimension.
 * `new nn.Linear(4, 2, { bias, dtype, device })`; weight and bias initialised as PyTorch's.
 */
export class Linear extends Module {
  /** The weight, [outFeatures, inFeatures]. */
  declare weight: Parameter;
  /** The bias, [outFeatures], or null with `bias: false`. */
  declare bias: Parameter | null;
  constructor(
    /** The size of each input's last dimension. */
    readonly inFeatures: number,
    /** The size of each output's last dimension. */
    readonly outFeatures: number,
    options: { bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    layerOptions('Linear()', options, ['bias', ...FACTORY_KEYS]);
    checkInt('Linear()', 'inFeatures', inFeatures, 1);
    checkInt('Linear()', 'outFeatures', outFeatures, 1);
    this.registerParameter('weight', newParam([outFeatures, inFeatures], options));
    this.registerParameter('bias', options.bias === false ? null : newParam([outFeatures], options));
    this.resetParameters();
  }
  /** PyTorch's `reset_parameters()`: weight from kaiming_uniform_(a=√5), bias from U(-1/√fanIn, 1/√fanIn). */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = fanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }
  /** PyTorch's `torch.nn.Linear` forward: x·Wᵀ + b; input [..., inFeatures] -> output [..., outFeatures]. */
  override forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** PyTorch's `torch.nn.Bilinear(in1_features, in2_features, out_features, bias=True)`: y = x1ᵀ·A·x2 + b. */
export class Bilinear extends Module {
  /** The weight, [outFeatures, in1Features, in2Features]. */
  declare weight: Parameter;
  /** The bias, [outFeatures], or null with `bias: false`. */
  declare bias: Parameter | null;
  constructor(
    /** The size of the first input's last dimension. */
    readonly in1Features: number,
    /** The size of the second input's last dimension. */
    readonly in2Features: number,
    /** The size of each output's last dimension. */
    readonly outFeatures: number,
    options: { bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    layerOptions('Bilinear()', options, ['bias', ...FACTORY_KEYS]);
    this.registerParameter('weight', newParam([outFeatures, in1Features, in2Features], options));
    this.registerParameter('bias', options.bias === false ? null : newParam([outFeatures], options));
    this.resetParameters();
  }
  /** PyTorch's `reset_parameters()`: weight and bias from U(-1/√in1Features, 1/√in1Features). */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.weight.shape[1]);
    uniform_(this.weight, -bound, bound);
    if (this.bias) uniform_(this.bias, -bound, bound);
  }
  /**
   * PyTorch's `torch.nn.Bilinear` forward: y_k = x1ᵀ·A_k·x2 + b_k; x1 [..., in1Features] and x2 [..., in2Features] (the same leading dimensions) ->
   * [..., outFeatures].
   */
  override forward(x1: Tensor, x2: Tensor): Tensor {
    return F.bilinear(x1, x2, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** PyTorch's `torch.nn.Identity`: returns its input (a placeholder, e.g. to remove a head: `model.fc = new nn.Identity()`). */
export class Identity extends Module {
  /** Returns `x` itself (the same tensor, not a copy). */
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * PyTorch's `torch.nn.Flatten(start_dim=1, end_dim=-1)`: x.flatten(startDim, endDim), keeping the batch dimension by default;
 * `new nn.Flatten(0)` or `new nn.Flatten({ startDim: 0, endDim: -1 })`.
 */
export class Flatten extends Module {
  /** The first dimension flattened (default 1). */
  readonly startDim: number;
  /** The last dimension flattened (default -1). */
  readonly endDim: number;
  constructor(startDim?: number | { startDim?: number; endDim?: number }, endDim?: number | { endDim?: number }) {
    super();
    const a = bindArgs('Flatten()', ['startDim', 'endDim'], [startDim, endDim]);
    this.startDim = checkInt('Flatten()', 'startDim', a.startDim ?? 1);
    this.endDim = checkInt('Flatten()', 'endDim', a.endDim ?? -1);
  }
  /** PyTorch's `torch.nn.Flatten` forward: dimensions startDim..endDim merged into one, e.g. [N, C, H, W] -> [N, C·H·W] with the defaults. */
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
