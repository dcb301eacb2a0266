/** torch.utils: freezing, state-dict recipes, model summaries (training loops arrive with the training issue). */
export * from './freeze';
export { summary } from './summary';
export { saveCheckpoint, loadCheckpoint } from './checkpoint';
export type { CheckpointParts, LoadedCheckpoint, Stateful } from './checkpoint';
export { clipGradNorm_, clipGradValue_ } from './clip';
export * as data from './data';
export { DataLoader, TensorDataset, Subset, randomSplit, defaultCollate } from './data';
export type { Dataset } from './data';
