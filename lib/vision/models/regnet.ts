/**
 * torchvision's RegNet (models/regnet.py): RegNet, BlockParams, the blocks (SimpleStemIN,
 * BottleneckTransform, ResBottleneckBlock, AnyStage) and the builders of all fifteen torchvision
 * configurations, camelCased with Python's suffix kept: regnet_y_400mf -> regnetY_400mf,
 * regnet_x_1_6gf -> regnetX_1_6gf.
 *
 * Module names (stem, trunk_output, block1..blockN, block1-0, ..., proj, f, a, b, se, c, activation),
 * registration order, hyper-parameters and initialisation follow torchvision 0.29 exactly:
 * torchvision's state dicts load strictly, stateDict() and namedModules() list the same keys in the
 * same order, the printed form is torchvision's, and after the same torch.manualSeed() a new model has
 * torchvision's initial weights. BlockParams.fromInitParams computes the stage widths with the same
 * float32 tensor operations as torchvision (torch.arange * w_a + w_0, log, round, pow), so they round
 * the same way.
 */
import { checkInt } from '../../checks';
import { arange } from '../../creation';
import { TorchError, argError, checkOptions } from '../../errors';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, ReLU, Sequential } from '../../nn/layers';
import { normal_, ones_, zeros_ } from '../../nn/init';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';
import { checkImageBatch } from './googlenet';
import { Conv2dNormActivation, SqueezeExcitation, makeDivisible, type NormLayer } from './mobilenet';

/** A factory for RegNet's activation: torchvision calls its class with inplace=True in the blocks and with no argument in SqueezeExcitation. */
export type RegNetActivation = (options?: { inplace?: boolean }) => Module;

const relu: RegNetActivation = (options) => new ReLU(options);
const batchNorm: NormLayer = (c) => new BatchNorm2d(c);

/** Python's round() on a float (half to even). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The stem: a stride-2 3x3 Conv2dNormActivation (3 -> widthOut). */
export class SimpleStemIN extends Conv2dNormActivation {
  constructor(widthIn: number, widthOut: number, normLayer: NormLayer, activationLayer: RegNetActivation) {
    super(widthIn, widthOut, { kernelSize: 3, stride: 2, normLayer, activationLayer: () => activationLayer({ inplace: true }) });
  }
}

/** The residual branch: `a` (1x1), `b` (3x3 grouped, with the stride), `se` (SqueezeExcitation, RegNetY), `c` (1x1, no activation). */
export class BottleneckTransform extends Sequential {
  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    normLayer: NormLayer,
    activationLayer: RegNetActivation,
    groupWidth: number,
    bottleneckMultiplier: number,
    seRatio: number | null,
  ) {
    super();
    const wB = pyRound(widthOut * bottleneckMultiplier);
    const g = Math.floor(wB / groupWidth);
    const act = () => activationLayer({ inplace: true });
    this.registerModule('a', new Conv2dNormActivation(widthIn, wB, { kernelSize: 1, stride: 1, normLayer, activationLayer: act }));
    this.registerModule('b', new Conv2dNormActivation(wB, wB, { kernelSize: 3, stride, groups: g, normLayer, activationLayer: act }));
    if (seRatio) {
      // The SE reduction ratio is relative to the block's input width.
      this.registerModule('se', new SqueezeExcitation(wB, pyRound(seRatio * widthIn), { activation: () => activationLayer() }));
    }
    this.registerModule('c', new Conv2dNormActivation(wB, widthOut, { kernelSize: 1, stride: 1, normLayer, activationLayer: null }));
  }
}

