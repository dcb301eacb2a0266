/**
 * torchvision's ConvNeXt (models/convnext.py): LayerNorm2d, CNBlock, ConvNeXt, and the builders
 * convnextTiny, convnextSmall, convnextBase, convnextLarge; plus what it needs from torchvision.ops.misc
 * (Permute) and torch.nn.init (truncNormal_, torch 2.15's rejection-sampling trunc_normal_), which the
 * other transformer-era models (vit.ts, swin.ts) import from here.
 *
 * Module names, registration order, hyper-parameters and initialisation follow torchvision 0.29
 * exactly, so: torchvision's state dicts load strictly; stateDict() and namedModules() list the same
 * keys in the same order; the printed form is torchvision's; and after the same torch.manualSeed() a
 * freshly built model has torchvision's initial weights (each layer's own reset, then the model's
 * trunc_normal_(std=0.02) loop over every Conv2d and Linear, with the same ATen random calls).
 */
import { checkInt, checkProbability } from '../../checks';
import { ones } from '../../creation';
import { TorchError, argError } from '../../errors';
import { Module, Parameter, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, Conv2d, Flatten, GELU, LayerNorm, Linear, Sequential } from '../../nn/layers';
import * as F from '../../nn/functional';
import { erf, truncNormal_, zeros_, type TruncNormalOptions } from '../../nn/init';
import { tidy } from '../../scope';
import { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

// torch.nn.init.trunc_normal_ lives in nn/init.ts; re-exported for vit.ts, swin.ts and the index.
export { erf, truncNormal_ };
export type { TruncNormalOptions };
import { Conv2dNormActivation } from './mobilenet';
import { StochasticDepth } from './efficientnet';

// ---- torch.nn.init.trunc_normal_ ----------------------------------------------------------------

/** nn.Parameter(t) for a temporary t: the Parameter (sharing t's storage) replaces t, which is freed. */
export function ownParam(t: Tensor): Parameter {
  const p = new Parameter(t);
  t.dispose();
  return p;
}

// ---- torchvision.ops.misc.Permute, LayerNorm2d ------------------------------------------------------

/** torchvision.ops.misc.Permute(dims): returns input.permute(dims) (a view). */
export class Permute extends Module {
  /** The dimension order (as Tensor.permute). */
  readonly dims: number[];
  constructor(dims: number[]) {
    super();
    if (!Array.isArray(dims) || !dims.every(Number.isInteger)) argError('Permute()', 'dims', 'an array of dimension indices', dims);
    this.dims = [...dims];
  }
  /** torchvision's `Permute` forward: `x.permute(dims)` (a view), e.g. [N, C, H, W] -> [N, H, W, C] with dims [0, 2, 3, 1]. */
  override forward(x: Tensor): Tensor {
    return x.permute(this.dims);
  }
}

/** torchvision's LayerNorm2d: nn.LayerNorm over the channels of an NCHW tensor (permuted to NHWC and back). */
export class LayerNorm2d extends LayerNorm {
  /**
   * torchvision's `LayerNorm2d` forward: input [N, C, H, W] -> the same shape, each position normalised over its C channels, then weight and bias per channel.
   */
  override forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) argError('LayerNorm2d.forward()', 'input', 'a Tensor', x);
    if (x.dim() !== 4) throw new TorchError(`LayerNorm2d: expected 4D input (N, C, H, W) (got ${x.dim()}D input)`, 'ERR_TORCH_ARG');
    return tidy(() => F.layerNorm(x.permute(0, 2, 3, 1), this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps }).permute(0, 3, 1, 2));
  }
}

/** A factory for a normalisation layer over `channels` (torchvision's norm_layer). */
export type NormLayer = (channels: number) => Module;

// ---- CNBlock ----------------------------------------------------------------------------------------

