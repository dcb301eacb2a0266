/**
 * torchvision's Vision Transformer (models/vision_transformer.py): MLPBlock, EncoderBlock, Encoder,
 * VisionTransformer and the builder vitB_16 (torchvision's vit_b_16); plus torchvision.ops.misc's MLP,
 * which swin.ts uses too.
 *
 * Module names, registration order, hyper-parameters and initialisation follow torchvision 0.29
 * exactly, so: torchvision's state dicts load strictly (legacy ones too: an MLPBlock's old
 * `linear_1` / `linear_2` keys are renamed to `0` / `3` on load, as torchvision's
 * MLPBlock._load_from_state_dict does); stateDict() and namedModules() list the same keys in the same
 * order; the printed form is torchvision's; and after the same torch.manualSeed() a new model has
 * torchvision's initial weights (each layer's own reset in construction order — the position
 * embedding is drawn before the encoder layers —, then trunc_normal_ on the patchify stem and zeros on
 * the head). Self-attention is nn.MultiheadAttention (batchFirst), which in eval mode without grad
 * takes PyTorch's fused fast path, as torchvision's does.
 */
import { checkInt, checkProbability } from '../../checks';
import { zeros } from '../../creation';
import { TorchError, argError, checkOptions } from '../../errors';
import { Module, type Parameter, type LoadResult, type StateDictLike, stateDictEntries, markRetainsNothing } from '../../nn/module';
import { BatchNorm2d, Conv2d, Dropout, GELU, LayerNorm, Linear, ReLU, Sequential, Tanh } from '../../nn/layers';
import { MultiheadAttention } from '../../nn/attention';
import { normal_, xavierUniform_, zeros_ } from '../../nn/init';
import { cat } from '../../functions';
import { tidy } from '../../scope';
import { Tensor } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';
import { Conv2dNormActivation, type ActivationLayer } from './mobilenet';
import { ownParam, truncNormal_, type NormLayer } from './convnext';

const torchSize = (t: Tensor) => `torch.Size([${t.shape.join(', ')}])`;

// ---- torchvision.ops.misc.MLP -----------------------------------------------------------------------

/** The keyword arguments of torchvision's `ops.MLP`. */
export interface MLPOptions {
  /** A norm layer after each hidden Linear (default none). */
  normLayer?: NormLayer | null;
  /** The activation after each hidden Linear (default ReLU). */
  activationLayer?: ((options: { inplace?: boolean }) => Module) | null;
  /** Passed to the activation and the Dropouts when given (torchvision's default None: theirs). */
  inplace?: boolean | null;
  /** Biases on the Linears (default true). */
  bias?: boolean;
  /** Dropout probability after each Linear (default 0). */
  dropout?: number;
}

/**
 * torchvision.ops.MLP: a Sequential of, per hidden size, Linear [, norm], activation, Dropout; then
 * the last Linear and a Dropout.
 */
export class MLP extends Sequential {
  constructor(inChannels: number, hiddenChannels: number[], options: MLPOptions = {}) {
    super();
    const fn = `${new.target.name}()`;
    checkInt(fn, 'inChannels', inChannels, 1);
    if (!Array.isArray(hiddenChannels) || hiddenChannels.length === 0 || !hiddenChannels.every((c) => Number.isInteger(c) && c > 0)) {
      argError(fn, 'hiddenChannels', 'a non-empty array of positive integers', hiddenChannels);
    }
    const dropout = checkProbability(fn, 'dropout', options.dropout ?? 0);
    const params = options.inplace == null ? {} : { inplace: options.inplace };
    const act = options.activationLayer === undefined ? (o: { inplace?: boolean }) => new ReLU(o) : options.activationLayer;
    const bias = options.bias ?? true;
    let inDim = inChannels;
    for (const hidden of hiddenChannels.slice(0, -1)) {
      this.append(new Linear(inDim, hidden, { bias }));
      if (options.normLayer) this.append(options.normLayer(hidden));
      if (act) this.append(act(params));
      this.append(new Dropout(dropout, params));
      inDim = hidden;
    }
    this.append(new Linear(inDim, hiddenChannels[hiddenChannels.length - 1], { bias }));
    this.append(new Dropout(dropout, params));
  }
}

