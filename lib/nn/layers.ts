/**
 * Built-in layers with PyTorch's parameter and buffer names (state dicts interoperate), PyTorch's
 * initialisation (same ATen random calls in the same order: after manualSeed they match PyTorch's
 * values), and PyTorch's printed form (extra_repr). One file per area under modules/, as
 * torch/nn/modules: linear, conv, normalization, dropout, sparse, pooling, activation, container.
 */
export { type FactoryOptions, pyFloat, newParam } from './modules/common';
export * from './modules/linear';
export * from './modules/conv';
export * from './modules/normalization';
export * from './modules/dropout';
export * from './modules/sparse';
export * from './modules/pooling';
export * from './modules/activation';
export * from './modules/container';

import { Module, markRetainsNothing } from './module';
import * as linear from './modules/linear';
import * as conv from './modules/conv';
import * as normalization from './modules/normalization';
import * as dropout from './modules/dropout';
import * as sparse from './modules/sparse';
import * as pooling from './modules/pooling';
import * as activation from './modules/activation';
import * as container from './modules/container';

// Every built-in layer keeps nothing of what its forward is given or returns (Sequential frees intermediates between them).
for (const area of [linear, conv, normalization, dropout, sparse, pooling, activation, container]) {
  for (const v of Object.values(area)) if (typeof v === 'function' && v.prototype instanceof Module) markRetainsNothing(v as never);
}
