/**
 * torchvision's MobileNetV2 (models/mobilenetv2.py) and MobileNetV3 small/large (models/mobilenetv3.py),
 * with its building blocks from torchvision.ops.misc (Conv2dNormActivation, SqueezeExcitation).
 *
 * Module names, registration order, hyper-parameters (BatchNorm eps/momentum, padding, dropout) and
 * initialisation follow torchvision 0.29 exactly, so: torchvision's state dicts load strictly, and
 * stateDict() and namedModules() list the same keys in the same order; after the same
 * torch.manualSeed() a freshly built model has torchvision's initial weights (the same ATen random
 * calls in the same order: each layer's own reset, then the model's re-initialisation loop).
 *
 * Activations are built with inplace where torchvision builds them so (ReLU6, Hardswish); ReLU and
 * SiLU have no inplace option in torch-node and run out of place, which gives the same values.
 */
import { Module, markRetainsNothing } from '../../nn/module';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Hardsigmoid,
  Hardswish,
  Linear,
  ReLU,
  ReLU6,
  Sequential,
  Sigmoid,
  type BatchNormOptions,
} from '../../nn/layers';
import * as F from '../../nn/functional';
import { kaimingNormal_, normal_, ones_, zeros_ } from '../../nn/init';
import { TorchError, argError } from '../../errors';
import { checkInt, checkPositive, checkProbability } from '../../checks';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

/** A factory for the normalisation layer after a convolution (torchvision's norm_layer). */
export type NormLayer = (numFeatures: number) => Module;
/** A factory for an activation module (torchvision's activation_layer; it passes inplace=True). */
export type ActivationLayer = () => Module;

/** torchvision's models._utils._make_divisible: channels rounded to a multiple of divisor, at most 10% down. */
export function makeDivisible(v: number, divisor: number, minValue?: number): number {
  let newV = Math.max(minValue ?? divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

/** Python's round() on a float (half to even), for int(round(inp * expand_ratio)). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const batchNorm =
  (options?: BatchNormOptions): NormLayer =>
  (c) =>
    new BatchNorm2d(c, options);

export interface Conv2dNormActivationOptions {
  kernelSize?: number;
  stride?: number;
  /** Default (kernelSize - 1) / 2 * dilation, rounded down. */
  padding?: number;
  groups?: number;
  /** Default BatchNorm2d; null for none. */
  normLayer?: NormLayer | null;
  /** Default ReLU; null for none. */
  activationLayer?: ActivationLayer | null;
  dilation?: number;
  /** Default: a bias only when there is no norm layer. */
  bias?: boolean;
}

/**
 * torchvision.ops.Conv2dNormActivation: a Sequential of Conv2d ('0'), the norm layer ('1') and the
 * activation ('2'), each only when given.
 */
export class Conv2dNormActivation extends Sequential {
  /** The number of output channels. */
  readonly outChannels: number;
  constructor(inChannels: number, outChannels: number, options: Conv2dNormActivationOptions = {}) {
    super(...Conv2dNormActivation.layers(inChannels, outChannels, options));
    this.outChannels = outChannels;
  }
  private static layers(inChannels: number, outChannels: number, o: Conv2dNormActivationOptions): Module[] {
    const kernelSize = o.kernelSize ?? 3;
    const dilation = o.dilation ?? 1;
    const norm = o.normLayer === undefined ? batchNorm() : o.normLayer;
    const act = o.activationLayer === undefined ? () => new ReLU({ inplace: true }) : o.activationLayer;
    const layers: Module[] = [
      new Conv2d(inChannels, outChannels, kernelSize, {
        stride: o.stride ?? 1,
        padding: o.padding ?? Math.floor((kernelSize - 1) / 2) * dilation,
        dilation,
        groups: o.groups ?? 1,
        bias: o.bias ?? norm === null,
      }),
    ];
    if (norm) layers.push(norm(outChannels));
    if (act) layers.push(act());
    return layers;
  }
}

/**
 * torchvision.ops.SqueezeExcitation: input * scale_activation(fc2(activation(fc1(avgpool(input))))),
 * fc1 and fc2 being 1x1 convolutions with bias.
 */
export class SqueezeExcitation extends Module {
  /** torchvision's `avgpool`: the global average pool that squeezes. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `fc1`: 1x1 convolution down to the squeeze channels. */
  declare fc1: Conv2d;
  /** torchvision's `fc2`: 1x1 convolution back to the input channels. */
  declare fc2: Conv2d;
  /** torchvision's `activation`: between fc1 and fc2 (ReLU by default). */
  declare activation: Module;
  constructor(inputChannels: number, squeezeChannels: number, options: { activation?: ActivationLayer; scaleActivation?: ActivationLayer } = {}) {
    super();
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('fc1', new Conv2d(inputChannels, squeezeChannels, 1));
    this.registerModule('fc2', new Conv2d(squeezeChannels, inputChannels, 1));
    this.registerModule('activation', (options.activation ?? (() => new ReLU()))());
    this.registerModule('scale_activation', (options.scaleActivation ?? (() => new Sigmoid()))());
  }
  /** The gate's activation (registered under torchvision's name, 'scale_activation'). */
  get scaleActivation(): Module {
    return this._modules.get('scale_activation')!;
  }
  /**
   * torchvision's `SqueezeExcitation` forward: input·scaleActivation(fc2(activation(fc1(avgpool(input))))), a per-channel gate; [N, C, H, W] -> the same shape.
   */
  override forward(input: Tensor): Tensor {
    return tidy(() => {
      let s = this.avgpool.call(input);
      s = this.fc1.call(s);
      s = this.activation.call(s);
      s = this.fc2.call(s);
      s = this.scaleActivation.call(s);
      return s.mul(input);
    });
  }
}

/** torchvision's init loop of MobileNetV2/V3 (EfficientNet's differs only for Linear). */
export function initMobileNet(model: Module, linear: (m: Linear) => void): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: 'fan_out' });
      if (m.bias) zeros_(m.bias);
    } else if (m instanceof BatchNorm2d) {
      if (m.weight) ones_(m.weight);
      if (m.bias) zeros_(m.bias);
    } else if (m instanceof Linear) {
      linear(m);
    }
  }
}

