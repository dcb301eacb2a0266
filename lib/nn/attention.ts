/**
 * torch.nn.MultiheadAttention and F.multi_head_attention_forward, as PyTorch's: the same parameters
 * (in_proj_weight or q/k/v_proj_weight, in_proj_bias, bias_k/bias_v, out_proj.*) in the same order,
 * the same initialisation (out_proj is a Linear made first, then xavier_uniform_ on the input
 * projection and zeros for the biases — the same random draws in the same order), and the same
 * computation op for op: packed in-projection, scaling, bool or float masks, softmax, dropout in
 * training, out-projection, weights averaged over heads; without weights, scaled_dot_product_attention;
 * in inference (eval, no grad needed, batchFirst self-attention) PyTorch's fused fast path.
 */
import { checkBool, checkInt, checkProbability } from '../checks';
import { isGradEnabled } from '../autograd';
import { native, type Id } from '../binding';
import { zeros, zerosLike, type TensorOptions } from '../creation';
import type { DeviceLike } from '../device';
import type { DType } from '../dtype';
import { TorchError, argError } from '../errors';
import { op } from '../ops/handles';
import { tidy } from '../scope';
import { type Tensor, idOf, wrap } from '../tensor';
import * as F from './functional';
import { constant_, xavierNormal_, xavierUniform_ } from './init';
import { Linear, newParam } from './layers';
import { Module, type Parameter, markRetainsNothing } from './module';
import { callOp as call } from '../ops/call';

/** The Linear that MultiheadAttention uses as out_proj (its own class in PyTorch, so it prints so). */
export class NonDynamicallyQuantizableLinear extends Linear {}