/** x + f(x), or proj(x) + f(x) when the shape changes; then the activation. */
export class ResBottleneckBlock extends Module {
  /** torchvision's `proj`: the 1x1 shortcut projection when the width or stride changes, else null. */
  declare proj: Conv2dNormActivation | null;
  /** torchvision's `f`: the bottleneck transform (1x1, grouped 3x3 with squeeze-and-excitation, 1x1). */
  declare f: BottleneckTransform;
  /** torchvision's `activation`: after the sum. */
  declare activation: Module;
  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    normLayer: NormLayer,
    activationLayer: RegNetActivation,
    groupWidth = 1,
    bottleneckMultiplier = 1.0,
    seRatio: number | null = null,
  ) {
    super();
    // torchvision's `self.proj = None` first: a plain attribute unless a projection is registered.
    this.proj = null;
    if (widthIn !== widthOut || stride !== 1) {
      this.registerModule('proj', new Conv2dNormActivation(widthIn, widthOut, { kernelSize: 1, stride, normLayer, activationLayer: null }));
    }
    this.registerModule('f', new BottleneckTransform(widthIn, widthOut, stride, normLayer, activationLayer, groupWidth, bottleneckMultiplier, seRatio));
    this.registerModule('activation', activationLayer({ inplace: true }));
  }
  /**
   * torchvision's `ResBottleneckBlock` forward: activation(proj(x) + f(x)), or activation(x + f(x)) without proj; [N, widthIn, H, W] ->
   * [N, widthOut, ceil(H / stride), ceil(W / stride)].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const y = this.proj ? this.proj.call(x).add(this.f.call(x)) : x.add(this.f.call(x));
      return this.activation.call(y);
    });
  }
}

/** A stage: `block{stageIndex}-0`, `block{stageIndex}-1`, ... (the first with the stride). */
export class AnyStage extends Sequential {
  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    depth: number,
    normLayer: NormLayer,
    activationLayer: RegNetActivation,
    groupWidth: number,
    bottleneckMultiplier: number,
    seRatio: number | null = null,
    stageIndex = 0,
  ) {
    super();
    for (let i = 0; i < depth; i++) {
      this.registerModule(
        `block${stageIndex}-${i}`,
        new ResBottleneckBlock(
          i === 0 ? widthIn : widthOut,
          widthOut,
          i === 0 ? stride : 1,
          normLayer,
          activationLayer,
          groupWidth,
          bottleneckMultiplier,
          seRatio,
        ),
      );
    }
  }
}

/** RegNet's design-space parameters (torchvision's from_init_params keywords, camelCased). */
export interface RegNetInitParams {
  /** The total number of blocks. */
  depth: number;
  /** torchvision's w_0: the initial width (a positive multiple of 8). */
  w0: number;
  /** torchvision's w_a: the width slope (>= 0). */
  wA: number;
  /** torchvision's w_m: the width multiplier between stages (> 1). */
  wM: number;
  /** The channels per group of the 3x3 convolutions. */
  groupWidth: number;
  /** The bottleneck's width factor (default 1.0). */
  bottleneckMultiplier?: number;
  /** The squeeze-and-excitation ratio, or null for none (default). */
  seRatio?: number | null;
}

/** torchvision's BlockParams: per-stage depths, widths, group widths, bottleneck multipliers and strides. */
export class BlockParams {
  constructor(
    /** The number of blocks per stage. */
    readonly depths: number[],
    /** The output width per stage. */
    readonly widths: number[],
    /** The group width per stage. */
    readonly groupWidths: number[],
    /** The bottleneck multiplier per stage. */
    readonly bottleneckMultipliers: number[],
    /** The stride per stage (2 in torchvision's models). */
    readonly strides: number[],
    /** The squeeze-and-excitation ratio, or null. */
    readonly seRatio: number | null = null,
  ) {}

