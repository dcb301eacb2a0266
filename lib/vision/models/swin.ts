import { checkInt, checkProbability } from '../../checks';
import { fromTypedArray, tensor, zeros } from '../../creation';
import { TorchError, argError, checkOptions } from '../../errors';
import { Module, type Parameter, markRetainsNothing } from '../../nn/module';
import { AdaptiveAvgPool2d, Conv2d, Flatten, GELU, LayerNorm, Linear, Sequential } from '../../nn/layers';
import * as F from '../../nn/functional';
import { normal_, xavierUniform_, zeros_ } from '../../nn/init';
import { cat } from '../../functions';
import { tidy } from '../../scope';
import { Tensor, idOf } from '../../tensor';
import { withWeights, type ArchSpec, type ModelOptions } from '../weights';
import { ownParam, Permute, truncNormal_, type NormLayer } from './convnext';
import { StochasticDepth } from './efficientnet';
import { MLP } from './vit';
import { callOp } from '../../ops/call';

const roll = (x: Tensor, shifts: number[], dims: number[]): Tensor => callOp('roll', x._h, shifts, dims);

function pair(fn: string, name: string, v: unknown, min: number): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= min)) {
    throw new TorchError(
      `${fn}: ${name} must be an array of 2 integers >= ${min} (torchvision: window_size and shift_size must be of length 2), got ${JSON.stringify(v)}`,
      'ERR_TORCH_ARG',
    );
  }
  return [v[0], v[1]];
}

/** The shifted-window attention mask of a padH x padW map: [numWindows, N, N], -100 between tokens of different regions, else 0. */
const maskCache = new Map<string, Float32Array>();
function shiftMask(padH: number, padW: number, ws: [number, number], shift: [number, number]): Float32Array {
  const key = `${padH},${padW},${ws},${shift}`;
  let m = maskCache.get(key);
  if (m) return m;
  // torchvision: regions by the slices (0, -ws), (-ws, -shift), (-shift, None) along each axis
  const region = (i: number, size: number, w: number, s: number) => (i < size - w ? 0 : i < size - s ? 1 : 2);
  const nWh = padH / ws[0];
  const nWw = padW / ws[1];
  const N = ws[0] * ws[1];
  const ids = new Int32Array(nWh * nWw * N);
  for (let a = 0; a < nWh; a++) {
    for (let b = 0; b < nWw; b++) {
      for (let i = 0; i < ws[0]; i++) {
        for (let j = 0; j < ws[1]; j++) {
          const h = a * ws[0] + i;
          const w = b * ws[1] + j;
          ids[(a * nWw + b) * N + i * ws[1] + j] = region(h, padH, ws[0], shift[0]) * 3 + region(w, padW, ws[1], shift[1]);
        }
      }
    }
  }
  m = new Float32Array(nWh * nWw * N * N);
  for (let win = 0; win < nWh * nWw; win++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) m[(win * N + i) * N + j] = ids[win * N + j] !== ids[win * N + i] ? -100 : 0;
    }
  }
  if (maskCache.size > 32) maskCache.clear();
  maskCache.set(key, m);
  return m;
}

export interface ShiftedWindowAttentionOptions {
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
  /** Dropout on the output, after the projection (default 0). */
  dropout?: number;
  qkvBias?: Tensor | null;
  projBias?: Tensor | null;
  training?: boolean;
}

/**
 * torchvision.models.swin_transformer.shifted_window_attention (V1, no logit scale): window-based
 * multi-head self-attention with relative position bias, shifted or not. input [B, H, W, C] -> the same.
 */
