/**
 * torch.vision.models: torchvision's architectures with its exact module names (state dicts load strictly).
 * @module
 */
export { hubCheckpointsDir } from '../weights';
export * as featureExtraction from '../feature-extraction';
export type { ModelOptions, Weights, WeightsReport } from '../weights';
export { MobileNetV2, MobileNetV3, mobilenetV2, mobilenetV3Large, mobilenetV3Small, mobilenetV3Conf } from './mobilenet';
export type { MobileNetV2Options, MobileNetV3Options, InvertedResidualConfig } from './mobilenet';
export {
  EfficientNet,
  efficientnetB0,
  efficientnetConf,
  MBConv,
  FusedMBConv,
  mbConvConfig,
  fusedMBConvConfig,
  efficientnetV2Conf,
  efficientnetV2S,
  efficientnetV2M,
  efficientnetV2L,
} from './efficientnet';
export type { EfficientNetOptions, MBConvConfig, MBConvBlockClass } from './efficientnet';
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
export { DenseNet, DenseLayer, DenseBlock, Transition, densenet121, densenet161, densenet169, densenet201 } from './densenet';
export type { DenseNetOptions } from './densenet';
export { SqueezeNet, Fire, squeezenet1_0, squeezenet1_1 } from './squeezenet';
export type { SqueezeNetOptions, SqueezeNetVersion } from './squeezenet';
export { ShuffleNetV2, ShuffleNetInvertedResidual, channelShuffle, shufflenetV2X0_5, shufflenetV2X1_0, shufflenetV2X1_5, shufflenetV2X2_0 } from './shufflenet';
export type { ShuffleNetV2Options } from './shufflenet';
export {
  ConvNeXt,
  CNBlock,
  LayerNorm2d,
  Permute,
  cnBlockConfig,
  convnextConf,
  convnextTiny,
  convnextSmall,
  convnextBase,
  convnextLarge,
  truncNormal_,
} from './convnext';
export type { ConvNeXtOptions, CNBlockConfig, CNBlockClass, TruncNormalOptions } from './convnext';
export { VisionTransformer, Encoder, EncoderBlock, MLPBlock, MLP, vitB_16 } from './vit';
export type { VisionTransformerOptions, ViTModelOptions, ConvStemConfig, MLPOptions } from './vit';
export { GoogLeNet, BasicConv2d, Inception, InceptionAux as GoogLeNetInceptionAux, googlenet } from './googlenet';
export type { GoogLeNetOptions, GoogLeNetBuilderOptions, GoogLeNetOutputs, BasicConv2dOptions } from './googlenet';
export { Inception3, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, InceptionAux as Inception3Aux, inceptionV3 } from './inception';
export type { Inception3Options, InceptionV3BuilderOptions, InceptionOutputs } from './inception';
export { RegNet, BlockParams, SimpleStemIN, BottleneckTransform, ResBottleneckBlock, AnyStage, REGNET_PARAMS } from './regnet';
export { regnetY_400mf, regnetY_800mf, regnetY_1_6gf, regnetY_3_2gf, regnetY_8gf, regnetY_16gf, regnetY_32gf, regnetY_128gf } from './regnet';
export { regnetX_400mf, regnetX_800mf, regnetX_1_6gf, regnetX_3_2gf, regnetX_8gf, regnetX_16gf, regnetX_32gf } from './regnet';
export type { RegNetOptions, RegNetInitParams, RegNetActivation } from './regnet';
export { SwinTransformer, SwinTransformerBlock, ShiftedWindowAttention, PatchMerging, shiftedWindowAttention, swinConf, swinT, swinS, swinB } from './swin';
export type { SwinTransformerOptions, SwinTransformerBlockOptions, SwinBlockClass, SwinDownsampleClass } from './swin';