/**
 * Renames the legacy MLPBlock keys ('<prefix>mlp.linear_1.weight' -> '<prefix>mlp.0.weight',
 * 'linear_2' -> '3') of a ViT state dict saved before torchvision's MLP refactor, as torchvision's
 * MLPBlock._load_from_state_dict does; other keys (and their order) are kept.
 */
export function renameLegacyMlpKeys(entries: [string, Tensor][], mlpPrefixes: Set<string>): [string, Tensor][] {
  return entries.map(([k, v]) => {
    const m = /^(.*\.)?linear_([12])\.(weight|bias)$/.exec(k);
    if (m && mlpPrefixes.has(m[1] ?? '')) return [`${m[1] ?? ''}${m[2] === '1' ? 0 : 3}.${m[3]}`, v];
    return [k, v];
  });
}

/** The ViT encoder's MLP: Linear(inDim, mlpDim), GELU, Dropout, Linear(mlpDim, inDim), Dropout; xavier-uniform weights, N(0, 1e-6) biases. */
export class MLPBlock extends MLP {
  constructor(inDim: number, mlpDim: number, dropout: number) {
    super(inDim, [mlpDim, inDim], { activationLayer: () => new GELU(), inplace: null, dropout });
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        xavierUniform_(m.weight);
        if (m.bias) normal_(m.bias, 0, 1e-6);
      }
    }
  }
}

/** One pre-norm transformer layer: ln_1, self_attention, dropout (+ input); ln_2, mlp (+ that). */
export class EncoderBlock extends Module {
  /** torchvision's `ln_1`: before the attention. */
  declare ln_1: Module;
  /** torchvision's `self_attention`. */
  declare self_attention: MultiheadAttention;
  /** torchvision's `dropout`: after the attention. */
  declare dropout: Dropout;
  /** torchvision's `ln_2`: before the MLP. */
  declare ln_2: Module;
  /** torchvision's `mlp`: Linear to mlpDim, GELU, dropout, Linear back, dropout. */
  declare mlp: MLPBlock;
  /** The number of attention heads. */
  readonly numHeads: number;
  constructor(numHeads: number, hiddenDim: number, mlpDim: number, dropout: number, attentionDropout: number, normLayer?: NormLayer) {
    super();
    this.numHeads = numHeads;
    const norm = normLayer ?? ((c: number) => new LayerNorm(c, { eps: 1e-6 }));
    this.registerModule('ln_1', norm(hiddenDim));
    this.registerModule('self_attention', new MultiheadAttention(hiddenDim, numHeads, { dropout: attentionDropout, batchFirst: true }));
    this.registerModule('dropout', new Dropout(dropout));
    this.registerModule('ln_2', norm(hiddenDim));
    this.registerModule('mlp', new MLPBlock(hiddenDim, mlpDim, dropout));
  }
  /**
   * torchvision's `EncoderBlock` forward: x = input + dropout(self_attention(ln_1(input))), then x + mlp(ln_2(x)); [N, seqLength, hiddenDim] -> the same shape.
   */
  override forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) argError('EncoderBlock.forward()', 'input', 'a Tensor', input);
    if (input.dim() !== 3) throw new TorchError(`EncoderBlock: Expected (batch_size, seq_length, hidden_dim) got ${torchSize(input)}`, 'ERR_TORCH_ARG');
    return tidy(() => {
      let x = this.ln_1.call(input);
      [x] = this.self_attention.call(x, x, x, { needWeights: false });
      x = this.dropout.call(x);
      x = x.add(input);
      const y = this.mlp.call(this.ln_2.call(x));
      return x.add(y);
    });
  }
}

