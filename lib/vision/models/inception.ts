/**
 * torchvision's Inception v3 (models/inception.py): Inception3, its blocks InceptionA..InceptionE and
 * InceptionAux (BasicConv2d is GoogLeNet's, the same class), and the builder inceptionV3
 * (torchvision's inception_v3).
 *
 * Module names (torchvision's: Conv2d_1a_3x3, Mixed_5b, AuxLogits, ...), registration order,
 * hyper-parameters and initialisation follow torchvision 0.29 exactly: torchvision's state dicts load
 * strictly, stateDict() and namedModules() list the same keys in the same order, the printed form is
 * torchvision's, and after the same torch.manualSeed() a new model has torchvision's initial weights
 * (trunc_normal_ with std 0.1, 0.001 for AuxLogits.fc — torchvision's `stddev` attributes — then BN
 * constants). torchvision also sets `stddev = 0.01` on AuxLogits.conv1, a BasicConv2d, which its init
 * loop never reads (it looks at Conv2d and Linear modules): its Conv2d gets std 0.1, here too.
 *
 * Input size: at least 75x75 (299x299 normally). In train mode the auxiliary head needs 299x299: its
 * 5x5 average pool (stride 3) and 5x5 convolution need the 17x17 map that a 299 input gives.
 *
 * Outputs: in train mode with aux logits, forward returns torchvision's InceptionOutputs namedtuple as
 * an array [logits, auxLogits] that also has those names as properties:
 * `const [out, aux] = model.forward(x)` or `model.forward(x).logits`. Otherwise the logits tensor.
 */
import { argError, checkOptions } from '../../errors';
import { cat } from '../../functions';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d } from '../../nn/layers';
import * as F from '../../nn/functional';
import { constant_ } from '../../nn/init';
import { checkBool, checkInt, checkProbability } from '../../checks';
import { namedTuple, type NamedTuple } from '../../named-tuple';
import { tidy } from '../../scope';
import type { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';
import { BasicConv2d, checkBuilderOptions, checkImageBatch, transformImageNetInput, withAuxWeights } from './googlenet';
import { truncNormal_ } from '../../nn/init';

const avgPool3 = (x: Tensor) => F.avgPool2d(x, 3, { stride: 1, padding: 1 });
const maxPool3s2 = (x: Tensor) => F.maxPool2d(x, 3, { stride: 2 });

/** 35x35 block: 1x1; 1x1-5x5; 1x1-3x3-3x3; 3x3 avg-pool-1x1 (poolFeatures). */
export class InceptionA extends Module {
  /** torchvision's `branch1x1`: 1x1 to 64 channels. */
  declare branch1x1: BasicConv2d;
  /** torchvision's `branch5x5_1`: 1x1 to 48 channels. */
  declare branch5x5_1: BasicConv2d;
  /** torchvision's `branch5x5_2`: 5x5, 48 -> 64. */
  declare branch5x5_2: BasicConv2d;
  /** torchvision's `branch3x3dbl_1`: 1x1 to 64 channels. */
  declare branch3x3dbl_1: BasicConv2d;
  /** torchvision's `branch3x3dbl_2`: 3x3, 64 -> 96. */
  declare branch3x3dbl_2: BasicConv2d;
  /** torchvision's `branch3x3dbl_3`: 3x3, 96 -> 96. */
  declare branch3x3dbl_3: BasicConv2d;
  /** torchvision's `branch_pool`: 1x1 to poolFeatures after a 3x3 average pool. */
  declare branch_pool: BasicConv2d;
  constructor(inChannels: number, poolFeatures: number) {
    super();
    this.registerModule('branch1x1', new BasicConv2d(inChannels, 64, { kernelSize: 1 }));
    this.registerModule('branch5x5_1', new BasicConv2d(inChannels, 48, { kernelSize: 1 }));
    this.registerModule('branch5x5_2', new BasicConv2d(48, 64, { kernelSize: 5, padding: 2 }));
    this.registerModule('branch3x3dbl_1', new BasicConv2d(inChannels, 64, { kernelSize: 1 }));
    this.registerModule('branch3x3dbl_2', new BasicConv2d(64, 96, { kernelSize: 3, padding: 1 }));
    this.registerModule('branch3x3dbl_3', new BasicConv2d(96, 96, { kernelSize: 3, padding: 1 }));
    this.registerModule('branch_pool', new BasicConv2d(inChannels, poolFeatures, { kernelSize: 1 }));
  }
  /** torchvision's `InceptionA` forward: the four branches concatenated along the channels; [N, C_in, H, W] -> [N, 224 + poolFeatures, H, W]. */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const b1 = this.branch1x1.call(x);
      const b5 = this.branch5x5_2.call(this.branch5x5_1.call(x));
      const b3 = this.branch3x3dbl_3.call(this.branch3x3dbl_2.call(this.branch3x3dbl_1.call(x)));
      const bp = this.branch_pool.call(avgPool3(x));
      return cat([b1, b5, b3, bp], 1);
    });
  }
}