const FLOATS = new Set(['float32', 'float64', 'float16', 'bfloat16']);
const isFloat = (t: Tensor) => FLOATS.has(t.dtype);
const pyShape = (xs: number[]) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`);
const sizeRepr = (xs: number[]) => `[${xs.join(', ')}]`;
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function fail(fn: string, message: string): never {
  throw new TorchError(`${fn}: ${message}`, 'ERR_TORCH_ARG');
}

/** PyTorch's _canonical_mask: a bool mask becomes a float one (-inf where true); float masks pass. */
function canonicalMask(fn: string, mask: Tensor | null, name: string, targetType: DType): Tensor | null {
  if (mask == null) return null;
  if (mask.dtype !== 'bool' && !isFloat(mask)) fail(fn, `only bool and floating types of ${name} are supported`);
  if (isFloat(mask)) return mask;
  return zerosLike(mask, { dtype: targetType }).maskedFill_(mask, -Infinity);
}

/** The keyword arguments of PyTorch's `F.multi_head_attention_forward`. */
export interface MultiHeadAttentionForwardOptions {
  /** Apply dropout (default true). */
  training?: boolean;
  /** [N, S] (or [S] unbatched): true (bool) = ignore this key; float masks are added. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true). */
  needWeights?: boolean;
  /** [L, S] or [N * numHeads, L, S]: true (bool) = not allowed; float masks are added. */
  attnMask?: Tensor | null;
  /** Use qProjWeight/kProjWeight/vProjWeight instead of inProjWeight (key and value dims may differ). */
  useSeparateProjWeight?: boolean;
  /** The query projection, [E, E], with useSeparateProjWeight. */
  qProjWeight?: Tensor | null;
  /** The key projection, [E, Ek], with useSeparateProjWeight. */
  kProjWeight?: Tensor | null;
  /** The value projection, [E, Ev], with useSeparateProjWeight. */
  vProjWeight?: Tensor | null;
  /** Already-projected keys, [N * numHeads, S, headDim], used instead of projecting `key`. */
  staticK?: Tensor | null;
  /** Already-projected values, [N * numHeads, S, headDim], used instead of projecting `value`. */
  staticV?: Tensor | null;
  /** Weights averaged over heads (default true), else per head. */
  averageAttnWeights?: boolean;
  /** A hint that attnMask is the causal mask (default false). */
  isCausal?: boolean;
}

/**
 * F.multi_head_attention_forward: query [L, N, E] (or unbatched [L, E]), key/value [S, N, Ek/Ev].
 * Returns [attnOutput, attnWeights | null]. Mask semantics as PyTorch: true (bool) = not allowed;
 * float masks are added.
 */
export function multiHeadAttentionForward(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  embedDimToCheck: number,
  numHeads: number,
  inProjWeight: Tensor | null,
  inProjBias: Tensor | null,
  biasK: Tensor | null,
  biasV: Tensor | null,
  addZeroAttn: boolean,
  dropoutP: number,
  outProjWeight: Tensor,
  outProjBias: Tensor | null,
  options: MultiHeadAttentionForwardOptions = {},
): [Tensor, Tensor | null] {
  const fn = 'multiHeadAttentionForward()';
  idOf(query, fn, 'query');
  idOf(key, fn, 'key');
  idOf(value, fn, 'value');
  idOf(outProjWeight, fn, 'outProjWeight');
  for (const [n, t] of Object.entries({ inProjWeight, inProjBias, biasK, biasV, outProjBias })) if (t != null) idOf(t, fn, n);
  const o = options;
  const training = o.training ?? true;
  const needWeights = o.needWeights ?? true;
  const averageAttnWeights = o.averageAttnWeights ?? true;
  const useSeparate = o.useSeparateProjWeight ?? false;
  let isCausal = o.isCausal ?? false;
  checkProbability(fn, 'dropoutP', dropoutP);
  let keyPaddingMask = o.keyPaddingMask ?? null;
  let attnMask = o.attnMask ?? null;
  if (keyPaddingMask) idOf(keyPaddingMask, fn, 'keyPaddingMask');
  if (attnMask) idOf(attnMask, fn, 'attnMask');

  return tidy(() => {
    const isBatched = mhaShapeCheck(fn, query, key, value, keyPaddingMask, attnMask, numHeads);
    // Unbatched input: add the batch dimension, run, and take it away at the end.
    // (Each separately, as PyTorch: the self-attention shortcut is not taken for unbatched input.)
    if (!isBatched) {
      query = query.unsqueeze(1);
      key = key.unsqueeze(1);
      value = value.unsqueeze(1);
      if (keyPaddingMask) keyPaddingMask = keyPaddingMask.unsqueeze(0);
    }
    const [tgtLen, bsz, embedDim] = query.shape;
    const srcLen0 = key.size(0);
    keyPaddingMask = canonicalMask(fn, keyPaddingMask, 'key_padding_mask', query.dtype);
    if (isCausal && attnMask === null) {
      fail(
        fn,
        'Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask.',
      );
    }
    if (isCausal && keyPaddingMask === null && !needWeights) {
      attnMask = null;
    } else {
      attnMask = canonicalMask(fn, attnMask, 'attn_mask', query.dtype);
      if (keyPaddingMask !== null) isCausal = false;
    }
    if (embedDim !== embedDimToCheck) fail(fn, `was expecting embedding dimension of ${embedDimToCheck}, but got ${embedDim}`);
    const headDim = Math.floor(embedDim / numHeads);
    if (headDim * numHeads !== embedDim) fail(fn, `embed_dim ${embedDim} not divisible by num_heads ${numHeads}`);
    if (useSeparate) {
      if (!sameShape(key.shape.slice(0, 2), value.shape.slice(0, 2))) {
        fail(fn, `key's sequence and batch dims ${sizeRepr(key.shape.slice(0, 2))} do not match value's ${sizeRepr(value.shape.slice(0, 2))}`);
      }
    } else if (!sameShape(key.shape, value.shape)) {
      fail(fn, `key shape ${sizeRepr(key.shape)} does not match value shape ${sizeRepr(value.shape)}`);
    }

    // ---- in-projection
    let q: Tensor;
    let k: Tensor;
    let v: Tensor;
    if (!useSeparate) {
      if (inProjWeight == null) fail(fn, 'useSeparateProjWeight is false but inProjWeight is null');
      [q, k, v] = inProjectionPacked(query, key, value, inProjWeight, inProjBias);
    } else {
      const { qProjWeight, kProjWeight, vProjWeight } = o;
      if (qProjWeight == null) fail(fn, 'useSeparateProjWeight is true but qProjWeight is null');
      if (kProjWeight == null) fail(fn, 'useSeparateProjWeight is true but kProjWeight is null');
      if (vProjWeight == null) fail(fn, 'useSeparateProjWeight is true but vProjWeight is null');
      const [bq, bk, bv] = inProjBias == null ? [null, null, null] : inProjBias.chunk(3);
      [q, k, v] = inProjection(fn, query, key, value, qProjWeight, kProjWeight, vProjWeight, bq, bk, bv);
    }

    // ---- attention mask to 3-D
    if (attnMask !== null) {
      if (attnMask.dim() === 2) {
        const want = [tgtLen, srcLen0];
        if (!sameShape(attnMask.shape, want)) fail(fn, `The shape of the 2D attn_mask is ${sizeRepr(attnMask.shape)}, but should be ${pyShape(want)}.`);
        attnMask = attnMask.unsqueeze(0);
      } else if (attnMask.dim() === 3) {
        const want = [bsz * numHeads, tgtLen, srcLen0];
        if (!sameShape(attnMask.shape, want)) fail(fn, `The shape of the 3D attn_mask is ${sizeRepr(attnMask.shape)}, but should be ${pyShape(want)}.`);
      } else {
        fail(fn, `attn_mask's dimension ${attnMask.dim()} is not supported`);
      }
    }

    // ---- bias_k / bias_v along the sequence
    if (biasK != null && biasV != null) {
      if (o.staticK != null) fail(fn, 'bias cannot be added to static key.');
      if (o.staticV != null) fail(fn, 'bias cannot be added to static value.');
      k = call('cat', [k._h, call('repeat', biasK._h, [1, bsz, 1])._h], 0);
      v = call('cat', [v._h, call('repeat', biasV._h, [1, bsz, 1])._h], 0);
      if (attnMask !== null) attnMask = F.pad(attnMask, [0, 1]);
      if (keyPaddingMask !== null) keyPaddingMask = F.pad(keyPaddingMask, [0, 1]);
    } else if (biasK != null) {
      fail(fn, 'biasK is set but biasV is null');
    } else if (biasV != null) {
      fail(fn, 'biasV is set but biasK is null');
    }

    // ---- heads into the batch dimension
    q = q.view(tgtLen, bsz * numHeads, headDim).transpose(0, 1);
    if (o.staticK == null) k = k.view(k.size(0), bsz * numHeads, headDim).transpose(0, 1);
    else {
      const s = o.staticK;
      idOf(s, fn, 'staticK');
      if (s.size(0) !== bsz * numHeads) fail(fn, `expecting staticK.size(0) of ${bsz * numHeads}, but got ${s.size(0)}`);
      if (s.size(2) !== headDim) fail(fn, `expecting staticK.size(2) of ${headDim}, but got ${s.size(2)}`);
      k = s;
    }
    if (o.staticV == null) v = v.view(v.size(0), bsz * numHeads, headDim).transpose(0, 1);
    else {
      const s = o.staticV;
      idOf(s, fn, 'staticV');
      if (s.size(0) !== bsz * numHeads) fail(fn, `expecting staticV.size(0) of ${bsz * numHeads}, but got ${s.size(0)}`);
      if (s.size(2) !== headDim) fail(fn, `expecting staticV.size(2) of ${headDim}, but got ${s.size(2)}`);
      v = s;
    }

    if (addZeroAttn) {
      const shape = [bsz * numHeads, 1, headDim];
      k = call('cat', [k._h, zeros(shape, { dtype: k.dtype, device: k.device })._h], 1);
      v = call('cat', [v._h, zeros(shape, { dtype: v.dtype, device: v.device })._h], 1);
      if (attnMask !== null) attnMask = F.pad(attnMask, [0, 1]);
      if (keyPaddingMask !== null) keyPaddingMask = F.pad(keyPaddingMask, [0, 1]);
    }
    const srcLen = k.size(1);

    // ---- merge the key padding mask into the attention mask
    if (keyPaddingMask !== null) {
      const ks = keyPaddingMask.shape;
      if (ks[0] !== bsz) fail(fn, `Expected key_padded_mask.shape[0] to be ${bsz}, but got ${ks[0]}`);
      if (ks[1] !== srcLen) fail(fn, `Expected key_padded_mask.shape[1] to be ${srcLen}, but got ${ks[1]}`);
      keyPaddingMask = keyPaddingMask
        .view(bsz, 1, 1, srcLen)
        .expand(-1, numHeads, -1, -1)
        .reshape(bsz * numHeads, 1, srcLen);
      attnMask = attnMask === null ? keyPaddingMask : attnMask.add(keyPaddingMask);
    }
    const p = training ? dropoutP : 0;

    if (needWeights) {
      const E = q.size(2);
      const qScaled = q.mul(Math.sqrt(1 / E));
      if (isCausal && attnMask === null) fail(fn, 'isCausal is not implemented for needWeights');
      let w = attnMask !== null ? call('baddbmm', attnMask._h, qScaled._h, k.transpose(-2, -1)._h, 1, 1) : qScaled.bmm(k.transpose(-2, -1));
      w = w.softmax(-1);
      if (p > 0) w = F.dropout(w, { p });
      let out = w.bmm(v);
      out = out.transpose(0, 1).reshape(tgtLen * bsz, embedDim);
      out = F.linear(out, outProjWeight, outProjBias);
      out = out.view(tgtLen, bsz, out.size(1));
      w = w.view(bsz, numHeads, tgtLen, srcLen);
      if (averageAttnWeights) w = w.mean(1);
      if (!isBatched) {
        out = out.squeeze(1);
        w = w.squeeze(0);
      }
      return [out, w] as [Tensor, Tensor | null];
    }
    if (attnMask !== null) {
      attnMask = attnMask.size(0) === 1 && attnMask.dim() === 3 ? attnMask.unsqueeze(0) : attnMask.view(bsz, numHeads, -1, srcLen);
    }
    q = q.view(bsz, numHeads, tgtLen, headDim);
    k = k.view(bsz, numHeads, srcLen, headDim);
    v = v.view(bsz, numHeads, srcLen, headDim);
    let out = call('scaled_dot_product_attention', q._h, k._h, v._h, attnMask === null ? null : attnMask._h, p, isCausal);
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgtLen, embedDim);
    out = F.linear(out, outProjWeight, outProjBias);
    out = out.view(tgtLen, bsz, out.size(1));
    if (!isBatched) out = out.squeeze(1);
    return [out, null] as [Tensor, Tensor | null];
  });
}