/** The transformer encoder: pos_embedding (1 x seqLength x hiddenDim), dropout, `layers` (encoder_layer_0 ...), ln. */
export class Encoder extends Module {
  /** torchvision's `pos_embedding`: the learned position embedding, [1, seqLength, hiddenDim]. */
  declare pos_embedding: Parameter;
  /** torchvision's `dropout`: after adding the position embedding. */
  declare dropout: Dropout;
  /** torchvision's `layers`: the encoder blocks. */
  declare layers: Sequential;
  /** torchvision's `ln`: the final norm layer. */
  declare ln: Module;
  constructor(
    seqLength: number,
    numLayers: number,
    numHeads: number,
    hiddenDim: number,
    mlpDim: number,
    dropout: number,
    attentionDropout: number,
    normLayer?: NormLayer,
  ) {
    super();
    const norm = normLayer ?? ((c: number) => new LayerNorm(c, { eps: 1e-6 }));
    // torch.empty(1, seq_length, hidden_dim).normal_(std=0.02), drawn before the layers (from BERT)
    this.registerParameter('pos_embedding', ownParam(normal_(zeros([1, seqLength, hiddenDim]), 0, 0.02)));
    this.registerModule('dropout', new Dropout(dropout));
    const layers = new Sequential();
    for (let i = 0; i < numLayers; i++) {
      layers.registerModule(`encoder_layer_${i}`, new EncoderBlock(numHeads, hiddenDim, mlpDim, dropout, attentionDropout, norm));
    }
    this.registerModule('layers', layers);
    this.registerModule('ln', norm(hiddenDim));
  }
  /** The learned position embedding (registered under torchvision's name, 'pos_embedding'). */
  get posEmbedding(): Parameter {
    return this._parameters.get('pos_embedding') as Parameter;
  }
  /** torchvision's `Encoder` forward: ln(layers(dropout(input + pos_embedding))); [N, seqLength, hiddenDim] -> the same shape. */
  override forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) argError('Encoder.forward()', 'input', 'a Tensor', input);
    if (input.dim() !== 3) throw new TorchError(`Encoder: Expected (batch_size, seq_length, hidden_dim) got ${torchSize(input)}`, 'ERR_TORCH_ARG');
    return tidy(() => this.ln.call(this.layers.call(this.dropout.call(input.add(this.posEmbedding)))));
  }
}

/** torchvision's ConvStemConfig (the convolutional stem of arXiv 2106.14881). */
export interface ConvStemConfig {
  /** The convolution's output channels. */
  outChannels: number;
  /** The convolution's kernel size. */
  kernelSize: number;
  /** The convolution's stride. */
  stride: number;
  /** Default BatchNorm2d. */
  normLayer?: NormLayer;
  /** Default ReLU (built with inplace, as torchvision passes inplace=True). */
  activationLayer?: ActivationLayer;
}

/** The arguments of torchvision's `VisionTransformer`. */
export interface VisionTransformerOptions {
  /** The input's side (square images). */
  imageSize: number;
  /** The side of each patch; imageSize must be divisible by it. */
  patchSize: number;
  /** The number of encoder blocks. */
  numLayers: number;
  /** The attention heads per block; hiddenDim must be divisible by it. */
  numHeads: number;
  /** The token width. */
  hiddenDim: number;
  /** The hidden width of each block's MLP. */
  mlpDim: number;
  /** Default 0. */
  dropout?: number;
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** A pre-logits Linear + Tanh of this size before the head (default none). */
  representationSize?: number | null;
  /** Default LayerNorm(eps 1e-6). */
  normLayer?: NormLayer;
  /** A convolutional stem instead of the patchify convolution. */
  convStemConfigs?: ConvStemConfig[] | null;
}

const VIT_OPTIONS = [
  'imageSize',
  'patchSize',
  'numLayers',
  'numHeads',
  'hiddenDim',
  'mlpDim',
  'dropout',
  'attentionDropout',
  'numClasses',
  'representationSize',
  'normLayer',
  'convStemConfigs',
] as const;