export function shiftedWindowAttention(
  input: Tensor,
  qkvWeight: Tensor,
  projWeight: Tensor,
  relativePositionBias: Tensor,
  windowSize: number[],
  numHeads: number,
  shiftSize: number[],
  options: ShiftedWindowAttentionOptions = {},
): Tensor {
  const fn = 'shiftedWindowAttention()';
  idOf(input, fn, 'input');
  idOf(qkvWeight, fn, 'qkvWeight');
  idOf(projWeight, fn, 'projWeight');
  idOf(relativePositionBias, fn, 'relativePositionBias');
  const ws = pair(fn, 'windowSize', windowSize, 1);
  const shiftGiven = pair(fn, 'shiftSize', shiftSize, 0);
  if (input.dim() !== 4)
    throw new TorchError(`${fn}: expected input [B, H, W, C] (4D), got ${input.dim()}D input [${input.shape.join(', ')}]`, 'ERR_TORCH_ARG');
  const [B, H, W, C] = input.shape;
  if (C % numHeads !== 0) throw new TorchError(`${fn}: the channels (${C}) must be divisible by numHeads (${numHeads})`, 'ERR_TORCH_ARG');
  const training = options.training ?? true;
  return tidy(() => {
    const padR = (ws[1] - (W % ws[1])) % ws[1];
    const padB = (ws[0] - (H % ws[0])) % ws[0];
    let x = F.pad(input, [0, 0, 0, padR, 0, padB]);
    const [, padH, padW] = x.shape;
    const shift: [number, number] = [...shiftGiven];
    // A window as large as the map: no shift
    if (ws[0] >= padH) shift[0] = 0;
    if (ws[1] >= padW) shift[1] = 0;
    const shifted = shift[0] + shift[1] > 0;
    if (shifted) x = roll(x, [-shift[0], -shift[1]], [1, 2]);
    const numWindows = (padH / ws[0]) * (padW / ws[1]);
    const N = ws[0] * ws[1];
    x = x
      .view(B, padH / ws[0], ws[0], padW / ws[1], ws[1], C)
      .permute(0, 1, 3, 2, 4, 5)
      .reshape(B * numWindows, N, C);

    const qkv = F.linear(x, qkvWeight, options.qkvBias ?? null)
      .reshape(x.size(0), x.size(1), 3, numHeads, C / numHeads)
      .permute(2, 0, 3, 1, 4);
    let q = qkv.select(0, 0);
    const k = qkv.select(0, 1);
    const v = qkv.select(0, 2);
    q = q.mul(Math.floor(C / numHeads) ** -0.5);
    let attn = q.matmul(k.transpose(-2, -1));
    attn = attn.add(relativePositionBias);
    if (shifted) {
      const mask = fromTypedArray(shiftMask(padH, padW, ws, shift), [numWindows, N, N], { dtype: x.dtype, device: x.device });
      attn = attn.view(x.size(0) / numWindows, numWindows, numHeads, N, N);
      attn = attn.add(mask.unsqueeze(1).unsqueeze(0));
      attn = attn.view(-1, numHeads, N, N);
    }
    attn = F.softmax(attn, -1);
    attn = F.dropout(attn, { p: options.attentionDropout ?? 0, training });
    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), C);
    x = F.linear(x, projWeight, options.projBias ?? null);
    x = F.dropout(x, { p: options.dropout ?? 0, training });
    x = x
      .view(B, padH / ws[0], padW / ws[1], ws[0], ws[1], C)
      .permute(0, 1, 3, 2, 4, 5)
      .reshape(B, padH, padW, C);
    if (shifted) x = roll(x, [shift[0], shift[1]], [1, 2]);
    return x.slice(1, 0, H).slice(2, 0, W).contiguous();
  });
}

export interface ShiftedWindowAttentionModuleOptions {
  /** Default true. */
  qkvBias?: boolean;
  /** Default true. */
  projBias?: boolean;
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
  /** Dropout after the output projection (default 0). */
  dropout?: number;
}

/**
 * torchvision's ShiftedWindowAttention: `qkv` and `proj` Linears, `relative_position_bias_table`
 * ((2 Wh - 1)(2 Ww - 1) x numHeads, trunc_normal_ std 0.02) and the buffer `relative_position_index`.
 */