function mhaShapeCheck(
  fn: string,
  query: Tensor,
  key: Tensor,
  value: Tensor,
  keyPaddingMask: Tensor | null,
  attnMask: Tensor | null,
  numHeads: number,
): boolean {
  if (query.dim() === 3) {
    if (key.dim() !== 3 || value.dim() !== 3) {
      fail(fn, `For batched (3-D) \`query\`, expected \`key\` and \`value\` to be 3-D but found ${key.dim()}-D and ${value.dim()}-D tensors respectively`);
    }
    if (keyPaddingMask && keyPaddingMask.dim() !== 2) {
      fail(fn, `For batched (3-D) \`query\`, expected \`key_padding_mask\` to be \`None\` or 2-D but found ${keyPaddingMask.dim()}-D tensor instead`);
    }
    if (attnMask && attnMask.dim() !== 2 && attnMask.dim() !== 3) {
      fail(fn, `For batched (3-D) \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${attnMask.dim()}-D tensor instead`);
    }
    return true;
  }
  if (query.dim() === 2) {
    if (key.dim() !== 2 || value.dim() !== 2) {
      fail(fn, `For unbatched (2-D) \`query\`, expected \`key\` and \`value\` to be 2-D but found ${key.dim()}-D and ${value.dim()}-D tensors respectively`);
    }
    if (keyPaddingMask && keyPaddingMask.dim() !== 1) {
      fail(fn, `For unbatched (2-D) \`query\`, expected \`key_padding_mask\` to be \`None\` or 1-D but found ${keyPaddingMask.dim()}-D tensor instead`);
    }
    if (attnMask) {
      if (attnMask.dim() !== 2 && attnMask.dim() !== 3) {
        fail(fn, `For unbatched (2-D) \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${attnMask.dim()}-D tensor instead`);
      }
      const want = [numHeads, query.size(0), key.size(0)];
      if (attnMask.dim() === 3 && !sameShape(attnMask.shape, want)) {
        fail(fn, `Expected \`attn_mask\` shape to be ${pyShape(want)} but got ${sizeRepr(attnMask.shape)}`);
      }
    }
    return false;
  }
  return fail(fn, `query should be unbatched 2D or batched 3D tensor but received ${query.dim()}-D query tensor`);
}

