/** Linear layers and their neighbours (torch/nn/modules/linear.py, flatten.py): Linear, Bilinear, Identity, Flatten. */
import { checkInt } from '../../checks';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { fanInAndFanOut, kaimingUniform_, uniform_ } from '../init';
import { Module, type Parameter } from '../module';
import { type FactoryOptions, pyBool, newParam } from './common';

export class Linear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } & FactoryOptions = {},
  ) {
    super();
    checkInt('Linear()', 'inFeatures', inFeatures, 1);
    checkInt('Linear()', 'outFeatures', outFeatures, 1);
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
