/**
 * Loss modules (torch.nn.*Loss): thin Modules over the torch.nn.functional losses, with PyTorch's
 * constructor keywords in camelCase and PyTorch's printed form (`CrossEntropyLoss()`: losses have no
 * extra_repr). Class weights and BCEWithLogitsLoss's pos_weight are registered as buffers named as
 * PyTorch names them (`weight`, `pos_weight`), so they follow `.to(device)` and show in namedBuffers();
 * as in PyTorch the buffer is the tensor passed in (not a copy), owned by the module from then on.
 * forward(input, target) — or call(input, target).
 */
import { checkBool } from '../checks';
import { argError } from '../errors';
import { Tensor } from '../tensor';
import * as F from './functional';
import { Module } from './module';

type Reduction = F.Reduction;

function checkReduction(fn: string, r: unknown, extra: string[] = []): any {
  const ok = ['none', 'mean', 'sum', ...extra];
  if (!ok.includes(r as string)) argError(fn, 'reduction', ok.map((x) => `'${x}'`).join(', '), r);
  return r;
}

function optTensor(fn: string, param: string, t: unknown): Tensor | null {
  if (t == null) return null;
  if (!(t instanceof Tensor)) argError(fn, param, 'a Tensor or null', t);
  return t;
}

function checkOptions(fn: string, o: unknown): Record<string, any> {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) argError(fn, 'options', 'an options object', o);
  return o as Record<string, any>;
}

/** The base of every loss module: holds `reduction`. */
export abstract class Loss extends Module {
  readonly reduction: Reduction;
  constructor(fn: string, reduction: unknown = 'mean', extra: string[] = []) {
    super();
    this.reduction = checkReduction(fn, reduction, extra);
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

/** The base of losses with a class-weight buffer (PyTorch's _WeightedLoss). */
export abstract class WeightedLoss extends Loss {
  declare weight: Tensor | null;
  constructor(fn: string, weight: unknown, reduction: unknown) {
    super(fn, reduction);
    this.registerBuffer('weight', optTensor(fn, 'weight', weight));
  }
}

export interface CrossEntropyLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

export class CrossEntropyLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyLossOptions = {}) {
    const fn = 'CrossEntropyLoss()';
    const o = checkOptions(fn, options);
    super(fn, o.weight, o.reduction ?? 'mean');
    this.ignoreIndex = o.ignoreIndex ?? -100;
    if (!Number.isInteger(this.ignoreIndex)) argError(fn, 'ignoreIndex', 'an integer', this.ignoreIndex);
    this.labelSmoothing = o.labelSmoothing ?? 0;
    if (typeof this.labelSmoothing !== 'number' || !(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      argError(fn, 'labelSmoothing', 'a number between 0 and 1', this.labelSmoothing);
    }
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

export class NLLLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  constructor(options: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {}) {
    const fn = 'NLLLoss()';
    const o = checkOptions(fn, options);
    super(fn, o.weight, o.reduction ?? 'mean');
    this.ignoreIndex = o.ignoreIndex ?? -100;
    if (!Number.isInteger(this.ignoreIndex)) argError(fn, 'ignoreIndex', 'an integer', this.ignoreIndex);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class MSELoss extends Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super('MSELoss()', checkOptions('MSELoss()', options).reduction ?? 'mean');
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

export class L1Loss extends Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super('L1Loss()', checkOptions('L1Loss()', options).reduction ?? 'mean');
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(options: { reduction?: Reduction; beta?: number } = {}) {
    const fn = 'SmoothL1Loss()';
    const o = checkOptions(fn, options);
    super(fn, o.reduction ?? 'mean');
    this.beta = o.beta ?? 1.0;
    if (typeof this.beta !== 'number' || !(this.beta >= 0)) argError(fn, 'beta', 'a non-negative number', this.beta);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class BCELoss extends WeightedLoss {
  constructor(options: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    const fn = 'BCELoss()';
    const o = checkOptions(fn, options);
    super(fn, o.weight, o.reduction ?? 'mean');
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Loss {
  declare weight: Tensor | null;
  declare pos_weight: Tensor | null;
  constructor(options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    const fn = 'BCEWithLogitsLoss()';
    const o = checkOptions(fn, options);
    super(fn, o.reduction ?? 'mean');
    this.registerBuffer('weight', optTensor(fn, 'weight', o.weight));
    this.registerBuffer('pos_weight', optTensor(fn, 'posWeight', o.posWeight));
  }
  /** The `pos_weight` buffer under its camelCase name. */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.pos_weight, reduction: this.reduction });
  }
}

export class KLDivLoss extends Loss {
  readonly logTarget: boolean;
  constructor(options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}) {
    const fn = 'KLDivLoss()';
    const o = checkOptions(fn, options);
    super(fn, o.reduction ?? 'mean', ['batchmean']);
    this.logTarget = o.logTarget ?? false;
    checkBool(fn, 'logTarget', this.logTarget);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction as Reduction | 'batchmean', logTarget: this.logTarget });
  }
}
