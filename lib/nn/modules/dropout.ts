/** Dropout (torch/nn/modules/dropout.py). */
import { bindArgs, checkBool, checkProbability } from '../../checks';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { pyFloat, pyBool } from './common';

/**
 * PyTorch's `torch.nn.Dropout(p=0.5, inplace=False)`: in training mode zeroes each element with probability `p`
 * and scales the rest by 1/(1-p); the identity in eval mode.
 */
export class Dropout extends Module {
  /** The probability of an element being zeroed (default 0.5). */
  p: number;
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  /** `new nn.Dropout(0.2)`, `new nn.Dropout(0.2, { inplace: true })`, `new nn.Dropout({ p: 0.2 })`, or positional as Python's `Dropout(0.2, True)`. */
  constructor(p?: number | { p?: number; inplace?: boolean }, inplace?: boolean | { inplace?: boolean }) {
    super();
    const fn = `${new.target.name}()`;
    const a = bindArgs(fn, ['p', 'inplace'], [p, inplace]);
    this.p = checkProbability(fn, 'p', a.p ?? 0.5);
    this.inplace = checkBool(fn, 'inplace', a.inplace ?? false);
  }
  /**
   * PyTorch's `torch.nn.Dropout` forward: in training mode each element zeroed with probability `p` and the rest scaled by 1/(1-p); the identity in eval mode.
   * Input [...] -> the same shape.
   */
  override forward(x: Tensor): Tensor {
    return F.dropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}

/** PyTorch's `torch.nn.Dropout2d(p=0.5, inplace=False)`: zeroes whole channels of [N, C, H, W] input with probability `p` in training mode. */
export class Dropout2d extends Dropout {
  /**
   * PyTorch's `torch.nn.Dropout2d` forward: in training mode each channel x[n, c] of [N, C, H, W] input zeroed as a whole with probability `p` and the rest
   * scaled by 1/(1-p); the identity in eval mode. The same shape out; with inplace, the input itself (overwritten in training mode), as in PyTorch.
   */
  override forward(x: Tensor): Tensor {
    return F.dropout2d(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}
