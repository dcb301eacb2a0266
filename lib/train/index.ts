/** torch.utils: freezing, state-dict recipes, model summaries (training loops arrive with the training issue). */
export * from './freeze';
export { summary } from './summary';
