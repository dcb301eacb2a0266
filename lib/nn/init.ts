/**
 * torch.nn.init: in-place initialisers under no-grad. They draw from the same generator with the
 * same ATen calls as PyTorch's, so after torch.manualSeed(s) a layer initialises to PyTorch's values.
 */
import { native } from '../binding';
import { noGrad } from '../autograd';
import { TorchError, argError } from '../errors';
import { op } from '../ops/handles';
import { Tensor, idOf } from '../tensor';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** torch.nn.init.calculate_gain */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return argError('calculateGain()', 'nonlinearity', 'a known nonlinearity', nonlinearity);
  }
}

/** [fanIn, fanOut] of a weight tensor (dims >= 2), as torch.nn.init._calculate_fan_in_and_fan_out. */
export function fanInAndFanOut(t: Tensor): [number, number] {
  const shape = t.shape;
  if (shape.length < 2) throw new TorchError('fan in and fan out need a tensor with at least 2 dimensions', 'ERR_TORCH_ARG');
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  const id = idOf(t, 'uniform_()', 'tensor');
  noGrad(() => native.callOpInplace(op('uniform_'), id, a, b));
  return t;
}

export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  const id = idOf(t, 'normal_()', 'tensor');
  noGrad(() => native.callOpInplace(op('normal_'), id, mean, std));
  return t;
}

export function constant_(t: Tensor, value: number): Tensor {
  idOf(t, 'constant_()', 'tensor');
  noGrad(() => t.fill_(value));
  return t;
}
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export interface KaimingOptions {
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

/** The standard deviation Kaiming (He) initialisation aims for: gain / sqrt(fan). */
function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  const fan = (options.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  return calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fan);
}

export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  const a = Math.sqrt(3) * gain * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}

export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}
