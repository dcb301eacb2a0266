/**
 * torchvision's DenseNet (models/densenet.py): _DenseLayer, _DenseBlock, _Transition, DenseNet, and the
 * builders densenet121, densenet161, densenet169, densenet201.
 *
 * Module names, registration order, construction order and the re-initialisation loop follow
 * torchvision 0.29 exactly, so torchvision's state dicts load strictly, stateDict() and namedModules()
 * list the same keys in the same order, the printed form is torchvision's (the block classes print as
 * `_DenseLayer`, `_DenseBlock`, `_Transition`), and after the same torch.manualSeed() a freshly built
 * model has torchvision's initial weights.
 *
 * torchvision's own checkpoints (densenet121-a639ec97.pth, ...) predate PyTorch's ban on '.' in module
 * names and BatchNorm's num_batches_tracked: their keys read `denselayer1.norm.1.weight`. As
 * torchvision's _load_state_dict does, DenseNet.loadStateDict renames those to
 * `denselayer1.norm1.weight`, and, as BatchNorm's loader does for such version-less state dicts, a
 * missing num_batches_tracked keeps its value (Module.loadStateDict).
 *
 * Not supported: memory_efficient (gradient checkpointing of the bottleneck); it changes memory use,
 * not results.
 */
import { checkInt, checkProbability } from '../../checks';
import { Module, stateDictEntries, type LoadResult, type StateDictLike, markRetainsNothing } from '../../nn/module';
import { AvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, ModuleDict, ReLU, Sequential } from '../../nn/layers';
import * as F from '../../nn/functional';
import { kaimingNormal_, ones_, zeros_ } from '../../nn/init';
import { argError, checkOptions } from '../../errors';
import { cat } from '../../functions';
import { tidy } from '../../scope';
import { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

/**
 * torchvision's _DenseLayer: norm1-relu1-conv1 (1x1, to bnSize * growthRate) on the concatenation of
 * all earlier features, then norm2-relu2-conv2 (3x3, to growthRate), then dropout when dropRate > 0.
 * Printed as `_DenseLayer`.
 */
export class DenseLayer extends Module {
  /** torchvision's `norm1`: BatchNorm before the 1x1 bottleneck. */
  declare norm1: BatchNorm2d;
  /** torchvision's `relu1`. */
  declare relu1: ReLU;
  /** torchvision's `conv1`: the 1x1 bottleneck to bnSize * growthRate channels. */
  declare conv1: Conv2d;
  /** torchvision's `norm2`: BatchNorm before the 3x3 convolution. */
  declare norm2: BatchNorm2d;
  /** torchvision's `relu2`. */
  declare relu2: ReLU;
  /** torchvision's `conv2`: the 3x3 convolution to growthRate new channels. */
  declare conv2: Conv2d;
  /** Dropout after the layer, in training (0: none). */
  readonly dropRate: number;
  constructor(numInputFeatures: number, growthRate: number, bnSize: number, dropRate: number) {
    super();
    this.registerModule('norm1', new BatchNorm2d(numInputFeatures));
    this.registerModule('relu1', new ReLU({ inplace: true }));
    this.registerModule('conv1', new Conv2d(numInputFeatures, bnSize * growthRate, 1, { stride: 1, bias: false }));
    this.registerModule('norm2', new BatchNorm2d(bnSize * growthRate));
    this.registerModule('relu2', new ReLU({ inplace: true }));
    this.registerModule('conv2', new Conv2d(bnSize * growthRate, growthRate, 3, { stride: 1, padding: 1, bias: false }));
    this.dropRate = dropRate;
  }
  /** The bottleneck: conv1(relu1(norm1(cat(inputs, 1)))). */
  bnFunction(inputs: Tensor[]): Tensor {
    return tidy(() => this.conv1.call(this.relu1.call(this.norm1.call(inputs.length === 1 ? inputs[0] : cat(inputs, 1)))));
  }
  /** `input`: one tensor, or the list of all earlier features (concatenated along the channels). */
  override forward(input: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const prev = input instanceof Tensor ? [input] : input;
      if (!Array.isArray(prev) || prev.length === 0) argError('_DenseLayer.forward()', 'input', 'a Tensor or a non-empty array of Tensors', input);
      const bottleneck = this.bnFunction(prev);
      const out = this.conv2.call(this.relu2.call(this.norm2.call(bottleneck)));
      return this.dropRate > 0 ? F.dropout(out, { p: this.dropRate, training: this.training }) : out;
    });
  }
}
Object.defineProperty(DenseLayer, 'name', { value: '_DenseLayer' });

