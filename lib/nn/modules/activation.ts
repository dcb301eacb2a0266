/** Activations (torch/nn/modules/activation.py). */
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { pyFloat, inplaceOption } from './common';

/** PyTorch's `torch.nn.ReLU(inplace=False)`: max(x, 0). */
export class ReLU extends Module {
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('ReLU()', options);
  }
  /** PyTorch's `torch.nn.ReLU` forward: max(x, 0) elementwise; input [...] -> output [...], the same shape (with inplace, the input itself, overwritten). */
  override forward(x: Tensor): Tensor {
    return F.relu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}
/** PyTorch's `torch.nn.Sigmoid`: 1 / (1 + exp(-x)). */
export class Sigmoid extends Module {
  /** PyTorch's `torch.nn.Sigmoid` forward: 1 / (1 + exp(-x)) elementwise; input [...] -> output [...], the same shape. */
  override forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}
/** PyTorch's `torch.nn.Tanh`: tanh(x). */
export class Tanh extends Module {
  /** PyTorch's `torch.nn.Tanh` forward: tanh(x) elementwise; input [...] -> output [...], the same shape. */
  override forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}
/** PyTorch's `torch.nn.SiLU(inplace=False)` (swish): x·sigmoid(x). */
export class SiLU extends Module {
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('SiLU()', options);
  }
  /** PyTorch's `torch.nn.SiLU` forward: x·sigmoid(x) elementwise; input [...] -> output [...], the same shape (with inplace, the input itself, overwritten). */
  override forward(x: Tensor): Tensor {
    return F.silu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}
/** nn.ReLU6({ inplace }): min(max(x, 0), 6). */
export class ReLU6 extends Module {
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('ReLU6()', options);
  }
  /**
   * PyTorch's `torch.nn.ReLU6` forward: min(max(x, 0), 6) elementwise; input [...] -> output [...], the same shape (with inplace, the input itself,
   * overwritten).
   */
  override forward(x: Tensor): Tensor {
    return F.relu6(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}
/** nn.Hardswish({ inplace }): x * relu6(x + 3) / 6 (printed without inplace, as PyTorch does). */
export class Hardswish extends Module {
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('Hardswish()', options);
  }
  /**
   * PyTorch's `torch.nn.Hardswish` forward: x·relu6(x + 3) / 6 elementwise; input [...] -> output [...], the same shape (with inplace, the input itself,
   * overwritten).
   */
  override forward(x: Tensor): Tensor {
    return F.hardswish(x, { inplace: this.inplace });
  }
}
/** nn.Hardsigmoid({ inplace }): relu6(x + 3) / 6. */
export class Hardsigmoid extends Module {
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = inplaceOption('Hardsigmoid()', options);
  }
  /**
   * PyTorch's `torch.nn.Hardsigmoid` forward: relu6(x + 3) / 6 elementwise; input [...] -> output [...], the same shape (with inplace, the input itself,
   * overwritten).
   */
  override forward(x: Tensor): Tensor {
    return F.hardsigmoid(x, { inplace: this.inplace });
  }
}
/** PyTorch's `torch.nn.GELU(approximate='none')`: the Gaussian error linear unit, x·Φ(x). */
export class GELU extends Module {
  constructor(
    /** `'none'` (default, exact) or `'tanh'` (the tanh approximation). */
    readonly approximate: 'none' | 'tanh' = 'none',
  ) {
    super();
  }
  /**
   * PyTorch's `torch.nn.GELU` forward: x·Φ(x) elementwise (Φ the standard normal CDF; its tanh approximation with `'tanh'`); input [...] -> output [...], the
   * same shape.
   */
  override forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}
/** PyTorch's `torch.nn.LeakyReLU(negative_slope=0.01)`: x for x >= 0, negativeSlope·x otherwise. */
export class LeakyReLU extends Module {
  constructor(
    /** The slope for negative inputs (default 0.01). */
    readonly negativeSlope = 0.01,
    options: { inplace?: boolean } = {},
  ) {
    super();
    this.inplace = inplaceOption('LeakyReLU()', options);
  }
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  /** PyTorch's `torch.nn.LeakyReLU` forward: x where x >= 0, negativeSlope·x elsewhere; input [...] -> output [...], the same shape. */
  override forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ', inplace=True' : ''}`;
  }
}
/** PyTorch's `torch.nn.Softmax(dim)`: exp(x) normalised to sum to 1 along `dim`. */
export class Softmax extends Module {
  constructor(
    /** The dimension along which the outputs sum to 1. */
    readonly dim: number,
  ) {
    super();
  }
  /**
   * PyTorch's `torch.nn.Softmax` forward: exp(x) / sum(exp(x)) along `dim`, so each slice along `dim` sums to 1; input [...] -> output [...], the same shape.
   */
  override forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
/** PyTorch's `torch.nn.LogSoftmax(dim)`: log(softmax(x)) along `dim`, computed stably. */
export class LogSoftmax extends Softmax {
  /** PyTorch's `torch.nn.LogSoftmax` forward: log(softmax(x)) along `dim`, computed stably; input [...] -> output [...], the same shape. */
  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }
}
