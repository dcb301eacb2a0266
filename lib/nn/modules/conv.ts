/** Convolutions (torch/nn/modules/conv.py): Conv1d, Conv2d, ConvTranspose2d. */
import { checkInt } from '../../checks';
import { TorchError, argError } from '../../errors';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { fanInAndFanOut, kaimingUniform_, uniform_ } from '../init';
import { Module, type Parameter } from '../module';
import { FACTORY_KEYS, type FactoryOptions, type Pair, layerOptions, pyTuple, tupleOf, newParam } from './common';

/** The keyword arguments of PyTorch's `nn.Conv1d` / `nn.Conv2d` (and, without `'same'`/`'valid'`, `nn.ConvTranspose2d`). */
export interface ConvOptions extends FactoryOptions {
  /** The stride of the convolution (default 1). */
  stride?: Pair;
  /** Zero padding on each side (default 0), or `'same'` (output size = input size, stride 1) / `'valid'` (none). */
  padding?: Pair | 'same' | 'valid';
  /** The spacing between kernel elements (default 1). */
  dilation?: Pair;
  /** Blocked connections from input to output channels (default 1); both channel counts must be divisible by it. */
  groups?: number;
  /** Whether to add a learnable bias (default true). */
  bias?: boolean;
  /** How the input is padded: `'zeros'` (default), `'reflect'`, `'replicate'` or `'circular'` (ConvTranspose2d: only `'zeros'`). */
  paddingMode?: PaddingMode;
}

/** PyTorch's conv `padding_mode`. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'];
const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', ...FACTORY_KEYS];

abstract class ConvNd extends Module {
  /** The kernel: [outChannels, inChannels / groups, ...kernelSize] ([inChannels, outChannels / groups, ...] when transposed). */
  declare weight: Parameter;
  /** The bias, [outChannels], or null with `bias: false`. */
  declare bias: Parameter | null;
  /** The kernel size, one entry per spatial dimension. */
  readonly kernelSize: number[];
  /** The stride, one entry per spatial dimension. */
  readonly stride: number[];
  /** The padding, one entry per spatial dimension, or `'same'` / `'valid'`. */
  readonly padding: number[] | 'same' | 'valid';
  /** The dilation, one entry per spatial dimension. */
  readonly dilation: number[];
  /** The number of groups. */
  readonly groups: number;
  /** How the input is padded (PyTorch's `padding_mode`, default `'zeros'`). */
  readonly paddingMode: PaddingMode;
  /** PyTorch's `_reversed_padding_repeated_twice`: F.pad's list for a paddingMode other than 'zeros'. */
  private readonly padList: number[];
  protected constructor(
    name: string,
    n: number,
    /** The number of input channels. */
    readonly inChannels: number,
    /** The number of output channels. */
    readonly outChannels: number,
    kernelSize: Pair,
    options: ConvOptions,
    transposed = false,
  ) {
    super();
    const fn = `${name}()`;
    layerOptions(fn, options, transposed ? [...CONV_KEYS, 'outputPadding'] : CONV_KEYS);
    checkInt(fn, 'inChannels', inChannels, 1);
    checkInt(fn, 'outChannels', outChannels, 1);
    this.kernelSize = tupleOf(fn, 'kernelSize', kernelSize, n, 1);
    this.stride = tupleOf(fn, 'stride', options.stride ?? 1, n, 1);
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : tupleOf(fn, 'padding', padding, n);
    this.dilation = tupleOf(fn, 'dilation', options.dilation ?? 1, n, 1);
    this.groups = checkInt(fn, 'groups', options.groups ?? 1, 1);
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!PADDING_MODES.includes(this.paddingMode)) argError(fn, 'paddingMode', "'zeros', 'reflect', 'replicate' or 'circular'", this.paddingMode);
    if (transposed && this.paddingMode !== 'zeros') {
      throw new TorchError(`${fn}: only paddingMode 'zeros' is supported for ${name} (as in PyTorch)`, 'ERR_TORCH_ARG');
    }
    // As PyTorch's _ConvNd: F.pad's amounts, last dimension first; 'same' splits d·(k - 1), the extra on the right.
    const pads: [number, number][] = this.kernelSize.map((k, i) => {
      if (this.padding === 'valid') return [0, 0];
      if (this.padding === 'same') {
        const total = this.dilation[i] * (k - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      }
      return [this.padding[i], this.padding[i]];
    });
    this.padList = pads.reverse().flat();
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new TorchError(`${fn}: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`, 'ERR_TORCH_ARG');
    }
    const wshape = transposed ? [inChannels, outChannels / this.groups, ...this.kernelSize] : [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.registerParameter('weight', newParam(wshape, options));
    this.registerParameter('bias', options.bias === false ? null : newParam([outChannels], options));
    this.resetParameters();
  }
  /** PyTorch's `reset_parameters()`: weight from kaiming_uniform_(a=√5), bias from U(-1/√fanIn, 1/√fanIn). */
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
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
  override extraRepr(): string {
    return this.extra();
  }
  /** PyTorch's _conv_forward: with a paddingMode other than 'zeros', F.pad in that mode and then no conv padding. */
  protected convForward(f: typeof F.conv1d, x: Tensor): Tensor {
    const o = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === 'zeros') return f(x, this.weight, this.bias, o);
    const padded = F.pad(x, this.padList, { mode: this.paddingMode });
    try {
      return f(padded, this.weight, this.bias, { ...o, padding: 0 });
    } finally {
      padded.dispose();
    }
  }
}