// ---- MobileNetV2 ------------------------------------------------------------------------------------

/** MobileNetV2's block: `conv`, a Sequential of [pointwise expand,] depthwise, pointwise-linear conv and its BN. */
export class InvertedResidual extends Module {
  /** torchvision's `conv`: the expansion, depthwise and projection layers. */
  declare conv: Sequential;
  readonly useResConnect: boolean;
  readonly outChannels: number;
  constructor(
    inp: number,
    oup: number,
    readonly stride: number,
    expandRatio: number,
    normLayer: NormLayer = batchNorm(),
  ) {
    super();
    if (stride !== 1 && stride !== 2) throw new TorchError(`InvertedResidual(): stride should be 1 or 2 instead of ${stride}`, 'ERR_TORCH_ARG');
    const hidden = pyRound(inp * expandRatio);
    this.useResConnect = stride === 1 && inp === oup;
    const relu6 = () => new ReLU6({ inplace: true });
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(new Conv2dNormActivation(inp, hidden, { kernelSize: 1, normLayer, activationLayer: relu6 }));
    layers.push(
      new Conv2dNormActivation(hidden, hidden, { stride, groups: hidden, normLayer, activationLayer: relu6 }),
      new Conv2d(hidden, oup, 1, { stride: 1, padding: 0, bias: false }),
      normLayer(oup),
    );
    this.registerModule('conv', new Sequential(...layers));
    this.outChannels = oup;
  }
  /**
   * torchvision's `InvertedResidual` forward: x + conv(x) when useResConnect (stride 1, inp = oup), else conv(x); [N, inp, H, W] ->
   * [N, oup, ceil(H / stride), ceil(W / stride)].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => (this.useResConnect ? x.add(this.conv.call(x)) : this.conv.call(x)));
  }
}

/** The keyword arguments of torchvision's `MobileNetV2`. */
export interface MobileNetV2Options {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Scales every layer's channels (default 1.0). */
  widthMult?: number;
  /** Rows of [t (expansion), c (channels), n (repeats), s (first stride)]; default torchvision's. */
  invertedResidualSetting?: number[][];
  /** Channel counts are rounded to a multiple of this (default 8). */
  roundNearest?: number;
  /** The norm layer (default BatchNorm2d). */
  normLayer?: NormLayer;
  /** Dropout before the classifier's Linear (default 0.2). */
  dropout?: number;
}

const V2_SETTING = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** torchvision.models.MobileNetV2: `features` (Sequential), then avg-pool, flatten, `classifier` (Dropout, Linear). */
export class MobileNetV2 extends Module {
  /** torchvision's `features`: the stem, the inverted residual blocks and the last 1x1 convolution. */
  declare features: Sequential;
  /** Dropout ('0') and Linear ('1'): replace it, or its '1', to change the head. */
  declare classifier: Sequential;
  /** The channels of the last convolution (1280, scaled by widthMult when above 1). */
  readonly lastChannel: number;
  constructor(options: MobileNetV2Options = {}) {
    super();
    const fn = 'MobileNetV2()';
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    const widthMult = checkPositive(fn, 'widthMult', options.widthMult ?? 1.0);
    const roundNearest = checkPositive(fn, 'roundNearest', options.roundNearest ?? 8);
    const dropout = checkProbability(fn, 'dropout', options.dropout ?? 0.2);
    const normLayer = options.normLayer ?? batchNorm();
    const setting = options.invertedResidualSetting ?? V2_SETTING;
    if (!Array.isArray(setting) || setting.length === 0 || !Array.isArray(setting[0]) || setting[0].length !== 4) {
      argError(fn, 'invertedResidualSetting', 'a non-empty array of [t, c, n, s] rows', setting);
    }
    let inputChannel = makeDivisible(32 * widthMult, roundNearest);
    this.lastChannel = makeDivisible(1280 * Math.max(1.0, widthMult), roundNearest);
    const relu6 = () => new ReLU6({ inplace: true });
    const features: Module[] = [new Conv2dNormActivation(3, inputChannel, { stride: 2, normLayer, activationLayer: relu6 })];
    for (const [t, c, n, s] of setting) {
      const outputChannel = makeDivisible(c * widthMult, roundNearest);
      for (let i = 0; i < n; i++) {
        features.push(new InvertedResidual(inputChannel, outputChannel, i === 0 ? s : 1, t, normLayer));
        inputChannel = outputChannel;
      }
    }
    features.push(new Conv2dNormActivation(inputChannel, this.lastChannel, { kernelSize: 1, normLayer, activationLayer: relu6 }));
    this.registerModule('features', new Sequential(...features));
    this.registerModule('classifier', new Sequential(new Dropout(dropout), new Linear(this.lastChannel, numClasses)));
    initMobileNet(this, (m) => {
      normal_(m.weight, 0, 0.01);
      if (m.bias) zeros_(m.bias);
    });
  }
  /** torchvision's `MobileNetV2` forward: images [N, 3, H, W] -> logits [N, numClasses] (features, global average pool, flatten, classifier). */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const f = F.adaptiveAvgPool2d(this.features.call(x), [1, 1]);
      return this.classifier.call(f.flatten(1));
    });
  }
}

