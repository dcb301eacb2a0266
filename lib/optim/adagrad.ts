/** torch.optim.Adagrad with lr decay and an initial accumulator: PyTorch's single-tensor algorithm. */
import { fullLike } from '../creation';
import { noGrad } from '../autograd';
import { TorchError } from '../errors';
import type { Tensor } from '../tensor';
import { addcdiv_, addcmul_ } from './ops';
import { DIFFERENTIABLE, FOREACH, FUSED, Optimizer, isBool, nonNegative, type OptionSpec, type ParamGroup, type ParamsLike, type StepItem } from './optimizer';

/** The keyword arguments of PyTorch's `torch.optim.Adagrad` (camelCase; snake_case is accepted too). */
export interface AdagradOptions {
  /** The learning rate (default 1e-2). */
  lr?: number;
  /** The learning-rate decay: lr / (1 + (step - 1)·lrDecay) (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** The starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator for numerical stability (default 1e-10). */
  eps?: number;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  foreach?: boolean | null;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
  /** Only false: a step autograd can differentiate through is not available. */
  differentiable?: false;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  fused?: boolean | null;
}

const SPECS: OptionSpec[] = [
  { name: 'lr', default: 1e-2, check: nonNegative, float: true },
  { name: 'lrDecay', default: 0, check: nonNegative },
  { name: 'eps', default: 1e-10, check: nonNegative, float: true },
  { name: 'weightDecay', default: 0, check: nonNegative },
  { name: 'initialAccumulatorValue', default: 0, check: nonNegative },
  FOREACH,
  { name: 'maximize', default: false, check: isBool },
  DIFFERENTIABLE,
  FUSED,
];

/** PyTorch's `torch.optim.Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)`. */
export class Adagrad extends Optimizer {
  constructor(params: ParamsLike, options: AdagradOptions = {}) {
    super('Adagrad', params, SPECS, options as Record<string, unknown>);
  }

  /**
   * As PyTorch, the state of every parameter is made up front: step 0 and the accumulator filled
   * with initialAccumulatorValue. (PyTorch does this only for the constructor's groups, so a group
   * added later fails at its first step there; here addParamGroup() makes its state too.)
   */
  protected override _initGroup(group: ParamGroup): void {
    noGrad(() => {
      for (const p of group.params) {
        const state = this._stateOf(p);
        if (state.size) continue;
        state.set('step', this._newStep(p, group, 0));
        this._own(state, 'sum', fullLike(p, group.initialAccumulatorValue));
      }
    });
  }

  protected override _update(group: ParamGroup, items: StepItem[]): void {
    const { lr, lrDecay, eps, weightDecay, maximize } = group;
    for (const { param, grad: g } of items) {
      const state = this._stateOf(param);
      if (state.size === 0) {
        state.set('step', this._newStep(param, group, 0));
        this._own(state, 'sum', fullLike(param, group.initialAccumulatorValue));
      }
      const stepT = state.get('step');
      const sum = state.get('sum');
      if (!stepT || typeof stepT !== 'object' || !sum || typeof sum !== 'object') {
        throw new TorchError(
          "Adagrad.step(): the state of a parameter lacks 'step' or 'sum' (was a state dict of another optimizer loaded?)",
          'ERR_TORCH_STATE',
        );
      }
      stepT.add_(1);
      const step = stepT.item();
      let grad: Tensor = maximize ? g.neg() : g;
      if (weightDecay !== 0) grad = grad.addScaled(param, weightDecay);
      const clr = lr / (1 + (step - 1) * lrDecay);
      addcmul_(sum, grad, grad, 1);
      const std = sum.sqrt().add_(eps);
      addcdiv_(param, grad, std, -clr);
    }
  }
}
