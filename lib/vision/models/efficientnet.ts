import { checkInt, checkProbability } from '../../checks';
import { empty } from '../../creation';
import { TorchError, argError } from '../../errors';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Dropout, Linear, Sequential, SiLU, pyFloat } from '../../nn/layers';
import { uniform_, zeros_ } from '../../nn/init';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';
import { Conv2dNormActivation, SqueezeExcitation, initMobileNet, makeDivisible, type NormLayer } from './mobilenet';
import { callInplace } from '../../ops/call';

// ---- stochastic depth --------------------------------------------------------------------------------

export type StochasticDepthMode = 'batch' | 'row';

/**
 * torchvision.ops.stochastic_depth: in training, zeroes the whole input ('batch') or each row of the
 * batch ('row') with probability p and scales what is kept by 1 / (1 - p); the identity otherwise.
 * The noise is drawn as torchvision draws it (empty(size).bernoulli_(1 - p)).
 */
export function stochasticDepth(input: Tensor, p: number, mode: StochasticDepthMode, training = true): Tensor {
  const fn = 'stochasticDepth()';
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new TorchError(`${fn}: drop probability has to be between 0 and 1, but got ${p}`, 'ERR_TORCH_ARG');
  }
  if (mode !== 'batch' && mode !== 'row') argError(fn, 'mode', "'batch' or 'row'", mode);
  if (!training || p === 0) return input;
  const survivalRate = 1 - p;
  const size = mode === 'row' ? [input.shape[0], ...Array(input.dim() - 1).fill(1)] : Array(input.dim()).fill(1);
  return tidy(() => {
    const noise = empty(size, { dtype: input.dtype, device: input.device });
    callInplace('bernoulli_.float', noise._h, survivalRate);
    if (survivalRate > 0) noise.div_(survivalRate);
    return input.mul(noise);
  });
}

/** torchvision.ops.StochasticDepth(p, mode). */
export class StochasticDepth extends Module {
  constructor(
    readonly p: number,
    readonly mode: StochasticDepthMode,
  ) {
    super();
    checkProbability('StochasticDepth()', 'p', p);
    if (mode !== 'batch' && mode !== 'row') argError('StochasticDepth()', 'mode', "'batch' or 'row'", mode);
  }
  /**
   * torchvision's `StochasticDepth` forward: in training the whole input ('batch') or each sample ('row') zeroed with probability p and the rest scaled by 1 /
   * (1 - p); the identity in eval mode. The same shape out.
   */
  override forward(input: Tensor): Tensor {
    return stochasticDepth(input, this.p, this.mode, this.training);
  }
  /** As torchvision prints it: StochasticDepth(p=0.0125, mode=row). */
  override toString(): string {
    return `StochasticDepth(p=${pyFloat(this.p)}, mode=${this.mode})`;
  }
}

// ---- MBConv -----------------------------------------------------------------------------------------

/** The block classes a stage may use (torchvision's config `block`): MBConv, FusedMBConv or one built alike. */
export type MBConvBlockClass = new (cnf: MBConvConfig, stochasticDepthProb: number, normLayer: NormLayer) => Module;

/**
 * One stage of EfficientNet's Table 1 / EfficientNetV2's Table 4 (torchvision's MBConvConfig and
 * FusedMBConvConfig), with width and depth already applied. `block` defaults to MBConv.
 */
export interface MBConvConfig {
  /** The expansion factor of the block's first 1x1 (or fused) convolution. */
  expandRatio: number;
  /** The depthwise (or fused) convolution's kernel size. */
  kernel: number;
  /** The stride of the stage's first block. */
  stride: number;
  /** The stage's input channels. */
  inputChannels: number;
  /** The stage's output channels. */
  outChannels: number;
  /** The number of blocks in the stage. */
  numLayers: number;
  /** The block class (default MBConv). */
  block?: MBConvBlockClass;
}