/** 35 -> 17 reduction: 3x3 stride 2; 1x1-3x3-3x3 stride 2; 3x3 max-pool stride 2. */
export class InceptionB extends Module {
  /** torchvision's `branch3x3`: 3x3 stride 2 to 384 channels. */
  declare branch3x3: BasicConv2d;
  /** torchvision's `branch3x3dbl_1`: 1x1 to 64 channels. */
  declare branch3x3dbl_1: BasicConv2d;
  /** torchvision's `branch3x3dbl_2`: 3x3, 64 -> 96. */
  declare branch3x3dbl_2: BasicConv2d;
  /** torchvision's `branch3x3dbl_3`: 3x3 stride 2, 96 -> 96. */
  declare branch3x3dbl_3: BasicConv2d;
  constructor(inChannels: number) {
    super();
    this.registerModule('branch3x3', new BasicConv2d(inChannels, 384, { kernelSize: 3, stride: 2 }));
    this.registerModule('branch3x3dbl_1', new BasicConv2d(inChannels, 64, { kernelSize: 1 }));
    this.registerModule('branch3x3dbl_2', new BasicConv2d(64, 96, { kernelSize: 3, padding: 1 }));
    this.registerModule('branch3x3dbl_3', new BasicConv2d(96, 96, { kernelSize: 3, stride: 2 }));
  }
  /**
   * torchvision's `InceptionB` forward: the two stride-2 branches and a 3x3 stride-2 max pool concatenated along the channels; [N, C_in, H, W] ->
   * [N, 480 + C_in, H_out, W_out], H_out = floor((H - 3) / 2) + 1 (35 -> 17).
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const b3 = this.branch3x3.call(x);
      const bd = this.branch3x3dbl_3.call(this.branch3x3dbl_2.call(this.branch3x3dbl_1.call(x)));
      return cat([b3, bd, maxPool3s2(x)], 1);
    });
  }
}

/** 17x17 block with factorised 7x7 convolutions (1x7 and 7x1), channels7x7 wide inside. */
export class InceptionC extends Module {
  /** torchvision's `branch1x1`: 1x1 to 192 channels. */
  declare branch1x1: BasicConv2d;
  /** torchvision's `branch7x7_1`: 1x1 to channels7x7. */
  declare branch7x7_1: BasicConv2d;
  /** torchvision's `branch7x7_2`: 1x7. */
  declare branch7x7_2: BasicConv2d;
  /** torchvision's `branch7x7_3`: 7x1 to 192 channels. */
  declare branch7x7_3: BasicConv2d;
  /** torchvision's `branch7x7dbl_1`: 1x1 to channels7x7. */
  declare branch7x7dbl_1: BasicConv2d;
  /** torchvision's `branch7x7dbl_2`: 7x1. */
  declare branch7x7dbl_2: BasicConv2d;
  /** torchvision's `branch7x7dbl_3`: 1x7. */
  declare branch7x7dbl_3: BasicConv2d;
  /** torchvision's `branch7x7dbl_4`: 7x1. */
  declare branch7x7dbl_4: BasicConv2d;
  /** torchvision's `branch7x7dbl_5`: 1x7 to 192 channels. */
  declare branch7x7dbl_5: BasicConv2d;
  /** torchvision's `branch_pool`: 1x1 to 192 channels after a 3x3 average pool. */
  declare branch_pool: BasicConv2d;
  constructor(inChannels: number, channels7x7: number) {
    super();
    const c7 = channels7x7;
    const k1x7 = { kernelSize: [1, 7] as [number, number], padding: [0, 3] as [number, number] };
    const k7x1 = { kernelSize: [7, 1] as [number, number], padding: [3, 0] as [number, number] };
    this.registerModule('branch1x1', new BasicConv2d(inChannels, 192, { kernelSize: 1 }));
    this.registerModule('branch7x7_1', new BasicConv2d(inChannels, c7, { kernelSize: 1 }));
    this.registerModule('branch7x7_2', new BasicConv2d(c7, c7, k1x7));
    this.registerModule('branch7x7_3', new BasicConv2d(c7, 192, k7x1));
    this.registerModule('branch7x7dbl_1', new BasicConv2d(inChannels, c7, { kernelSize: 1 }));
    this.registerModule('branch7x7dbl_2', new BasicConv2d(c7, c7, k7x1));
    this.registerModule('branch7x7dbl_3', new BasicConv2d(c7, c7, k1x7));
    this.registerModule('branch7x7dbl_4', new BasicConv2d(c7, c7, k7x1));
    this.registerModule('branch7x7dbl_5', new BasicConv2d(c7, 192, k1x7));
    this.registerModule('branch_pool', new BasicConv2d(inChannels, 192, { kernelSize: 1 }));
  }
  /** torchvision's `InceptionC` forward: the four branches (192 channels each) concatenated along the channels; [N, C_in, H, W] -> [N, 768, H, W]. */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const b1 = this.branch1x1.call(x);
      const b7 = this.branch7x7_3.call(this.branch7x7_2.call(this.branch7x7_1.call(x)));
      let bd = this.branch7x7dbl_2.call(this.branch7x7dbl_1.call(x));
      bd = this.branch7x7dbl_5.call(this.branch7x7dbl_4.call(this.branch7x7dbl_3.call(bd)));
      const bp = this.branch_pool.call(avgPool3(x));
      return cat([b1, b7, bd, bp], 1);
    });
  }
}