export class ShiftedWindowAttention extends Module {
  /** torchvision's `qkv`: the query, key and value projections, dim -> 3 * dim. */
  declare qkv: Linear;
  /** torchvision's `proj`: the output projection. */
  declare proj: Linear;
  /** torchvision's `relative_position_bias_table`: a learned bias per relative position and head. */
  declare relative_position_bias_table: Parameter;
  /** torchvision's `relative_position_index` buffer: which table row each pair of window positions uses. */
  declare relative_position_index: Tensor;
  /** The attention window's [h, w]. */
  readonly windowSize: [number, number];
  /** The window shift [h, w] (0 for the blocks that do not shift). */
  readonly shiftSize: [number, number];
  /** The number of attention heads. */
  readonly numHeads: number;
  /** Dropout on the attention weights, in training. */
  readonly attentionDropout: number;
  /** Dropout after the output projection, in training. */
  readonly dropout: number;
  constructor(dim: number, windowSize: number[], shiftSize: number[], numHeads: number, options: ShiftedWindowAttentionModuleOptions = {}) {
    super();
    const fn = 'ShiftedWindowAttention()';
    this.windowSize = pair(fn, 'windowSize', windowSize, 1);
    this.shiftSize = pair(fn, 'shiftSize', shiftSize, 0);
    checkInt(fn, 'numHeads', numHeads, 1);
    this.numHeads = numHeads;
    this.attentionDropout = options.attentionDropout ?? 0;
    this.dropout = options.dropout ?? 0;
    this.registerModule('qkv', new Linear(dim, dim * 3, { bias: options.qkvBias ?? true }));
    this.registerModule('proj', new Linear(dim, dim, { bias: options.projBias ?? true }));
    const [wh, ww] = this.windowSize;
    // define_relative_position_bias_table
    const table = ownParam(zeros([(2 * wh - 1) * (2 * ww - 1), numHeads]));
    this.registerParameter('relative_position_bias_table', table);
    truncNormal_(table, { std: 0.02 });
    // define_relative_position_index: (dh + wh - 1) * (2 ww - 1) + (dw + ww - 1) for each pair of tokens
    const N = wh * ww;
    const index: number[] = new Array(N * N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const dh = Math.floor(i / ww) - Math.floor(j / ww);
        const dw = (i % ww) - (j % ww);
        index[i * N + j] = (dh + wh - 1) * (2 * ww - 1) + (dw + ww - 1);
      }
    }
    this.registerBuffer('relative_position_index', tensor(index, { dtype: 'int64' }));
  }
  /** The bias added to each head's attention logits: [1, numHeads, N, N]. */
  getRelativePositionBias(): Tensor {
    return tidy(() => {
      const N = this.windowSize[0] * this.windowSize[1];
      const table = this._parameters.get('relative_position_bias_table')!;
      const index = this._buffers.get('relative_position_index')!;
      return table.index([index]).view(N, N, -1).permute(2, 0, 1).contiguous().unsqueeze(0);
    });
  }
  /**
   * torchvision's `ShiftedWindowAttention` forward: multi-head self-attention within each window (shifted by shiftSize, masked across the shift's seams), with
   * relative position bias; input [B, H, W, C] -> the same shape (H and W padded to whole windows inside).
   */
  override forward(x: Tensor): Tensor {
    return tidy(() =>
      shiftedWindowAttention(x, this.qkv.weight, this.proj.weight, this.getRelativePositionBias(), this.windowSize, this.numHeads, this.shiftSize, {
        attentionDropout: this.attentionDropout,
        dropout: this.dropout,
        qkvBias: this.qkv.bias,
        projBias: this.proj.bias,
        training: this.training,
      }),
    );
  }
}

/** The keyword arguments of torchvision's `SwinTransformerBlock`. */
export interface SwinTransformerBlockOptions {
  /** Default 4. */
  mlpRatio?: number;
  /** Dropout after the attention's projection and in the MLP (default 0). */
  dropout?: number;
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
  /** The probability of skipping the block's residual branches in training (default 0). */
  stochasticDepthProb?: number;
  /** Default LayerNorm. */
  normLayer?: NormLayer;
}

/** torchvision's SwinTransformerBlock (V1): x + sd(attn(norm1(x))), then x + sd(mlp(norm2(x))). */
export class SwinTransformerBlock extends Module {
  /** torchvision's `norm1`: before the attention. */
  declare norm1: Module;
  /** torchvision's `attn`: (shifted) window attention. */
  declare attn: ShiftedWindowAttention;
  /** torchvision's `norm2`: before the MLP. */
  declare norm2: Module;
  /** torchvision's `mlp`: Linear to mlpRatio * dim, GELU, Linear back. */
  declare mlp: MLP;
  constructor(dim: number, numHeads: number, windowSize: number[], shiftSize: number[], options: SwinTransformerBlockOptions = {}) {
    super();
    const norm = options.normLayer ?? ((c: number) => new LayerNorm(c));
    const dropout = options.dropout ?? 0;
    this.registerModule('norm1', norm(dim));
    this.registerModule('attn', new ShiftedWindowAttention(dim, windowSize, shiftSize, numHeads, { attentionDropout: options.attentionDropout ?? 0, dropout }));
    this.registerModule('stochastic_depth', new StochasticDepth(options.stochasticDepthProb ?? 0, 'row'));
    this.registerModule('norm2', norm(dim));
    this.registerModule('mlp', new MLP(dim, [Math.trunc(dim * (options.mlpRatio ?? 4)), dim], { activationLayer: () => new GELU(), inplace: null, dropout }));
    for (const m of this.mlp.modules()) {
      if (m instanceof Linear) {
        xavierUniform_(m.weight);
        if (m.bias) normal_(m.bias, 0, 1e-6);
      }
    }
  }
  /** Registered under torchvision's name, 'stochastic_depth'. */
  get stochasticDepth(): StochasticDepth {
    return this._modules.get('stochastic_depth') as StochasticDepth;
  }
  /**
   * torchvision's `SwinTransformerBlock` forward: y = x + sd(attn(norm1(x))), then y + sd(mlp(norm2(y))), sd being stochastic depth (in training only);
   * [B, H, W, dim] -> the same shape.
   */
  override forward(x: Tensor): Tensor {
    return tidy(() => {
      const y = x.add(this.stochasticDepth.call(this.attn.call(this.norm1.call(x))));
      return y.add(this.stochasticDepth.call(this.mlp.call(this.norm2.call(y))));
    });
  }
}

