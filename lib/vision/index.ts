/** torch.vision: torchvision-compatible pretrained architectures (and, next, image input and transforms). */
export * as models from './models';
export * as io from './io';
export { readImage, encodeImage } from './io';
export * as transforms from './transforms';
export * as datasets from './datasets';
export { ImageFolder } from './datasets';
export { predict, imagenetEvalTransform } from './predict';
export type { Prediction, PredictOptions } from './predict';
export { IMAGENET_CLASSES } from './imagenet';