/** 17 -> 8 reduction: 1x1-3x3 stride 2; 1x1-1x7-7x1-3x3 stride 2; 3x3 max-pool stride 2. */
export class InceptionD extends Module {
  /** torchvision's `branch3x3_1`: 1x1 to 192 channels. */
  declare branch3x3_1: BasicConv2d;
  /** torchvision's `branch3x3_2`: 3x3 stride 2, 192 -> 320. */
  declare branch3x3_2: BasicConv2d;
  /** torchvision's `branch7x7x3_1`: 1x1 to 192 channels. */
  declare branch7x7x3_1: BasicConv2d;
  /** torchvision's `branch7x7x3_2`: 1x7. */
  declare branch7x7x3_2: BasicConv2d;
  /** torchvision's `branch7x7x3_3`: 7x1. */
  declare branch7x7x3_3: BasicConv2d;
  /** torchvision's `branch7x7x3_4`: 3x3 stride 2. */
  declare branch7x7x3_4: BasicConv2d;
  constructor(inChannels: number) {
    super();
    this.registerModule('branch3x3_1', new BasicConv2d(inChannels, 192, { kernelSize: 1 }));
    this.registerModule('branch3x3_2', new BasicConv2d(192, 320, { kernelSize: 3, stride: 2 }));
    this.registerModule('branch7x7x3_1', new BasicConv2d(inChannels, 192, { kernelSize: 1 }));
    this.registerModule('branch7x7x3_2', new BasicConv2d(192, 192, { kernelSize: [1, 7], padding: [0, 3] }));
    this.registerModule('branch7x7x3_3', new BasicConv2d(192, 192, { kernelSize: [7, 1], padding: [3, 0] }));
    this.registerModule('branch7x7x3_4', new BasicConv2d(192, 192, { kernelSize: 3, stride: 2 }));
  }
  /**
   * torchvision's `InceptionD` forward: the two stride-2 branches and a 3x3 stride-2 max pool concatenated along the channels; [N, C_in, H, W] ->
   * [N, 512 + C_in, H_out, W_out], H_out = floor((H - 3) / 2) + 1 (17 -> 8).
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const b3 = this.branch3x3_2.call(this.branch3x3_1.call(x));
      const b7 = this.branch7x7x3_4.call(this.branch7x7x3_3.call(this.branch7x7x3_2.call(this.branch7x7x3_1.call(x))));
      return cat([b3, b7, maxPool3s2(x)], 1);
    });
  }
}

/** 8x8 block with expanded filter banks (1x3 and 3x1 side by side). */
export class InceptionE extends Module {
  /** torchvision's `branch1x1`: 1x1 to 320 channels. */
  declare branch1x1: BasicConv2d;
  /** torchvision's `branch3x3_1`: 1x1 to 384 channels. */
  declare branch3x3_1: BasicConv2d;
  /** torchvision's `branch3x3_2a`: 1x3, beside branch3x3_2b. */
  declare branch3x3_2a: BasicConv2d;
  /** torchvision's `branch3x3_2b`: 3x1, beside branch3x3_2a. */
  declare branch3x3_2b: BasicConv2d;
  /** torchvision's `branch3x3dbl_1`: 1x1 to 448 channels. */
  declare branch3x3dbl_1: BasicConv2d;
  /** torchvision's `branch3x3dbl_2`: 3x3, 448 -> 384. */
  declare branch3x3dbl_2: BasicConv2d;
  /** torchvision's `branch3x3dbl_3a`: 1x3, beside branch3x3dbl_3b. */
  declare branch3x3dbl_3a: BasicConv2d;
  /** torchvision's `branch3x3dbl_3b`: 3x1, beside branch3x3dbl_3a. */
  declare branch3x3dbl_3b: BasicConv2d;
  /** torchvision's `branch_pool`: 1x1 to 192 channels after a 3x3 average pool. */
  declare branch_pool: BasicConv2d;
  constructor(inChannels: number) {
    super();
    const k1x3 = { kernelSize: [1, 3] as [number, number], padding: [0, 1] as [number, number] };
    const k3x1 = { kernelSize: [3, 1] as [number, number], padding: [1, 0] as [number, number] };
    this.registerModule('branch1x1', new BasicConv2d(inChannels, 320, { kernelSize: 1 }));
    this.registerModule('branch3x3_1', new BasicConv2d(inChannels, 384, { kernelSize: 1 }));
    this.registerModule('branch3x3_2a', new BasicConv2d(384, 384, k1x3));
    this.registerModule('branch3x3_2b', new BasicConv2d(384, 384, k3x1));
    this.registerModule('branch3x3dbl_1', new BasicConv2d(inChannels, 448, { kernelSize: 1 }));
    this.registerModule('branch3x3dbl_2', new BasicConv2d(448, 384, { kernelSize: 3, padding: 1 }));
    this.registerModule('branch3x3dbl_3a', new BasicConv2d(384, 384, k1x3));
    this.registerModule('branch3x3dbl_3b', new BasicConv2d(384, 384, k3x1));
    this.registerModule('branch_pool', new BasicConv2d(inChannels, 192, { kernelSize: 1 }));
  }
  /** torchvision's `InceptionE` forward: the branches concatenated along the channels (320 + 768 + 768 + 192); [N, C_in, H, W] -> [N, 2048, H, W]. */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const b1 = this.branch1x1.call(x);
      const b3i = this.branch3x3_1.call(x);
      const b3 = cat([this.branch3x3_2a.call(b3i), this.branch3x3_2b.call(b3i)], 1);
      const bdi = this.branch3x3dbl_2.call(this.branch3x3dbl_1.call(x));
      const bd = cat([this.branch3x3dbl_3a.call(bdi), this.branch3x3dbl_3b.call(bdi)], 1);
      const bp = this.branch_pool.call(avgPool3(x));
      return cat([b1, b3, bd, bp], 1);
    });
  }
}