/** torchvision's PatchMerging: [..., H, W, C] -> [..., H/2, W/2, 2C] (pad to even, 2x2 neighbours concatenated, norm, reduction). */
export class PatchMerging extends Module {
  /** torchvision's `reduction`: Linear 4 * dim -> 2 * dim over each 2x2 patch. */
  declare reduction: Linear;
  /** torchvision's `norm`: before the reduction. */
  declare norm: Module;
  /** The input channels. */
  readonly dim: number;
  constructor(dim: number, normLayer?: NormLayer) {
    super();
    checkInt('PatchMerging()', 'dim', dim, 1);
    this.dim = dim;
    this.registerModule('reduction', new Linear(4 * dim, 2 * dim, { bias: false }));
    this.registerModule('norm', (normLayer ?? ((c: number) => new LayerNorm(c)))(4 * dim));
  }
  /**
   * torchvision's `PatchMerging` forward: each 2x2 neighbourhood (H and W padded to even) concatenated to 4C, normalised and reduced to 2C; [..., H, W, C] ->
   * [..., ceil(H / 2), ceil(W / 2), 2C].
   */
  override forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) argError('PatchMerging.forward()', 'input', 'a Tensor', x);
    if (x.dim() < 3) throw new TorchError(`PatchMerging: expected input [..., H, W, C], got ${x.dim()}D input`, 'ERR_TORCH_ARG');
    return tidy(() => this.reduction.call(this.norm.call(patchMergingPad(x))));
  }
}

/** torchvision's _patch_merging_pad: pads H and W to even, then concatenates the four 2x2 neighbours on the channels. */
export function patchMergingPad(x: Tensor): Tensor {
  return tidy(() => {
    const [H, W] = x.shape.slice(-3, -1);
    const p = F.pad(x, [0, 0, 0, W % 2, 0, H % 2]);
    const at = (h: number, w: number) => p.slice(-3, h, null, 2).slice(-2, w, null, 2);
    return cat([at(0, 0), at(1, 0), at(0, 1), at(1, 1)], -1);
  });
}

/** The block classes SwinTransformer accepts (torchvision's `block`), e.g. SwinTransformerBlock. */
export type SwinBlockClass = new (dim: number, numHeads: number, windowSize: number[], shiftSize: number[], options: SwinTransformerBlockOptions) => Module;

/** The downsampling layers SwinTransformer accepts between stages (torchvision's `downsample_layer`), e.g. PatchMerging. */
export type SwinDownsampleClass = new (dim: number, normLayer: NormLayer) => Module;

/** The keyword arguments of torchvision's `SwinTransformer`. */
export interface SwinTransformerOptions {
  /** The patch embedding's [h, w] (4 x 4 in torchvision's models). */
  patchSize: number[];
  /** The channels after the patch embedding (doubled at each stage). */
  embedDim: number;
  /** The number of blocks in each stage. */
  depths: number[];
  /** The attention heads in each stage. */
  numHeads: number[];
  /** The attention window's [h, w]. */
  windowSize: number[];
  /** Default 4. */
  mlpRatio?: number;
  /** Dropout rate in every block (default 0). */
  dropout?: number;
  /** Dropout on the attention weights in every block (default 0). */
  attentionDropout?: number;
  /** The last block's stochastic-depth probability (linearly less before it); default 0.1. */
  stochasticDepthProb?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Default LayerNorm (eps 1e-5). */
  normLayer?: NormLayer;
  /** The block class (default SwinTransformerBlock). */
  block?: SwinBlockClass;
  /** The downsampling between stages (default PatchMerging). */
  downsampleLayer?: SwinDownsampleClass;
}