/** PyTorch's _in_projection_packed, including its shortcuts for self- and encoder-decoder attention. */
function inProjectionPacked(q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | null): [Tensor, Tensor, Tensor] {
  const E = q.size(-1);
  if (k === v) {
    if (q === k) {
      const proj = F.linear(q, w, b).unflatten(-1, [3, E]).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous();
      return [proj.select(0, 0), proj.select(0, 1), proj.select(0, 2)];
    }
    const [wq, wkv] = w.split([E, E * 2]);
    const [bq, bkv] = b == null ? [null, null] : b.split([E, E * 2]);
    const qProj = F.linear(q, wq, bq);
    const kv = F.linear(k, wkv, bkv).unflatten(-1, [2, E]).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous();
    return [qProj, kv.select(0, 0), kv.select(0, 1)];
  }
  const [wq, wk, wv] = w.chunk(3);
  const [bq, bk, bv] = b == null ? [null, null, null] : b.chunk(3);
  return [F.linear(q, wq, bq), F.linear(k, wk, bk), F.linear(v, wv, bv)];
}

/** PyTorch's _in_projection: three projections with their shapes checked. */
function inProjection(
  fn: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  wq: Tensor,
  wk: Tensor,
  wv: Tensor,
  bq: Tensor | null,
  bk: Tensor | null,
  bv: Tensor | null,
): [Tensor, Tensor, Tensor] {
  const [Eq, Ek, Ev] = [q.size(-1), k.size(-1), v.size(-1)];
  const check = (what: string, t: Tensor | null, want: number[]) => {
    if (t != null && !sameShape(t.shape, want)) fail(fn, `expecting ${what} shape of ${pyShape(want)}, but got ${sizeRepr(t.shape)}`);
  };
  check('query weights', wq, [Eq, Eq]);
  check('key weights', wk, [Eq, Ek]);
  check('value weights', wv, [Eq, Ev]);
  check('query bias', bq, [Eq]);
  check('key bias', bk, [Eq]);
  check('value bias', bv, [Eq]);
  return [F.linear(q, wq, bq), F.linear(k, wk, bk), F.linear(v, wv, bv)];
}

