/**
 * Loss modules (torch.nn.*Loss): thin Modules over the torch.nn.functional losses, with PyTorch's
 * constructor keywords in camelCase and PyTorch's printed form (`CrossEntropyLoss()`: losses have no
 * extra_repr). Class weights and BCEWithLogitsLoss's pos_weight are registered as buffers named as
 * PyTorch names them (`weight`, `pos_weight`), so they follow `.to(device)` and show in namedBuffers();
 * as in PyTorch the buffer is the tensor passed in (not a copy), owned by the module from then on.
 * forward(input, target) — or call(input, target).
 */
import { checkBool } from '../checks';
import { TorchError, argError, checkOptions as checkKnown } from '../errors';
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

/** A loss's options object, every key checked (Python's deprecated size_average/reduce: a TorchError naming `reduction`). */
function checkOptions(fn: string, o: unknown, known: readonly string[]): Record<string, any> {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) argError(fn, 'options', 'an options object', o);
  for (const k of ['sizeAverage', 'size_average', 'reduce']) {
    if (k in o) {
      throw new TorchError(`${fn}: '${k}' is deprecated in PyTorch and not supported; use reduction: 'mean' (default), 'sum' or 'none'`, 'ERR_TORCH_ARG');
    }
  }
  checkKnown(fn, o, known);
  return o as Record<string, any>;
}

