/** torch.nn: `torch.nn.functional` (F) now; modules arrive with the nn.Module issue. */
export * as functional from './functional';