/**
 * ConvNeXt's block: `block` = depthwise 7x7 conv, Permute to NHWC, LayerNorm (eps 1e-6), Linear to
 * 4 * dim, GELU, Linear back, Permute to NCHW; `layer_scale` (dim x 1 x 1) scales it; stochastic
 * depth ('row'); plus the input.
 */
export class CNBlock extends Module {
  /** torchvision's `block`: depthwise 7x7 conv, LayerNorm, Linear to 4x, GELU, Linear back. */
  declare block: Sequential;
  /** torchvision's `layer_scale`: the learned per-channel scale of the block's output, [dim, 1, 1]. */
  declare layer_scale: Parameter;
  constructor(dim: number, layerScale: number, stochasticDepthProb: number, normLayer?: NormLayer | null) {
    super();
    const fn = 'CNBlock()';
    checkInt(fn, 'dim', dim, 1);
    if (typeof layerScale !== 'number' || !Number.isFinite(layerScale)) argError(fn, 'layerScale', 'a number', layerScale);
    const norm = normLayer ?? ((c: number) => new LayerNorm(c, { eps: 1e-6 }));
    this.registerModule(
      'block',
      new Sequential(
        new Conv2d(dim, dim, 7, { padding: 3, groups: dim, bias: true }),
        new Permute([0, 2, 3, 1]),
        norm(dim),
        new Linear(dim, 4 * dim, { bias: true }),
        new GELU(),
        new Linear(4 * dim, dim, { bias: true }),
        new Permute([0, 3, 1, 2]),
      ),
    );
    // torch.ones(dim, 1, 1) * layer_scale
    this.registerParameter('layer_scale', ownParam(tidy(() => ones([dim, 1, 1]).mul(layerScale))));
    this.registerModule('stochastic_depth', new StochasticDepth(stochasticDepthProb, 'row'));
  }
  /** The learned per-channel scale (registered under torchvision's name, 'layer_scale'). */
  get layerScale(): Parameter {
    return this._parameters.get('layer_scale') as Parameter;
  }
  /** Registered under torchvision's name, 'stochastic_depth'. */
  get stochasticDepth(): StochasticDepth {
    return this._modules.get('stochastic_depth') as StochasticDepth;
  }
  /**
   * torchvision's `CNBlock` forward: input + stochasticDepth(layerScale·block(input)); [N, dim, H, W] -> the same shape (stochastic depth drops a sample's
   * branch only in training).
   */
  override forward(input: Tensor): Tensor {
    return tidy(() => {
      let result = this.layerScale.mul(this.block.call(input));
      result = this.stochasticDepth.call(result);
      return result.add_(input);
    });
  }
}

// ---- ConvNeXt ---------------------------------------------------------------------------------------

/** One stage (torchvision's CNBlockConfig): its channels, the next stage's (null for the last), its block count. */
export interface CNBlockConfig {
  /** The stage's channels. */
  inputChannels: number;
  /** The channels after the stage's downsampling layer, or null for the last stage (none). */
  outChannels: number | null;
  /** The number of blocks in the stage. */
  numLayers: number;
}

/** torchvision's CNBlockConfig(input_channels, out_channels, num_layers). */
export function cnBlockConfig(inputChannels: number, outChannels: number | null, numLayers: number): CNBlockConfig {
  return { inputChannels, outChannels, numLayers };
}

/** The block classes ConvNeXt accepts (torchvision's `block`): `new Block(dim, layerScale, stochasticDepthProb)`, e.g. CNBlock. */
export type CNBlockClass = new (dim: number, layerScale: number, stochasticDepthProb: number) => Module;