/**
 * Inception v3's auxiliary classifier (on the 17x17 map): 5x5 average pool stride 3, `conv0` (1x1 to
 * 128), `conv1` (5x5 to 768), adaptive average pool, `fc`. Printed as torchvision's InceptionAux.
 */
export class InceptionAux extends Module {
  /** torchvision's `conv0`: 1x1 to 128 channels. */
  declare conv0: BasicConv2d;
  /** torchvision's `conv1`: 5x5, 128 -> 768. */
  declare conv1: BasicConv2d;
  /** torchvision's `fc`: Linear 768 -> numClasses. */
  declare fc: Linear;
  constructor(inChannels: number, numClasses: number) {
    super();
    this.registerModule('conv0', new BasicConv2d(inChannels, 128, { kernelSize: 1 }));
    this.registerModule('conv1', new BasicConv2d(128, 768, { kernelSize: 5 }));
    // torchvision's init-std attributes (see the file comment: conv1's is never read).
    (this.conv1 as unknown as { stddev: number }).stddev = 0.01;
    this.registerModule('fc', new Linear(768, numClasses));
    (this.fc as unknown as { stddev: number }).stddev = 0.001;
  }
  /**
   * torchvision's `InceptionAux` forward: 5x5 average pool (stride 3), conv0, conv1, global average pool, flatten, fc; [N, C_in, 17, 17] (from a 299x299 input)
   * -> aux logits [N, numClasses].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      let y = F.avgPool2d(x, 5, { stride: 3 });
      y = this.conv1.call(this.conv0.call(y));
      return this.fc.call(F.adaptiveAvgPool2d(y, [1, 1]).flatten(1));
    });
  }
}

/** torchvision's InceptionOutputs namedtuple (logits, aux_logits): an array that also names its items. */
export type InceptionOutputs = NamedTuple<['logits', 'auxLogits'], [Tensor, Tensor | null]>;

/** The keyword arguments of torchvision's `Inception3`. */
export interface Inception3Options {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Build the auxiliary classifier AuxLogits (default true, as torchvision's class). */
  auxLogits?: boolean;
  /** Re-normalise inputs from ImageNet normalisation to (x - 0.5) / 0.5, what the ported weights expect (default false). */
  transformInput?: boolean;
  /** torchvision's trunc_normal_ / constant initialisation (default true; false keeps each layer's own). */
  initWeights?: boolean;
  /** Before fc (default 0.5). */
  dropout?: number;
}

/**
 * torchvision.models.Inception3. Module names: Conv2d_1a_3x3, Conv2d_2a_3x3, Conv2d_2b_3x3, maxpool1,
 * Conv2d_3b_1x1, Conv2d_4a_3x3, maxpool2, Mixed_5b..Mixed_5d, Mixed_6a..Mixed_6e, AuxLogits (with
 * auxLogits), Mixed_7a..Mixed_7c, avgpool, dropout, fc.
 *
 * forward(x): the logits, or in train mode with auxLogits an InceptionOutputs [logits, auxLogits].
 */
export class Inception3 extends Module {
  /** torchvision's `Conv2d_1a_3x3`: 3x3 stride 2, 3 -> 32. */
  declare Conv2d_1a_3x3: BasicConv2d;
  /** torchvision's `Conv2d_2a_3x3`: 3x3, 32 -> 32. */
  declare Conv2d_2a_3x3: BasicConv2d;
  /** torchvision's `Conv2d_2b_3x3`: 3x3 padded, 32 -> 64. */
  declare Conv2d_2b_3x3: BasicConv2d;
  /** torchvision's `maxpool1`: 3x3 stride 2. */
  declare maxpool1: MaxPool2d;
  /** torchvision's `Conv2d_3b_1x1`: 1x1, 64 -> 80. */
  declare Conv2d_3b_1x1: BasicConv2d;
  /** torchvision's `Conv2d_4a_3x3`: 3x3, 80 -> 192. */
  declare Conv2d_4a_3x3: BasicConv2d;
  /** torchvision's `maxpool2`: 3x3 stride 2. */
  declare maxpool2: MaxPool2d;
  /** torchvision's `Mixed_5b`: InceptionA, 192 -> 256 channels. */
  declare Mixed_5b: InceptionA;
  /** torchvision's `Mixed_5c`: InceptionA, 256 -> 288 channels. */
  declare Mixed_5c: InceptionA;
  /** torchvision's `Mixed_5d`: InceptionA, 288 -> 288 channels. */
  declare Mixed_5d: InceptionA;
  /** torchvision's `Mixed_6a`: InceptionB, 35x35 -> 17x17, 288 -> 768 channels. */
  declare Mixed_6a: InceptionB;
  /** torchvision's `Mixed_6b`: InceptionC (channels7x7 128). */
  declare Mixed_6b: InceptionC;
  /** torchvision's `Mixed_6c`: InceptionC (channels7x7 160). */
  declare Mixed_6c: InceptionC;
  /** torchvision's `Mixed_6d`: InceptionC (channels7x7 160). */
  declare Mixed_6d: InceptionC;
  /** torchvision's `Mixed_6e`: InceptionC (channels7x7 192). */
  declare Mixed_6e: InceptionC;
  /** torchvision's `AuxLogits`: the auxiliary classifier on Mixed_6e's output, or null without auxLogits. */
  declare AuxLogits: InceptionAux | null;
  /** torchvision's `Mixed_7a`: InceptionD, 17x17 -> 8x8, 768 -> 1280 channels. */
  declare Mixed_7a: InceptionD;
  /** torchvision's `Mixed_7b`: InceptionE, 1280 -> 2048 channels. */
  declare Mixed_7b: InceptionE;
  /** torchvision's `Mixed_7c`: InceptionE, 2048 -> 2048 channels. */
  declare Mixed_7c: InceptionE;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `dropout`: before fc. */
  declare dropout: Dropout;
  /** torchvision's `fc`: the classifier head, Linear 2048 -> numClasses. */
  declare fc: Linear;
  /** torchvision's aux_logits: whether train-mode forward returns InceptionOutputs. */
  auxLogits: boolean;
  /** torchvision's transform_input. */
  transformInput: boolean;

