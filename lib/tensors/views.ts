/**
 * Views (PyTorch's "view ops"): reshape, view, expand, permute, transpose, squeeze, unsqueeze,
 * flatten and unflatten. Added to Tensor by addMethods (lib/tensor.ts).
 */
import { native } from '../binding';
import { checkDims, checkInt, selfId, shapeFrom } from '../checks';
import { callOp } from '../ops/call';
import { DIM, INTS, SHAPE, codeOf } from '../ops/codes';
import { addMethods, wrap, type Tensor } from '../tensor';

/** Both Python forms of a shape: `reshape(2, 3)` and `reshape([2, 3])`. */
export type ShapeArgs = number[] | [number[]];

// The unboxed entry points these views use (binding/ops/pointwise.def).
const RESHAPE = codeOf(SHAPE, 'reshape');
const VIEW = codeOf(SHAPE, 'view');
const EXPAND = codeOf(SHAPE, 'expand');
const PERMUTE = codeOf(SHAPE, 'permute');
const TRANSPOSE = codeOf(INTS, 'transpose');
const FLATTEN = codeOf(INTS, 'flatten');
const SQUEEZE = codeOf(DIM, 'squeeze');
const UNSQUEEZE = codeOf(DIM, 'unsqueeze');

export class TensorViews {
  /** PyTorch's `reshape(*shape)`: the same elements in a new shape, a view when possible; one dimension may be -1 (inferred). */
  reshape(this: Tensor, ...shape: ShapeArgs): Tensor {
    return wrap(native.shapeOp(RESHAPE, selfId(this, 'reshape()'), ...shapeFrom('reshape()', shape, true)));
  }
  /** PyTorch's `view(*shape)`: a view with a new shape sharing this tensor's storage; one dimension may be -1. Throws if the strides do not allow a view (use reshape). */
  view(this: Tensor, ...shape: ShapeArgs): Tensor {
    return wrap(native.shapeOp(VIEW, selfId(this, 'view()'), ...shapeFrom('view()', shape, true)));
  }
  /** PyTorch's `expand(*sizes)`: a broadcast view where size-1 dimensions repeat to `shape` (-1 keeps a size); no copy. */
  expand(this: Tensor, ...shape: ShapeArgs): Tensor {
    return wrap(native.shapeOp(EXPAND, selfId(this, 'expand()'), ...shapeFrom('expand()', shape, true)));
  }
  /** PyTorch's `expand_as(other)`: `expand(other.shape)`. */
  expandAs(this: Tensor, other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  /** PyTorch's `reshape_as(other)`: `reshape(other.shape)`. */
  reshapeAs(this: Tensor, other: Tensor): Tensor {
    return this.reshape(other.shape);
  }
  /** PyTorch's `view_as(other)`: `view(other.shape)`. */
  viewAs(this: Tensor, other: Tensor): Tensor {
    return this.view(other.shape);
  }
  /** PyTorch's `permute(*dims)`: a view with the dimensions reordered, `permute(2, 0, 1)` or `permute([2, 0, 1])`. */
  permute(this: Tensor, ...dims: ShapeArgs): Tensor {
    const d = dims.length === 1 && Array.isArray(dims[0]) ? dims[0] : (dims as number[]);
    return wrap(native.shapeOp(PERMUTE, selfId(this, 'permute()'), ...checkDims('permute()', 'dims', d)));
  }
  /** PyTorch's `transpose(dim0, dim1)`: a view with two dimensions swapped. */
  transpose(this: Tensor, dim0: number, dim1: number): Tensor {
    checkInt('transpose()', 'dim0', dim0);
    checkInt('transpose()', 'dim1', dim1);
    return wrap(native.intsOp(TRANSPOSE, selfId(this, 'transpose()'), dim0, dim1));
  }
  /** PyTorch's `squeeze(dim=None)`: removes size-1 dimensions (all of them, or only those in `dim`). */
  squeeze(this: Tensor, dim?: number | number[]): Tensor {
    const id = selfId(this, 'squeeze()');
    if (dim === undefined) return callOp('squeeze', id);
    if (typeof dim === 'number') return wrap(native.dimOp(SQUEEZE, id, checkInt('squeeze()', 'dim', dim)));
    return callOp('squeeze.dims', id, checkDims('squeeze()', 'dim', dim));
  }
  /** PyTorch's `unsqueeze(dim)`: a view with a size-1 dimension inserted at `dim`. */
  unsqueeze(this: Tensor, dim: number): Tensor {
    return wrap(native.dimOp(UNSQUEEZE, selfId(this, 'unsqueeze()'), checkInt('unsqueeze()', 'dim', dim)));
  }
  /** PyTorch's `flatten(start_dim=0, end_dim=-1)`: merges dimensions `startDim`..`endDim` into one. */
  flatten(this: Tensor, startDim = 0, endDim = -1): Tensor {
    checkInt('flatten()', 'startDim', startDim);
    checkInt('flatten()', 'endDim', endDim);
    return wrap(native.intsOp(FLATTEN, selfId(this, 'flatten()'), startDim, endDim));
  }
  /** PyTorch's `unflatten(dim, sizes)`: splits dimension `dim` into `sizes` (one may be -1). */
  unflatten(this: Tensor, dim: number, sizes: number[]): Tensor {
    checkInt('unflatten()', 'dim', dim);
    return callOp('unflatten.int', selfId(this, 'unflatten()'), dim, shapeFrom('unflatten()', [sizes], true));
  }
}

declare module '../tensor' {
  interface Tensor extends TensorViews {}
}
addMethods(TensorViews);