// ---- MobileNetV3 ------------------------------------------------------------------------------------

/** One row of MobileNetV3's Tables 1 and 2 (torchvision's InvertedResidualConfig), channels already scaled. */
export interface InvertedResidualConfig {
  /** The block's input channels. */
  inputChannels: number;
  /** The depthwise convolution's kernel size. */
  kernel: number;
  /** The channels after the 1x1 expansion. */
  expandedChannels: number;
  /** The block's output channels. */
  outChannels: number;
  /** Whether the block has squeeze-and-excitation. */
  useSe: boolean;
  /** Hardswish ('HS') rather than ReLU ('RE'). */
  useHs: boolean;
  /** The depthwise convolution's stride. */
  stride: number;
  /** The depthwise convolution's dilation. */
  dilation: number;
}

/** torchvision's InvertedResidualConfig(input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride, dilation, width_mult). */
export function invertedResidualConfig(
  inputChannels: number,
  kernel: number,
  expandedChannels: number,
  outChannels: number,
  useSe: boolean,
  activation: 'RE' | 'HS',
  stride: number,
  dilation: number,
  widthMult = 1.0,
): InvertedResidualConfig {
  const adjust = (c: number) => makeDivisible(c * widthMult, 8);
  return {
    inputChannels: adjust(inputChannels),
    kernel,
    expandedChannels: adjust(expandedChannels),
    outChannels: adjust(outChannels),
    useSe,
    useHs: activation === 'HS',
    stride,
    dilation,
  };
}

