/**
 * torch.nn: Module, Parameter, layers, containers, torch.nn.functional (F) and torch.nn.init.
 * @module
 */
export { Module, Parameter } from './module';
export type { LoadResult, StateDictLike } from './module';
export * from './layers';
export * from './rnn';
export * from './attention';
export * from './loss';
export * as utils from './utils';
export * as functional from './functional';
export * as init from './init';
export * as parallel from './parallel';
export { DataParallel } from './parallel';
export { Frozen } from '../train/freeze';
export { SyncBatchNorm } from './sync-batchnorm';
