/**
 * torchvision's ResNet (models/resnet.py): BasicBlock, Bottleneck (v1.5: the stride on conv2), ResNet,
 * and the builders resnet18, resnet34, resnet50, resnet101.
 *
 * Module names, registration order and construction order follow torchvision 0.29 exactly, so:
 * torchvision's state dicts load strictly; stateDict() and namedModules() list the same keys in the
 * same order; and after the same torch.manualSeed() a freshly built model has torchvision's initial
 * weights (each layer's own reset — a block's downsample is built before the block, as in
 * _make_layer — then the model's kaiming-normal / constant re-initialisation loop).
 *
 * ReLU has no inplace option in torch-node and runs out of place (the same values); the residual sum
 * and its ReLU are done in place on the block's own intermediate, as torchvision's `out += identity`.
 *
 * The forwards free each intermediate once the next layer has read it (nn's chainForward), as
 * Python's reference counting does, rather than all at the end of their tidy().
 */
import { checkInt } from '../../checks';
import { Module, chainForward, markRetainsNothing, retainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../../nn/layers';
import { kaimingNormal_, ones_, zeros_ } from '../../nn/init';
import { TorchError, argError } from '../../errors';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

/** A factory for the normalisation layer after each convolution (torchvision's norm_layer); default BatchNorm2d. */
export type NormLayer = (numFeatures: number) => Module;

const batchNorm: NormLayer = (c) => new BatchNorm2d(c);

/** A block's end, torchvision's `out += identity; relu(out)` in place; the downsampled identity is freed after the sum when no one else can hold it. */
function residual(out: Tensor, x: Tensor, downsample: Module | null): Tensor {
  const identity = downsample ? (downsample.call(x) as Tensor) : x;
  out.add_(identity).relu_();
  if (downsample && retainsNothing(downsample) && identity !== x && identity !== out && !identity._kept) identity.dispose();
  return out;
}

/** torchvision's conv3x3: 3x3 convolution with padding = dilation, no bias. */
export function conv3x3(inPlanes: number, outPlanes: number, stride = 1, groups = 1, dilation = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { stride, padding: dilation, groups, bias: false, dilation });
}

/** torchvision's conv1x1: 1x1 convolution, no bias. */
export function conv1x1(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });
}

/** The options of a residual block after (inplanes, planes), as torchvision's keyword arguments. */
export interface BlockOptions {
  /** The stride of the block's strided convolution (default 1). */
  stride?: number;
  /** Applied to the block's input for the residual sum when the shape changes (a Sequential of conv1x1 and norm). */
  downsample?: Module | null;
  /** Groups of the 3x3 convolution (default 1; Bottleneck only). */
  groups?: number;
  /** torchvision's `base_width`: the width per group (default 64; Bottleneck only). */
  baseWidth?: number;
  /** The 3x3 convolution's dilation (default 1; Bottleneck only). */
  dilation?: number;
  /** The norm layer (default BatchNorm2d). */
  normLayer?: NormLayer;
}

/** The block classes ResNet accepts: `expansion` is outChannels / planes. */
export interface BlockClass {
  /** Output channels / planes: 1 for BasicBlock, 4 for Bottleneck. */
  readonly expansion: number;
  new (inplanes: number, planes: number, options?: BlockOptions): BasicBlock | Bottleneck;
}

/**
 * torchvision assigns `self.downsample = downsample`; a None there is a plain attribute, not a
 * registered child, so it is neither printed nor listed. The same here: registered only when given.
 */
function setDownsample(block: Module, downsample: Module | null): void {
  if (downsample) block.registerModule('downsample', downsample);
  else (block as { downsample?: Module | null }).downsample = null;
}