/** The base of every loss module: holds `reduction`. */
export abstract class Loss extends Module {
  /** How per-element losses are combined: `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction: Reduction;
  constructor(fn: string, reduction: unknown = 'mean', extra: string[] = []) {
    super();
    this.reduction = checkReduction(fn, reduction, extra);
  }
  /** The loss of `input` against `target` (each loss gives the shapes): a 0-d tensor, or with reduction 'none' the unreduced losses. */
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

/** The base of losses with a class-weight buffer (PyTorch's _WeightedLoss). */
export abstract class WeightedLoss extends Loss {
  /** The `weight` buffer: a rescaling weight per class (or per element for BCELoss), or null. */
  declare weight: Tensor | null;
  constructor(fn: string, weight: unknown, reduction: unknown) {
    super(fn, reduction);
    this.registerBuffer('weight', optTensor(fn, 'weight', weight));
  }
}

/** The keyword arguments of PyTorch's `nn.CrossEntropyLoss`. */
export interface CrossEntropyLossOptions {
  /** A weight per class, [C] (default none). */
  weight?: Tensor | null;
  /** A target class that contributes nothing to the loss or the gradient (default -100). */
  ignoreIndex?: number;
  /** `'mean'` (default), `'sum'` or `'none'`. */
  reduction?: Reduction;
  /** In [0, 1]: the share of the target mass spread uniformly over the classes (default 0). */
  labelSmoothing?: number;
}

/**
 * PyTorch's `torch.nn.CrossEntropyLoss`: log-softmax then negative log-likelihood; input [N, C] (or [N, C, ...]) logits,
 * target class indices [N] (int64) or class probabilities [N, C].
 */
export class CrossEntropyLoss extends WeightedLoss {
  /** The target class ignored (default -100). */
  readonly ignoreIndex: number;
  /** The label smoothing amount (default 0). */
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyLossOptions = {}) {
    const fn = 'CrossEntropyLoss()';
    const o = checkOptions(fn, options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
    super(fn, o.weight, o.reduction ?? 'mean');
    this.ignoreIndex = o.ignoreIndex ?? -100;
    if (!Number.isInteger(this.ignoreIndex)) argError(fn, 'ignoreIndex', 'an integer', this.ignoreIndex);
    this.labelSmoothing = o.labelSmoothing ?? 0;
    if (typeof this.labelSmoothing !== 'number' || !(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      argError(fn, 'labelSmoothing', 'a number between 0 and 1', this.labelSmoothing);
    }
  }
  /**
   * PyTorch's `torch.nn.CrossEntropyLoss` forward: input logits [N, C] (or unbatched [C], or [N, C, d1, ...]); target class indices (int64) of the input's
   * shape without C, or class probabilities of the input's shape. Returns the 0-d loss, or with reduction 'none' one loss per sample, [N] (or [],
   * [N, d1, ...]).
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

/**
 * PyTorch's `torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')`: the negative log-likelihood of
 * log-probabilities [N, C] at the target class indices [N].
 */
export class NLLLoss extends WeightedLoss {
  /** The target class ignored (default -100). */
  readonly ignoreIndex: number;
  constructor(options: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {}) {
    const fn = 'NLLLoss()';
    const o = checkOptions(fn, options, ['weight', 'ignoreIndex', 'reduction']);
    super(fn, o.weight, o.reduction ?? 'mean');
    this.ignoreIndex = o.ignoreIndex ?? -100;
    if (!Number.isInteger(this.ignoreIndex)) argError(fn, 'ignoreIndex', 'an integer', this.ignoreIndex);
  }
  /**
   * PyTorch's `torch.nn.NLLLoss` forward: input log-probabilities [N, C] (or unbatched [C], or [N, C, d1, ...]) and target class indices (int64) of the input's
   * shape without C -> the 0-d loss, or with reduction 'none' one loss per target element, of the target's shape.
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/** PyTorch's `torch.nn.MSELoss(reduction='mean')`: the squared error (input - target)². */
export class MSELoss extends Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super('MSELoss()', checkOptions('MSELoss()', options, ['reduction']).reduction ?? 'mean');
  }
  /**
   * PyTorch's `torch.nn.MSELoss` forward: input [...] and target [...] of the same shape -> the 0-d mean (or sum) of (input - target)², or with reduction
   * 'none' [...].
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

/** PyTorch's `torch.nn.L1Loss(reduction='mean')`: the absolute error |input - target|. */
export class L1Loss extends Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super('L1Loss()', checkOptions('L1Loss()', options, ['reduction']).reduction ?? 'mean');
  }
  /**
   * PyTorch's `torch.nn.L1Loss` forward: input [...] and target [...] of the same shape -> the 0-d mean (or sum) of |input - target|, or with reduction 'none'
   * [...].
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

/** PyTorch's `torch.nn.SmoothL1Loss(reduction='mean', beta=1.0)`: squared error below `beta`, absolute error above (the Huber loss / beta). */
export class SmoothL1Loss extends Loss {
  /** Where the loss changes from quadratic to linear (default 1). */
  readonly beta: number;
  constructor(options: { reduction?: Reduction; beta?: number } = {}) {
    const fn = 'SmoothL1Loss()';
    const o = checkOptions(fn, options, ['reduction', 'beta']);
    super(fn, o.reduction ?? 'mean');
    this.beta = o.beta ?? 1.0;
    if (typeof this.beta !== 'number' || !(this.beta >= 0)) argError(fn, 'beta', 'a non-negative number', this.beta);
  }
  /**
   * PyTorch's `torch.nn.SmoothL1Loss` forward: input [...] and target [...] of the same shape; with d = input - target, 0.5·d² / beta where |d| < beta and
   * |d| - 0.5·beta elsewhere -> the 0-d mean (or sum), or with reduction 'none' [...].
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** PyTorch's `torch.nn.BCELoss(weight=None, reduction='mean')`: binary cross-entropy of probabilities (after a sigmoid) against targets in [0, 1]. */
export class BCELoss extends WeightedLoss {
  constructor(options: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    const fn = 'BCELoss()';
    const o = checkOptions(fn, options, ['weight', 'reduction']);
    super(fn, o.weight, o.reduction ?? 'mean');
  }
  /**
   * PyTorch's `torch.nn.BCELoss` forward: input probabilities [...] in [0, 1] and target [...] of the same shape -> the 0-d mean (or sum) of
   * -weight·(target·log(input) + (1 - target)·log(1 - input)), or with reduction 'none' [...].
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * PyTorch's `torch.nn.BCEWithLogitsLoss(weight=None, reduction='mean', pos_weight=None)`: a sigmoid and binary cross-entropy
 * in one, numerically stable; takes logits.
 */
export class BCEWithLogitsLoss extends Loss {
  /** The `weight` buffer: a rescaling weight per element (broadcast), or null. */
  declare weight: Tensor | null;
  /** The `pos_weight` buffer: a weight on positive examples per class, or null. */
  declare pos_weight: Tensor | null;
  constructor(options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    const fn = 'BCEWithLogitsLoss()';
    const o = checkOptions(fn, options, ['weight', 'posWeight', 'reduction']);
    super(fn, o.reduction ?? 'mean');
    this.registerBuffer('weight', optTensor(fn, 'weight', o.weight));
    this.registerBuffer('pos_weight', optTensor(fn, 'posWeight', o.posWeight));
  }
  /** The `pos_weight` buffer under its camelCase name. */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }
  /**
   * PyTorch's `torch.nn.BCEWithLogitsLoss` forward: input logits [...] and target [...] of the same shape -> BCELoss of sigmoid(input), computed stably,
   * pos_weight (per class, along the last dimension) weighting the positive term: 0-d, or with reduction 'none' [...].
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.pos_weight, reduction: this.reduction });
  }
}

/**
 * PyTorch's `torch.nn.KLDivLoss(reduction='mean', log_target=False)`: the Kullback-Leibler divergence of `target` from
 * the log-probabilities `input`; `reduction: 'batchmean'` gives the mathematical KL divergence.
 */
export class KLDivLoss extends Loss {
  /** Whether the target is given as log-probabilities (default false). */
  readonly logTarget: boolean;
  constructor(options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}) {
    const fn = 'KLDivLoss()';
    const o = checkOptions(fn, options, ['reduction', 'logTarget']);
    super(fn, o.reduction ?? 'mean', ['batchmean']);
    this.logTarget = o.logTarget ?? false;
    checkBool(fn, 'logTarget', this.logTarget);
  }
  /**
   * PyTorch's `torch.nn.KLDivLoss` forward: input log-probabilities [...] and target [...] of the same shape (probabilities, or log-probabilities with
   * logTarget); target·(log(target) - input) per element -> the 0-d mean (or sum; 'batchmean': the sum divided by N), or with reduction 'none' [...].
   */
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction as Reduction | 'batchmean', logTarget: this.logTarget });
  }
}
