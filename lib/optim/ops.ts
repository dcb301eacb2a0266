/**
 * The few ATen calls the optimizers need beyond Tensor's methods, each one operator through the
 * dispatcher with PyTorch's arguments (so the arithmetic is PyTorch's, scalar casts included).
 * Callers run them under no-grad inside tidy().
 */
import { native, type Id } from '../binding';
import { op } from '../ops/handles';
import { type Tensor, wrap } from '../tensor';

/** self += alpha * other (Tensor.add_(other, alpha=...)) */
export function addScaled_(self: Tensor, other: Tensor, alpha: number): Tensor {
  native.callOpInplace(op('add_.Tensor'), self._h, other._h, alpha);
  return self;
}

/** self += value * t1 * t2 */
export function addcmul_(self: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  native.callOpInplace(op('addcmul_'), self._h, t1._h, t2._h, value);
  return self;
}

/** self + value * t1 * t2 */
export function addcmul(self: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  return wrap(native.callOp(op('addcmul'), self._h, t1._h, t2._h, value) as Id);
}

/** self += value * t1 / t2 */
export function addcdiv_(self: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  native.callOpInplace(op('addcdiv_'), self._h, t1._h, t2._h, value);
  return self;
}

/** self += weight * (end - self) */
export function lerp_(self: Tensor, end: Tensor, weight: number): Tensor {
  native.callOpInplace(op('lerp_.Scalar'), self._h, end._h, weight);
  return self;
}

/** self.copy_(maximum(self, other)) — torch.maximum(self, other, out=self) */
export function maximumInto_(self: Tensor, other: Tensor): Tensor {
  const m = self.maximum(other);
  self.copy_(m);
  m.dispose();
  return self;
}
