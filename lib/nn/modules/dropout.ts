/** Dropout (torch/nn/modules/dropout.py). */
import { checkProbability } from '../../checks';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { pyFloat, pyBool, inplaceOption } from './common';

export class Dropout extends Module {
  readonly inplace: boolean;
  constructor(
    public p = 0.5,
    options: { inplace?: boolean } = {},
  ) {
    super();
    checkProbability('Dropout()', 'p', p);
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