/** The keyword arguments of PyTorch's `nn.MultiheadAttention`. */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights, in training mode (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Learned bias_k / bias_v appended to the key and value sequences (default false). */
  addBiasKv?: boolean;
  /** Appends a zero key and value to the sequences (default false). */
  addZeroAttn?: boolean;
  /** Features of the key (default embedDim); when kdim or vdim differ, q/k/v_proj_weight are separate. */
  kdim?: number | null;
  /** Features of the value (default embedDim). */
  vdim?: number | null;
  /** Inputs and outputs as [batch, seq, feature] (default false: [seq, batch, feature]). */
  batchFirst?: boolean;
  /** The parameters' dtype (default float32). */
  dtype?: DType;
  /** The parameters' device (default `'cpu'`). */
  device?: DeviceLike;
}

/** The keyword arguments of PyTorch's `MultiheadAttention.forward`. */
export interface MultiheadAttentionForwardOptions {
  /** [N, S] (or [S] unbatched): true (bool) = ignore this key; float masks are added. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true); false uses scaled_dot_product_attention. */
  needWeights?: boolean;
  /** [L, S] or [N * numHeads, L, S]: true (bool) = not allowed; float masks are added. */
  attnMask?: Tensor | null;
  /** Weights averaged over heads (default true), else per head. */
  averageAttnWeights?: boolean;
  /** A hint that attnMask is the causal mask. */
  isCausal?: boolean;
}

