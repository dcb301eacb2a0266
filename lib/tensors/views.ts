/**
 * Views (PyTorch's "view ops"): reshape, view, expand, permute, transpose, squeeze, unsqueeze,
 * flatten and unflatten. Added to Tensor by addMethods (lib/tensor.ts).
 */
import { checkDims, checkInt, selfId, shapeFrom } from '../checks';
import { callOp } from '../ops/call';
import { addMethods, type Tensor } from '../tensor';

/** Both Python forms of a shape: `reshape(2, 3)` and `reshape([2, 3])`. */
export type ShapeArgs = number[] | [number[]];

export class TensorViews {
  reshape(this: Tensor, ...shape: ShapeArgs): Tensor {
    return callOp('reshape', selfId(this, 'reshape()'), shapeFrom('reshape()', shape, true));
  }
  view(this: Tensor, ...shape: ShapeArgs): Tensor {
    return callOp('view', selfId(this, 'view()'), shapeFrom('view()', shape, true));
  }
  expand(this: Tensor, ...shape: ShapeArgs): Tensor {
    return callOp('expand', selfId(this, 'expand()'), shapeFrom('expand()', shape, true));
  }
  expandAs(this: Tensor, other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  reshapeAs(this: Tensor, other: Tensor): Tensor {
    return this.reshape(other.shape);
  }
  viewAs(this: Tensor, other: Tensor): Tensor {
    return this.view(other.shape);
  }
  permute(this: Tensor, ...dims: ShapeArgs): Tensor {
    const d = dims.length === 1 && Array.isArray(dims[0]) ? dims[0] : (dims as number[]);
    return callOp('permute', selfId(this, 'permute()'), checkDims('permute()', 'dims', d));
  }
  transpose(this: Tensor, dim0: number, dim1: number): Tensor {
    checkInt('transpose()', 'dim0', dim0);
    checkInt('transpose()', 'dim1', dim1);
    return callOp('transpose.int', selfId(this, 'transpose()'), dim0, dim1);
  }
  squeeze(this: Tensor, dim?: number | number[]): Tensor {
    const id = selfId(this, 'squeeze()');
    if (dim === undefined) return callOp('squeeze', id);
    if (typeof dim === 'number') return callOp('squeeze.dim', id, checkInt('squeeze()', 'dim', dim));
    return callOp('squeeze.dims', id, checkDims('squeeze()', 'dim', dim));
  }
  unsqueeze(this: Tensor, dim: number): Tensor {
    return callOp('unsqueeze', selfId(this, 'unsqueeze()'), checkInt('unsqueeze()', 'dim', dim));
  }
  flatten(this: Tensor, startDim = 0, endDim = -1): Tensor {
    checkInt('flatten()', 'startDim', startDim);
    checkInt('flatten()', 'endDim', endDim);
    return callOp('flatten.using_ints', selfId(this, 'flatten()'), startDim, endDim);
  }
  unflatten(this: Tensor, dim: number, sizes: number[]): Tensor {
    checkInt('unflatten()', 'dim', dim);
    return callOp('unflatten.int', selfId(this, 'unflatten()'), dim, shapeFrom('unflatten()', [sizes], true));
  }
}

declare module '../tensor' {
  interface Tensor extends TensorViews {}
}
addMethods(TensorViews);
