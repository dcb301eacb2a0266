/**
 * torchvision's VGG (models/vgg.py): the VGG class, makeLayers and its configurations, and the
 * builders vgg16 and vgg16Bn (torchvision's vgg16_bn).
 *
 * Module names, registration order and initialisation follow torchvision 0.29 exactly, so
 * torchvision's state dicts load strictly, stateDict() lists the same keys in the same order, and
 * after the same torch.manualSeed() a freshly built model has torchvision's initial weights. As in
 * torchvision, a model built to receive weights skips the re-initialisation (initWeights: false).
 */
import { checkInt, checkProbability } from '../../checks';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, ReLU, Sequential } from '../../nn/layers';
import { kaimingNormal_, normal_, ones_, zeros_ } from '../../nn/init';
import { argError } from '../../errors';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

/** One layer of a VGG configuration: a 3x3 convolution's output channels, or 'M' for a 2x2 max-pool. */
export type VGGConfigItem = number | 'M';

/** torchvision's cfgs: 'A' (VGG-11), 'B' (VGG-13), 'D' (VGG-16), 'E' (VGG-19). */
export const VGG_CFGS: Record<'A' | 'B' | 'D' | 'E', readonly VGGConfigItem[]> = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

/** torchvision's make_layers: the `features` Sequential (conv3x3 [, BatchNorm2d], ReLU per number; MaxPool2d(2, 2) per 'M'). */
export function makeLayers(cfg: readonly VGGConfigItem[], options: { batchNorm?: boolean } = {}): Sequential {
  if (!Array.isArray(cfg) || !cfg.every((v) => v === 'M' || (Number.isInteger(v) && (v as number) > 0))) {
    argError('makeLayers()', 'cfg', "an array of channel counts and 'M'", cfg);
  }
  const layers: Module[] = [];
  let inChannels = 3;
  for (const v of cfg) {
    if (v === 'M') {
      layers.push(new MaxPool2d(2, { stride: 2 }));
    } else {
      layers.push(new Conv2d(inChannels, v, 3, { padding: 1 }));
      if (options.batchNorm) layers.push(new BatchNorm2d(v));
      layers.push(new ReLU({ inplace: true }));
      inChannels = v;
    }
  }
  return new Sequential(...layers);
}

/** The keyword arguments of torchvision's `VGG` (besides features). */
export interface VGGOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** torchvision's re-initialisation (kaiming-normal convs, N(0, 0.01) linears); default true. */
  initWeights?: boolean;
  /** Dropout in the classifier (default 0.5). */
  dropout?: number;
}

/**
 * torchvision.models.VGG: `features`, `avgpool` (adaptive, to 7x7), flatten, `classifier`
 * (Linear-ReLU-Dropout-Linear-ReLU-Dropout-Linear; the last, '6', is the head).
 */
export class VGG extends Module {
  /** torchvision's `features`: the convolutions and max pools (makeLayers). */
  declare features: Module;
  /** torchvision's `avgpool`: adaptive average pool to 7x7. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `classifier`: Linear 512 * 7 * 7 -> 4096, ReLU, dropout, Linear 4096 -> 4096, ReLU, dropout, Linear 4096 -> numClasses. */
  declare classifier: Sequential;
  constructor(features: Module, options: VGGOptions = {}) {
    super();
    const fn = 'VGG()';
    if (!(features instanceof Module)) argError(fn, 'features', 'a Module (see makeLayers())', features);
    const numClasses = options.numClasses ?? 1000;
    checkInt(fn, 'numClasses', numClasses, 1);
    const dropout = options.dropout ?? 0.5;
    checkProbability(fn, 'dropout', dropout);
    this.registerModule('features', features);
    this.registerModule('avgpool', new AdaptiveAvgPool2d([7, 7]));
    this.registerModule(
      'classifier',
      new Sequential(
        new Linear(512 * 7 * 7, 4096),
        new ReLU({ inplace: true }),
        new Dropout(dropout),
        new Linear(4096, 4096),
        new ReLU({ inplace: true }),
        new Dropout(dropout),
        new Linear(4096, numClasses),
      ),
    );
    if (options.initWeights ?? true) {
      for (const m of this.modules()) {
        if (m instanceof Conv2d) {
          kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof BatchNorm2d) {
          if (m.weight) ones_(m.weight);
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof Linear) {
          normal_(m.weight, 0, 0.01);
          if (m.bias) zeros_(m.bias);
        }
      }
    }
  }
  /** torchvision's `VGG` forward: images [N, 3, H, W] -> logits [N, numClasses] (features, average pool to 7x7, flatten, classifier). */
  override forward(x: Tensor): Tensor {
    return tidy(() => this.classifier.call(this.avgpool.call(this.features.call(x)).flatten(1)));
  }
}

const HEAD = ['classifier.6.weight', 'classifier.6.bias'];

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const VGG_SPECS: Record<'vgg16' | 'vgg16_bn', ArchSpec> = {
  vgg16: {
    name: 'vgg16',
    head: HEAD,
    files: {
      IMAGENET1K_V1: 'vgg16-397923af.pth',
      // ssd.pytorch's feature extractor: only `features` holds trained values (the classifier is NaN).
      IMAGENET1K_FEATURES: 'vgg16_features-amdegroot-88682ab5.pth',
      DEFAULT: 'vgg16-397923af.pth',
    },
  },
  vgg16_bn: { name: 'vgg16_bn', head: HEAD, files: { IMAGENET1K_V1: 'vgg16_bn-6c64b313.pth', DEFAULT: 'vgg16_bn-6c64b313.pth' } },
};

function vgg(fn: string, spec: ArchSpec, batchNorm: boolean, options: ModelOptions | undefined): VGG {
  // As torchvision's _vgg: no re-initialisation when weights will overwrite it.
  const initWeights = options?.weights == null;
  return withWeights(fn, spec, options, (numClasses) => new VGG(makeLayers(VGG_CFGS.D, { batchNorm }), { numClasses, initWeights }));
}

/** VGG-16 (configuration 'D'); weights 'IMAGENET1K_V1' = 'DEFAULT', or 'IMAGENET1K_FEATURES'. */
export function vgg16(options?: ModelOptions): VGG {
  return vgg('vgg16()', VGG_SPECS.vgg16, false, options);
}

/** VGG-16 with BatchNorm (torchvision's vgg16_bn); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function vgg16Bn(options?: ModelOptions): VGG {
  return vgg('vgg16Bn()', VGG_SPECS.vgg16_bn, true, options);
}

markRetainsNothing(VGG);