/**
 * torch.nn.MultiheadAttention: `new nn.MultiheadAttention(embedDim, numHeads, { dropout, bias,
 * addBiasKv, addZeroAttn, kdim, vdim, batchFirst })`; forward(query, key, value, { keyPaddingMask,
 * needWeights, attnMask, averageAttnWeights, isCausal }) returns [attnOutput, attnWeights | null].
 */
export class MultiheadAttention extends Module {
  /** `in_proj_weight`, [3 * embedDim, embedDim]: the packed q/k/v projections (null when kdim or vdim differ from embedDim). */
  declare inProjWeight: Parameter | null;
  /** `q_proj_weight`, [embedDim, embedDim], when kdim or vdim differ from embedDim; else null. */
  declare qProjWeight: Parameter | null;
  /** `k_proj_weight`, [embedDim, kdim], when kdim or vdim differ from embedDim; else null. */
  declare kProjWeight: Parameter | null;
  /** `v_proj_weight`, [embedDim, vdim], when kdim or vdim differ from embedDim; else null. */
  declare vProjWeight: Parameter | null;
  /** `in_proj_bias`, [3 * embedDim], or null with `bias: false`. */
  declare inProjBias: Parameter | null;
  /** `bias_k`, [1, 1, embedDim], with addBiasKv; else null. */
  declare biasK: Parameter | null;
  /** `bias_v`, [1, 1, embedDim], with addBiasKv; else null. */
  declare biasV: Parameter | null;
  /** `out_proj`: the output projection (embedDim -> embedDim). */
  declare outProj: NonDynamicallyQuantizableLinear;
  /** The model's feature size (of the query and the output). */
  readonly embedDim: number;
  /** The number of parallel attention heads; embedDim is divisible by it. */
  readonly numHeads: number;
  /** Features of the key. */
  readonly kdim: number;
  /** Features of the value. */
  readonly vdim: number;
  /** embedDim / numHeads. */
  readonly headDim: number;
  /** Dropout on the attention weights in training mode. */
  readonly dropout: number;
  /** Whether inputs and outputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;
  /** Whether a zero key and value are appended to the sequences. */
  readonly addZeroAttn: boolean;
  /** @internal */ readonly _qkvSameEmbedDim: boolean;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const fn = 'MultiheadAttention()';
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an options object', options);
    this.embedDim = checkInt(fn, 'embedDim', embedDim, 1);
    this.numHeads = checkInt(fn, 'numHeads', numHeads, 1);
    this.kdim = options.kdim == null ? embedDim : checkInt(fn, 'kdim', options.kdim, 1);
    this.vdim = options.vdim == null ? embedDim : checkInt(fn, 'vdim', options.vdim, 1);
    this._qkvSameEmbedDim = this.kdim === embedDim && this.vdim === embedDim;
    const dropout = options.dropout ?? 0;
    checkProbability(fn, 'dropout', dropout);
    this.dropout = dropout;
    this.batchFirst = options.batchFirst ?? false;
    this.addZeroAttn = options.addZeroAttn ?? false;
    this.headDim = Math.floor(embedDim / numHeads);
    if (this.headDim * numHeads !== embedDim) {
      throw new TorchError(`${fn}: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`, 'ERR_TORCH_ARG');
    }
    const bias = options.bias ?? true;
    const factory: TensorOptions = { dtype: options.dtype, device: options.device };
    // Registration order is PyTorch's (and so is the state dict's).
    if (!this._qkvSameEmbedDim) {
      this.registerParameter('q_proj_weight', newParam([embedDim, embedDim], factory));
      this.registerParameter('k_proj_weight', newParam([embedDim, this.kdim], factory));
      this.registerParameter('v_proj_weight', newParam([embedDim, this.vdim], factory));
      this.registerParameter('in_proj_weight', null);
    } else {
      this.registerParameter('in_proj_weight', newParam([3 * embedDim, embedDim], factory));
      this.registerParameter('q_proj_weight', null);
      this.registerParameter('k_proj_weight', null);
      this.registerParameter('v_proj_weight', null);
    }
    this.registerParameter('in_proj_bias', bias ? newParam([3 * embedDim], factory) : null);
    // A Linear initialises itself (drawing random numbers) before _reset_parameters, as in PyTorch.
    this.registerModule('out_proj', new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias, ...factory }));
    if (options.addBiasKv) {
      this.registerParameter('bias_k', newParam([1, 1, embedDim], factory));
      this.registerParameter('bias_v', newParam([1, 1, embedDim], factory));
    }
    // camelCase views of the snake_case names (the state-dict names stay PyTorch's).
    const view = (name: string) => ({ get: () => this._parameters.get(name) ?? null, configurable: true });
    Object.defineProperties(this, {
      inProjWeight: view('in_proj_weight'),
      qProjWeight: view('q_proj_weight'),
      kProjWeight: view('k_proj_weight'),
      vProjWeight: view('v_proj_weight'),
      inProjBias: view('in_proj_bias'),
      biasK: view('bias_k'),
      biasV: view('bias_v'),
      outProj: { get: () => this._modules.get('out_proj'), configurable: true },
    });
    this.resetParameters();
  }

  /** PyTorch's _reset_parameters (out_proj.weight keeps the Linear's own initialisation). */
  resetParameters(): void {
    if (this._qkvSameEmbedDim) xavierUniform_(this.inProjWeight!);
    else {
      xavierUniform_(this.qProjWeight!);
      xavierUniform_(this.kProjWeight!);
      xavierUniform_(this.vProjWeight!);
    }
    if (this.inProjBias) {
      constant_(this.inProjBias, 0);
      if (this.outProj.bias) constant_(this.outProj.bias, 0);
    }
    if (this.biasK) xavierNormal_(this.biasK);
    if (this.biasV) xavierNormal_(this.biasV);
  }

  /**
   * PyTorch's `torch.nn.MultiheadAttention` forward: query [L, N, embedDim], key [S, N, kdim], value [S, N, vdim] ([N, L, ...] / [N, S, ...] with batchFirst;
   * no N unbatched). Returns [attnOutput, attnWeights]: attnOutput [L, N, embedDim] ([N, L, embedDim] with batchFirst), attnWeights [N, L, S] averaged over the
   * heads ([N, numHeads, L, S] with averageAttnWeights false), or null with needWeights false.
   */
  override forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const fn = 'MultiheadAttention.forward()';
    idOf(query, fn, 'query');
    idOf(key, fn, 'key');
    idOf(value, fn, 'value');
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an options object', options);
    const needWeights = options.needWeights ?? true;
    const averageAttnWeights = options.averageAttnWeights ?? true;
    const isCausal = options.isCausal ?? false;
    for (const [n, b] of Object.entries({ needWeights, averageAttnWeights, isCausal })) {
      checkBool(fn, n, b);
    }
    let kpm = options.keyPaddingMask ?? null;
    let mask = options.attnMask ?? null;
    if (kpm !== null) idOf(kpm, fn, 'keyPaddingMask');
    if (mask !== null) idOf(mask, fn, 'attnMask');

    return tidy(() => {
      const isBatched = query.dim() === 3;
      // Float masks keep PyTorch off its fast path (checked before they are made canonical).
      const floatMasks = (mask !== null && isFloat(mask)) || (kpm !== null && isFloat(kpm));
      kpm = canonicalMask(fn, kpm, 'key_padding_mask', query.dtype);
      mask = canonicalMask(fn, mask, 'attn_mask', query.dtype);
      const outW = this.outProj.weight;
      const outB = this.outProj.bias;

      // PyTorch's inference fast path (one fused op), under the same conditions.
      const w = this.inProjWeight;
      const b = this.inProjBias;
      const fast =
        !floatMasks &&
        isBatched &&
        query === key &&
        key === value &&
        !this.training &&
        this.numHeads % 2 === 0 &&
        this.batchFirst &&
        !this.biasK &&
        !this.biasV &&
        !this.addZeroAttn &&
        this._qkvSameEmbedDim &&
        w !== null &&
        b !== null &&
        outB !== null &&
        query.dtype === w.dtype &&
        query.dtype === b.dtype &&
        !(isGradEnabled() && [query, w, b, outW, outB].some((t) => t.requiresGrad));
      if (fast) {
        let merged: Tensor | null = null;
        let maskType: number | null = null;
        if (kpm !== null) {
          maskType = 1;
          merged = kpm;
        }
        if (mask !== null) {
          const [batch, seq] = query.shape;
          maskType = 2;
          merged = mask.dim() === 3 ? mask.view(batch, -1, seq, seq) : mask.view(1, 1, seq, seq).expand(batch, this.numHeads, -1, -1);
          if (kpm !== null) merged = merged.add(kpm.view(batch, 1, 1, seq).expand(-1, this.numHeads, -1, -1));
        }
        const [out, weights] = native.callOp(
          op('_native_multi_head_attention'),
          query._h,
          key._h,
          value._h,
          this.embedDim,
          this.numHeads,
          w._h,
          b._h,
          outW._h,
          outB._h,
          merged === null ? null : merged._h,
          needWeights,
          averageAttnWeights,
          maskType,
        ) as [Id, Id | null];
        return [wrap(out), weights === null ? null : wrap(weights)] as [Tensor, Tensor | null];
      }

      let q = query;
      let k = key;
      let v = value;
      if (this.batchFirst && isBatched) {
        // Keep the identities (self-attention shortcuts) through the transpose.
        if (key === value) {
          if (query === key) q = k = v = query.transpose(1, 0);
          else {
            q = query.transpose(1, 0);
            k = v = key.transpose(1, 0);
          }
        } else {
          q = query.transpose(1, 0);
          k = key.transpose(1, 0);
          v = value.transpose(1, 0);
        }
      }
      const common = {
        training: this.training,
        keyPaddingMask: kpm,
        needWeights,
        attnMask: mask,
        averageAttnWeights,
        isCausal,
      };
      let [out, weights] = this._qkvSameEmbedDim
        ? multiHeadAttentionForward(q, k, v, this.embedDim, this.numHeads, w, b, this.biasK, this.biasV, this.addZeroAttn, this.dropout, outW, outB, common)
        : multiHeadAttentionForward(q, k, v, this.embedDim, this.numHeads, w, b, this.biasK, this.biasV, this.addZeroAttn, this.dropout, outW, outB, {
            ...common,
            useSeparateProjWeight: true,
            qProjWeight: this.qProjWeight,
            kProjWeight: this.kProjWeight,
            vProjWeight: this.vProjWeight,
          });
      if (this.batchFirst && isBatched) out = out.transpose(1, 0);
      return [out, weights] as [Tensor, Tensor | null];
    });
  }
}

markRetainsNothing(NonDynamicallyQuantizableLinear, MultiheadAttention);