/**
 * MobileNetV3's block: `block`, a Sequential of [expand,] depthwise, [SqueezeExcitation,] project
 * (each a Conv2dNormActivation). Printed as torchvision's class name, InvertedResidual.
 */
export class InvertedResidualV3 extends Module {
  /** torchvision's `block`: the expansion, depthwise, squeeze-and-excitation and projection layers. */
  declare block: Sequential;
  readonly useResConnect: boolean;
  readonly outChannels: number;
  constructor(cnf: InvertedResidualConfig, normLayer: NormLayer) {
    super();
    if (!(cnf.stride >= 1 && cnf.stride <= 2)) throw new TorchError('InvertedResidual(): illegal stride value', 'ERR_TORCH_ARG');
    this.useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;
    const activationLayer: ActivationLayer = cnf.useHs ? () => new Hardswish({ inplace: true }) : () => new ReLU({ inplace: true });
    const layers: Module[] = [];
    if (cnf.expandedChannels !== cnf.inputChannels) {
      layers.push(new Conv2dNormActivation(cnf.inputChannels, cnf.expandedChannels, { kernelSize: 1, normLayer, activationLayer }));
    }
    layers.push(
      new Conv2dNormActivation(cnf.expandedChannels, cnf.expandedChannels, {
        kernelSize: cnf.kernel,
        stride: cnf.dilation > 1 ? 1 : cnf.stride,
        dilation: cnf.dilation,
        groups: cnf.expandedChannels,
        normLayer,
        activationLayer,
      }),
    );
    if (cnf.useSe) {
      const squeeze = makeDivisible(Math.floor(cnf.expandedChannels / 4), 8);
      layers.push(new SqueezeExcitation(cnf.expandedChannels, squeeze, { scaleActivation: () => new Hardsigmoid() }));
    }
    layers.push(new Conv2dNormActivation(cnf.expandedChannels, cnf.outChannels, { kernelSize: 1, normLayer, activationLayer: null }));
    this.registerModule('block', new Sequential(...layers));
    this.outChannels = cnf.outChannels;
  }
  /**
   * torchvision's `InvertedResidual` (V3) forward: block(input) + input when useResConnect (stride 1, the same channels), else block(input);
   * [N, inputChannels, H, W] -> [N, outChannels, ceil(H / stride), ceil(W / stride)] (stride 1 when dilated).
   */
  override forward(input: Tensor): Tensor {
    return tidy(() => (this.useResConnect ? this.block.call(input).add(input) : this.block.call(input)));
  }
}
Object.defineProperty(InvertedResidualV3, 'name', { value: 'InvertedResidual' });

/** The keyword arguments of torchvision's `MobileNetV3` (besides the block table and last channel). */
export interface MobileNetV3Options {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Default BatchNorm2d with eps 0.001 and momentum 0.01, as torchvision. */
  normLayer?: NormLayer;
  /** Dropout in the classifier (default 0.2). */
  dropout?: number;
}