/** PyTorch's `torch.nn.Conv1d(in_channels, out_channels, kernel_size, ...)`: a 1-D convolution over [N, C, L] (or [C, L]) input. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options);
  }
  /**
   * PyTorch's `torch.nn.Conv1d` forward: input [N, C_in, L_in] (or unbatched [C_in, L_in]) -> [N, C_out, L_out], L_out = floor((L_in + 2·padding -
   * dilation·(kernelSize - 1) - 1) / stride) + 1.
   */
  override forward(x: Tensor): Tensor {
    return this.convForward(F.conv1d, x);
  }
}

/**
 * PyTorch's `torch.nn.Conv2d(in_channels, out_channels, kernel_size, ...)`: a 2-D convolution over [N, C, H, W] (or [C, H, W]) input,
 * e.g. `new nn.Conv2d(3, 8, 3, { padding: 1 })`.
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: ConvOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, options);
  }
  /**
   * PyTorch's `torch.nn.Conv2d` forward: input [N, C_in, H, W] (or unbatched [C_in, H, W]) -> [N, C_out, H_out, W_out], H_out = floor((H + 2·padding[0] -
   * dilation[0]·(kernelSize[0] - 1) - 1) / stride[0]) + 1, W_out likewise.
   */
  override forward(x: Tensor): Tensor {
    return this.convForward(F.conv2d, x);
  }
}

/**
 * PyTorch's `torch.nn.ConvTranspose2d(in_channels, out_channels, kernel_size, ...)`: the gradient of Conv2d with
 * respect to its input (a "deconvolution"), for upsampling; options as Conv2d plus `outputPadding` (default 0).
 */
export class ConvTranspose2d extends ConvNd {
  /** Extra size added to one side of each output dimension (PyTorch's `output_padding`). */
  readonly outputPadding: number[];
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: Omit<ConvOptions, 'padding' | 'paddingMode'> & { padding?: Pair; outputPadding?: Pair; paddingMode?: 'zeros' } = {},
  ) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, options, true);
    this.outputPadding = tupleOf('ConvTranspose2d()', 'outputPadding', options.outputPadding ?? 0, 2);
  }
  /**
   * PyTorch's `torch.nn.ConvTranspose2d` forward: input [N, C_in, H, W] (or unbatched [C_in, H, W]) -> [N, C_out, H_out, W_out], H_out = (H - 1)·stride[0] -
   * 2·padding[0] + dilation[0]·(kernelSize[0] - 1) + outputPadding[0] + 1, W_out likewise.
   */
  override forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }
  /** As PyTorch's extra_repr, with output_padding. */
  override extraRepr(): string {
    return this.extra(this.outputPadding);
  }
}
