/** Pooling (torch/nn/modules/pooling.py): MaxPool2d, AvgPool2d, AdaptiveAvgPool2d. */
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { TorchError } from '../../errors';
import { type Pair, layerOptions, pyBool, pyTuple } from './common';

const pyIntOrTuple = (v: Pair) => (typeof v === 'number' ? String(v) : pyTuple(v));

/** PyTorch's `torch.nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)`: the maximum over each window of [N, C, H, W] input. */
export class MaxPool2d extends Module {
  /** The window's stride (default: kernelSize). */
  readonly stride: Pair;
  /** Implicit -inf padding on each side (default 0). */
  readonly padding: Pair;
  /** The spacing between window elements (default 1). */
  readonly dilation: Pair;
  /** Whether the output size rounds up rather than down (default false). */
  readonly ceilMode: boolean;
  constructor(
    /** The window size. */
    readonly kernelSize: Pair,
    options: { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean; returnIndices?: false } = {},
  ) {
    super();
    layerOptions('MaxPool2d()', options, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
    if (options.returnIndices !== undefined && options.returnIndices !== false) {
      throw new TorchError(
        "MaxPool2d(): returnIndices is not supported by torch-node's nn.MaxPool2d; for (output, indices) call " +
          'torch.ops.aten.max_pool2d_with_indices(x, kernelSize, stride, padding, dilation, ceilMode)',
        'ERR_TORCH_ARG',
      );
    }
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.ceilMode = options.ceilMode ?? false;
  }
  /**
   * PyTorch's `torch.nn.MaxPool2d` forward: input [N, C, H_in, W_in] (or unbatched [C, H_in, W_in]) -> [N, C, H_out, W_out], H_out = floor((H_in + 2·padding -
   * dilation·(kernelSize - 1) - 1) / stride) + 1 (rounded up with ceilMode), W_out likewise.
   */
  override forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }
  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/** PyTorch's `torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)`: the mean over each window of [N, C, H, W] input. */
export class AvgPool2d extends Module {
  /** The window's stride (default: kernelSize). */
  readonly stride: Pair;
  /** Implicit zero padding on each side (default 0). */
  readonly padding: Pair;
  /** Whether the output size rounds up rather than down (default false). */
  readonly ceilMode: boolean;
  /** Whether the padding zeros count in the mean's divisor (default true). */
  readonly countIncludePad: boolean;
  /** Each window's sum is divided by this instead of its size (default null: the size). */
  readonly divisorOverride: number | null;
  constructor(
    /** The window size. */
    readonly kernelSize: Pair,
    options: { stride?: Pair | null; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number | null } = {},
  ) {
    super();
    layerOptions('AvgPool2d()', options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    this.divisorOverride = options.divisorOverride ?? null;
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
  }
  /**
   * PyTorch's `torch.nn.AvgPool2d` forward: input [N, C, H_in, W_in] (or unbatched [C, H_in, W_in]) -> [N, C, H_out, W_out], H_out = floor((H_in + 2·padding -
   * kernelSize) / stride) + 1 (rounded up with ceilMode), W_out likewise.
   */
  override forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }
  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}`;
  }
}

/** PyTorch's `torch.nn.AdaptiveAvgPool2d(output_size)`: average pooling to a fixed output size whatever the input's. */
export class AdaptiveAvgPool2d extends Module {
  constructor(
    /** The [H, W] of the output (one number for a square). */
    readonly outputSize: Pair,
  ) {
    super();
  }
  /**
   * PyTorch's `torch.nn.AdaptiveAvgPool2d` forward: input [N, C, H_in, W_in] (or unbatched [C, H_in, W_in]) -> [N, C, H_out, W_out], [H_out, W_out] being
   * outputSize; each output is the mean of a window of about H_in / H_out x W_in / W_out.
   */
  override forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}
