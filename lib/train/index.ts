/**
 * torch.utils: freezing, state-dict recipes, model summaries, data, checkpoints, fit() with callbacks, learning curves.
 * @module
 */
export * from './freeze';
export { summary } from './summary';
export { saveCheckpoint, loadCheckpoint } from './checkpoint';
export type { CheckpointParts, LoadedCheckpoint, Stateful } from './checkpoint';
export { clipGradNorm_, clipGradValue_ } from './clip';
export * as data from './data';
export { DataLoader, TensorDataset, Subset, randomSplit, defaultCollate, DistributedSampler } from './data';
export type { Dataset } from './data';
export { fit, formatLogs } from './fit';
export type { FitOptions, FitResult, Metric } from './fit';
export { EarlyStopping, ModelCheckpoint } from './callbacks';
export type { Callback, FitContext, History, Logs, EarlyStoppingOptions, ModelCheckpointOptions } from './callbacks';
export { plotHistory } from './plot';
export type { PlotOptions } from './plot';
