/**
 * torchvision's SqueezeNet (models/squeezenet.py): Fire, SqueezeNet (versions '1_0' and '1_1'), and
 * the builders squeezenet1_0 and squeezenet1_1 (torchvision's names: the underscore between digits
 * has no camelCase form).
 *
 * Module names, registration order, construction order and the re-initialisation loop follow
 * torchvision 0.29 exactly, so torchvision's state dicts load strictly, stateDict() and namedModules()
 * list the same keys in the same order, the printed form is torchvision's, and after the same
 * torch.manualSeed() a freshly built model has torchvision's initial weights.
 */
import { checkInt, checkProbability } from '../../checks';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, Conv2d, Dropout, MaxPool2d, ReLU, Sequential } from '../../nn/layers';
import { kaimingUniform_, normal_, zeros_ } from '../../nn/init';
import { TorchError, argError, checkOptions } from '../../errors';
import { cat } from '../../functions';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

/**
 * SqueezeNet's Fire module: a 1x1 squeeze convolution + ReLU, then the concatenation (along the
 * channels) of a 1x1 and a 3x3 expand convolution, each + ReLU.
 */
export class Fire extends Module {
  /** torchvision's `squeeze`: 1x1 to squeezePlanes. */
  declare squeeze: Conv2d;
  /** torchvision's `squeeze_activation`. */
  declare squeeze_activation: ReLU;
  /** torchvision's `expand1x1`: 1x1 to expand1x1Planes. */
  declare expand1x1: Conv2d;
  /** torchvision's `expand1x1_activation`. */
  declare expand1x1_activation: ReLU;
  /** torchvision's `expand3x3`: 3x3 to expand3x3Planes. */
  declare expand3x3: Conv2d;
  /** torchvision's `expand3x3_activation`. */
  declare expand3x3_activation: ReLU;
  /** The module's input channels. */
  readonly inplanes: number;
  constructor(inplanes: number, squeezePlanes: number, expand1x1Planes: number, expand3x3Planes: number) {
    super();
    const fn = 'Fire()';
    this.inplanes = checkInt(fn, 'inplanes', inplanes, 1);
    checkInt(fn, 'squeezePlanes', squeezePlanes, 1);
    checkInt(fn, 'expand1x1Planes', expand1x1Planes, 1);
    checkInt(fn, 'expand3x3Planes', expand3x3Planes, 1);
    this.registerModule('squeeze', new Conv2d(inplanes, squeezePlanes, 1));
    this.registerModule('squeeze_activation', new ReLU({ inplace: true }));
    this.registerModule('expand1x1', new Conv2d(squeezePlanes, expand1x1Planes, 1));
    this.registerModule('expand1x1_activation', new ReLU({ inplace: true }));
    this.registerModule('expand3x3', new Conv2d(squeezePlanes, expand3x3Planes, 3, { padding: 1 }));
    this.registerModule('expand3x3_activation', new ReLU({ inplace: true }));
  }
  /**
   * torchvision's `Fire` forward: squeeze (1x1, ReLU), then expand1x1 and expand3x3 (each with ReLU) concatenated along the channels; [N, inplanes, H, W] ->
   * [N, expand1x1Planes + expand3x3Planes, H, W].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const s = this.squeeze_activation.call(this.squeeze.call(x));
      return cat([this.expand1x1_activation.call(this.expand1x1.call(s)), this.expand3x3_activation.call(this.expand3x3.call(s))], 1);
    });
  }
}

/** torchvision's SqueezeNet versions: `'1_0'` (the paper's) or `'1_1'` (2.4x less computation, same accuracy). */
export type SqueezeNetVersion = '1_0' | '1_1';

/** The keyword arguments of torchvision's `SqueezeNet` (besides the version). */
export interface SqueezeNetOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** The classifier's dropout; default 0.5. */
  dropout?: number;
}

/**
 * torchvision.models.SqueezeNet: `features` (Sequential of convolutions, ceil-mode max-pools and Fire
 * modules), `classifier` (Dropout, the final 1x1 convolution to numClasses, ReLU, adaptive average
 * pool to 1x1), flatten. The head is `classifier.1`, a Conv2d(512, numClasses, 1).
 */
