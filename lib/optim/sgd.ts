/** torch.optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov, weight decay, maximize. */
import type { Tensor } from '../tensor';
import { addScaled_ } from './ops';
import {
  DIFFERENTIABLE,
  FOREACH,
  FUSED,
  Optimizer,
  isBool,
  isNumber,
  nonNegative,
  type OptionSpec,
  type ParamGroup,
  type ParamsLike,
  type StepItem,
} from './optimizer';
import { TorchError } from '../errors';

/** The keyword arguments of PyTorch's `torch.optim.SGD` (camelCase; snake_case is accepted too). */
export interface SGDOptions {
  /** The learning rate (default 1e-3). */
  lr?: number;
  /** The momentum factor (default 0). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  foreach?: boolean | null;
  /** Only false: a step autograd can differentiate through is not available. */
  differentiable?: false;
  /** Kept in the param groups and checkpoints as PyTorch's; torch-node always runs the single-tensor algorithm. */
  fused?: boolean | null;
}

// PyTorch's defaults, in its order (the order of the keys in a saved param group).
const SPECS: OptionSpec[] = [
  { name: 'lr', default: 1e-3, check: nonNegative, float: true },
  { name: 'momentum', default: 0, check: nonNegative },
  { name: 'dampening', default: 0, check: isNumber },
  { name: 'weightDecay', default: 0, check: nonNegative },
  { name: 'nesterov', default: false, check: isBool },
  { name: 'maximize', default: false, check: isBool },
  FOREACH,
  DIFFERENTIABLE,
  FUSED,
];

/** PyTorch's `torch.optim.SGD(params, lr=1e-3, momentum=0, ...)`: `new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })`. */
export class SGD extends Optimizer {
  constructor(params: ParamsLike, options: SGDOptions = {}) {
    super('SGD', params, SPECS, options as Record<string, unknown>);
  }

  protected override _checkExtra(fn: string, g: Record<string, unknown>, where: string): void {
    if (g.nesterov && ((g.momentum as number) <= 0 || g.dampening !== 0)) {
      throw new TorchError(
        `${fn}: option '${where}nesterov' requires a positive 'momentum' and zero 'dampening' (got momentum ${g.momentum}, dampening ${g.dampening})`,
        'ERR_TORCH_ARG',
      );
    }
  }

  protected override get _stepIsTensor(): boolean {
    return false;
  }

  protected override _update(group: ParamGroup, items: StepItem[]): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const { param, grad: g } of items) {
      let grad: Tensor = maximize ? g.neg() : g;
      if (weightDecay !== 0) grad = grad.addScaled(param, weightDecay);
      if (momentum !== 0) {
        const state = this._stateOf(param);
        let buf = state.get('momentum_buffer');
        if (!buf || typeof buf === 'number') {
          buf = this._own(state, 'momentum_buffer', grad.clone());
        } else {
          addScaled_(buf.mul_(momentum), grad, 1 - dampening);
        }
        grad = nesterov ? grad.addScaled(buf, momentum) : buf;
      }
      addScaled_(param, grad, -lr);
    }
  }
}
