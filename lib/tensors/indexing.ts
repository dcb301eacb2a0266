/**
 * Indexing, slicing, joining (PyTorch's "Indexing, Slicing, Joining, Mutating Ops"): select, narrow,
 * slice, index (Python's `x[...]`), indexPut_, masked ops, gather, indexSelect, split, chunk,
 * unbind. Added to Tensor by addMethods (lib/tensor.ts).
 */
import { native, type Id } from '../binding';
import { checkDims, checkInt, checkScalar, idOf, selfId } from '../checks';
import { TorchError, argError } from '../errors';
import { callInplace, callOp, callOps } from '../ops/call';
import { INTS, codeOf } from '../ops/codes';
import { Tensor, addMethods, wrap, type Scalar, type TensorOrScalar } from '../tensor';

/** One entry of Tensor.index(): a number (select), slice(...), null (new axis), '...', or a tensor. */
export type IndexItem = number | Slice | null | '...' | Tensor;

/** Python's `slice(start, stop, step)` as an index item; made with slice(). */
export class Slice {
  constructor(
    /** The first index (null: from the beginning; negative counts from the end). */
    readonly start: number | null = null,
    /** The index to stop before (null: to the end; negative counts from the end). */
    readonly end: number | null = null,
    /** The stride, a positive integer (default 1). */
    readonly step: number = 1,
  ) {}
}

/** The slice helper: `x.index([slice(1, 3), 0])` is Python's `x[1:3, 0]`. */
export function slice(start: number | null = null, end: number | null = null, step = 1): Slice {
  if (start !== null && !Number.isInteger(start)) argError('slice()', 'start', 'an integer or null', start);
  if (end !== null && !Number.isInteger(end)) argError('slice()', 'end', 'an integer or null', end);
  if (!Number.isInteger(step) || step <= 0) argError('slice()', 'step', 'a positive integer', step);
  return new Slice(start, end, step);
}

// The unboxed entry points (binding/ops/pointwise.def) of the calls Python's x[...] makes.
const SELECT = codeOf(INTS, 'select');
const NARROW = codeOf(INTS, 'narrow');
const SLICE = codeOf(INTS, 'slice');

