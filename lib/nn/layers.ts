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
