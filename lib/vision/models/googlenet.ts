/**
 * torchvision's GoogLeNet (models/googlenet.py): GoogLeNet, its blocks (BasicConv2d, Inception,
 * InceptionAux) and the builder googlenet (initialised with nn.init's truncNormal_, as
 * torchvision does), and the pretrained-weights loader GoogLeNet and Inception v3 use for their
 * auxiliary heads.
 *
 * Module names, registration order, hyper-parameters and initialisation follow torchvision 0.29
 * exactly: torchvision's state dicts load strictly, stateDict() and namedModules() list the same keys
 * in the same order, the printed form is torchvision's, and after the same torch.manualSeed() a new
 * model has torchvision's initial weights (each layer's own reset in construction order, then the
 * trunc_normal_ / constant loop with the same ATen random calls). In train mode Dropout makes the
 * same ATen random calls in the same order (aux1, aux2, then the head), so after the same seed a
 * training forward drops the same units.
 *
 * Outputs: in train mode with aux logits, forward returns torchvision's GoogLeNetOutputs namedtuple as
 * an array [logits, auxLogits2, auxLogits1] that also has those three names as properties, so both
 * Python idioms port directly: `const [out, aux2, aux1] = model.forward(x)` and
 * `model.forward(x).logits`. Otherwise (eval, or no aux heads) it returns the logits tensor.
 */
import { checkBool, checkInt, checkProbability } from '../../checks';
import { TorchError, argError, checkOptions } from '../../errors';
import { cat } from '../../functions';
import { Module, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Sequential, type ConvOptions } from '../../nn/layers';
import * as F from '../../nn/functional';
import { constant_, truncNormal_ } from '../../nn/init';
import { namedTuple, type NamedTuple } from '../../named-tuple';
import { tidy } from '../../scope';
import { Tensor } from '../../tensor';
import { readWeights, withWeights, type ArchSpec, type ModelOptions, type WeightsReport } from '../weights';

// ---- shared helpers -----------------------------------------------------------------------------

/**
 * Checks a model input: a Tensor batch of RGB images [N, 3, H, W] with H and W at least `minSize`
 * (`why` says what needs it). A TorchError naming the problem, rather than a convolution's.
 */
export function checkImageBatch(fn: string, x: unknown, minSize: number, why: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) argError(fn, 'x', 'a Tensor: a batch of RGB images [N, 3, H, W]', x);
  const s = x.shape;
  if (s.length !== 4 || s[1] !== 3) {
    throw new TorchError(`${fn}: expected a batch of RGB images [N, 3, H, W], got a tensor of shape [${s.join(', ')}]`, 'ERR_TORCH_ARG');
  }
  if (s[2] < minSize || s[3] < minSize) {
    throw new TorchError(`${fn}: the images are ${s[2]}x${s[3]}; ${why} needs at least ${minSize}x${minSize}`, 'ERR_TORCH_ARG');
  }
}

/** torchvision's _transform_input: ImageNet normalisation re-expressed for weights trained on (x - 0.5) / 0.5. */
export function transformImageNetInput(x: Tensor): Tensor {
  return tidy(() => {
    const ch = (i: number, std: number, mean: number) =>
      x
        .select(1, i)
        .unsqueeze(1)
        .mul(std / 0.5)
        .add((mean - 0.5) / 0.5);
    return cat([ch(0, 0.229, 0.485), ch(1, 0.224, 0.456), ch(2, 0.225, 0.406)], 1);
  });
}

/**
 * A builder's own check of its options: unknown ones are named with the builder's full list.
 * 'pretrained' is left to withWeights(), which answers it with torchvision's migration hint.
 */
export function checkBuilderOptions(fn: string, options: unknown, known: string[]): void {
  if (typeof options !== 'object' || options === null) argError(fn, 'options', `{ ${known.join(', ')} }`, options);
  const { pretrained: _pretrained, ...rest } = options as { pretrained?: unknown };
  checkOptions(fn, rest, known);
}