/**
 * torchvision.models.VisionTransformer: `conv_proj` (the patchify Conv2d, or a conv stem),
 * `class_token`, `encoder`, and `heads` (a Sequential with `head`, after `pre_logits` and `act` when
 * representationSize is given). Input: [N, 3, imageSize, imageSize].
 */
export class VisionTransformer extends Module {
  /** torchvision's `conv_proj`: the patch embedding, a patchSize x patchSize stride-patchSize convolution to hiddenDim (a convolutional stem with convStemConfigs). */
  declare conv_proj: Module;
  /** torchvision's `class_token`: the learned class token, [1, 1, hiddenDim]. */
  declare class_token: Parameter;
  /** torchvision's `encoder`. */
  declare encoder: Encoder;
  /** torchvision's `heads`: the classifier head (`head`, with a pre-logits layer when representationSize is set). */
  declare heads: Sequential;
  /** The input's side. */
  readonly imageSize: number;
  /** The side of each patch. */
  readonly patchSize: number;
  /** The token width. */
  readonly hiddenDim: number;
  /** The hidden width of each block's MLP. */
  readonly mlpDim: number;
  /** Dropout on the attention weights. */
  readonly attentionDropout: number;
  /** Dropout rate. */
  readonly dropout: number;
  /** The number of output classes. */
  readonly numClasses: number;
  /** The pre-logits layer's size, or null. */
  readonly representationSize: number | null;
  /** The number of tokens: (imageSize / patchSize)² + 1 (the class token). */
  readonly seqLength: number;

  constructor(options: VisionTransformerOptions) {
    super();
    const fn = 'VisionTransformer()';
    if (options === null || typeof options !== 'object')
      argError(fn, 'options', '{ imageSize, patchSize, numLayers, numHeads, hiddenDim, mlpDim, ... }', options);
    checkOptions(fn, options, VIT_OPTIONS);
    const o = options;
    this.imageSize = checkInt(fn, 'imageSize', o.imageSize, 1);
    this.patchSize = checkInt(fn, 'patchSize', o.patchSize, 1);
    const numLayers = checkInt(fn, 'numLayers', o.numLayers, 0);
    const numHeads = checkInt(fn, 'numHeads', o.numHeads, 1);
    this.hiddenDim = checkInt(fn, 'hiddenDim', o.hiddenDim, 1);
    this.mlpDim = checkInt(fn, 'mlpDim', o.mlpDim, 1);
    this.dropout = checkProbability(fn, 'dropout', o.dropout ?? 0);
    this.attentionDropout = checkProbability(fn, 'attentionDropout', o.attentionDropout ?? 0);
    this.numClasses = checkInt(fn, 'numClasses', o.numClasses ?? 1000, 1);
    this.representationSize = o.representationSize == null ? null : checkInt(fn, 'representationSize', o.representationSize, 1);
    if (this.imageSize % this.patchSize !== 0) {
      throw new TorchError(`${fn}: Input shape indivisible by patch size! (imageSize ${this.imageSize}, patchSize ${this.patchSize})`, 'ERR_TORCH_ARG');
    }
    if (this.hiddenDim % numHeads !== 0) {
      throw new TorchError(`${fn}: hiddenDim (${this.hiddenDim}) must be divisible by numHeads (${numHeads})`, 'ERR_TORCH_ARG');
    }
    const normLayer = o.normLayer ?? ((c: number) => new LayerNorm(c, { eps: 1e-6 }));

    let convLast: Conv2d | null = null;
    if (o.convStemConfigs != null) {
      if (!Array.isArray(o.convStemConfigs)) argError(fn, 'convStemConfigs', 'an array of ConvStemConfig or null', o.convStemConfigs);
      const seqProj = new Sequential();
      let prev = 3;
      o.convStemConfigs.forEach((c, i) => {
        seqProj.registerModule(
          `conv_bn_relu_${i}`,
          new Conv2dNormActivation(prev, c.outChannels, {
            kernelSize: c.kernelSize,
            stride: c.stride,
            normLayer: c.normLayer ?? ((n: number) => new BatchNorm2d(n)),
            activationLayer: c.activationLayer ?? (() => new ReLU({ inplace: true })),
          }),
        );
        prev = c.outChannels;
      });
      convLast = new Conv2d(prev, this.hiddenDim, 1);
      seqProj.registerModule('conv_last', convLast);
      this.registerModule('conv_proj', seqProj);
    } else {
      this.registerModule('conv_proj', new Conv2d(3, this.hiddenDim, this.patchSize, { stride: this.patchSize }));
    }
    const seqLength = Math.floor(this.imageSize / this.patchSize) ** 2 + 1;
    this.registerParameter('class_token', ownParam(zeros([1, 1, this.hiddenDim])));
    this.registerModule('encoder', new Encoder(seqLength, numLayers, numHeads, this.hiddenDim, this.mlpDim, this.dropout, this.attentionDropout, normLayer));
    this.seqLength = seqLength;

    const heads = new Sequential();
    let preLogits: Linear | null = null;
    if (this.representationSize === null) {
      heads.registerModule('head', new Linear(this.hiddenDim, this.numClasses));
    } else {
      preLogits = new Linear(this.hiddenDim, this.representationSize);
      heads.registerModule('pre_logits', preLogits);
      heads.registerModule('act', new Tanh());
      heads.registerModule('head', new Linear(this.representationSize, this.numClasses));
    }
    this.registerModule('heads', heads);

    const proj = this.conv_proj;
    if (proj instanceof Conv2d) {
      const fanIn = proj.inChannels * proj.kernelSize[0] * proj.kernelSize[1];
      truncNormal_(proj.weight, { std: Math.sqrt(1 / fanIn) });
      if (proj.bias) zeros_(proj.bias);
    } else if (convLast) {
      normal_(convLast.weight, 0.0, Math.sqrt(2.0 / convLast.outChannels));
      if (convLast.bias) zeros_(convLast.bias);
    }
    if (preLogits) {
      truncNormal_(preLogits.weight, { std: Math.sqrt(1 / preLogits.inFeatures) });
      if (preLogits.bias) zeros_(preLogits.bias);
    }
    const head = heads._modules.get('head') as Linear;
    zeros_(head.weight);
    if (head.bias) zeros_(head.bias);
  }

