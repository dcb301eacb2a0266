/**
 * torch.optim.Adam and AdamW (Adam with decoupled weight decay), with amsgrad and maximize: the
 * single-tensor algorithm of PyTorch's adam.py, operation for operation.
 */
import { TorchError, argError } from '../errors';
import { zerosLike } from '../creation';
import type { Tensor } from '../tensor';
import { addcdiv_, addcmul_, lerp_, maximumInto_ } from './ops';
import {
  CAPTURABLE,
  DIFFERENTIABLE,
  FOREACH,
  FUSED,
  Optimizer,
  isBool,
  nonNegative,
  type OptionSpec,
  type ParamGroup,
  type ParamsLike,
  type StepItem,
} from './optimizer';

/** The keyword arguments of PyTorch's `torch.optim.Adam` / `AdamW` (camelCase; snake_case is accepted too). */
export interface AdamOptions {
  /** The learning rate (default 1e-3). */
  lr?: number;
  /** The decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** Weight decay: an L2 penalty for Adam (default 0), decoupled for AdamW (default 1e-2). */
  weightDecay?: number;
  /** Use the AMSGrad variant (the maximum of past second moments) (default false). */
  amsgrad?: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  foreach?: boolean | null;
  /** Keeps `step` on the parameter's device, as PyTorch's (default false); the math is the same. */
  capturable?: boolean;
  /** Only false: a step autograd can differentiate through is not available. */
  differentiable?: false;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  fused?: boolean | null;
}

function specs(adamw: boolean): OptionSpec[] {
  return [
    { name: 'lr', default: 1e-3, check: nonNegative, float: true },
    { name: 'betas', default: [0.9, 0.999] },
    { name: 'eps', default: 1e-8, check: nonNegative, float: true },
    { name: 'weightDecay', default: adamw ? 1e-2 : 0, check: nonNegative },
    { name: 'amsgrad', default: false, check: isBool },
    { name: 'maximize', default: false, check: isBool },
    FOREACH,
    CAPTURABLE,
    DIFFERENTIABLE,
    FUSED,
    { name: 'decoupledWeightDecay', default: adamw, check: isBool, fixed: adamw },
  ];
}

/** PyTorch's `torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)`. */
export class Adam extends Optimizer {
  /** @internal AdamW sets it: decoupled weight decay, not an option */
  static readonly _decoupled: boolean = false;

  constructor(params: ParamsLike, options: AdamOptions & { decoupledWeightDecay?: boolean } = {}) {
    const adamw = (new.target as typeof Adam)._decoupled;
    super(adamw ? 'AdamW' : 'Adam', params, specs(adamw), options as Record<string, unknown>);
  }

  protected override _checkExtra(fn: string, g: Record<string, unknown>, where: string): void {
    const b = g.betas;
    if (!Array.isArray(b) || b.length !== 2) argError(fn, `${where}betas`, 'an array [beta1, beta2]', b);
    b.forEach((x, i) => {
      if (typeof x !== 'number' || !(x >= 0 && x < 1)) argError(fn, `${where}betas[${i}]`, 'a number in [0, 1)', x);
    });
  }

  protected override _update(group: ParamGroup, items: StepItem[]): void {
    const { lr, eps, weightDecay, amsgrad, maximize, decoupledWeightDecay } = group;
    const [beta1, beta2] = group.betas as [number, number];
    for (const { param, grad: g } of items) {
      const state = this._stateOf(param);
      if (state.size === 0) {
        state.set('step', this._newStep(param, group, 0));
        this._own(state, 'exp_avg', zerosLike(param));
        this._own(state, 'exp_avg_sq', zerosLike(param));
        if (amsgrad) this._own(state, 'max_exp_avg_sq', zerosLike(param));
      }
      const stepT = this._tensorState(state, 'step', param);
      const expAvg = this._tensorState(state, 'exp_avg', param);
      const expAvgSq = this._tensorState(state, 'exp_avg_sq', param);
      let grad: Tensor = maximize ? g.neg() : g;
      stepT.add_(1);
      if (weightDecay !== 0) {
        if (decoupledWeightDecay) param.mul_(1 - lr * weightDecay);
        else grad = grad.addScaled(param, weightDecay);
      }
      lerp_(expAvg, grad, 1 - beta1);
      addcmul_(expAvgSq.mul_(beta2), grad, grad, 1 - beta2);
      const step = stepT.item();
      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2 = 1 - beta2 ** step;
      const stepSize = lr / biasCorrection1;
      const biasCorrection2Sqrt = biasCorrection2 ** 0.5;
      let second = expAvgSq;
      if (amsgrad) {
        second = state.has('max_exp_avg_sq') ? this._tensorState(state, 'max_exp_avg_sq', param) : this._own(state, 'max_exp_avg_sq', zerosLike(param));
        maximumInto_(second, expAvgSq);
      }
      const denom = second.sqrt().div(biasCorrection2Sqrt).add_(eps);
      addcdiv_(param, expAvg, denom, -stepSize);
    }
  }

  /** @internal A state tensor that must be there (a loaded state dict may lack it). */
  protected _tensorState(state: Map<string, unknown>, key: string, param: Tensor): Tensor {
    const v = state.get(key);
    if (v && typeof v === 'object') return v as Tensor;
    throw new TorchError(
      `${this._name}.step(): the state of a parameter of shape [${param.shape.join(', ')}] has no tensor '${key}' (was a state dict of another optimizer loaded?)`,
      'ERR_TORCH_STATE',
    );
  }
}

/** AdamW: Adam whose weight decay multiplies the parameters directly (decoupled), default 1e-2. */
export class AdamW extends Adam {
  static override readonly _decoupled: boolean = true;
  constructor(params: ParamsLike, options: AdamOptions = {}) {
    super(params, options);
  }
  /** As PyTorch's AdamW.__setstate__: a loaded group always decays decoupled. */
  protected override _fixLoadedGroup(group: ParamGroup): void {
    group.decoupledWeightDecay = true;
  }
}