const GIVEN = 'the state dict given';

/**
 * Pretrained weights for a model with auxiliary heads (GoogLeNet, Inception v3), as torchvision's
 * builders: the model is built with its aux heads, loaded strictly, and the heads are then dropped
 * (`strip`: torchvision's `model.aux1 = None`, which prints as `(aux1): None`) unless wanted.
 * One extension: weights without aux heads (a state dict saved from a model that had dropped them)
 * load into a model built without them, instead of failing on the missing keys.
 *
 * `wantAux(fileHasAux)` says whether the result keeps aux heads; with weights that lack them and a
 * model that wants them, the load fails listing the missing aux keys.
 */
export function withAuxWeights<M extends Module>(
  fn: string,
  spec: ArchSpec,
  options: ModelOptions,
  auxPrefixes: string[],
  wantAux: (fileHasAux: boolean) => boolean,
  make: (numClasses: number, aux: boolean) => M,
  strip: (model: M) => void,
): M {
  // withWeights() answers options it does not take ('pretrained' with its hint) before any reading
  if (Object.keys(options).some((k) => !['numClasses', 'weights', 'report'].includes(k))) return withWeights(fn, spec, options, (n) => make(n, true));
  return tidy(() => {
    const { sd, source } = readWeights(fn, spec, options.weights!);
    const isAux = (k: string) => auxPrefixes.some((p) => k.startsWith(p));
    const fileHasAux = [...sd.keys()].some(isAux);
    const want = wantAux(fileHasAux);
    const buildAux = want || fileHasAux;
    const head = buildAux ? spec.head : spec.head.filter((k) => !isAux(k));
    let model: M;
    try {
      model = withWeights(fn, { ...spec, head }, { ...options, weights: sd, report: false }, (n) => make(n, buildAux));
    } catch (e) {
      if (e instanceof TorchError && source !== GIVEN) e.message = e.message.split(GIVEN).join(source);
      throw e;
    }
    const report = (model as unknown as { weightsReport: WeightsReport }).weightsReport;
    report.source = source;
    if (buildAux && !want) {
      strip(model);
      // The report describes the model returned: its keys, loaded or new.
      report.loaded = report.loaded.filter((k) => !isAux(k));
      report.newKeys = report.newKeys.filter((k) => !isAux(k));
    }
    const rebuilt = report.newKeys.length > 0;
    if (options.report ?? rebuilt) {
      const fileClasses = sd.get(spec.head[0])!.shape[0];
      console.log(
        `${spec.name}: loaded ${report.loaded.length} tensors from ${source}` +
          (rebuilt ? `; new head ${report.newKeys.join(', ')} for ${report.numClasses} classes (the weights have ${fileClasses})` : ''),
      );
    }
    return model;
  });
}

// ---- blocks -------------------------------------------------------------------------------------

/** The options of BasicConv2d: Conv2d's (without bias) plus the kernel size. */
export interface BasicConv2dOptions extends Omit<ConvOptions, 'bias'> {
  /** The convolution's kernel size. */
  kernelSize: number | [number, number];
}

/** Conv2d (no bias), BatchNorm2d (eps 0.001), ReLU: `conv`, `bn`. Shared by GoogLeNet and Inception v3. */
export class BasicConv2d extends Module {
  /** torchvision's `conv`: the convolution (no bias). */
  declare conv: Conv2d;
  /** torchvision's `bn`: BatchNorm (eps 0.001). */
  declare bn: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, options: BasicConv2dOptions) {
    super();
    if (typeof options !== 'object' || options === null || options.kernelSize === undefined) {
      argError('BasicConv2d()', 'options', '{ kernelSize, stride?, padding?, ... }', options);
    }
    const { kernelSize, ...conv } = options;
    this.registerModule('conv', new Conv2d(inChannels, outChannels, kernelSize, { ...conv, bias: false }));
    this.registerModule('bn', new BatchNorm2d(outChannels, { eps: 0.001 }));
  }
  /** torchvision's `BasicConv2d` forward: relu(bn(conv(x))); [N, C_in, H, W] -> [N, C_out, H_out, W_out], the sizes as the convolution's options give. */
  override forward(x: Tensor): Tensor {
    return tidy(() => F.relu(this.bn.call(this.conv.call(x)), { inplace: true }));
  }
}