  constructor(options: Inception3Options = {}) {
    super();
    const fn = 'Inception3()';
    if (typeof options !== 'object' || options === null) argError(fn, 'options', 'an options object', options);
    checkOptions(fn, options, ['numClasses', 'auxLogits', 'transformInput', 'initWeights', 'dropout']);
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    this.auxLogits = checkBool(fn, 'auxLogits', options.auxLogits ?? true);
    this.transformInput = checkBool(fn, 'transformInput', options.transformInput ?? false);
    const initWeights = checkBool(fn, 'initWeights', options.initWeights ?? true);
    const dropout = checkProbability(fn, 'dropout', options.dropout ?? 0.5);

    this.registerModule('Conv2d_1a_3x3', new BasicConv2d(3, 32, { kernelSize: 3, stride: 2 }));
    this.registerModule('Conv2d_2a_3x3', new BasicConv2d(32, 32, { kernelSize: 3 }));
    this.registerModule('Conv2d_2b_3x3', new BasicConv2d(32, 64, { kernelSize: 3, padding: 1 }));
    this.registerModule('maxpool1', new MaxPool2d(3, { stride: 2 }));
    this.registerModule('Conv2d_3b_1x1', new BasicConv2d(64, 80, { kernelSize: 1 }));
    this.registerModule('Conv2d_4a_3x3', new BasicConv2d(80, 192, { kernelSize: 3 }));
    this.registerModule('maxpool2', new MaxPool2d(3, { stride: 2 }));
    this.registerModule('Mixed_5b', new InceptionA(192, 32));
    this.registerModule('Mixed_5c', new InceptionA(256, 64));
    this.registerModule('Mixed_5d', new InceptionA(288, 64));
    this.registerModule('Mixed_6a', new InceptionB(288));
    this.registerModule('Mixed_6b', new InceptionC(768, 128));
    this.registerModule('Mixed_6c', new InceptionC(768, 160));
    this.registerModule('Mixed_6d', new InceptionC(768, 160));
    this.registerModule('Mixed_6e', new InceptionC(768, 192));
    // torchvision's `self.AuxLogits = None` first: a plain attribute until a module is assigned.
    this.AuxLogits = null;
    if (this.auxLogits) this.registerModule('AuxLogits', new InceptionAux(768, numClasses));
    this.registerModule('Mixed_7a', new InceptionD(768));
    this.registerModule('Mixed_7b', new InceptionE(1280));
    this.registerModule('Mixed_7c', new InceptionE(2048));
    this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.registerModule('dropout', new Dropout(dropout));
    this.registerModule('fc', new Linear(2048, numClasses));

    if (initWeights) {
      for (const m of this.modules()) {
        if (m instanceof Conv2d || m instanceof Linear) {
          const stddev = (m as unknown as { stddev?: number }).stddev;
          truncNormal_(m.weight, { mean: 0, std: typeof stddev === 'number' ? stddev : 0.1, a: -2, b: 2 });
        } else if (m instanceof BatchNorm2d) {
          constant_(m.weight!, 1);
          constant_(m.bias!, 0);
        }
      }
    }
  }

