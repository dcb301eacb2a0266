/**
 * torch.vision (torchvision): pretrained architectures (models), image decoding (io), transforms,
 * ImageFolder datasets and predict().
 * @module
 */
export * as models from './models';
export * as io from './io';
export { readImage, encodeImage } from './io';
export * as transforms from './transforms';
export * as datasets from './datasets';
export { ImageFolder } from './datasets';
export { predict, imagenetEvalTransform } from './predict';
export type { Prediction, PredictOptions } from './predict';
export { IMAGENET_CLASSES } from './imagenet';