/**
 * GoogLeNet's Inception block: branch1 (1x1), branch2 (1x1, 3x3), branch3 (1x1, 3x3 — torchvision's
 * known 3x3-for-5x5, kept for its weights), branch4 (3x3 max-pool, 1x1), concatenated on channels.
 */
export class Inception extends Module {
  /** torchvision's `branch1`: the 1x1 branch. */
  declare branch1: BasicConv2d;
  /** torchvision's `branch2`: 1x1 reduction then 3x3. */
  declare branch2: Sequential;
  /** torchvision's `branch3`: 1x1 reduction then 3x3 (5x5 in the paper; torchvision's known difference). */
  declare branch3: Sequential;
  /** torchvision's `branch4`: 3x3 max pool then 1x1. */
  declare branch4: Sequential;
  constructor(inChannels: number, ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number) {
    super();
    this.registerModule('branch1', new BasicConv2d(inChannels, ch1x1, { kernelSize: 1 }));
    this.registerModule(
      'branch2',
      new Sequential(new BasicConv2d(inChannels, ch3x3red, { kernelSize: 1 }), new BasicConv2d(ch3x3red, ch3x3, { kernelSize: 3, padding: 1 })),
    );
    this.registerModule(
      'branch3',
      new Sequential(new BasicConv2d(inChannels, ch5x5red, { kernelSize: 1 }), new BasicConv2d(ch5x5red, ch5x5, { kernelSize: 3, padding: 1 })),
    );
    this.registerModule(
      'branch4',
      new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new BasicConv2d(inChannels, poolProj, { kernelSize: 1 })),
    );
  }
  /** torchvision's `Inception` forward: the four branches concatenated along the channels; [N, C_in, H, W] -> [N, ch1x1 + ch3x3 + ch5x5 + poolProj, H, W]. */
  override forward(x: Tensor): Tensor {
    return tidy(() => cat([this.branch1.call(x), this.branch2.call(x), this.branch3.call(x), this.branch4.call(x)], 1));
  }
}