  /** torchvision's BlockParams.from_init_params: the quantised linear widths, grouped into stages. */
  static fromInitParams(params: RegNetInitParams): BlockParams {
    const fn = 'BlockParams.fromInitParams()';
    if (typeof params !== 'object' || params === null) argError(fn, 'params', '{ depth, w0, wA, wM, groupWidth, ... }', params);
    checkOptions(fn, params, ['depth', 'w0', 'wA', 'wM', 'groupWidth', 'bottleneckMultiplier', 'seRatio']);
    const { depth, w0, wA, wM, groupWidth } = params;
    const bottleneckMultiplier = params.bottleneckMultiplier ?? 1.0;
    const seRatio = params.seRatio ?? null;
    checkInt(fn, 'depth', depth, 1);
    checkInt(fn, 'groupWidth', groupWidth, 1);
    for (const [k, v] of [
      ['w0', w0],
      ['wA', wA],
      ['wM', wM],
      ['bottleneckMultiplier', bottleneckMultiplier],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) argError(fn, k, 'a finite number', v);
    }
    if (!(bottleneckMultiplier > 0)) argError(fn, 'bottleneckMultiplier', 'a positive number', bottleneckMultiplier);
    if (wA < 0 || w0 <= 0 || wM <= 1 || w0 % 8 !== 0) {
      throw new TorchError(
        `${fn}: invalid RegNet settings: needs wA >= 0, w0 a positive multiple of 8 and wM > 1 (got w0 ${w0}, wA ${wA}, wM ${wM})`,
        'ERR_TORCH_ARG',
      );
    }
    const QUANT = 8;
    const STRIDE = 2;
    // As torchvision, in float32 tensors: the rounding of the widths depends on it.
    const blockWidths = tidy(() => {
      const widthsCont = arange(depth).mul(wA).add(w0);
      const blockCapacity = widthsCont.div(w0).log().div(Math.log(wM)).round();
      return blockCapacity.rpow(wM).mul(w0).div(QUANT).round().mul(QUANT).int().tolist() as number[];
    });
    const numStages = new Set(blockWidths).size;
    const cur = [...blockWidths, 0];
    const prev = [0, ...blockWidths];
    const splits = cur.map((w, i) => w !== prev[i]);
    const stageWidths0 = blockWidths.filter((_, i) => splits[i]);
    const starts = splits.flatMap((t, d) => (t ? [d] : []));
    const stageDepths = starts.slice(1).map((d, i) => d - starts[i]);
    const strides = Array<number>(numStages).fill(STRIDE);
    const bottleneckMultipliers = Array<number>(numStages).fill(bottleneckMultiplier);
    const groupWidths0 = Array<number>(numStages).fill(groupWidth);
    const [stageWidths, groupWidths] = BlockParams.adjustWidthsGroupsCompatibility(stageWidths0, bottleneckMultipliers, groupWidths0);
    return new BlockParams(stageDepths, stageWidths, groupWidths, bottleneckMultipliers, strides, seRatio);
  }

  /** torchvision's _adjust_widths_groups_compatibilty: widths divisible by their (capped) group widths. */
  static adjustWidthsGroupsCompatibility(stageWidths: number[], bottleneckRatios: number[], groupWidths: number[]): [number[], number[]] {
    const n = Math.min(stageWidths.length, bottleneckRatios.length);
    const widths = Array.from({ length: n }, (_, i) => Math.trunc(stageWidths[i] * bottleneckRatios[i]));
    const m = Math.min(groupWidths.length, widths.length);
    const groupWidthsMin = Array.from({ length: m }, (_, i) => Math.min(groupWidths[i], widths[i]));
    const wsBot = groupWidthsMin.map((g, i) => makeDivisible(widths[i], g));
    const k = Math.min(wsBot.length, bottleneckRatios.length);
    return [Array.from({ length: k }, (_, i) => Math.trunc(wsBot[i] / bottleneckRatios[i])), groupWidthsMin];
  }

  /** Per stage: [widthOut, stride, depth, groupWidth, bottleneckMultiplier] (Python's zip: the shortest list). */
  expandedParams(): [number, number, number, number, number][] {
    const n = Math.min(this.widths.length, this.strides.length, this.depths.length, this.groupWidths.length, this.bottleneckMultipliers.length);
    return Array.from({ length: n }, (_, i) => [this.widths[i], this.strides[i], this.depths[i], this.groupWidths[i], this.bottleneckMultipliers[i]]);
  }
}

/** The keyword arguments of torchvision's `RegNet` (besides the block parameters). */
export interface RegNetOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Default 32. */
  stemWidth?: number;
  /** Default BatchNorm2d (eps 1e-5, momentum 0.1). */
  normLayer?: NormLayer;
  /** Default ReLU. */
  activation?: RegNetActivation;
}

/**
 * torchvision.models.RegNet: `stem` (SimpleStemIN), `trunk_output` (a Sequential of AnyStage
 * block1..blockN), `avgpool`, `fc`. Change the head with
 * `model.registerModule('fc', new nn.Linear(model.fc.inFeatures, n))`.
 */