/** torchvision's MBConvConfig(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult, depth_mult). */
export function mbConvConfig(
  expandRatio: number,
  kernel: number,
  stride: number,
  inputChannels: number,
  outChannels: number,
  numLayers: number,
  widthMult = 1.0,
  depthMult = 1.0,
): MBConvConfig {
  return {
    expandRatio,
    kernel,
    stride,
    inputChannels: makeDivisible(inputChannels * widthMult, 8),
    outChannels: makeDivisible(outChannels * widthMult, 8),
    numLayers: Math.ceil(numLayers * depthMult),
  };
}

/** torchvision's FusedMBConvConfig(expand_ratio, kernel, stride, input_channels, out_channels, num_layers): no width or depth scaling; block FusedMBConv. */
export function fusedMBConvConfig(
  expandRatio: number,
  kernel: number,
  stride: number,
  inputChannels: number,
  outChannels: number,
  numLayers: number,
): MBConvConfig {
  return { expandRatio, kernel, stride, inputChannels, outChannels, numLayers, block: FusedMBConv };
}

/**
 * EfficientNet's block: `block`, a Sequential of [expand,] depthwise, SqueezeExcitation (SiLU),
 * project; and `stochastic_depth` on the residual branch.
 */
export class MBConv extends Module {
  /** torchvision's `block`: the expansion, depthwise, squeeze-and-excitation and projection layers. */
  declare block: Sequential;
  /** Whether the input is added to the output (stride 1 and the same channels). */
  readonly useResConnect: boolean;
  /** The block's output channels. */
  readonly outChannels: number;
  constructor(cnf: MBConvConfig, stochasticDepthProb: number, normLayer: NormLayer) {
    super();
    if (!(cnf.stride >= 1 && cnf.stride <= 2)) throw new TorchError('MBConv(): illegal stride value', 'ERR_TORCH_ARG');
    this.useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;
    const activationLayer = () => new SiLU({ inplace: true });
    const expanded = makeDivisible(cnf.inputChannels * cnf.expandRatio, 8);
    const layers: Module[] = [];
    if (expanded !== cnf.inputChannels) {
      layers.push(new Conv2dNormActivation(cnf.inputChannels, expanded, { kernelSize: 1, normLayer, activationLayer }));
    }
    layers.push(
      new Conv2dNormActivation(expanded, expanded, { kernelSize: cnf.kernel, stride: cnf.stride, groups: expanded, normLayer, activationLayer }),
      new SqueezeExcitation(expanded, Math.max(1, Math.floor(cnf.inputChannels / 4)), { activation: activationLayer }),
      new Conv2dNormActivation(expanded, cnf.outChannels, { kernelSize: 1, normLayer, activationLayer: null }),
    );
    this.registerModule('block', new Sequential(...layers));
    this.registerModule('stochastic_depth', new StochasticDepth(stochasticDepthProb, 'row'));
    this.outChannels = cnf.outChannels;
  }
  /** Registered under torchvision's name, 'stochastic_depth'. */
  get stochasticDepth(): StochasticDepth {
    return this._modules.get('stochastic_depth') as StochasticDepth;
  }
  /**
   * torchvision's `MBConv` forward: stochasticDepth(block(input)) + input when useResConnect (stride 1, the same channels), else block(input); [N, C_in, H, W]
   * -> [N, outChannels, ceil(H / stride), ceil(W / stride)].
   */
  override forward(input: Tensor): Tensor {
    return tidy(() => {
      const result = this.block.call(input);
      return this.useResConnect ? this.stochasticDepth.call(result).add(input) : result;
    });
  }
}

/**
 * EfficientNetV2's fused block: `block`, a Sequential of the fused expand (a kernel x kernel conv with
 * the stride, BN, SiLU) and the 1x1 project (BN, no activation) — or, without expansion, one
 * kernel x kernel Conv2dNormActivation; and `stochastic_depth` on the residual branch.
 */