/** GoogLeNet's auxiliary classifier: 4x4 adaptive average pool, `conv` (1x1 to 128), `fc1` (2048 -> 1024), ReLU, `dropout`, `fc2`. */
export class InceptionAux extends Module {
  /** torchvision's `conv`: the 1x1 convolution to 128 channels. */
  declare conv: BasicConv2d;
  /** torchvision's `fc1`: Linear 2048 -> 1024. */
  declare fc1: Linear;
  /** torchvision's `fc2`: Linear 1024 -> numClasses. */
  declare fc2: Linear;
  /** torchvision's `dropout` (default p 0.7). */
  declare dropout: Dropout;
  constructor(inChannels: number, numClasses: number, options: { dropout?: number } = {}) {
    super();
    this.registerModule('conv', new BasicConv2d(inChannels, 128, { kernelSize: 1 }));
    this.registerModule('fc1', new Linear(2048, 1024));
    this.registerModule('fc2', new Linear(1024, numClasses));
    this.registerModule('dropout', new Dropout(options.dropout ?? 0.7));
  }
  /**
   * torchvision's `InceptionAux` forward: 4x4 adaptive average pool, conv, flatten, fc1, ReLU, dropout (in training), fc2; [N, C_in, H, W] -> aux logits
   * [N, numClasses].
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      let y = this.conv.call(F.adaptiveAvgPool2d(x, [4, 4])).flatten(1);
      y = F.relu(this.fc1.call(y), { inplace: true });
      return this.fc2.call(this.dropout.call(y));
    });
  }
}

// ---- GoogLeNet ----------------------------------------------------------------------------------

/**
 * torchvision's GoogLeNetOutputs namedtuple (logits, aux_logits2, aux_logits1): an array that also
 * names its items, so `const [logits, aux2, aux1] = out` and `out.logits` both work. The aux entries
 * are null where the model has no aux heads.
 */
export type GoogLeNetOutputs = NamedTuple<['logits', 'auxLogits2', 'auxLogits1'], [Tensor, Tensor | null, Tensor | null]>;

/** The keyword arguments of torchvision's `GoogLeNet`. */
export interface GoogLeNetOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Build the two auxiliary classifiers aux1 and aux2 (default true, as torchvision's class). */
  auxLogits?: boolean;
  /** Re-normalise inputs from ImageNet normalisation to (x - 0.5) / 0.5, what the ported weights expect (default false). */
  transformInput?: boolean;
  /** torchvision's trunc_normal_(std 0.01) / constant initialisation (default true; false keeps each layer's own). */
  initWeights?: boolean;
  /** Before fc (default 0.2). */
  dropout?: number;
  /** In the aux heads (default 0.7). */
  dropoutAux?: number;
}

/**
 * torchvision.models.GoogLeNet (Inception v1). Module names: conv1, maxpool1, conv2, conv3, maxpool2,
 * inception3a, inception3b, maxpool3, inception4a..inception4e, maxpool4, inception5a, inception5b,
 * aux1, aux2 (with auxLogits), avgpool, dropout, fc. Inputs of at least 15x15.
 *
 * forward(x): the logits, or in train mode with auxLogits a GoogLeNetOutputs
 * [logits, auxLogits2, auxLogits1] (see the file comment).
 */
export class GoogLeNet extends Module {
  /** torchvision's `conv1`: 7x7 stride-2 stem convolution, 3 -> 64. */
  declare conv1: BasicConv2d;
  /** torchvision's `maxpool1`: 3x3 stride 2. */
  declare maxpool1: MaxPool2d;
  /** torchvision's `conv2`: 1x1, 64 -> 64. */
  declare conv2: BasicConv2d;
  /** torchvision's `conv3`: 3x3, 64 -> 192. */
  declare conv3: BasicConv2d;
  /** torchvision's `maxpool2`: 3x3 stride 2. */
  declare maxpool2: MaxPool2d;
  /** torchvision's `inception3a`: 192 -> 256 channels. */
  declare inception3a: Inception;
  /** torchvision's `inception3b`: 256 -> 480 channels. */
  declare inception3b: Inception;
  /** torchvision's `maxpool3`: 3x3 stride 2. */
  declare maxpool3: MaxPool2d;
  /** torchvision's `inception4a`: 480 -> 512 channels (aux1 reads its output). */
  declare inception4a: Inception;
  /** torchvision's `inception4b`: 512 -> 512 channels. */
  declare inception4b: Inception;
  /** torchvision's `inception4c`: 512 -> 512 channels. */
  declare inception4c: Inception;
  /** torchvision's `inception4d`: 512 -> 528 channels (aux2 reads its output). */
  declare inception4d: Inception;
  /** torchvision's `inception4e`: 528 -> 832 channels. */
  declare inception4e: Inception;
  /** torchvision's `maxpool4`: 2x2 stride 2. */
  declare maxpool4: MaxPool2d;
  /** torchvision's `inception5a`: 832 -> 832 channels. */
  declare inception5a: Inception;
  /** torchvision's `inception5b`: 832 -> 1024 channels. */
  declare inception5b: Inception;
  /** torchvision's `aux1`: the first auxiliary classifier, or null without auxLogits. */
  declare aux1: InceptionAux | null;
  /** torchvision's `aux2`: the second auxiliary classifier, or null without auxLogits. */
  declare aux2: InceptionAux | null;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `dropout`: before fc. */
  declare dropout: Dropout;
  /** torchvision's `fc`: the classifier head, Linear 1024 -> numClasses. */
  declare fc: Linear;
  /** torchvision's aux_logits: whether train-mode forward returns GoogLeNetOutputs. */
  auxLogits: boolean;
  /** torchvision's transform_input. */
  transformInput: boolean;