export class RegNet extends Module {
  /** torchvision's `stem`: 3x3 stride-2 convolution, norm, activation. */
  declare stem: SimpleStemIN;
  /** torchvision's `trunk_output`: the stages of bottleneck blocks. */
  declare trunk_output: Sequential;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `fc`: the classifier head, Linear to numClasses. */
  declare fc: Linear;
  constructor(blockParams: BlockParams, options: RegNetOptions = {}) {
    super();
    const fn = 'RegNet()';
    if (!(blockParams instanceof BlockParams)) argError(fn, 'blockParams', 'a BlockParams (e.g. BlockParams.fromInitParams({...}))', blockParams);
    if (typeof options !== 'object' || options === null) argError(fn, 'options', 'an options object', options);
    checkOptions(fn, options, ['numClasses', 'stemWidth', 'normLayer', 'activation']);
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    const stemWidth = options.stemWidth ?? 32;
    checkInt(fn, 'stemWidth', stemWidth, 1);
    const normLayer = options.normLayer ?? batchNorm;
    const activation = options.activation ?? relu;

    this.registerModule('stem', new SimpleStemIN(3, stemWidth, normLayer, activation));
    let currentWidth = stemWidth;
    const trunk = new Sequential();
    blockParams.expandedParams().forEach(([widthOut, stride, depth, groupWidth, bottleneckMultiplier], i) => {
      trunk.registerModule(
        `block${i + 1}`,
        new AnyStage(currentWidth, widthOut, stride, depth, normLayer, activation, groupWidth, bottleneckMultiplier, blockParams.seRatio, i + 1),
      );
      currentWidth = widthOut;
    });
    this.registerModule('trunk_output', trunk);
    this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.registerModule('fc', new Linear(currentWidth, numClasses));

    // ResNet-style initialisation, as torchvision.
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        const fanOut = m.kernelSize[0] * m.kernelSize[1] * m.outChannels;
        normal_(m.weight, 0, Math.sqrt(2.0 / fanOut));
      } else if (m instanceof BatchNorm2d) {
        if (m.weight) ones_(m.weight);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof Linear) {
        normal_(m.weight, 0, 0.01);
        if (m.bias) zeros_(m.bias);
      }
    }
  }
  /** `trunk_output` by its camelCase name. */
  get trunkOutput(): Sequential {
    return this._modules.get('trunk_output') as Sequential;
  }
  /** torchvision's `RegNet` forward: images [N, 3, H, W] -> logits [N, numClasses] (stem, trunk_output, global average pool, flatten, fc). */
  override forward(x: Tensor): Tensor {
    checkImageBatch('RegNet.forward()', x, 1, 'RegNet');
    return tidy(() => {
      const y = this.avgpool.call(this.trunk_output.call(this.stem.call(x)));
      return this.fc.call(y.flatten(1));
    });
  }
}

// ---- builders -----------------------------------------------------------------------------------

type RegNetName =
  | 'regnet_y_400mf'
  | 'regnet_y_800mf'
  | 'regnet_y_1_6gf'
  | 'regnet_y_3_2gf'
  | 'regnet_y_8gf'
  | 'regnet_y_16gf'
  | 'regnet_y_32gf'
  | 'regnet_y_128gf'
  | 'regnet_x_400mf'
  | 'regnet_x_800mf'
  | 'regnet_x_1_6gf'
  | 'regnet_x_3_2gf'
  | 'regnet_x_8gf'
  | 'regnet_x_16gf'
  | 'regnet_x_32gf';

