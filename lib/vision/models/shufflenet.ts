/**
 * torchvision's ShuffleNetV2 (models/shufflenetv2.py): channelShuffle, its InvertedResidual block
 * (ShuffleNetInvertedResidual here, printed as torchvision's `InvertedResidual`), ShuffleNetV2, and the
 * builders shufflenetV2X0_5, shufflenetV2X1_0, shufflenetV2X1_5, shufflenetV2X2_0 (torchvision's
 * shufflenet_v2_x0_5, ...: camelCase, the underscore between digits kept).
 *
 * Module names, registration order and construction order follow torchvision 0.29 exactly (there is
 * no re-initialisation loop: every layer keeps its own reset), so torchvision's state dicts load
 * strictly, stateDict() and namedModules() list the same keys in the same order, the printed form is
 * torchvision's, and after the same torch.manualSeed() a freshly built model has torchvision's
 * initial weights.
 *
 * Weights saved without BatchNorm's num_batches_tracked (PyTorch < 0.4 checkpoints) load as PyTorch
 * loads them: the missing counters keep their value, 0 (Module.loadStateDict).
 */
import { checkInt } from '../../checks';
import { Module, markRetainsNothing } from '../../nn/module';
import { BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../../nn/layers';
import { TorchError, argError, checkOptions } from '../../errors';
import { cat } from '../../functions';
import { tidy } from '../../scope';
import { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';

/**
 * torchvision's channel_shuffle: [N, C, H, W] viewed as [N, groups, C / groups, H, W], the two channel
 * dimensions swapped, and flattened back, so the channels of the groups interleave.
 */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const fn = 'channelShuffle()';
  if (!(x instanceof Tensor)) argError(fn, 'x', 'a Tensor', x);
  if (x.dim() !== 4) throw new TorchError(`${fn}: expected a 4D [N, C, H, W] input, got ${x.dim()}D`, 'ERR_TORCH_ARG');
  checkInt(fn, 'groups', groups, 1);
  const [n, c, h, w] = x.shape;
  if (c % groups !== 0) throw new TorchError(`${fn}: ${c} channels cannot be split into ${groups} groups`, 'ERR_TORCH_ARG');
  return tidy(() =>
    x
      .view([n, groups, c / groups, h, w])
      .transpose(1, 2)
      .contiguous()
      .view([n, c, h, w]),
  );
}

/** torchvision's InvertedResidual.depthwise_conv: a bias-free depthwise convolution (groups = inputs). */
function depthwiseConv(i: number, o: number, kernelSize: number, stride = 1, padding = 0, bias = false): Conv2d {
  return new Conv2d(i, o, kernelSize, { stride, padding, bias, groups: i });
}

/**
 * ShuffleNetV2's unit, torchvision's InvertedResidual (printed under that name). stride 1: the input's
 * channels are split in two, the second half goes through `branch2` (1x1 conv-BN-ReLU, 3x3 depthwise
 * conv-BN, 1x1 conv-BN-ReLU) and `branch1` is an empty Sequential; stride > 1: `branch1` (3x3
 * depthwise conv-BN, 1x1 conv-BN-ReLU) and `branch2` both see the whole input. The halves are
 * concatenated and channel-shuffled with 2 groups.
 */
export class ShuffleNetInvertedResidual extends Module {
  /** torchvision's `branch1`: the shortcut branch of a stride-2 block (depthwise 3x3, 1x1), empty otherwise. */
  declare branch1: Sequential;
  /** torchvision's `branch2`: 1x1, depthwise 3x3, 1x1. */
  declare branch2: Sequential;
  /** The block's stride (1 or 2; 2 halves the resolution and doubles the channels through branch1). */
  readonly stride: number;
  constructor(inp: number, oup: number, stride: number) {
    super();
    const fn = 'InvertedResidual()';
    checkInt(fn, 'inp', inp, 1);
    if (!Number.isInteger(oup) || oup < 2) argError(fn, 'oup', 'an integer >= 2', oup);
    if (!Number.isInteger(stride) || !(stride >= 1 && stride <= 3)) throw new TorchError(`${fn}: illegal stride value ${stride} (1, 2 or 3)`, 'ERR_TORCH_ARG');
    this.stride = stride;
    const branchFeatures = Math.floor(oup / 2);
    if (stride === 1 && inp !== branchFeatures * 2) {
      throw new TorchError(
        `${fn}: invalid combination of stride ${stride}, inp ${inp} and oup ${oup} values. If stride == 1 then inp should be equal to oup // 2 << 1.`,
        'ERR_TORCH_ARG',
      );
    }
    if (stride > 1) {
      this.registerModule(
        'branch1',
        new Sequential(
          depthwiseConv(inp, inp, 3, stride, 1),
          new BatchNorm2d(inp),
          new Conv2d(inp, branchFeatures, 1, { stride: 1, padding: 0, bias: false }),
          new BatchNorm2d(branchFeatures),
          new ReLU({ inplace: true }),
        ),
      );
    } else {
      this.registerModule('branch1', new Sequential());
    }
    this.registerModule(
      'branch2',
      new Sequential(
        new Conv2d(stride > 1 ? inp : branchFeatures, branchFeatures, 1, { stride: 1, padding: 0, bias: false }),
        new BatchNorm2d(branchFeatures),
        new ReLU({ inplace: true }),
        depthwiseConv(branchFeatures, branchFeatures, 3, stride, 1),
        new BatchNorm2d(branchFeatures),
        new Conv2d(branchFeatures, branchFeatures, 1, { stride: 1, padding: 0, bias: false }),
        new BatchNorm2d(branchFeatures),
        new ReLU({ inplace: true }),
      ),
    );
  }
  /**
   * torchvision's `InvertedResidual` (ShuffleNetV2) forward: stride 1: branch2 on the second half of the channels beside the first half; stride > 1: branch1
   * and branch2 on the whole input; then concatenated and channel-shuffled (2 groups). [N, inp, H, W] ->
   * [N, 2·floor(oup / 2), ceil(H / stride), ceil(W / stride)].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      let out: Tensor;
      if (this.stride === 1) {
        const [x1, x2] = x.chunk(2, 1);
        out = cat([x1, this.branch2.call(x2)], 1);
      } else {
        out = cat([this.branch1.call(x), this.branch2.call(x)], 1);
      }
      return channelShuffle(out, 2);
    });
  }
}
Object.defineProperty(ShuffleNetInvertedResidual, 'name', { value: 'InvertedResidual' });

/** The keyword arguments of torchvision's `ShuffleNetV2` (besides the stage repeats and channels). */
export interface ShuffleNetV2Options {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** The unit's factory (torchvision's inverted_residual); default ShuffleNetInvertedResidual. */
  invertedResidual?: (inp: number, oup: number, stride: number) => Module;
}

/**
 * torchvision.models.ShuffleNetV2: `conv1` (3x3 stride-2 conv-BN-ReLU), `maxpool`, `stage2`..`stage4`
 * (Sequentials of units, the first with stride 2), `conv5` (1x1 conv-BN-ReLU), global mean, `fc`.
 * Change the head with `model.registerModule('fc', new nn.Linear(model.fc.inFeatures, n))`.
 */
export class ShuffleNetV2 extends Module {
  /** torchvision's `conv1`: the 3x3 stride-2 stem convolution, norm and ReLU. */
  declare conv1: Sequential;
  /** torchvision's `maxpool`: 3x3 stride 2. */
  declare maxpool: MaxPool2d;
  /** torchvision's `stage2`: the first stage of blocks. */
  declare stage2: Sequential;
  /** torchvision's `stage3`: the second stage of blocks. */
  declare stage3: Sequential;
  /** torchvision's `stage4`: the third stage of blocks. */
  declare stage4: Sequential;
  /** torchvision's `conv5`: the last 1x1 convolution, norm and ReLU. */
  declare conv5: Sequential;
  /** torchvision's `fc`: the classifier head, Linear to numClasses. */
  declare fc: Linear;
  /** The output channels of conv1, the three stages and conv5 (torchvision's `_stage_out_channels`). */
  readonly stageOutChannels: readonly number[];
  constructor(stagesRepeats: number[], stagesOutChannels: number[], options: ShuffleNetV2Options = {}) {
    super();
    const fn = 'ShuffleNetV2()';
    if (!Array.isArray(stagesRepeats) || stagesRepeats.length !== 3 || !stagesRepeats.every((n) => Number.isInteger(n) && n >= 1)) {
      argError(fn, 'stagesRepeats', 'an array of 3 positive integers, e.g. [4, 8, 4]', stagesRepeats);
    }
    if (!Array.isArray(stagesOutChannels) || stagesOutChannels.length !== 5 || !stagesOutChannels.every((n) => Number.isInteger(n) && n >= 1)) {
      argError(fn, 'stagesOutChannels', 'an array of 5 positive integers, e.g. [24, 116, 232, 464, 1024]', stagesOutChannels);
    }
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an object', options);
    checkOptions(fn, options, ['numClasses', 'invertedResidual']);
    const numClasses = options.numClasses ?? 1000;
    checkInt(fn, 'numClasses', numClasses, 1);
    const unit = options.invertedResidual ?? ((i: number, o: number, s: number) => new ShuffleNetInvertedResidual(i, o, s));
    if (typeof unit !== 'function') argError(fn, 'invertedResidual', 'a function (inp, oup, stride) => Module', unit);
    this.stageOutChannels = [...stagesOutChannels];

    let inputChannels = 3;
    let outputChannels = stagesOutChannels[0];
    this.registerModule(
      'conv1',
      new Sequential(
        new Conv2d(inputChannels, outputChannels, 3, { stride: 2, padding: 1, bias: false }),
        new BatchNorm2d(outputChannels),
        new ReLU({ inplace: true }),
      ),
    );
    inputChannels = outputChannels;
    this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    ['stage2', 'stage3', 'stage4'].forEach((name, i) => {
      outputChannels = stagesOutChannels[i + 1];
      const seq: Module[] = [unit(inputChannels, outputChannels, 2)];
      for (let r = 0; r < stagesRepeats[i] - 1; r++) seq.push(unit(outputChannels, outputChannels, 1));
      this.registerModule(name, new Sequential(...seq));
      inputChannels = outputChannels;
    });
    outputChannels = stagesOutChannels[4];
    this.registerModule(
      'conv5',
      new Sequential(
        new Conv2d(inputChannels, outputChannels, 1, { stride: 1, padding: 0, bias: false }),
        new BatchNorm2d(outputChannels),
        new ReLU({ inplace: true }),
      ),
    );
    this.registerModule('fc', new Linear(outputChannels, numClasses));
  }
  /** torchvision's `ShuffleNetV2` forward: images [N, 3, H, W] -> logits [N, numClasses] (conv1, maxpool, stage2..stage4, conv5, mean over H and W, fc). */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      let y = this.maxpool.call(this.conv1.call(x));
      y = this.conv5.call(this.stage4.call(this.stage3.call(this.stage2.call(y))));
      return this.fc.call(y.mean([2, 3]));
    });
  }
}

