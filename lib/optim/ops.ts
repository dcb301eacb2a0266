import type { Tensor } from '../tensor';
import { callInplace, callOp } from '../ops/call';

/** self += alpha * other (Tensor.add_(other, alpha=...)) */
export function addScaled_(self: Tensor, other: Tensor, alpha: number): Tensor {
  callInplace('add_.Tensor', self._h, other._h, alpha);
  return self;
}

/** self += value * t1 * t2 */
export function addcmul_(self: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  callInplace('addcmul_', self._h, t1._h, t2._h, value);
  return self;
}

/** self + value * t1 * t2 */
export function addcmul(self: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  return callOp('addcmul', self._h, t1._h, t2._h, value);
}

/** self += value * t1 / t2 */
export function addcdiv_(self: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  callInplace('addcdiv_', self._h, t1._h, t2._h, value);
  return self;
}

/** self += weight * (end - self) */
export function lerp_(self: Tensor, end: Tensor, weight: number): Tensor {
  callInplace('lerp_.Scalar', self._h, end._h, weight);
  return self;
}

/** self.copy_(maximum(self, other)) — torch.maximum(self, other, out=self) */
export function maximumInto_(self: Tensor, other: Tensor): Tensor {
  const m = self.maximum(other);
  self.copy_(m);
  m.dispose();
  return self;
}