const SWIN_OPTIONS = [
  'patchSize',
  'embedDim',
  'depths',
  'numHeads',
  'windowSize',
  'mlpRatio',
  'dropout',
  'attentionDropout',
  'stochasticDepthProb',
  'numClasses',
  'normLayer',
  'block',
  'downsampleLayer',
] as const;

/**
 * torchvision.models.SwinTransformer: `features` (the patch embedding — Conv2d, Permute to NHWC,
 * LayerNorm —, then per stage a Sequential of SwinTransformerBlocks, with PatchMerging between stages),
 * `norm`, `permute`, `avgpool`, `flatten`, `head` (replace it to change the head).
 */
export class SwinTransformer extends Module {
  /** torchvision's `features`: the patch embedding, then each stage's blocks and patch merging. */
  declare features: Sequential;
  /** torchvision's `norm`: the final norm layer. */
  declare norm: Module;
  /** torchvision's `permute`: [N, H, W, C] -> [N, C, H, W]. */
  declare permute: Permute;
  /** torchvision's `avgpool`: the global average pool. */
  declare avgpool: AdaptiveAvgPool2d;
  /** torchvision's `flatten`. */
  declare flatten: Flatten;
  /** torchvision's `head`: the classifier head, Linear to numClasses. */
  declare head: Linear;
  /** The number of output classes. */
  readonly numClasses: number;
  constructor(options: SwinTransformerOptions) {
    super();
    const fn = 'SwinTransformer()';
    if (options === null || typeof options !== 'object') argError(fn, 'options', '{ patchSize, embedDim, depths, numHeads, windowSize, ... }', options);
    checkOptions(fn, options, SWIN_OPTIONS);
    const o = options;
    const patchSize = pair(fn, 'patchSize', o.patchSize, 1);
    checkInt(fn, 'embedDim', o.embedDim, 1);
    if (!Array.isArray(o.depths) || o.depths.length === 0 || !o.depths.every((d) => Number.isInteger(d) && d >= 0)) {
      argError(fn, 'depths', 'a non-empty array of block counts', o.depths);
    }
    if (!Array.isArray(o.numHeads) || o.numHeads.length !== o.depths.length || !o.numHeads.every((d) => Number.isInteger(d) && d >= 1)) {
      argError(fn, 'numHeads', `an array of ${o.depths.length} positive head counts (one per stage)`, o.numHeads);
    }
    const windowSize = pair(fn, 'windowSize', o.windowSize, 1);
    const numClasses = o.numClasses ?? 1000;
    checkInt(fn, 'numClasses', numClasses, 1);
    this.numClasses = numClasses;
    const sdProb = o.stochasticDepthProb ?? 0.1;
    checkProbability(fn, 'stochasticDepthProb', sdProb);
    const Block = o.block ?? SwinTransformerBlock;
    const Downsample = o.downsampleLayer ?? PatchMerging;
    const normLayer = o.normLayer ?? ((c: number) => new LayerNorm(c, { eps: 1e-5 }));
    o.depths.forEach((_, i) => {
      const dim = o.embedDim * 2 ** i;
      if (dim % o.numHeads[i] !== 0)
        throw new TorchError(`${fn}: stage ${i}'s channels (${dim}) must be divisible by its numHeads (${o.numHeads[i]})`, 'ERR_TORCH_ARG');
    });

    const totalStageBlocks = o.depths.reduce((a, b) => a + b, 0);
    // (checked before anything is built: a failed constructor leaves no parameters behind)
    if (totalStageBlocks < 2)
      throw new TorchError(`${fn}: torchvision's SwinTransformer needs at least 2 blocks in all (it divides by total_stage_blocks - 1)`, 'ERR_TORCH_ARG');

    const layers: Module[] = [new Sequential(new Conv2d(3, o.embedDim, patchSize, { stride: patchSize }), new Permute([0, 2, 3, 1]), normLayer(o.embedDim))];
    let stageBlockId = 0;
    for (let iStage = 0; iStage < o.depths.length; iStage++) {
      const stage: Module[] = [];
      const dim = o.embedDim * 2 ** iStage;
      for (let iLayer = 0; iLayer < o.depths[iStage]; iLayer++) {
        const p = (sdProb * stageBlockId) / (totalStageBlocks - 1);
        stage.push(
          new Block(dim, o.numHeads[iStage], windowSize, iLayer % 2 === 0 ? [0, 0] : windowSize.map((w) => Math.floor(w / 2)), {
            mlpRatio: o.mlpRatio ?? 4,
            dropout: o.dropout ?? 0,
            attentionDropout: o.attentionDropout ?? 0,
            stochasticDepthProb: p,
            normLayer,
          }),
        );
        stageBlockId++;
      }
      layers.push(new Sequential(...stage));
      if (iStage < o.depths.length - 1) layers.push(new Downsample(dim, normLayer));
    }
    this.registerModule('features', new Sequential(...layers));
    const numFeatures = o.embedDim * 2 ** (o.depths.length - 1);
    this.registerModule('norm', normLayer(numFeatures));
    this.registerModule('permute', new Permute([0, 3, 1, 2]));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('flatten', new Flatten(1));
    this.registerModule('head', new Linear(numFeatures, numClasses));

    for (const m of this.modules()) {
      if (m instanceof Linear) {
        truncNormal_(m.weight, { std: 0.02 });
        if (m.bias) zeros_(m.bias);
      }
    }
  }
  /**
   * torchvision's `SwinTransformer` forward: images [N, 3, H, W] -> logits [N, numClasses] (patch embedding and stages on [N, H, W, C], norm, permute, global
   * average pool, flatten, head).
   */
  override forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) argError('SwinTransformer.forward()', 'input', 'a Tensor', x);
    if (x.dim() !== 4) throw new TorchError(`SwinTransformer: expected 4D input (N, 3, H, W) (got ${x.dim()}D input)`, 'ERR_TORCH_ARG');
    return tidy(() => {
      let y = this.features.call(x);
      y = this.norm.call(y);
      y = this.permute.call(y);
      y = this.avgpool.call(y);
      y = this.flatten.call(y);
      return this.head.call(y);
    });
  }
}