export class FusedMBConv extends Module {
  /** torchvision's `block`: the fused expansion convolution and the projection. */
  declare block: Sequential;
  /** Whether the input is added to the output (stride 1 and the same channels). */
  readonly useResConnect: boolean;
  /** The block's output channels. */
  readonly outChannels: number;
  constructor(cnf: MBConvConfig, stochasticDepthProb: number, normLayer: NormLayer) {
    super();
    if (!(cnf.stride >= 1 && cnf.stride <= 2)) throw new TorchError('FusedMBConv(): illegal stride value', 'ERR_TORCH_ARG');
    this.useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;
    const activationLayer = () => new SiLU({ inplace: true });
    const expanded = makeDivisible(cnf.inputChannels * cnf.expandRatio, 8);
    const layers: Module[] = [];
    if (expanded !== cnf.inputChannels) {
      layers.push(
        new Conv2dNormActivation(cnf.inputChannels, expanded, { kernelSize: cnf.kernel, stride: cnf.stride, normLayer, activationLayer }),
        new Conv2dNormActivation(expanded, cnf.outChannels, { kernelSize: 1, normLayer, activationLayer: null }),
      );
    } else {
      layers.push(new Conv2dNormActivation(cnf.inputChannels, cnf.outChannels, { kernelSize: cnf.kernel, stride: cnf.stride, normLayer, activationLayer }));
    }
    this.registerModule('block', new Sequential(...layers));
    this.registerModule('stochastic_depth', new StochasticDepth(stochasticDepthProb, 'row'));
    this.outChannels = cnf.outChannels;
  }
  /** Registered under torchvision's name, 'stochastic_depth'. */
  get stochasticDepth(): StochasticDepth {
    return this._modules.get('stochastic_depth') as StochasticDepth;
  }
  /**
   * torchvision's `FusedMBConv` forward: stochasticDepth(block(input)) + input when useResConnect (stride 1, the same channels), else block(input);
   * [N, C_in, H, W] -> [N, outChannels, ceil(H / stride), ceil(W / stride)].
   */
  override forward(input: Tensor): Tensor {
    return tidy(() => {
      const result = this.block.call(input);
      return this.useResConnect ? this.stochasticDepth.call(result).add(input) : result;
    });
  }
}

// ---- EfficientNet -----------------------------------------------------------------------------------

/** The keyword arguments of torchvision's `EfficientNet` (besides the stage table and dropout). */
export interface EfficientNetOptions {
  /** Default 0.2. */
  stochasticDepthProb?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Default BatchNorm2d (eps 1e-5, momentum 0.1), as torchvision for B0-B4. */
  normLayer?: NormLayer;
  /** Default 4 * the last stage's channels. */
  lastChannel?: number | null;
}

