/**
 * torch.nn.utils: gradient clipping.
 * @module
 */
export { clipGradNorm_, clipGradValue_ } from '../train/clip';