/** torchvision's builders' BlockParams.from_init_params arguments. */
export const REGNET_PARAMS: Record<RegNetName, RegNetInitParams> = {
  regnet_y_400mf: { depth: 16, w0: 48, wA: 27.89, wM: 2.09, groupWidth: 8, seRatio: 0.25 },
  regnet_y_800mf: { depth: 14, w0: 56, wA: 38.84, wM: 2.4, groupWidth: 16, seRatio: 0.25 },
  regnet_y_1_6gf: { depth: 27, w0: 48, wA: 20.71, wM: 2.65, groupWidth: 24, seRatio: 0.25 },
  regnet_y_3_2gf: { depth: 21, w0: 80, wA: 42.63, wM: 2.66, groupWidth: 24, seRatio: 0.25 },
  regnet_y_8gf: { depth: 17, w0: 192, wA: 76.82, wM: 2.19, groupWidth: 56, seRatio: 0.25 },
  regnet_y_16gf: { depth: 18, w0: 200, wA: 106.23, wM: 2.48, groupWidth: 112, seRatio: 0.25 },
  regnet_y_32gf: { depth: 20, w0: 232, wA: 115.89, wM: 2.53, groupWidth: 232, seRatio: 0.25 },
  regnet_y_128gf: { depth: 27, w0: 456, wA: 160.83, wM: 2.52, groupWidth: 264, seRatio: 0.25 },
  regnet_x_400mf: { depth: 22, w0: 24, wA: 24.48, wM: 2.54, groupWidth: 16 },
  regnet_x_800mf: { depth: 16, w0: 56, wA: 35.73, wM: 2.28, groupWidth: 16 },
  regnet_x_1_6gf: { depth: 18, w0: 80, wA: 34.01, wM: 2.25, groupWidth: 24 },
  regnet_x_3_2gf: { depth: 25, w0: 88, wA: 26.31, wM: 2.25, groupWidth: 48 },
  regnet_x_8gf: { depth: 23, w0: 80, wA: 49.56, wM: 2.88, groupWidth: 120 },
  regnet_x_16gf: { depth: 22, w0: 216, wA: 55.59, wM: 2.1, groupWidth: 128 },
  regnet_x_32gf: { depth: 23, w0: 320, wA: 69.86, wM: 2.0, groupWidth: 168 },
};

const HEAD = ['fc.weight', 'fc.bias'];
const v1v2 = (name: string, v1: string, v2: string): ArchSpec => ({
  name,
  head: HEAD,
  files: { IMAGENET1K_V1: `${name}-${v1}.pth`, IMAGENET1K_V2: `${name}-${v2}.pth`, DEFAULT: `${name}-${v2}.pth` },
});
const withSwag = (spec: ArchSpec, e2e: string, linear: string): ArchSpec => ({
  ...spec,
  files: {
    IMAGENET1K_V1: spec.files.IMAGENET1K_V1,
    IMAGENET1K_V2: spec.files.IMAGENET1K_V2,
    IMAGENET1K_SWAG_E2E_V1: `${spec.name}_swag-${e2e}.pth`,
    IMAGENET1K_SWAG_LINEAR_V1: `${spec.name}_lc_swag-${linear}.pth`,
    DEFAULT: spec.files.DEFAULT,
  },
});

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const REGNET_SPECS: Record<RegNetName, ArchSpec> = {
  regnet_y_400mf: v1v2('regnet_y_400mf', 'c65dace8', 'e6988f5f'),
  regnet_y_800mf: v1v2('regnet_y_800mf', '1b27b58c', '58fc7688'),
  regnet_y_1_6gf: v1v2('regnet_y_1_6gf', 'b11a554e', '0d7bc02a'),
  regnet_y_3_2gf: v1v2('regnet_y_3_2gf', 'b5a9779c', '9180c971'),
  regnet_y_8gf: v1v2('regnet_y_8gf', 'd0d0e4a8', 'dc2b1b54'),
  regnet_y_16gf: withSwag(v1v2('regnet_y_16gf', '9e6ed7dd', '3e4a00f9'), '43afe44d', 'f3ec0043'),
  regnet_y_32gf: withSwag(v1v2('regnet_y_32gf', '4dee3f7a', '8db6d4b5'), '04fdfa75', 'e1583746'),
  regnet_y_128gf: {
    name: 'regnet_y_128gf',
    head: HEAD,
    files: {
      IMAGENET1K_SWAG_E2E_V1: 'regnet_y_128gf_swag-c8ce3e52.pth',
      IMAGENET1K_SWAG_LINEAR_V1: 'regnet_y_128gf_lc_swag-cbe8ce12.pth',
      DEFAULT: 'regnet_y_128gf_swag-c8ce3e52.pth',
    },
  },
  regnet_x_400mf: v1v2('regnet_x_400mf', 'adf1edd5', '62229a5f'),
  regnet_x_800mf: v1v2('regnet_x_800mf', 'ad17e45c', '94a99ebd'),
  regnet_x_1_6gf: v1v2('regnet_x_1_6gf', 'e3633e7f', 'a12f2b72'),
  regnet_x_3_2gf: v1v2('regnet_x_3_2gf', 'f342aeae', '7071aa85'),
  regnet_x_8gf: v1v2('regnet_x_8gf', '03ceed89', '2b70d774'),
  regnet_x_16gf: v1v2('regnet_x_16gf', '2007eb11', 'ba3796d7'),
  regnet_x_32gf: v1v2('regnet_x_32gf', '9d47f8d0', '6eb8fdc6'),
};

