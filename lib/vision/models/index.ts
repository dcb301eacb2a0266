/** torch.vision.models: torchvision's architectures with its exact module names (state dicts load strictly). */
export { hubCheckpointsDir } from '../weights';
export type { ModelOptions, Weights, WeightsReport } from '../weights';