/** torchvision.models.MobileNetV3: `features`, `avgpool`, `classifier` (Linear, Hardswish, Dropout, Linear). */
export class MobileNetV3 extends Module {
  /** torchvision's `features`: the stem, the inverted residual blocks and the last 1x1 convolution. */
  declare features: Sequential;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** Linear ('0'), Hardswish ('1'), Dropout ('2'), Linear ('3'): replace '3' (or all of it) to change the head. */
  declare classifier: Sequential;
  constructor(invertedResidualSetting: InvertedResidualConfig[], lastChannel: number, options: MobileNetV3Options = {}) {
    super();
    const fn = 'MobileNetV3()';
    if (!Array.isArray(invertedResidualSetting) || invertedResidualSetting.length === 0) {
      argError(fn, 'invertedResidualSetting', 'a non-empty array of InvertedResidualConfig', invertedResidualSetting);
    }
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    const dropout = checkProbability(fn, 'dropout', options.dropout ?? 0.2);
    const normLayer = options.normLayer ?? batchNorm({ eps: 0.001, momentum: 0.01 });
    const hardswish = () => new Hardswish({ inplace: true });
    const layers: Module[] = [];
    const firstOut = invertedResidualSetting[0].inputChannels;
    layers.push(new Conv2dNormActivation(3, firstOut, { kernelSize: 3, stride: 2, normLayer, activationLayer: hardswish }));
    for (const cnf of invertedResidualSetting) layers.push(new InvertedResidualV3(cnf, normLayer));
    const lastIn = invertedResidualSetting[invertedResidualSetting.length - 1].outChannels;
    const lastOut = 6 * lastIn;
    layers.push(new Conv2dNormActivation(lastIn, lastOut, { kernelSize: 1, normLayer, activationLayer: hardswish }));
    this.registerModule('features', new Sequential(...layers));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule(
      'classifier',
      new Sequential(
        new Linear(lastOut, lastChannel),
        new Hardswish({ inplace: true }),
        new Dropout(dropout, { inplace: true }),
        new Linear(lastChannel, numClasses),
      ),
    );
    initMobileNet(this, (m) => {
      normal_(m.weight, 0, 0.01);
      if (m.bias) zeros_(m.bias);
    });
  }
  /** torchvision's `MobileNetV3` forward: images [N, 3, H, W] -> logits [N, numClasses] (features, global average pool, flatten, classifier). */
  override forward(x: Tensor): Tensor {
    return tidy(() => this.classifier.call(this.avgpool.call(this.features.call(x)).flatten(1)));
  }
}

/** torchvision's _mobilenet_v3_conf: the block table and last channel of 'mobilenet_v3_large' / 'mobilenet_v3_small'. */
export function mobilenetV3Conf(
  arch: 'mobilenet_v3_large' | 'mobilenet_v3_small',
  options: { widthMult?: number; reducedTail?: boolean; dilated?: boolean } = {},
): {
  /** The blocks' configurations. */
  invertedResidualSetting: InvertedResidualConfig[];
  /** The classifier's hidden width. */
  lastChannel: number;
} {
  const widthMult = options.widthMult ?? 1.0;
  const rd = options.reducedTail ? 2 : 1;
  const dil = options.dilated ? 2 : 1;
  const b = (i: number, k: number, e: number, o: number, se: boolean, a: 'RE' | 'HS', s: number, d: number) =>
    invertedResidualConfig(i, k, e, o, se, a, s, d, widthMult);
  const div = (c: number) => Math.floor(c / rd);
  if (arch === 'mobilenet_v3_large') {
    return {
      invertedResidualSetting: [
        b(16, 3, 16, 16, false, 'RE', 1, 1),
        b(16, 3, 64, 24, false, 'RE', 2, 1),
        b(24, 3, 72, 24, false, 'RE', 1, 1),
        b(24, 5, 72, 40, true, 'RE', 2, 1),
        b(40, 5, 120, 40, true, 'RE', 1, 1),
        b(40, 5, 120, 40, true, 'RE', 1, 1),
        b(40, 3, 240, 80, false, 'HS', 2, 1),
        b(80, 3, 200, 80, false, 'HS', 1, 1),
        b(80, 3, 184, 80, false, 'HS', 1, 1),
        b(80, 3, 184, 80, false, 'HS', 1, 1),
        b(80, 3, 480, 112, true, 'HS', 1, 1),
        b(112, 3, 672, 112, true, 'HS', 1, 1),
        b(112, 5, 672, div(160), true, 'HS', 2, dil),
        b(div(160), 5, div(960), div(160), true, 'HS', 1, dil),
        b(div(160), 5, div(960), div(160), true, 'HS', 1, dil),
      ],
      lastChannel: makeDivisible(div(1280) * widthMult, 8),
    };
  }
  if (arch === 'mobilenet_v3_small') {
    return {
      invertedResidualSetting: [
        b(16, 3, 16, 16, true, 'RE', 2, 1),
        b(16, 3, 72, 24, false, 'RE', 2, 1),
        b(24, 3, 88, 24, false, 'RE', 1, 1),
        b(24, 5, 96, 40, true, 'HS', 2, 1),
        b(40, 5, 240, 40, true, 'HS', 1, 1),
        b(40, 5, 240, 40, true, 'HS', 1, 1),
        b(40, 5, 120, 48, true, 'HS', 1, 1),
        b(48, 5, 144, 48, true, 'HS', 1, 1),
        b(48, 5, 288, div(96), true, 'HS', 2, dil),
        b(div(96), 5, div(576), div(96), true, 'HS', 1, dil),
        b(div(96), 5, div(576), div(96), true, 'HS', 1, dil),
      ],
      lastChannel: makeDivisible(div(1024) * widthMult, 8),
    };
  }
  return argError('mobilenetV3Conf()', 'arch', "'mobilenet_v3_large' or 'mobilenet_v3_small'", arch);
}