/**
 * torchvision's _DenseBlock (a ModuleDict of denselayer1, denselayer2, ...): each layer sees the
 * concatenation of the block's input and every earlier layer's output; the block returns all of them
 * concatenated. Printed as `_DenseBlock`.
 */
export class DenseBlock extends ModuleDict {
  constructor(numLayers: number, numInputFeatures: number, bnSize: number, growthRate: number, dropRate: number) {
    super();
    for (let i = 0; i < numLayers; i++) {
      this.registerModule(`denselayer${i + 1}`, new DenseLayer(numInputFeatures + i * growthRate, growthRate, bnSize, dropRate));
    }
  }
  /**
   * torchvision's `_DenseBlock` forward: each dense layer on the concatenation of all earlier features; [N, C, H, W] -> [N, C + numLayers·growthRate, H, W]
   * (the input and every layer's output concatenated along the channels).
   */
  override forward(initFeatures: Tensor): Tensor {
    return tidy(() => {
      const features = [initFeatures];
      for (const layer of this._modules.values()) if (layer) features.push(layer.call(features));
      return cat(features, 1);
    });
  }
}
Object.defineProperty(DenseBlock, 'name', { value: '_DenseBlock' });

/** torchvision's _Transition (a Sequential): norm, relu, 1x1 conv, 2x2 average pool. Printed as `_Transition`. */
export class Transition extends Sequential {
  constructor(numInputFeatures: number, numOutputFeatures: number) {
    super();
    this.registerModule('norm', new BatchNorm2d(numInputFeatures));
    this.registerModule('relu', new ReLU({ inplace: true }));
    this.registerModule('conv', new Conv2d(numInputFeatures, numOutputFeatures, 1, { stride: 1, bias: false }));
    this.registerModule('pool', new AvgPool2d(2, { stride: 2 }));
  }
}
Object.defineProperty(Transition, 'name', { value: '_Transition' });

/** The keyword arguments of torchvision's `DenseNet`. */
export interface DenseNetOptions {
  /** Filters each layer adds (k in the paper); default 32. */
  growthRate?: number;
  /** Layers in each of the 4 dense blocks; default [6, 12, 24, 16] (DenseNet-121). */
  blockConfig?: number[];
  /** Filters of the first convolution; default 64. */
  numInitFeatures?: number;
  /** Bottleneck width factor: bnSize * growthRate channels; default 4. */
  bnSize?: number;
  /** Dropout after each dense layer; default 0. */
  dropRate?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
}

/**
 * torchvision.models.DenseNet (DenseNet-BC): `features` (conv0, norm0, relu0, pool0, denseblock1,
 * transition1, ..., denseblock4, norm5), then relu, global average pool, flatten, `classifier`
 * (Linear). Change the head with `model.registerModule('classifier', new nn.Linear(model.classifier.inFeatures, n))`.
 */
export class DenseNet extends Module {
  /** torchvision's `features`: the stem, the dense blocks and transitions, and the final norm. */
  declare features: Sequential;
  /** torchvision's `classifier`: the Linear to numClasses. */
  declare classifier: Linear;
  constructor(options: DenseNetOptions = {}) {
    super();
    const fn = 'DenseNet()';
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an object', options);
    checkOptions(fn, options, ['growthRate', 'blockConfig', 'numInitFeatures', 'bnSize', 'dropRate', 'numClasses']);
    const growthRate = checkInt(fn, 'growthRate', options.growthRate ?? 32, 1);
    const blockConfig = options.blockConfig ?? [6, 12, 24, 16];
    if (!Array.isArray(blockConfig) || blockConfig.length === 0 || !blockConfig.every((n) => Number.isInteger(n) && n >= 1)) {
      argError(fn, 'blockConfig', 'an array of positive layer counts, e.g. [6, 12, 24, 16]', blockConfig);
    }
    const numInitFeatures = checkInt(fn, 'numInitFeatures', options.numInitFeatures ?? 64, 1);
    const bnSize = checkInt(fn, 'bnSize', options.bnSize ?? 4, 1);
    const dropRate = options.dropRate ?? 0;
    checkProbability(fn, 'dropRate', dropRate);
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);

    const features = new Sequential();
    features.registerModule('conv0', new Conv2d(3, numInitFeatures, 7, { stride: 2, padding: 3, bias: false }));
    features.registerModule('norm0', new BatchNorm2d(numInitFeatures));
    features.registerModule('relu0', new ReLU({ inplace: true }));
    features.registerModule('pool0', new MaxPool2d(3, { stride: 2, padding: 1 }));
    this.registerModule('features', features);
    let numFeatures = numInitFeatures;
    blockConfig.forEach((numLayers, i) => {
      features.registerModule(`denseblock${i + 1}`, new DenseBlock(numLayers, numFeatures, bnSize, growthRate, dropRate));
      numFeatures += numLayers * growthRate;
      if (i !== blockConfig.length - 1) {
        features.registerModule(`transition${i + 1}`, new Transition(numFeatures, Math.floor(numFeatures / 2)));
        numFeatures = Math.floor(numFeatures / 2);
      }
    });
    features.registerModule('norm5', new BatchNorm2d(numFeatures));
    this.registerModule('classifier', new Linear(numFeatures, numClasses));