/** torchvision.models.EfficientNet (V1 and V2): `features`, `avgpool`, `classifier` (Dropout, Linear). */
export class EfficientNet extends Module {
  /** torchvision's `features`: the stem, the MBConv stages and the final 1x1 convolution. */
  declare features: Sequential;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** Dropout ('0') and Linear ('1'): replace '1' (or all of it) to change the head. */
  declare classifier: Sequential;
  constructor(invertedResidualSetting: MBConvConfig[], dropout: number, options: EfficientNetOptions = {}) {
    super();
    const fn = 'EfficientNet()';
    if (!Array.isArray(invertedResidualSetting) || invertedResidualSetting.length === 0) {
      argError(fn, 'invertedResidualSetting', 'a non-empty array of MBConvConfig', invertedResidualSetting);
    }
    invertedResidualSetting.forEach((c, i) => {
      const pos = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
      if (
        c === null ||
        typeof c !== 'object' ||
        !pos(c.inputChannels) ||
        !pos(c.outChannels) ||
        !pos(c.kernel) ||
        !Number.isInteger(c.numLayers) ||
        c.numLayers < 0 ||
        !(c.expandRatio > 0)
      ) {
        argError(fn, `invertedResidualSetting[${i}]`, 'an MBConvConfig (mbConvConfig() or fusedMBConvConfig())', c);
      }
      // the blocks' own check, made before anything is built (a failed constructor leaves no parameters behind)
      if (!(c.stride >= 1 && c.stride <= 2)) throw new TorchError(`${(c.block ?? MBConv).name}(): illegal stride value`, 'ERR_TORCH_ARG');
    });
    checkProbability(fn, 'dropout', dropout);
    const sdProb = options.stochasticDepthProb ?? 0.2;
    const numClasses = options.numClasses ?? 1000;
    checkInt(fn, 'numClasses', numClasses, 1);
    const normLayer = options.normLayer ?? ((c: number) => new BatchNorm2d(c));
    const silu = () => new SiLU({ inplace: true });
    const layers: Module[] = [
      new Conv2dNormActivation(3, invertedResidualSetting[0].inputChannels, { kernelSize: 3, stride: 2, normLayer, activationLayer: silu }),
    ];
    const totalStageBlocks = invertedResidualSetting.reduce((n, c) => n + c.numLayers, 0);
    let stageBlockId = 0;
    for (const cnf of invertedResidualSetting) {
      const stage: Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++) {
        const blockCnf = stage.length ? { ...cnf, inputChannels: cnf.outChannels, stride: 1 } : { ...cnf };
        const Block = cnf.block ?? MBConv;
        stage.push(new Block(blockCnf, (sdProb * stageBlockId) / totalStageBlocks, normLayer));
        stageBlockId++;
      }
      layers.push(new Sequential(...stage));
    }
    const lastIn = invertedResidualSetting[invertedResidualSetting.length - 1].outChannels;
    const lastOut = options.lastChannel ?? 4 * lastIn;
    layers.push(new Conv2dNormActivation(lastIn, lastOut, { kernelSize: 1, normLayer, activationLayer: silu }));
    this.registerModule('features', new Sequential(...layers));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('classifier', new Sequential(new Dropout(dropout, { inplace: true }), new Linear(lastOut, numClasses)));
    initMobileNet(this, (m) => {
      const range = 1.0 / Math.sqrt(m.outFeatures);
      uniform_(m.weight, -range, range);
      if (m.bias) zeros_(m.bias);
    });
  }
  /** torchvision's `EfficientNet` forward: images [N, 3, H, W] -> logits [N, numClasses] (features, global average pool, flatten, classifier). */
  override forward(x: Tensor): Tensor {
    return tidy(() => this.classifier.call(this.avgpool.call(this.features.call(x)).flatten(1)));
  }
}

/** torchvision's _efficientnet_conf for efficientnet_b0 .. b7: the stage table for a width and depth multiplier. */
export function efficientnetConf(widthMult: number, depthMult: number): MBConvConfig[] {
  const b = (e: number, k: number, s: number, i: number, o: number, n: number) => mbConvConfig(e, k, s, i, o, n, widthMult, depthMult);
  return [
    b(1, 3, 1, 32, 16, 1),
    b(6, 3, 2, 16, 24, 2),
    b(6, 5, 2, 24, 40, 2),
    b(6, 3, 2, 40, 80, 3),
    b(6, 5, 1, 80, 112, 3),
    b(6, 5, 2, 112, 192, 4),
    b(6, 3, 1, 192, 320, 1),
  ];
}

const EFFICIENTNET_B0: ArchSpec = {
  name: 'efficientnet_b0',
  head: ['classifier.1.weight', 'classifier.1.bias'],
  files: {
    IMAGENET1K_V1: 'efficientnet_b0_rwightman-7f5810bc.pth',
    DEFAULT: 'efficientnet_b0_rwightman-7f5810bc.pth',
  },
};

/** torchvision.models.efficientnet_b0(weights=..., num_classes=...): dropout 0.2, stochastic depth 0.2. */
export function efficientnetB0(options?: ModelOptions): EfficientNet {
  return withWeights('efficientnetB0()', EFFICIENTNET_B0, options, (numClasses) => new EfficientNet(efficientnetConf(1.0, 1.0), 0.2, { numClasses }));
}

// ---- EfficientNetV2 ---------------------------------------------------------------------------------

