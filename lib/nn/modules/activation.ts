/** Activations (torch/nn/modules/activation.py). */
import { TorchError, argError } from '../../errors';
import { bindArgs, checkInt, checkNumber } from '../../checks';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { pyFloat, inplaceOption } from './common';

/** PyTorch's `torch.nn.ReLU(inplace=False)`: max(x, 0). */
export class ReLU extends Module {
  /** Whether forward overwrites its input (default false). */
  readonly inplace: boolean;
  constructor(options: boolean | { inplace?: boolean } = {}) {
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
  constructor(options: boolean | { inplace?: boolean } = {}) {
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
  constructor(options: boolean | { inplace?: boolean } = {}) {
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
  constructor(options: boolean | { inplace?: boolean } = {}) {
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
  constructor(options: boolean | { inplace?: boolean } = {}) {
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
/** PyTorch's `torch.nn.GELU(approximate='none')`: the Gaussian error linear unit, x·Φ(x); `new nn.GELU('tanh')` or `new nn.GELU({ approximate: 'tanh' })`. */
export class GELU extends Module {
  /** `'none'` (default, exact) or `'tanh'` (the tanh approximation). */
  readonly approximate: 'none' | 'tanh';
  constructor(approximate?: 'none' | 'tanh' | { approximate?: 'none' | 'tanh' }) {
    super();
    const a = bindArgs('GELU()', ['approximate'], [approximate]);
    const v = a.approximate ?? 'none';
    if (v !== 'none' && v !== 'tanh') argError('GELU()', 'approximate', "'none' or 'tanh'", v);
    this.approximate = v;
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
/**
 * PyTorch's `torch.nn.LeakyReLU(negative_slope=0.01, inplace=False)`: x for x >= 0, negativeSlope·x otherwise;
 * `new nn.LeakyReLU(0.2, { inplace: true })` or `new nn.LeakyReLU({ negativeSlope: 0.2, inplace: true })`.
 */
export class LeakyReLU extends Module {
  /** The slope for negative inputs (default 0.01). */
  readonly negativeSlope: number;
  constructor(negativeSlope?: number | { negativeSlope?: number; inplace?: boolean }, options?: boolean | { inplace?: boolean }) {
    super();
    const a = bindArgs('LeakyReLU()', ['negativeSlope', 'inplace'], [negativeSlope, options]);
    this.negativeSlope = checkNumber('LeakyReLU()', 'negativeSlope', a.negativeSlope ?? 0.01);
    this.inplace = inplaceOption('LeakyReLU()', { inplace: a.inplace as boolean | undefined });
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
/** PyTorch's `torch.nn.Softmax(dim)`: exp(x) normalised to sum to 1 along `dim`; `new nn.Softmax(1)` or `new nn.Softmax({ dim: 1 })`. */
export class Softmax extends Module {
  /** The dimension along which the outputs sum to 1. */
  readonly dim: number;
  constructor(dim: number | { dim: number }) {
    super();
    const fn = `${new.target.name}()`;
    const a = bindArgs(fn, ['dim'], [dim]);
    // Python's dim=None picks a dim by a legacy rule and warns; torch-node asks for it.
    if (a.dim == null)
      throw new TorchError(`${fn}: dim is required (PyTorch's implicit dim=None is deprecated): new nn.${new.target.name}(dim)`, 'ERR_TORCH_ARG');
    this.dim = checkInt(fn, 'dim', a.dim);
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
