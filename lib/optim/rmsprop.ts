/** torch.optim.RMSprop, centered or not, with momentum: PyTorch's single-tensor algorithm. */
import { zerosLike } from '../creation';
import type { Tensor } from '../tensor';
import { addScaled_, addcdiv_, addcmul, addcmul_, lerp_ } from './ops';
import {
  CAPTURABLE,
  DIFFERENTIABLE,
  FOREACH,
  Optimizer,
  isBool,
  nonNegative,
  type OptionSpec,
  type ParamGroup,
  type ParamsLike,
  type StepItem,
} from './optimizer';
import { TorchError } from '../errors';

/** The keyword arguments of PyTorch's `torch.optim.RMSprop` (camelCase; snake_case is accepted too). */
export interface RMSpropOptions {
  /** The learning rate (default 1e-2). */
  lr?: number;
  /** The smoothing constant of the squared-gradient average (default 0.99). */
  alpha?: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** The momentum factor (default 0). */
  momentum?: number;
  /** Normalise by an estimate of the gradient's variance rather than its second moment (default false). */
  centered?: boolean;
  /** Keeps `step` on the parameter's device, as PyTorch's (default false); the math is the same. */
  capturable?: boolean;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  foreach?: boolean | null;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
  /** Only false: a step autograd can differentiate through is not available. */
  differentiable?: false;
}

const SPECS: OptionSpec[] = [
  { name: 'lr', default: 1e-2, check: nonNegative, float: true },
  { name: 'momentum', default: 0, check: nonNegative },
  { name: 'alpha', default: 0.99, check: nonNegative, float: true },
  { name: 'eps', default: 1e-8, check: nonNegative, float: true },
  { name: 'centered', default: false, check: isBool },
  { name: 'weightDecay', default: 0, check: nonNegative },
  CAPTURABLE,
  FOREACH,
  { name: 'maximize', default: false, check: isBool },
  DIFFERENTIABLE,
];

/** PyTorch's `torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)`. */
export class RMSprop extends Optimizer {
  constructor(params: ParamsLike, options: RMSpropOptions = {}) {
    super('RMSprop', params, SPECS, options as Record<string, unknown>);
  }

  protected override _update(group: ParamGroup, items: StepItem[]): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    for (const { param, grad: g } of items) {
      const state = this._stateOf(param);
      if (state.size === 0) {
        state.set('step', this._newStep(param, group, 0));
        this._own(state, 'square_avg', zerosLike(param));
        if (momentum > 0) this._own(state, 'momentum_buffer', zerosLike(param));
        if (centered) this._own(state, 'grad_avg', zerosLike(param));
      }
      const get = (key: string): Tensor => {
        const v = state.get(key);
        if (v && typeof v === 'object') return v;
        // A group switched to momentum / centered after its state was made: start from zeros.
        if (key !== 'step' && key !== 'square_avg') return this._own(state, key, zerosLike(param));
        throw new TorchError(
          `RMSprop.step(): the state of a parameter has no tensor '${key}' (was a state dict of another optimizer loaded?)`,
          'ERR_TORCH_STATE',
        );
      };
      get('step').add_(1);
      let grad: Tensor = maximize ? g.neg() : g;
      if (weightDecay !== 0) grad = grad.addScaled(param, weightDecay);
      const squareAvg = get('square_avg');
      addcmul_(squareAvg.mul_(alpha), grad, grad, 1 - alpha);
      let avg: Tensor;
      if (centered) {
        const gradAvg = lerp_(get('grad_avg'), grad, 1 - alpha);
        avg = addcmul(squareAvg, gradAvg, gradAvg, -1).sqrt_();
      } else {
        avg = squareAvg.sqrt();
      }
      avg.add_(eps);
      if (momentum > 0) {
        const buf = get('momentum_buffer');
        addcdiv_(buf.mul_(momentum), grad, avg, 1);
        addScaled_(param, buf, -lr);
      } else {
        addcdiv_(param, grad, avg, -lr);
      }
    }
  }
}