const HEAD = ['fc.weight', 'fc.bias'];

type ShuffleName = 'shufflenet_v2_x0_5' | 'shufflenet_v2_x1_0' | 'shufflenet_v2_x1_5' | 'shufflenet_v2_x2_0';

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const SHUFFLENET_SPECS: Record<ShuffleName, ArchSpec> = {
  shufflenet_v2_x0_5: {
    name: 'shufflenet_v2_x0_5',
    head: HEAD,
    files: { IMAGENET1K_V1: 'shufflenetv2_x0.5-f707e7126e.pth', DEFAULT: 'shufflenetv2_x0.5-f707e7126e.pth' },
  },
  shufflenet_v2_x1_0: {
    name: 'shufflenet_v2_x1_0',
    head: HEAD,
    files: { IMAGENET1K_V1: 'shufflenetv2_x1-5666bf0f80.pth', DEFAULT: 'shufflenetv2_x1-5666bf0f80.pth' },
  },
  shufflenet_v2_x1_5: {
    name: 'shufflenet_v2_x1_5',
    head: HEAD,
    files: { IMAGENET1K_V1: 'shufflenetv2_x1_5-3c479a10.pth', DEFAULT: 'shufflenetv2_x1_5-3c479a10.pth' },
  },
  shufflenet_v2_x2_0: {
    name: 'shufflenet_v2_x2_0',
    head: HEAD,
    files: { IMAGENET1K_V1: 'shufflenetv2_x2_0-8be3c8ee.pth', DEFAULT: 'shufflenetv2_x2_0-8be3c8ee.pth' },
  },
};