export class TensorIndexing {
  /** PyTorch's `select(dim, index)`: the view at `index` along `dim`, with that dimension removed (Python's `x[:, i]`). */
  select(this: Tensor, dim: number, index: number): Tensor {
    checkInt('select()', 'dim', dim);
    checkInt('select()', 'index', index);
    return wrap(native.intsOp(SELECT, selfId(this, 'select()'), dim, index));
  }
  /** PyTorch's `narrow(dim, start, length)`: a view of `length` elements along `dim` from `start`. */
  narrow(this: Tensor, dim: number, start: number, length: number): Tensor {
    checkInt('narrow()', 'dim', dim);
    checkInt('narrow()', 'start', start);
    checkInt('narrow()', 'length', length);
    return wrap(native.intsOp(NARROW, selfId(this, 'narrow()'), dim, start, length));
  }
  /** Python's x[start:end:step] along one dimension. */
  slice(this: Tensor, dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    checkInt('slice()', 'dim', dim);
    const s = slice(start, end, step);
    return wrap(native.intsOp(SLICE, selfId(this, 'slice()'), dim, s.start, s.end, s.step));
  }
  /**
   * Python indexing: `x.index([0, slice(1, 3), null, idxTensor])` is `x[0, 1:3, None, idx]`. Numbers
   * select, slices slice, null adds an axis, '...' skips the remaining dimensions, integer tensors
   * and boolean masks index like PyTorch's advanced indexing. A single tensor may be passed alone.
   */
  index(this: Tensor, indices: IndexItem[] | Tensor): Tensor {
    // The most common form, x[a:b] or x[i], is one unboxed call (as Python's one aten::slice or
    // aten::select); if it throws, the general path below runs and gives its own message.
    if (Array.isArray(indices) && indices.length === 1) {
      const x = indices[0];
      const id = this._h;
      if (id >= 0) {
        try {
          if (x instanceof Slice) return wrap(x.step === 1 ? native.intsOp(SLICE, id, 0, x.start, x.end) : native.intsOp(SLICE, id, 0, x.start, x.end, x.step));
          if (typeof x === 'number' && Number.isInteger(x)) return wrap(native.intsOp(SELECT, id, 0, x));
        } catch {
          /* the general path says what is wrong */
        }
      }
    }
    const items = indices instanceof Tensor ? [indices] : indices;
    if (!Array.isArray(items)) argError('index()', 'indices', 'an array of index items or a Tensor', indices);
    const ellipses = items.filter((x) => x === '...').length;
    if (ellipses > 1) throw new TorchError("index(): at most one '...' may appear", 'ERR_TORCH_ARG');
    const ndim = this.ndim;
    const consumed = items.reduce<number>((n, x) => n + (x === null || x === '...' ? 0 : x instanceof Tensor && x.dtype === 'bool' ? x.ndim : 1), 0);
    if (consumed > ndim) {
      throw new TorchError(`index(): too many indices for a tensor of dimension ${ndim} (got ${consumed})`, 'ERR_TORCH_ARG');
    }
    let cur: Tensor = this;
    const made: Tensor[] = [];
    const advanced: (Tensor | null)[] = [];
    let dim = 0;
    const step = (t: Tensor) => {
      if (cur !== this) made.push(cur);
      cur = t;
    };
    items.forEach((x, i) => {
      if (typeof x === 'number') {
        checkInt('index()', `indices[${i}]`, x);
        step(cur.select(dim, x));
      } else if (x instanceof Slice) {
        step(cur.slice(dim, x.start, x.end, x.step));
        advanced[dim] = null;
        dim++;
      } else if (x === null) {
        step(cur.unsqueeze(dim));
        advanced[dim] = null;
        dim++;
      } else if (x === '...') {
        const skip = ndim - consumed;
        for (let k = 0; k < skip; k++) advanced[dim + k] = null;
        dim += skip;
      } else if (x instanceof Tensor) {
        idOf(x, 'index()', `indices[${i}]`);
        advanced[dim] = x;
        dim += x.dtype === 'bool' ? x.ndim : 1;
        for (let k = advanced.length; k < dim; k++) advanced[k] = null;
      } else {
        argError('index()', `indices[${i}]`, "a number, slice(), null, '...' or a Tensor", x);
      }
    });
    if (advanced.some((a) => a instanceof Tensor)) {
      // Drop trailing nulls; booleans masks span several dims, so pad like PyTorch's applySlicing.
      const list: (Id | null)[] = [];
      let last = 0;
      for (let k = 0; k < advanced.length; k++) if (advanced[k] instanceof Tensor) last = k;
      for (let k = 0; k <= last; k++) {
        const a = advanced[k];
        if (a === undefined) continue;
        list.push(a === null ? null : a._h);
        if (a instanceof Tensor && a.dtype === 'bool') k += a.ndim - 1;
      }
      step(callOp('index.Tensor', cur._h, list));
    }
    for (const t of made) t.dispose();
    return cur === this ? wrap(native.alias(this._h)) : cur;
  }
  /** x[indices] = values (in place), with the same index items as index() for tensors. */
  indexPut_<T extends Tensor>(this: T, indices: (Tensor | null)[], values: TensorOrScalar, accumulate = false): T {
    const id = selfId(this, 'indexPut_()');
    const list = indices.map((t, i) => (t === null ? null : idOf(t, 'indexPut_()', `indices[${i}]`)));
    const v = values instanceof Tensor ? values : null;
    if (v) callInplace('index_put_', id, list, idOf(v, 'indexPut_()', 'values'), accumulate);
    else {
      const tmp = callOp('scalar_tensor', checkScalar('indexPut_()', 'values', values), native.dtype(id), null, native.device(id));
      try {
        callInplace('index_put_', id, list, tmp._h, accumulate);
      } finally {
        tmp.dispose();
      }
    }
    return this;
  }
  /** PyTorch's `masked_fill(mask, value)`: a copy with `value` where the boolean `mask` (broadcast) is true. */
  maskedFill(this: Tensor, mask: Tensor, value: Scalar): Tensor {
    return callOp('masked_fill.Scalar', selfId(this, 'maskedFill()'), idOf(mask, 'maskedFill()', 'mask'), checkScalar('maskedFill()', 'value', value));
  }
  /** PyTorch's `masked_fill_(mask, value)`: maskedFill in place; returns this. */
  maskedFill_<T extends Tensor>(this: T, mask: Tensor, value: Scalar): T {
    callInplace('masked_fill_.Scalar', selfId(this, 'maskedFill_()'), idOf(mask, 'maskedFill_()', 'mask'), checkScalar('maskedFill_()', 'value', value));
    return this;
  }
  /** PyTorch's `masked_select(mask)`: a 1-D tensor of the elements where the boolean `mask` (broadcast) is true. */
  maskedSelect(this: Tensor, mask: Tensor): Tensor {
    return callOp('masked_select', selfId(this, 'maskedSelect()'), idOf(mask, 'maskedSelect()', 'mask'));
  }
  /** PyTorch's `gather(dim, index)`: `out[i][j] = x[index[i][j]][j]` for dim 0 (and so on); `index` is int64. */
  gather(this: Tensor, dim: number, index: Tensor): Tensor {
    checkInt('gather()', 'dim', dim);
    return callOp('gather', selfId(this, 'gather()'), dim, idOf(index, 'gather()', 'index'));
  }
  /** PyTorch's `index_select(dim, index)`: the entries along `dim` at the positions in the 1-D int64 `index`. */
  indexSelect(this: Tensor, dim: number, index: Tensor): Tensor {
    checkInt('indexSelect()', 'dim', dim);
    return callOp('index_select', selfId(this, 'indexSelect()'), dim, idOf(index, 'indexSelect()', 'index'));
  }
  /** PyTorch's `split(split_size_or_sections, dim=0)`: views of `splitSize` elements each along `dim` (the last may be smaller), or of the sizes in an array. */
  split(this: Tensor, splitSize: number | number[], dim = 0): Tensor[] {
    const id = selfId(this, 'split()');
    checkInt('split()', 'dim', dim);
    if (Array.isArray(splitSize)) {
      return callOps('split_with_sizes', id, checkDims('split()', 'splitSize', splitSize), dim);
    }
    if (!Number.isInteger(splitSize) || splitSize <= 0) argError('split()', 'splitSize', 'a positive integer or an array of sizes', splitSize);
    return callOps('split.Tensor', id, splitSize, dim);
  }
  /** PyTorch's `chunk(chunks, dim=0)`: at most `chunks` views of equal size (the last may be smaller) along `dim`. */
  chunk(this: Tensor, chunks: number, dim = 0): Tensor[] {
    if (!Number.isInteger(chunks) || chunks <= 0) argError('chunk()', 'chunks', 'a positive integer', chunks);
    checkInt('chunk()', 'dim', dim);
    return callOps('chunk', selfId(this, 'chunk()'), chunks, dim);
  }
  /** PyTorch's `unbind(dim=0)`: every slice along `dim`, with that dimension removed. */
  unbind(this: Tensor, dim = 0): Tensor[] {
    checkInt('unbind()', 'dim', dim);
    return callOps('unbind.int', selfId(this, 'unbind()'), dim);
  }
}

declare module '../tensor' {
  interface Tensor extends TensorIndexing {}
}
addMethods(TensorIndexing);
