/** Convolutions (torch/nn/modules/conv.py): Conv1d, Conv2d, ConvTranspose2d. */
import { checkInt } from '../../checks';
import { TorchError } from '../../errors';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { fanInAndFanOut, kaimingUniform_, uniform_ } from '../init';
import { Module, type Parameter } from '../module';
import { type FactoryOptions, type Pair, pyTuple, tupleOf, newParam } from './common';

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
    checkInt(fn, 'inChannels', inChannels, 1);
    checkInt(fn, 'outChannels', outChannels, 1);
    this.kernelSize = tupleOf(fn, 'kernelSize', kernelSize, n, 1);
    this.stride = tupleOf(fn, 'stride', options.stride ?? 1, n, 1);
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : tupleOf(fn, 'padding', padding, n);
    this.dilation = tupleOf(fn, 'dilation', options.dilation ?? 1, n, 1);
    this.groups = checkInt(fn, 'groups', options.groups ?? 1, 1);
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