  /**
   * torchvision's `Inception3` forward: images [N, 3, H, W] (at least 75x75; 299x299 normally) -> logits [N, numClasses]; in train mode with auxLogits an
   * InceptionOutputs [logits, auxLogits], both [N, numClasses] (needs 299x299). transformInput re-normalises the input first.
   */
  override forward(x: Tensor): Tensor | InceptionOutputs {
    const fn = 'Inception3.forward()';
    const withAux = this.AuxLogits !== null && this.training;
    checkImageBatch(fn, x, withAux ? 299 : 75, withAux ? 'Inception v3 in train mode with its auxiliary head (AuxLogits)' : 'Inception v3');
    return tidy(() => {
      let y = this.transformInput ? transformImageNetInput(x) : x;
      y = this.Conv2d_2b_3x3.call(this.Conv2d_2a_3x3.call(this.Conv2d_1a_3x3.call(y)));
      y = this.maxpool1.call(y);
      y = this.Conv2d_4a_3x3.call(this.Conv2d_3b_1x1.call(y));
      y = this.maxpool2.call(y);
      y = this.Mixed_5d.call(this.Mixed_5c.call(this.Mixed_5b.call(y)));
      y = this.Mixed_6a.call(y);
      y = this.Mixed_6e.call(this.Mixed_6d.call(this.Mixed_6c.call(this.Mixed_6b.call(y))));
      const aux: Tensor | null = withAux ? this.AuxLogits!.call(y) : null;
      y = this.Mixed_7c.call(this.Mixed_7b.call(this.Mixed_7a.call(y)));
      y = this.dropout.call(this.avgpool.call(y)).flatten(1);
      y = this.fc.call(y);
      if (this.training && this.auxLogits) return namedTuple(['logits', 'auxLogits'], [y, aux]);
      return y;
    });
  }
}

export const INCEPTION_V3_SPEC: ArchSpec = {
  name: 'inception_v3',
  head: ['fc.weight', 'fc.bias', 'AuxLogits.fc.weight', 'AuxLogits.fc.bias'],
  files: { IMAGENET1K_V1: 'inception_v3_google-0cc3c7bd.pth', DEFAULT: 'inception_v3_google-0cc3c7bd.pth' },
};

/** The options of inceptionV3(): weights and numClasses, and Inception3's own. */
export interface InceptionV3BuilderOptions extends ModelOptions, Omit<Inception3Options, 'numClasses'> {}

/**
 * torchvision.models.inception_v3(weights=..., **kwargs). Without weights: new Inception3(options)
 * (aux head on). With weights, as torchvision: transformInput defaults to true, the model is built
 * with AuxLogits and no init and loaded strictly; auxLogits: false then drops AuxLogits (printed as
 * `(AuxLogits): None`). Weights without an AuxLogits head give a model without one unless
 * auxLogits: true is asked for. A numClasses other than the weights' rebuilds fc (and AuxLogits.fc).
 */
export function inceptionV3(options: InceptionV3BuilderOptions = {}): Inception3 {
  const fn = 'inceptionV3()';
  checkBuilderOptions(fn, options, ['numClasses', 'weights', 'report', 'auxLogits', 'transformInput', 'initWeights', 'dropout']);
  // base: what withWeights() takes (and 'pretrained', which it answers)
  const { auxLogits, transformInput, initWeights, dropout, ...base } = options;
  if (base.weights == null) {
    return withWeights(fn, INCEPTION_V3_SPEC, base, (numClasses) => new Inception3({ numClasses, auxLogits, transformInput, initWeights, dropout }));
  }
  if (auxLogits !== undefined) checkBool(fn, 'auxLogits', auxLogits);
  return withAuxWeights(
    fn,
    INCEPTION_V3_SPEC,
    base,
    ['AuxLogits.'],
    (fileHasAux) => auxLogits ?? fileHasAux,
    (numClasses, aux) => new Inception3({ numClasses, auxLogits: aux, transformInput: transformInput ?? true, initWeights: initWeights ?? false, dropout }),
    (model) => {
      const old = model.AuxLogits;
      model.auxLogits = false;
      model.registerModule('AuxLogits', null);
      old?.dispose();
    },
  );
}

markRetainsNothing(InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, InceptionAux, Inception3);