    // torchvision's "official init from torch repo"
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight);
      else if (m instanceof BatchNorm2d) {
        if (m.weight) ones_(m.weight);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof Linear) {
        if (m.bias) zeros_(m.bias);
      }
    }
  }
  /**
   * As Module.loadStateDict, after torchvision's renaming of its old DenseNet keys
   * (`denselayerN.norm.1.weight` -> `denselayerN.norm1.weight`); a BatchNorm counter such files lack
   * keeps its value, as PyTorch's BatchNorm does for them.
   */
  override loadStateDict(stateDict: StateDictLike, options: { strict?: boolean } = {}): LoadResult {
    const entries = stateDictEntries('loadStateDict()', stateDict);
    return super.loadStateDict(new Map(entries.map(([k, v]) => [densenetLegacyKey(k), v])), options);
  }
  /** torchvision's `DenseNet` forward: images [N, 3, H, W] -> logits [N, numClasses] (features, ReLU, global average pool, flatten, classifier). */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const f = F.relu(this.features.call(x), { inplace: true });
      return this.classifier.call(F.adaptiveAvgPool2d(f, [1, 1]).flatten(1));
    });
  }
}

// ---- loading torchvision's legacy checkpoints -----------------------------------------------------------

/** torchvision's densenet _load_state_dict pattern: `denselayerN.norm.1.weight` -> `denselayerN.norm1.weight`. */
const LEGACY_KEY = /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$/;

/** @internal torchvision's DenseNet key renaming of its old checkpoints. */
export function densenetLegacyKey(key: string): string {
  const m = LEGACY_KEY.exec(key);
  return m ? m[1] + m[2] : key;
}

// ---- builders ---------------------------------------------------------------------------------------

const HEAD = ['classifier.weight', 'classifier.bias'];

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const DENSENET_SPECS: Record<'densenet121' | 'densenet161' | 'densenet169' | 'densenet201', ArchSpec> = {
  densenet121: { name: 'densenet121', head: HEAD, files: { IMAGENET1K_V1: 'densenet121-a639ec97.pth', DEFAULT: 'densenet121-a639ec97.pth' } },
  densenet161: { name: 'densenet161', head: HEAD, files: { IMAGENET1K_V1: 'densenet161-8d451a50.pth', DEFAULT: 'densenet161-8d451a50.pth' } },
  densenet169: { name: 'densenet169', head: HEAD, files: { IMAGENET1K_V1: 'densenet169-b2777c0a.pth', DEFAULT: 'densenet169-b2777c0a.pth' } },
  densenet201: { name: 'densenet201', head: HEAD, files: { IMAGENET1K_V1: 'densenet201-c1103571.pth', DEFAULT: 'densenet201-c1103571.pth' } },
};

function build(fn: string, spec: ArchSpec, options: ModelOptions | undefined, growthRate: number, blockConfig: number[], numInitFeatures: number): DenseNet {
  return withWeights(fn, spec, options, (numClasses) => new DenseNet({ growthRate, blockConfig, numInitFeatures, numClasses }));
}

/** DenseNet-121 (growth 32, blocks [6, 12, 24, 16], 64 initial features); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function densenet121(options?: ModelOptions): DenseNet {
  return build('densenet121()', DENSENET_SPECS.densenet121, options, 32, [6, 12, 24, 16], 64);
}

/** DenseNet-161 (growth 48, blocks [6, 12, 36, 24], 96 initial features); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function densenet161(options?: ModelOptions): DenseNet {
  return build('densenet161()', DENSENET_SPECS.densenet161, options, 48, [6, 12, 36, 24], 96);
}

/** DenseNet-169 (growth 32, blocks [6, 12, 32, 32], 64 initial features); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function densenet169(options?: ModelOptions): DenseNet {
  return build('densenet169()', DENSENET_SPECS.densenet169, options, 32, [6, 12, 32, 32], 64);
}

/** DenseNet-201 (growth 32, blocks [6, 12, 48, 32], 64 initial features); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function densenet201(options?: ModelOptions): DenseNet {
  return build('densenet201()', DENSENET_SPECS.densenet201, options, 32, [6, 12, 48, 32], 64);
}

markRetainsNothing(DenseLayer, DenseBlock, Transition, DenseNet);