const REPEATS = [4, 8, 4];

function build(fn: string, name: ShuffleName, options: ModelOptions | undefined, channels: number[]): ShuffleNetV2 {
  return withWeights(fn, SHUFFLENET_SPECS[name], options, (numClasses) => new ShuffleNetV2(REPEATS, channels, { numClasses }));
}

/** ShuffleNetV2 x0.5 (stage channels [24, 48, 96, 192, 1024]); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function shufflenetV2X0_5(options?: ModelOptions): ShuffleNetV2 {
  return build('shufflenetV2X0_5()', 'shufflenet_v2_x0_5', options, [24, 48, 96, 192, 1024]);
}

/** ShuffleNetV2 x1.0 (stage channels [24, 116, 232, 464, 1024]); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function shufflenetV2X1_0(options?: ModelOptions): ShuffleNetV2 {
  return build('shufflenetV2X1_0()', 'shufflenet_v2_x1_0', options, [24, 116, 232, 464, 1024]);
}

/** ShuffleNetV2 x1.5 (stage channels [24, 176, 352, 704, 1024]); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function shufflenetV2X1_5(options?: ModelOptions): ShuffleNetV2 {
  return build('shufflenetV2X1_5()', 'shufflenet_v2_x1_5', options, [24, 176, 352, 704, 1024]);
}

/** ShuffleNetV2 x2.0 (stage channels [24, 244, 488, 976, 2048]); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function shufflenetV2X2_0(options?: ModelOptions): ShuffleNetV2 {
  return build('shufflenetV2X2_0()', 'shufflenet_v2_x2_0', options, [24, 244, 488, 976, 2048]);
}

markRetainsNothing(ShuffleNetInvertedResidual, ShuffleNetV2);