  /** The class token (registered under torchvision's name, 'class_token'). */
  get classToken(): Parameter {
    return this._parameters.get('class_token') as Parameter;
  }

  /** [N, 3, imageSize, imageSize] -> [N, (imageSize / patchSize)^2, hiddenDim], torchvision's _process_input. */
  processInput(x: Tensor): Tensor {
    const fn = 'VisionTransformer.forward()';
    if (!(x instanceof Tensor)) argError(fn, 'input', 'a Tensor', x);
    if (x.dim() !== 4) throw new TorchError(`VisionTransformer: expected 4D input (N, 3, H, W) (got ${x.dim()}D input)`, 'ERR_TORCH_ARG');
    const [n, , h, w] = x.shape;
    const p = this.patchSize;
    if (h !== this.imageSize) throw new TorchError(`VisionTransformer: Wrong image height! Expected ${this.imageSize} but got ${h}!`, 'ERR_TORCH_ARG');
    if (w !== this.imageSize) throw new TorchError(`VisionTransformer: Wrong image width! Expected ${this.imageSize} but got ${w}!`, 'ERR_TORCH_ARG');
    const nh = Math.floor(h / p);
    const nw = Math.floor(w / p);
    return tidy(() =>
      this.conv_proj
        .call(x)
        .reshape(n, this.hiddenDim, nh * nw)
        .permute(0, 2, 1),
    );
  }