// ---- builders ---------------------------------------------------------------------------------------

const spec = (name: string, file: string): ArchSpec => ({ name, head: ['head.weight', 'head.bias'], files: { IMAGENET1K_V1: file, DEFAULT: file } });

/** Builders' specs: torchvision's weight enums and their file names in the hub cache. */
export const SWIN_SPECS = {
  swin_t: spec('swin_t', 'swin_t-704ceda3.pth'),
  swin_s: spec('swin_s', 'swin_s-5e29d889.pth'),
  swin_b: spec('swin_b', 'swin_b-68c6b09e.pth'),
} satisfies Record<string, ArchSpec>;

/** torchvision's configurations of swin_t / swin_s / swin_b (patch 4, window 7). */
export function swinConf(arch: 't' | 's' | 'b'): Omit<SwinTransformerOptions, 'numClasses'> {
  const common = { patchSize: [4, 4], windowSize: [7, 7] };
  switch (arch) {
    case 't':
      return { ...common, embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24], stochasticDepthProb: 0.2 };
    case 's':
      return { ...common, embedDim: 96, depths: [2, 2, 18, 2], numHeads: [3, 6, 12, 24], stochasticDepthProb: 0.3 };
    case 'b':
      return { ...common, embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], stochasticDepthProb: 0.5 };
    default:
      return argError('swinConf()', 'arch', "'t', 's' or 'b'", arch);
  }
}

/** Swin-T (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7, stochastic depth 0.2); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function swinT(options?: ModelOptions): SwinTransformer {
  return withWeights('swinT()', SWIN_SPECS.swin_t, options, (numClasses) => new SwinTransformer({ ...swinConf('t'), numClasses }));
}

/** Swin-S (embed 96, depths 2-2-18-2, heads 3-6-12-24, window 7, stochastic depth 0.3); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function swinS(options?: ModelOptions): SwinTransformer {
  return withWeights('swinS()', SWIN_SPECS.swin_s, options, (numClasses) => new SwinTransformer({ ...swinConf('s'), numClasses }));
}

/** Swin-B (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 7, stochastic depth 0.5); weights 'IMAGENET1K_V1' = 'DEFAULT'. */
export function swinB(options?: ModelOptions): SwinTransformer {
  return withWeights('swinB()', SWIN_SPECS.swin_b, options, (numClasses) => new SwinTransformer({ ...swinConf('b'), numClasses }));
}

markRetainsNothing(ShiftedWindowAttention, SwinTransformerBlock, PatchMerging, SwinTransformer);