// ---- builders ---------------------------------------------------------------------------------------

const MOBILENET_V2: ArchSpec = {
  name: 'mobilenet_v2',
  head: ['classifier.1.weight', 'classifier.1.bias'],
  files: {
    IMAGENET1K_V1: 'mobilenet_v2-b0353104.pth',
    IMAGENET1K_V2: 'mobilenet_v2-7ebf99e0.pth',
    DEFAULT: 'mobilenet_v2-7ebf99e0.pth',
  },
};

const MOBILENET_V3_LARGE: ArchSpec = {
  name: 'mobilenet_v3_large',
  head: ['classifier.3.weight', 'classifier.3.bias'],
  files: {
    IMAGENET1K_V1: 'mobilenet_v3_large-8738ca79.pth',
    IMAGENET1K_V2: 'mobilenet_v3_large-5c1a4163.pth',
    DEFAULT: 'mobilenet_v3_large-5c1a4163.pth',
  },
};

const MOBILENET_V3_SMALL: ArchSpec = {
  name: 'mobilenet_v3_small',
  head: ['classifier.3.weight', 'classifier.3.bias'],
  files: {
    IMAGENET1K_V1: 'mobilenet_v3_small-047dcff4.pth',
    DEFAULT: 'mobilenet_v3_small-047dcff4.pth',
  },
};

/** torchvision.models.mobilenet_v2(weights=..., num_classes=...). */
export function mobilenetV2(options?: ModelOptions): MobileNetV2 {
  return withWeights('mobilenetV2()', MOBILENET_V2, options, (numClasses) => new MobileNetV2({ numClasses }));
}

/** torchvision.models.mobilenet_v3_large(weights=..., num_classes=...). */
export function mobilenetV3Large(options?: ModelOptions): MobileNetV3 {
  return withWeights('mobilenetV3Large()', MOBILENET_V3_LARGE, options, (numClasses) => {
    const { invertedResidualSetting, lastChannel } = mobilenetV3Conf('mobilenet_v3_large');
    return new MobileNetV3(invertedResidualSetting, lastChannel, { numClasses });
  });
}

/** torchvision.models.mobilenet_v3_small(weights=..., num_classes=...). */
export function mobilenetV3Small(options?: ModelOptions): MobileNetV3 {
  return withWeights('mobilenetV3Small()', MOBILENET_V3_SMALL, options, (numClasses) => {
    const { invertedResidualSetting, lastChannel } = mobilenetV3Conf('mobilenet_v3_small');
    return new MobileNetV3(invertedResidualSetting, lastChannel, { numClasses });
  });
}

markRetainsNothing(Conv2dNormActivation, SqueezeExcitation, InvertedResidual, MobileNetV2, InvertedResidualV3, MobileNetV3);
