/** torch.nn.utils: gradient clipping. */
export { clipGradNorm_, clipGradValue_ } from '../train/clip';