/** torchvision's _efficientnet_conf for efficientnet_v2_s / m / l: the stage table (fused stages first) and last_channel. */
export function efficientnetV2Conf(arch: 's' | 'm' | 'l'): {
  /** The stages' configurations. */
  setting: MBConvConfig[];
  /** The channels of the last 1x1 convolution (1280). */
  lastChannel: number;
} {
  const f = fusedMBConvConfig;
  const m = (e: number, k: number, s: number, i: number, o: number, n: number) => mbConvConfig(e, k, s, i, o, n);
  switch (arch) {
    case 's':
      return {
        setting: [
          f(1, 3, 1, 24, 24, 2),
          f(4, 3, 2, 24, 48, 4),
          f(4, 3, 2, 48, 64, 4),
          m(4, 3, 2, 64, 128, 6),
          m(6, 3, 1, 128, 160, 9),
          m(6, 3, 2, 160, 256, 15),
        ],
        lastChannel: 1280,
      };
    case 'm':
      return {
        setting: [
          f(1, 3, 1, 24, 24, 3),
          f(4, 3, 2, 24, 48, 5),
          f(4, 3, 2, 48, 80, 5),
          m(4, 3, 2, 80, 160, 7),
          m(6, 3, 1, 160, 176, 14),
          m(6, 3, 2, 176, 304, 18),
          m(6, 3, 1, 304, 512, 5),
        ],
        lastChannel: 1280,
      };
    case 'l':
      return {
        setting: [
          f(1, 3, 1, 32, 32, 4),
          f(4, 3, 2, 32, 64, 7),
          f(4, 3, 2, 64, 96, 7),
          m(4, 3, 2, 96, 192, 10),
          m(6, 3, 1, 192, 224, 19),
          m(6, 3, 2, 224, 384, 25),
          m(6, 3, 1, 384, 640, 7),
        ],
        lastChannel: 1280,
      };
    default:
      return argError('efficientnetV2Conf()', 'arch', "'s', 'm' or 'l'", arch);
  }
}

const v2Spec = (name: string, file: string): ArchSpec => ({
  name,
  head: ['classifier.1.weight', 'classifier.1.bias'],
  files: { IMAGENET1K_V1: file, DEFAULT: file },
});

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const EFFICIENTNET_V2_SPECS = {
  efficientnet_v2_s: v2Spec('efficientnet_v2_s', 'efficientnet_v2_s-dd5fe13b.pth'),
  efficientnet_v2_m: v2Spec('efficientnet_v2_m', 'efficientnet_v2_m-dc08266a.pth'),
  efficientnet_v2_l: v2Spec('efficientnet_v2_l', 'efficientnet_v2_l-59c71312.pth'),
} satisfies Record<string, ArchSpec>;

function buildV2(fn: string, arch: 's' | 'm' | 'l', dropout: number, options?: ModelOptions): EfficientNet {
  const { setting, lastChannel } = efficientnetV2Conf(arch);
  const normLayer: NormLayer = (c) => new BatchNorm2d(c, { eps: 1e-3 });
  return withWeights(
    fn,
    EFFICIENTNET_V2_SPECS[`efficientnet_v2_${arch}`],
    options,
    (numClasses) => new EfficientNet(setting, dropout, { numClasses, lastChannel, normLayer }),
  );
}

/** torchvision.models.efficientnet_v2_s: dropout 0.2, stochastic depth 0.2, BatchNorm eps 1e-3; weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function efficientnetV2S(options?: ModelOptions): EfficientNet {
  return buildV2('efficientnetV2S()', 's', 0.2, options);
}

/** torchvision.models.efficientnet_v2_m: dropout 0.3, stochastic depth 0.2, BatchNorm eps 1e-3; weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function efficientnetV2M(options?: ModelOptions): EfficientNet {
  return buildV2('efficientnetV2M()', 'm', 0.3, options);
}

/** torchvision.models.efficientnet_v2_l: dropout 0.4, stochastic depth 0.2, BatchNorm eps 1e-3; weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function efficientnetV2L(options?: ModelOptions): EfficientNet {
  return buildV2('efficientnetV2L()', 'l', 0.4, options);
}

markRetainsNothing(StochasticDepth, MBConv, FusedMBConv, EfficientNet);
