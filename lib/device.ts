import { native } from './binding';
import { TorchError, describe } from './errors';

/** Devices are strings, as PyTorch prints them: 'cpu', 'cuda', 'cuda:1'. */
export type DeviceLike = string | Device;

/** torch.device('cuda:1'): type and index, printable, usable wherever a device string is. */
export class Device {
  /** `'cpu'`, `'cuda'` or `'meta'` (PyTorch's `device.type`). */
  readonly type: string;
  /** The device index, or null when none was given (PyTorch's `device.index`). */
  readonly index: number | null;
  constructor(spec: string, index?: number) {
    const s = checkDevice('torch.device()', spec);
    const [type, idx] = s.split(':');
    this.type = type;
    this.index = index ?? (idx === undefined ? null : Number(idx));
  }
  /** The string form: `'cpu'`, `'cuda'`, `'cuda:1'`. */
  toString(): string {
    return this.index === null ? this.type : `${this.type}:${this.index}`;
  }
}

/** PyTorch's `torch.device('cuda:1')` or `torch.device('cuda', 1)`; throws a TorchError for an unknown device string. */
export function device(spec: string, index?: number): Device {
  return new Device(spec, index);
}

const DEVICE_RE = /^(cpu|cuda|meta)(:\d+)?$/;

/** The CUDA device index a value names (an integer or 'cuda:i'), or null. */
export function cudaIndexOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  const m = typeof v === 'string' ? /^cuda:(\d+)$/.exec(v) : null;
  return m ? Number(m[1]) : null;
}

/** Validates a device argument and returns its string form. */
export function checkDevice(fn: string, d: unknown): string {
  const s = d instanceof Device ? d.toString() : d;
  if (typeof s !== 'string' || !DEVICE_RE.test(s)) {
    throw new TorchError(`${fn}: argument 'device' must be 'cpu', 'cuda', 'cuda:N' or a torch.device, got ${describe(d)}`, 'ERR_TORCH_ARG');
  }
  return s;
}

/**
 * Validates a device a tensor is to be made on or moved to: as checkDevice, and for 'cuda' devices
 * that CUDA is available — else one clear TorchError with the reason, rather than libtorch's
 * backend-by-backend dispatcher message.
 */
export function targetDevice(fn: string, d: unknown): string {
  const s = checkDevice(fn, d);
  if (s.startsWith('cuda') && !native.cuda.isAvailable()) {
    throw new TorchError(`${fn}: CUDA is not available: ${native.cuda.unavailableReason()}`, 'ERR_TORCH_NO_CUDA');
  }
  return s;
}
