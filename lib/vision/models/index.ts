/** torch.vision.models: torchvision's architectures with its exact module names (state dicts load strictly). */
export { hubCheckpointsDir } from '../weights';
export type { ModelOptions, Weights, WeightsReport } from '../weights';
export { MobileNetV2, MobileNetV3, mobilenetV2, mobilenetV3Large, mobilenetV3Small, mobilenetV3Conf } from './mobilenet';
export type { MobileNetV2Options, MobileNetV3Options, InvertedResidualConfig } from './mobilenet';
export { EfficientNet, efficientnetB0, efficientnetConf } from './efficientnet';
export type { EfficientNetOptions, MBConvConfig } from './efficientnet';
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101 } from './resnet';
export type { ResNetOptions, BlockOptions, BlockClass } from './resnet';
export { VGG, makeLayers, vgg16, vgg16Bn } from './vgg';
export type { VGGOptions, VGGConfigItem } from './vgg';
export {
  EfficientNetLite,
  MBConvBlock,
  Conv2dStaticSamePadding,
  efficientnetLite0,
  efficientnetLite0Transform,
  efficientnetLite0CachedWeights,
  EFFICIENTNET_LITE_MEAN,
  EFFICIENTNET_LITE_STD,
  EFFICIENTNET_LITE_BLOCKS,
  EFFICIENTNET_LITE_PARAMS,
} from './efficientnet-lite';
export type { EfficientNetLiteOptions, LiteBlockArgs } from './efficientnet-lite';