/** The keyword arguments of torchvision's `ConvNeXt` (besides the stage table). */
export interface ConvNeXtOptions {
  /** The largest stochastic-depth probability (the last block's; linearly less before it). Default 0. */
  stochasticDepthProb?: number;
  /** Initial value of each block's layer_scale. Default 1e-6. */
  layerScale?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** The block class (torchvision's block); default CNBlock. */
  block?: CNBlockClass;
  /** The norm of the stem, the downsampling layers and the head; default LayerNorm2d(eps 1e-6). */
  normLayer?: NormLayer;
}

function isConfig(c: unknown): c is CNBlockConfig {
  if (c === null || typeof c !== 'object') return false;
  const o = c as CNBlockConfig;
  const pos = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
  return pos(o.inputChannels) && (o.outChannels === null || pos(o.outChannels)) && pos(o.numLayers);
}

/**
 * torchvision.models.ConvNeXt: `features` (the patchify stem — Conv2d 4x4/4 and LayerNorm2d —, then
 * per stage a Sequential of CNBlocks and, between stages, a Sequential of LayerNorm2d and Conv2d 2x2/2),
 * `avgpool`, and `classifier` (LayerNorm2d, Flatten, Linear: replace '2' to change the head).
 */
export class ConvNeXt extends Module {
  /** torchvision's `features`: the stem, then each stage's blocks and downsampling layers. */
  declare features: Sequential;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `classifier`: LayerNorm, Flatten, and the Linear to numClasses. */
  declare classifier: Sequential;
  constructor(blockSetting: CNBlockConfig[], options: ConvNeXtOptions = {}) {
    super();
    const fn = 'ConvNeXt()';
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an options object', options);
    if (!Array.isArray(blockSetting) || blockSetting.length === 0) {
      throw new TorchError(
        `${fn}: The block_setting should not be empty (got ${Array.isArray(blockSetting) ? 'an empty array' : String(blockSetting)})`,
        'ERR_TORCH_ARG',
      );
    }
    blockSetting.forEach((c, i) => {
      if (!isConfig(c)) argError(fn, `blockSetting[${i}]`, 'a CNBlockConfig { inputChannels, outChannels (or null), numLayers }', c);
    });
    const sdProb = options.stochasticDepthProb ?? 0;
    checkProbability(fn, 'stochasticDepthProb', sdProb);
    const layerScale = options.layerScale ?? 1e-6;
    const numClasses = options.numClasses ?? 1000;
    checkInt(fn, 'numClasses', numClasses, 1);
    const Block = options.block ?? CNBlock;
    const normLayer = options.normLayer ?? ((c: number) => new LayerNorm2d(c, { eps: 1e-6 }));

    const totalStageBlocks = blockSetting.reduce((n, c) => n + c.numLayers, 0);
    // (checked before anything is built: a failed constructor leaves no parameters behind)
    if (totalStageBlocks === 1)
      throw new TorchError(`${fn}: torchvision's ConvNeXt needs at least 2 blocks in all (it divides by total_stage_blocks - 1)`, 'ERR_TORCH_ARG');

    const layers: Module[] = [
      new Conv2dNormActivation(3, blockSetting[0].inputChannels, { kernelSize: 4, stride: 4, padding: 0, normLayer, activationLayer: null, bias: true }),
    ];
    let stageBlockId = 0;
    for (const cnf of blockSetting) {
      const stage: Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++) {
        const p = (sdProb * stageBlockId) / (totalStageBlocks - 1.0);
        stage.push(new Block(cnf.inputChannels, layerScale, p));
        stageBlockId++;
      }
      layers.push(new Sequential(...stage));
      if (cnf.outChannels !== null) {
        layers.push(new Sequential(normLayer(cnf.inputChannels), new Conv2d(cnf.inputChannels, cnf.outChannels, 2, { stride: 2 })));
      }
    }
    this.registerModule('features', new Sequential(...layers));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    const last = blockSetting[blockSetting.length - 1];
    const lastChannels = last.outChannels ?? last.inputChannels;
    this.registerModule('classifier', new Sequential(normLayer(lastChannels), new Flatten(1), new Linear(lastChannels, numClasses)));

    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        truncNormal_(m.weight, { std: 0.02 });
        if (m.bias) zeros_(m.bias);
      }
    }
  }
  /** torchvision's `ConvNeXt` forward: images [N, 3, H, W] -> logits [N, numClasses] (features, global average pool, classifier). */
  override forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) argError('ConvNeXt.forward()', 'input', 'a Tensor', x);
    if (x.dim() !== 4) throw new TorchError(`ConvNeXt: expected 4D input (N, 3, H, W) (got ${x.dim()}D input)`, 'ERR_TORCH_ARG');
    return tidy(() => this.classifier.call(this.avgpool.call(this.features.call(x))));
  }
}