  constructor(options: GoogLeNetOptions = {}) {
    super();
    const fn = 'GoogLeNet()';
    if (typeof options !== 'object' || options === null) argError(fn, 'options', 'an options object', options);
    checkOptions(fn, options, ['numClasses', 'auxLogits', 'transformInput', 'initWeights', 'dropout', 'dropoutAux']);
    const numClasses = checkInt(fn, 'numClasses', options.numClasses ?? 1000, 1);
    this.auxLogits = checkBool(fn, 'auxLogits', options.auxLogits ?? true);
    this.transformInput = checkBool(fn, 'transformInput', options.transformInput ?? false);
    const initWeights = checkBool(fn, 'initWeights', options.initWeights ?? true);
    const dropout = checkProbability(fn, 'dropout', options.dropout ?? 0.2);
    const dropoutAux = checkProbability(fn, 'dropoutAux', options.dropoutAux ?? 0.7);

    const pool = (k: number) => new MaxPool2d(k, { stride: 2, ceilMode: true });
    this.registerModule('conv1', new BasicConv2d(3, 64, { kernelSize: 7, stride: 2, padding: 3 }));
    this.registerModule('maxpool1', pool(3));
    this.registerModule('conv2', new BasicConv2d(64, 64, { kernelSize: 1 }));
    this.registerModule('conv3', new BasicConv2d(64, 192, { kernelSize: 3, padding: 1 }));
    this.registerModule('maxpool2', pool(3));
    this.registerModule('inception3a', new Inception(192, 64, 96, 128, 16, 32, 32));
    this.registerModule('inception3b', new Inception(256, 128, 128, 192, 32, 96, 64));
    this.registerModule('maxpool3', pool(3));
    this.registerModule('inception4a', new Inception(480, 192, 96, 208, 16, 48, 64));
    this.registerModule('inception4b', new Inception(512, 160, 112, 224, 24, 64, 64));
    this.registerModule('inception4c', new Inception(512, 128, 128, 256, 24, 64, 64));
    this.registerModule('inception4d', new Inception(512, 112, 144, 288, 32, 64, 64));
    this.registerModule('inception4e', new Inception(528, 256, 160, 320, 32, 128, 128));
    this.registerModule('maxpool4', pool(2));
    this.registerModule('inception5a', new Inception(832, 256, 160, 320, 32, 128, 128));
    this.registerModule('inception5b', new Inception(832, 384, 192, 384, 48, 128, 128));
    if (this.auxLogits) {
      this.registerModule('aux1', new InceptionAux(512, numClasses, { dropout: dropoutAux }));
      this.registerModule('aux2', new InceptionAux(528, numClasses, { dropout: dropoutAux }));
    } else {
      // torchvision's `self.aux1 = None`: a plain attribute, not a registered child (not printed).
      this.aux1 = null;
      this.aux2 = null;
    }
    this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.registerModule('dropout', new Dropout(dropout));
    this.registerModule('fc', new Linear(1024, numClasses));

    if (initWeights) {
      for (const m of this.modules()) {
        if (m instanceof Conv2d || m instanceof Linear) truncNormal_(m.weight, { mean: 0, std: 0.01, a: -2, b: 2 });
        else if (m instanceof BatchNorm2d) {
          constant_(m.weight!, 1);
          constant_(m.bias!, 0);
        }
      }
    }
  }

