/** torch.vision: torchvision-compatible pretrained architectures (and, next, image input and transforms). */
export * as models from './models';