/** ResNet-18/34's block: conv3x3-bn-relu, conv3x3-bn, plus the input (or its downsample), relu. */
export class BasicBlock extends Module {
  /** Output channels / planes (torchvision's `expansion`). */
  static readonly expansion = 1;
  /** torchvision's `conv1`: 3x3 (with the block's stride). */
  declare conv1: Conv2d;
  /** torchvision's `bn1`: the norm layer after conv1. */
  declare bn1: Module;
  /** torchvision's `relu` (used twice). */
  declare relu: ReLU;
  /** torchvision's `conv2`: 3x3. */
  declare conv2: Conv2d;
  /** torchvision's `bn2`: the norm layer after conv2. */
  declare bn2: Module;
  /** torchvision's `downsample`: 1x1 convolution and norm that bring the shortcut to the output's shape, or null. */
  declare downsample: Module | null;
  /** The block's stride. */
  readonly stride: number;
  constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
    super();
    const normLayer = options.normLayer ?? batchNorm;
    if ((options.groups ?? 1) !== 1 || (options.baseWidth ?? 64) !== 64) {
      throw new TorchError('BasicBlock(): BasicBlock only supports groups=1 and baseWidth=64', 'ERR_TORCH_ARG');
    }
    if ((options.dilation ?? 1) > 1) throw new TorchError('BasicBlock(): dilation > 1 is not supported in BasicBlock', 'ERR_TORCH_ARG');
    this.stride = options.stride ?? 1;
    this.registerModule('conv1', conv3x3(inplanes, planes, this.stride));
    this.registerModule('bn1', normLayer(planes));
    this.registerModule('relu', new ReLU({ inplace: true }));
    this.registerModule('conv2', conv3x3(planes, planes));
    this.registerModule('bn2', normLayer(planes));
    setDownsample(this, options.downsample ?? null);
  }
  /**
   * torchvision's `BasicBlock` forward: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), identity being x or downsample(x); [N, inplanes, H, W] ->
   * [N, planes, ceil(H / stride), ceil(W / stride)].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const out = chainForward(x, [this.conv1, this.bn1, this.relu, this.conv2, this.bn2]) as Tensor;
      return residual(out, x, this.downsample);
    });
  }
}

/**
 * ResNet-50/101's block (v1.5): conv1x1-bn-relu, conv3x3 (with the stride)-bn-relu, conv1x1 to
 * planes * 4 - bn, plus the input (or its downsample), relu.
 */
export class Bottleneck extends Module {
  /** Output channels / planes (torchvision's `expansion`). */
  static readonly expansion = 4;
  /** torchvision's `conv1`: 1x1 reduction to the block's width. */
  declare conv1: Conv2d;
  /** torchvision's `bn1`: the norm layer after conv1. */
  declare bn1: Module;
  /** torchvision's `conv2`: 3x3 (with the block's stride, groups and dilation). */
  declare conv2: Conv2d;
  /** torchvision's `bn2`: the norm layer after conv2. */
  declare bn2: Module;
  /** torchvision's `conv3`: 1x1 expansion to planes * 4. */
  declare conv3: Conv2d;
  /** torchvision's `bn3`: the norm layer after conv3. */
  declare bn3: Module;
  /** torchvision's `relu` (used three times). */
  declare relu: ReLU;
  /** torchvision's `downsample`: 1x1 convolution and norm that bring the shortcut to the output's shape, or null. */
  declare downsample: Module | null;
  /** The block's stride. */
  readonly stride: number;
  constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
    super();
    const normLayer = options.normLayer ?? batchNorm;
    const groups = options.groups ?? 1;
    const width = Math.trunc(planes * ((options.baseWidth ?? 64) / 64)) * groups;
    this.stride = options.stride ?? 1;
    this.registerModule('conv1', conv1x1(inplanes, width));
    this.registerModule('bn1', normLayer(width));
    this.registerModule('conv2', conv3x3(width, width, this.stride, groups, options.dilation ?? 1));
    this.registerModule('bn2', normLayer(width));
    this.registerModule('conv3', conv1x1(width, planes * Bottleneck.expansion));
    this.registerModule('bn3', normLayer(planes * Bottleneck.expansion));
    this.registerModule('relu', new ReLU({ inplace: true }));
    setDownsample(this, options.downsample ?? null);
  }
  /**
   * torchvision's `Bottleneck` forward: relu(bn3(conv3(...)) + identity) after the 1x1, 3x3 (with the stride) and 1x1 convolutions, identity being x or
   * downsample(x); [N, inplanes, H, W] -> [N, planes * 4, ceil(H / stride), ceil(W / stride)].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const out = chainForward(x, [this.conv1, this.bn1, this.relu, this.conv2, this.bn2, this.relu, this.conv3, this.bn3]) as Tensor;
      return residual(out, x, this.downsample);
    });
  }
}

/** The keyword arguments of torchvision's `ResNet` (besides block and layers). */
export interface ResNetOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Zero the last BN weight of each residual branch, so each block starts as the identity. */
  zeroInitResidual?: boolean;
  /** Groups of the Bottleneck 3x3 convolutions (default 1; 32 for ResNeXt). */
  groups?: number;
  /** torchvision's `width_per_group` (default 64; 128 for Wide ResNet). */
  widthPerGroup?: number;
  /** Three booleans: replace the 2x2 stride of layer2, layer3, layer4 with a dilated convolution. */
  replaceStrideWithDilation?: [boolean, boolean, boolean];
  /** The norm layer (default BatchNorm2d). */
  normLayer?: NormLayer;
}

