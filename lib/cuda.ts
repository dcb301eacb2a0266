/**
 * torch.cuda. One addon binary serves CPU-only and CUDA machines: it loads libtorch_cuda at start when
 * a driver and libtorch's CUDA libraries are present; unavailableReason() says why it did not.
 * @module
 */
import { native } from './binding';
import { cudaIndexOf } from './device';
import { argError } from './errors';

/** PyTorch's `torch.cuda.is_available()`: whether CUDA tensors can be made (see unavailableReason() when not). */
export function isAvailable(): boolean {
  return native.cuda.isAvailable();
}
/** Why CUDA is off (no driver, CPU-only libtorch, a library that failed to load, ...), or null when it is on. */
export function unavailableReason(): string | null {
  return native.cuda.unavailableReason();
}
/** PyTorch's `torch.cuda.device_count()`: the number of visible CUDA devices (0 without CUDA). */
export function deviceCount(): number {
  return native.cuda.deviceCount();
}
/** PyTorch's `torch.cuda.synchronize(device=None)`: waits until every kernel queued on the device (default: the current one) has finished. */
export function synchronize(device?: number): void {
  if (device !== undefined && !Number.isInteger(device)) argError('cuda.synchronize()', 'device', 'an integer', device);
  native.cuda.synchronize(device);
}
/** Seeds the current CUDA device's generator (ignored without CUDA, as in PyTorch). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) argError('cuda.manualSeed()', 'seed', 'a non-negative integer', seed);
  native.cuda.manualSeed(seed, false);
}
/** PyTorch's `torch.cuda.manual_seed_all(seed)`: seeds every CUDA device's generator (ignored without CUDA). */
export function manualSeedAll(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) argError('cuda.manualSeedAll()', 'seed', 'a non-negative integer', seed);
  native.cuda.manualSeed(seed, true);
}
/** Returns cached, unused GPU memory to the driver (no-op without CUDA). */
export function emptyCache(): void {
  native.cuda.emptyCache();
}
/** Bytes held by tensors on a CUDA device (0 without CUDA). */
export function memoryAllocated(device?: number): number {
  if (device !== undefined && !Number.isInteger(device)) argError('cuda.memoryAllocated()', 'device', 'an integer', device);
  return native.cuda.memoryAllocated(device);
}
/**
 * torch.cuda.set_device: the CUDA device that `'cuda'` means from now on in this process (each
 * distributed rank calls it with its LOCAL_RANK before touching CUDA). Accepts an index or 'cuda:i'.
 */
export function setDevice(device: number | string): void {
  const i = cudaIndexOf(device);
  if (i === null) argError('cuda.setDevice()', 'device', "an index or 'cuda:<index>'", device);
  native.cuda.setDevice(i);
}
/** torch.cuda.current_device(): the index `'cuda'` means now. */
export function currentDevice(): number {
  return native.cuda.currentDevice();
}