export class SqueezeNet extends Module {
  /** torchvision's `features`: the stem convolution, max pools and Fire modules. */
  declare features: Sequential;
  /** torchvision's `classifier`: dropout, the final 1x1 convolution to numClasses, ReLU, global average pool. */
  declare classifier: Sequential;
  /** The number of output classes. */
  readonly numClasses: number;
  constructor(version: SqueezeNetVersion = '1_0', options: SqueezeNetOptions = {}) {
    super();
    const fn = 'SqueezeNet()';
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an object', options);
    checkOptions(fn, options, ['numClasses', 'dropout']);
    this.numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    const dropout = options.dropout ?? 0.5;
    checkProbability(fn, 'dropout', dropout);
    const pool = () => new MaxPool2d(3, { stride: 2, ceilMode: true });
    const relu = () => new ReLU({ inplace: true });
    if (version === '1_0') {
      this.registerModule(
        'features',
        new Sequential(
          new Conv2d(3, 96, 7, { stride: 2 }),
          relu(),
          pool(),
          new Fire(96, 16, 64, 64),
          new Fire(128, 16, 64, 64),
          new Fire(128, 32, 128, 128),
          pool(),
          new Fire(256, 32, 128, 128),
          new Fire(256, 48, 192, 192),
          new Fire(384, 48, 192, 192),
          new Fire(384, 64, 256, 256),
          pool(),
          new Fire(512, 64, 256, 256),
        ),
      );
    } else if (version === '1_1') {
      this.registerModule(
        'features',
        new Sequential(
          new Conv2d(3, 64, 3, { stride: 2 }),
          relu(),
          pool(),
          new Fire(64, 16, 64, 64),
          new Fire(128, 16, 64, 64),
          pool(),
          new Fire(128, 32, 128, 128),
          new Fire(256, 32, 128, 128),
          pool(),
          new Fire(256, 48, 192, 192),
          new Fire(384, 48, 192, 192),
          new Fire(384, 64, 256, 256),
          new Fire(512, 64, 256, 256),
        ),
      );
    } else {
      throw new TorchError(`${fn}: unsupported SqueezeNet version ${JSON.stringify(version)}: '1_0' or '1_1' expected`, 'ERR_TORCH_ARG');
    }
    const finalConv = new Conv2d(512, this.numClasses, 1);
    this.registerModule('classifier', new Sequential(new Dropout(dropout), finalConv, relu(), new AdaptiveAvgPool2d([1, 1])));

    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        if (m === finalConv) normal_(m.weight, 0, 0.01);
        else kaimingUniform_(m.weight);
        if (m.bias) zeros_(m.bias);
      }
    }
  }
  /**
   * torchvision's `SqueezeNet` forward: images [N, 3, H, W] -> logits [N, numClasses] (features; classifier: dropout, the final 1x1 convolution, ReLU, global
   * average pool; flattened).
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => this.classifier.call(this.features.call(x)).flatten(1));
  }
}

const HEAD = ['classifier.1.weight', 'classifier.1.bias'];

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const SQUEEZENET_SPECS: Record<'squeezenet1_0' | 'squeezenet1_1', ArchSpec> = {
  squeezenet1_0: { name: 'squeezenet1_0', head: HEAD, files: { IMAGENET1K_V1: 'squeezenet1_0-b66bff10.pth', DEFAULT: 'squeezenet1_0-b66bff10.pth' } },
  squeezenet1_1: { name: 'squeezenet1_1', head: HEAD, files: { IMAGENET1K_V1: 'squeezenet1_1-b8a52dc0.pth', DEFAULT: 'squeezenet1_1-b8a52dc0.pth' } },
};

/** SqueezeNet 1.0 (inputs of at least 21x21); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function squeezenet1_0(options?: ModelOptions): SqueezeNet {
  return withWeights('squeezenet1_0()', SQUEEZENET_SPECS.squeezenet1_0, options, (numClasses) => new SqueezeNet('1_0', { numClasses }));
}

/** SqueezeNet 1.1 (2.4x less computation than 1.0; inputs of at least 17x17); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function squeezenet1_1(options?: ModelOptions): SqueezeNet {
  return withWeights('squeezenet1_1()', SQUEEZENET_SPECS.squeezenet1_1, options, (numClasses) => new SqueezeNet('1_1', { numClasses }));
}

markRetainsNothing(Fire, SqueezeNet);