  /**
   * torchvision's `GoogLeNet` forward: images [N, 3, H, W] (at least 15x15) -> logits [N, numClasses]; in train mode with auxLogits a GoogLeNetOutputs
   * [logits, auxLogits2, auxLogits1], each [N, numClasses] (the aux heads run only in train mode). transformInput re-normalises the input first.
   */
  override forward(x: Tensor): Tensor | GoogLeNetOutputs {
    checkImageBatch('GoogLeNet.forward()', x, 15, 'GoogLeNet');
    return tidy(() => {
      let y = this.transformInput ? transformImageNetInput(x) : x;
      y = this.maxpool1.call(this.conv1.call(y));
      y = this.maxpool2.call(this.conv3.call(this.conv2.call(y)));
      y = this.maxpool3.call(this.inception3b.call(this.inception3a.call(y)));
      y = this.inception4a.call(y);
      const aux1: Tensor | null = this.aux1 && this.training ? this.aux1.call(y) : null;
      y = this.inception4d.call(this.inception4c.call(this.inception4b.call(y)));
      const aux2: Tensor | null = this.aux2 && this.training ? this.aux2.call(y) : null;
      y = this.maxpool4.call(this.inception4e.call(y));
      y = this.inception5b.call(this.inception5a.call(y));
      y = this.avgpool.call(y).flatten(1);
      y = this.fc.call(this.dropout.call(y));
      if (this.training && this.auxLogits) {
        return namedTuple(['logits', 'auxLogits2', 'auxLogits1'], [y, aux2, aux1]);
      }
      return y;
    });
  }
}

// ---- builder ------------------------------------------------------------------------------------

export const GOOGLENET_SPEC: ArchSpec = {
  name: 'googlenet',
  head: ['fc.weight', 'fc.bias', 'aux1.fc2.weight', 'aux1.fc2.bias', 'aux2.fc2.weight', 'aux2.fc2.bias'],
  files: { IMAGENET1K_V1: 'googlenet-1378be20.pth', DEFAULT: 'googlenet-1378be20.pth' },
};

/** The options of googlenet(): weights and numClasses, and GoogLeNet's own. */
export interface GoogLeNetBuilderOptions extends ModelOptions, Omit<GoogLeNetOptions, 'numClasses'> {}

/**
 * torchvision.models.googlenet(weights=..., **kwargs). Without weights: new GoogLeNet(options) (aux
 * heads on). With weights, as torchvision: transformInput defaults to true, the model is built with
 * aux heads and no init, loaded strictly, and the aux heads are then dropped (printed as
 * `(aux1): None`) unless auxLogits: true is given — they are not pretrained in torchvision's file.
 * A numClasses other than the weights' rebuilds fc (and kept aux heads' fc2).
 */
export function googlenet(options: GoogLeNetBuilderOptions = {}): GoogLeNet {
  const fn = 'googlenet()';
  checkBuilderOptions(fn, options, ['numClasses', 'weights', 'report', 'auxLogits', 'transformInput', 'initWeights', 'dropout', 'dropoutAux']);
  // base: what withWeights() takes (and 'pretrained', which it answers)
  const { auxLogits, transformInput, initWeights, dropout, dropoutAux, ...base } = options;
  if (base.weights == null) {
    return withWeights(fn, GOOGLENET_SPEC, base, (numClasses) => new GoogLeNet({ numClasses, auxLogits, transformInput, initWeights, dropout, dropoutAux }));
  }
  if (auxLogits !== undefined) checkBool(fn, 'auxLogits', auxLogits);
  return withAuxWeights(
    fn,
    GOOGLENET_SPEC,
    base,
    ['aux1.', 'aux2.'],
    () => auxLogits ?? false,
    (numClasses, aux) =>
      new GoogLeNet({ numClasses, auxLogits: aux, transformInput: transformInput ?? true, initWeights: initWeights ?? false, dropout, dropoutAux }),
    (model) => {
      const old = [model.aux1, model.aux2];
      model.auxLogits = false;
      model.registerModule('aux1', null);
      model.registerModule('aux2', null);
      for (const m of old) m?.dispose();
    },
  );
}

markRetainsNothing(BasicConv2d, Inception, InceptionAux, GoogLeNet);