const HEAD = ['classifier.2.weight', 'classifier.2.bias'];
const spec = (name: string, file: string): ArchSpec => ({ name, head: HEAD, files: { IMAGENET1K_V1: file, DEFAULT: file } });

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const CONVNEXT_SPECS = {
  convnext_tiny: spec('convnext_tiny', 'convnext_tiny-983f1562.pth'),
  convnext_small: spec('convnext_small', 'convnext_small-0c510722.pth'),
  convnext_base: spec('convnext_base', 'convnext_base-6075fbad.pth'),
  convnext_large: spec('convnext_large', 'convnext_large-ea097f82.pth'),
} satisfies Record<string, ArchSpec>;

/** torchvision's block settings of convnext_tiny / small / base / large, with their stochastic-depth probabilities. */
export function convnextConf(arch: 'tiny' | 'small' | 'base' | 'large'): {
  /** The stages' configurations. */
  blockSetting: CNBlockConfig[];
  /** The architecture's stochastic-depth probability. */
  stochasticDepthProb: number;
} {
  const c = cnBlockConfig;
  switch (arch) {
    case 'tiny':
      return { blockSetting: [c(96, 192, 3), c(192, 384, 3), c(384, 768, 9), c(768, null, 3)], stochasticDepthProb: 0.1 };
    case 'small':
      return { blockSetting: [c(96, 192, 3), c(192, 384, 3), c(384, 768, 27), c(768, null, 3)], stochasticDepthProb: 0.4 };
    case 'base':
      return { blockSetting: [c(128, 256, 3), c(256, 512, 3), c(512, 1024, 27), c(1024, null, 3)], stochasticDepthProb: 0.5 };
    case 'large':
      return { blockSetting: [c(192, 384, 3), c(384, 768, 3), c(768, 1536, 27), c(1536, null, 3)], stochasticDepthProb: 0.5 };
    default:
      return argError('convnextConf()', 'arch', "'tiny', 'small', 'base' or 'large'", arch);
  }
}

function build(fn: string, arch: 'tiny' | 'small' | 'base' | 'large', options?: ModelOptions): ConvNeXt {
  const { blockSetting, stochasticDepthProb } = convnextConf(arch);
  return withWeights(fn, CONVNEXT_SPECS[`convnext_${arch}`], options, (numClasses) => new ConvNeXt(blockSetting, { stochasticDepthProb, numClasses }));
}

/** ConvNeXt-Tiny (96-192-384-768 channels, 3-3-9-3 blocks, stochastic depth 0.1); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function convnextTiny(options?: ModelOptions): ConvNeXt {
  return build('convnextTiny()', 'tiny', options);
}

/** ConvNeXt-Small (96-192-384-768, 3-3-27-3, stochastic depth 0.4); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function convnextSmall(options?: ModelOptions): ConvNeXt {
  return build('convnextSmall()', 'small', options);
}

/** ConvNeXt-Base (128-256-512-1024, 3-3-27-3, stochastic depth 0.5); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function convnextBase(options?: ModelOptions): ConvNeXt {
  return build('convnextBase()', 'base', options);
}

/** ConvNeXt-Large (192-384-768-1536, 3-3-27-3, stochastic depth 0.5); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function convnextLarge(options?: ModelOptions): ConvNeXt {
  return build('convnextLarge()', 'large', options);
}

markRetainsNothing(Permute, LayerNorm2d, CNBlock, ConvNeXt);