  /**
   * torchvision's `VisionTransformer` forward: images [N, 3, imageSize, imageSize] -> logits [N, numClasses]: the class token before the patch embeddings
   * (processInput), the encoder, then `heads` on the class token's output.
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      let y = this.processInput(x);
      const n = y.shape[0];
      const batchClassToken = this.classToken.expand(n, -1, -1);
      y = cat([batchClassToken, y], 1);
      y = this.encoder.call(y);
      return this.heads.call(y.select(1, 0));
    });
  }

  /** As Module.loadStateDict, after renaming legacy MLPBlock keys (mlp.linear_1 / linear_2) as torchvision does. */
  override loadStateDict(stateDict: StateDictLike, options: { strict?: boolean } = {}): LoadResult {
    const prefixes = new Set<string>();
    for (const [name, m] of this.namedModules()) if (m instanceof MLPBlock) prefixes.add(`${name}.`);
    const entries = stateDictEntries('loadStateDict()', stateDict);
    return super.loadStateDict(new Map(renameLegacyMlpKeys(entries, prefixes)), options);
  }
}

// ---- builders ---------------------------------------------------------------------------------------

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const VIT_SPECS = {
  vit_b_16: {
    name: 'vit_b_16',
    head: ['heads.head.weight', 'heads.head.bias'],
    files: {
      IMAGENET1K_V1: 'vit_b_16-c867db91.pth',
      IMAGENET1K_SWAG_E2E_V1: 'vit_b_16_swag-9ac1b537.pth',
      IMAGENET1K_SWAG_LINEAR_V1: 'vit_b_16_lc_swag-4e70ced5.pth',
      DEFAULT: 'vit_b_16-c867db91.pth',
    },
  },
} satisfies Record<string, ArchSpec>;

/** The options of vitB_16(): weights and numClasses, and the image size. */
export interface ViTModelOptions extends ModelOptions {
  /**
   * The input side (default 224; 384 for the weights 'IMAGENET1K_SWAG_E2E_V1', as torchvision sets it
   * from the weights' min_size). The position embedding's length follows it.
   */
  imageSize?: number;
}

/** The weights names whose image size is not 224 (torchvision's meta min_size). */
const VIT_IMAGE_SIZE: Record<string, number> = { IMAGENET1K_SWAG_E2E_V1: 384 };

function buildViT(
  fn: string,
  specName: keyof typeof VIT_SPECS,
  arch: Omit<VisionTransformerOptions, 'imageSize' | 'numClasses'>,
  options?: ViTModelOptions,
): VisionTransformer {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) argError(fn, 'options', '{ numClasses, weights, imageSize }', o);
  // withWeights checks the other options
  const { imageSize: given, ...rest } = o;
  if (given !== undefined && (!Number.isInteger(given) || given < 1)) argError(fn, 'imageSize', 'a positive integer', given);
  const imageSize = given ?? (typeof o.weights === 'string' ? VIT_IMAGE_SIZE[o.weights] : undefined) ?? 224;
  try {
    return withWeights(fn, VIT_SPECS[specName], rest, (numClasses) => new VisionTransformer({ ...arch, imageSize, numClasses }));
  } catch (e) {
    if (e instanceof TorchError && e.message.includes('encoder.pos_embedding: checkpoint') && given === undefined) {
      e.message += `\n  (the position embedding's length is fixed by the image size: these weights are for another imageSize than ${imageSize}; pass it as the imageSize option)`;
    }
    throw e;
  }
}

/**
 * ViT-B/16 (patch 16, 12 layers, 12 heads, hidden 768, MLP 3072); weights 'IMAGENET1K_V1' = 'DEFAULT'
 * (224 x 224), 'IMAGENET1K_SWAG_E2E_V1' (384 x 384), 'IMAGENET1K_SWAG_LINEAR_V1' (224 x 224).
 */
export function vitB_16(options?: ViTModelOptions): VisionTransformer {
  return buildViT('vitB_16()', 'vit_b_16', { patchSize: 16, numLayers: 12, numHeads: 12, hiddenDim: 768, mlpDim: 3072 }, options);
}

markRetainsNothing(MLP, MLPBlock, EncoderBlock, Encoder, VisionTransformer);