function build(fn: string, name: RegNetName, options?: ModelOptions): RegNet {
  return withWeights(fn, REGNET_SPECS[name], options, (numClasses) => new RegNet(BlockParams.fromInitParams(REGNET_PARAMS[name]), { numClasses }));
}

/** torchvision.models.regnet_y_400mf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetY_400mf = (options?: ModelOptions): RegNet => build('regnetY_400mf()', 'regnet_y_400mf', options);
/** torchvision.models.regnet_y_800mf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetY_800mf = (options?: ModelOptions): RegNet => build('regnetY_800mf()', 'regnet_y_800mf', options);
/** torchvision.models.regnet_y_1_6gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetY_1_6gf = (options?: ModelOptions): RegNet => build('regnetY_1_6gf()', 'regnet_y_1_6gf', options);
/** torchvision.models.regnet_y_3_2gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetY_3_2gf = (options?: ModelOptions): RegNet => build('regnetY_3_2gf()', 'regnet_y_3_2gf', options);
/** torchvision.models.regnet_y_8gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetY_8gf = (options?: ModelOptions): RegNet => build('regnetY_8gf()', 'regnet_y_8gf', options);
/** torchvision.models.regnet_y_16gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT', 'IMAGENET1K_SWAG_E2E_V1', 'IMAGENET1K_SWAG_LINEAR_V1'. */
export const regnetY_16gf = (options?: ModelOptions): RegNet => build('regnetY_16gf()', 'regnet_y_16gf', options);
/** torchvision.models.regnet_y_32gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT', 'IMAGENET1K_SWAG_E2E_V1', 'IMAGENET1K_SWAG_LINEAR_V1'. */
export const regnetY_32gf = (options?: ModelOptions): RegNet => build('regnetY_32gf()', 'regnet_y_32gf', options);
/** torchvision.models.regnet_y_128gf; weights 'IMAGENET1K_SWAG_E2E_V1' = 'DEFAULT', 'IMAGENET1K_SWAG_LINEAR_V1'. */
export const regnetY_128gf = (options?: ModelOptions): RegNet => build('regnetY_128gf()', 'regnet_y_128gf', options);
/** torchvision.models.regnet_x_400mf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_400mf = (options?: ModelOptions): RegNet => build('regnetX_400mf()', 'regnet_x_400mf', options);
/** torchvision.models.regnet_x_800mf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_800mf = (options?: ModelOptions): RegNet => build('regnetX_800mf()', 'regnet_x_800mf', options);
/** torchvision.models.regnet_x_1_6gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_1_6gf = (options?: ModelOptions): RegNet => build('regnetX_1_6gf()', 'regnet_x_1_6gf', options);
/** torchvision.models.regnet_x_3_2gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_3_2gf = (options?: ModelOptions): RegNet => build('regnetX_3_2gf()', 'regnet_x_3_2gf', options);
/** torchvision.models.regnet_x_8gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_8gf = (options?: ModelOptions): RegNet => build('regnetX_8gf()', 'regnet_x_8gf', options);
/** torchvision.models.regnet_x_16gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_16gf = (options?: ModelOptions): RegNet => build('regnetX_16gf()', 'regnet_x_16gf', options);
/** torchvision.models.regnet_x_32gf; weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export const regnetX_32gf = (options?: ModelOptions): RegNet => build('regnetX_32gf()', 'regnet_x_32gf', options);

markRetainsNothing(SimpleStemIN, BottleneckTransform, ResBottleneckBlock, AnyStage, RegNet);