/**
 * torchvision.models.ResNet: conv1, bn1, relu, maxpool, layer1..layer4 (Sequentials of blocks),
 * avgpool, flatten, `fc`. Change the head with `model.registerModule('fc', new nn.Linear(model.fc.inFeatures, n))`.
 */
export class ResNet extends Module {
  /** torchvision's `conv1`: the 7x7 stride-2 stem convolution, 3 -> 64. */
  declare conv1: Conv2d;
  /** torchvision's `bn1`: the stem's norm layer. */
  declare bn1: Module;
  /** torchvision's `relu`: the stem's ReLU. */
  declare relu: ReLU;
  /** torchvision's `maxpool`: 3x3 stride 2. */
  declare maxpool: MaxPool2d;
  /** torchvision's `layer1`: the first stage of blocks (64 planes). */
  declare layer1: Sequential;
  /** torchvision's `layer2`: the second stage (128 planes, half the resolution). */
  declare layer2: Sequential;
  /** torchvision's `layer3`: the third stage (256 planes, half the resolution). */
  declare layer3: Sequential;
  /** torchvision's `layer4`: the fourth stage (512 planes, half the resolution). */
  declare layer4: Sequential;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `fc`: the classifier head, Linear 512 * expansion -> numClasses (replace it to fine-tune). */
  declare fc: Linear;
  private inplanes = 64;
  private dilation = 1;
  private readonly groups: number;
  private readonly baseWidth: number;
  private readonly normLayer: NormLayer;

  constructor(block: BlockClass, layers: number[], options: ResNetOptions = {}) {
    super();
    const fn = 'ResNet()';
    if (typeof block !== 'function' || !Number.isInteger((block as BlockClass).expansion)) {
      argError(fn, 'block', 'BasicBlock, Bottleneck or a block class with a static expansion', block);
    }
    if (!Array.isArray(layers) || layers.length !== 4 || !layers.every((n) => Number.isInteger(n) && n >= 1)) {
      argError(fn, 'layers', 'an array of 4 positive block counts, e.g. [2, 2, 2, 2]', layers);
    }
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    const dilate = options.replaceStrideWithDilation ?? [false, false, false];
    if (!Array.isArray(dilate) || dilate.length !== 3) {
      argError(fn, 'replaceStrideWithDilation', 'undefined or an array of 3 booleans', dilate);
    }
    this.groups = checkInt(fn, 'groups', options.groups ?? 1, 1);
    this.baseWidth = checkInt(fn, 'widthPerGroup', options.widthPerGroup ?? 64, 1);
    this.normLayer = options.normLayer ?? batchNorm;
    // Registration (and construction) order is torchvision's: it fixes the state-dict order and the random draws.
    this.registerModule('conv1', new Conv2d(3, this.inplanes, 7, { stride: 2, padding: 3, bias: false }));
    this.registerModule('bn1', this.normLayer(this.inplanes));
    this.registerModule('relu', new ReLU({ inplace: true }));
    this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    this.registerModule('layer1', this.makeLayer(block, 64, layers[0]));
    this.registerModule('layer2', this.makeLayer(block, 128, layers[1], 2, dilate[0]));
    this.registerModule('layer3', this.makeLayer(block, 256, layers[2], 2, dilate[1]));
    this.registerModule('layer4', this.makeLayer(block, 512, layers[3], 2, dilate[2]));
    this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.registerModule('fc', new Linear(512 * block.expansion, numClasses));

    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        if (m.weight) ones_(m.weight);
        if (m.bias) zeros_(m.bias);
      }
    }
    if (options.zeroInitResidual) {
      for (const m of this.modules()) {
        const last = m instanceof Bottleneck ? m.bn3 : m instanceof BasicBlock ? m.bn2 : null;
        const w = (last as BatchNorm2d | null)?.weight;
        if (w) zeros_(w);
      }
    }
  }

  private makeLayer(block: BlockClass, planes: number, blocks: number, stride = 1, dilate = false): Sequential {
    const normLayer = this.normLayer;
    let downsample: Module | null = null;
    const previousDilation = this.dilation;
    if (dilate) {
      this.dilation *= stride;
      stride = 1;
    }
    if (stride !== 1 || this.inplanes !== planes * block.expansion) {
      downsample = new Sequential(conv1x1(this.inplanes, planes * block.expansion, stride), normLayer(planes * block.expansion));
    }
    const out: Module[] = [
      new block(this.inplanes, planes, { stride, downsample, groups: this.groups, baseWidth: this.baseWidth, dilation: previousDilation, normLayer }),
    ];
    this.inplanes = planes * block.expansion;
    for (let i = 1; i < blocks; i++) {
      out.push(new block(this.inplanes, planes, { groups: this.groups, baseWidth: this.baseWidth, dilation: this.dilation, normLayer }));
    }
    return new Sequential(...out);
  }

  /** torchvision's `ResNet` forward: images [N, 3, H, W] -> logits [N, numClasses] (stem, layer1..layer4, global average pool, flatten, fc). */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const layers = [this.conv1, this.bn1, this.relu, this.maxpool, this.layer1, this.layer2, this.layer3, this.layer4, this.avgpool];
      const y = chainForward(x, layers) as Tensor;
      return this.fc.call(y.flatten(1));
    });
  }
}

const HEAD = ['fc.weight', 'fc.bias'];

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const RESNET_SPECS: Record<'resnet18' | 'resnet34' | 'resnet50' | 'resnet101', ArchSpec> = {
  resnet18: { name: 'resnet18', head: HEAD, files: { IMAGENET1K_V1: 'resnet18-f37072fd.pth', DEFAULT: 'resnet18-f37072fd.pth' } },
  resnet34: { name: 'resnet34', head: HEAD, files: { IMAGENET1K_V1: 'resnet34-b627a593.pth', DEFAULT: 'resnet34-b627a593.pth' } },
  resnet50: {
    name: 'resnet50',
    head: HEAD,
    files: { IMAGENET1K_V1: 'resnet50-0676ba61.pth', IMAGENET1K_V2: 'resnet50-11ad3fa6.pth', DEFAULT: 'resnet50-11ad3fa6.pth' },
  },
  resnet101: {
    name: 'resnet101',
    head: HEAD,
    files: { IMAGENET1K_V1: 'resnet101-63fe2227.pth', IMAGENET1K_V2: 'resnet101-cd907fc2.pth', DEFAULT: 'resnet101-cd907fc2.pth' },
  },
};

/** ResNet-18 (BasicBlock, [2, 2, 2, 2]); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function resnet18(options?: ModelOptions): ResNet {
  return withWeights('resnet18()', RESNET_SPECS.resnet18, options, (numClasses) => new ResNet(BasicBlock, [2, 2, 2, 2], { numClasses }));
}

/** ResNet-34 (BasicBlock, [3, 4, 6, 3]); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function resnet34(options?: ModelOptions): ResNet {
  return withWeights('resnet34()', RESNET_SPECS.resnet34, options, (numClasses) => new ResNet(BasicBlock, [3, 4, 6, 3], { numClasses }));
}

/** ResNet-50 (Bottleneck, [3, 4, 6, 3]); weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export function resnet50(options?: ModelOptions): ResNet {
  return withWeights('resnet50()', RESNET_SPECS.resnet50, options, (numClasses) => new ResNet(Bottleneck, [3, 4, 6, 3], { numClasses }));
}

/** ResNet-101 (Bottleneck, [3, 4, 23, 3]); weights 'IMAGENET1K_V1', 'IMAGENET1K_V2' = 'DEFAULT'. */
export function resnet101(options?: ModelOptions): ResNet {
  return withWeights('resnet101()', RESNET_SPECS.resnet101, options, (numClasses) => new ResNet(Bottleneck, [3, 4, 23, 3], { numClasses }));
}

markRetainsNothing(BasicBlock, Bottleneck, ResNet);
