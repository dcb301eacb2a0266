/**
 * torch.nn.SyncBatchNorm: BatchNorm whose training statistics are those of the whole distributed
 * batch (every rank's shard), as PyTorch's, for DistributedDataParallel with small per-rank batches.
 *
 * Same parameters, buffers, state-dict keys and numerics as BatchNorm over the concatenated batch:
 * mean and variance come from two all-reduces (sums, then squared deviations, so the variance is as
 * exact as one process's), the running statistics take the unbiased variance over all ranks, and in
 * backward the gradient reaches every rank's input through the all-reduces' backward
 * (torch.distributed.nn.functional.allReduce, c10d underneath). Without a process group, with one
 * rank, or in eval mode it is plain BatchNorm (as PyTorch's). One difference, stated: PyTorch
 * refuses CPU input in distributed training ("expected input tensor to be on GPU"); here CPU tensors
 * synchronize over Gloo, CUDA tensors over the group's CUDA backend (NCCL or Gloo).
 */
import { noGrad } from '../autograd';
import { TorchError, argError } from '../errors';
import { Tensor } from '../tensor';
import { cat } from '../functions';
import { full } from '../creation';
import * as distributed from '../distributed';
import { BatchNormNd, type BatchNormOptions } from './layers';
import type { Module } from './module';

/** The keyword arguments of PyTorch's `nn.SyncBatchNorm`: BatchNorm's plus `processGroup`. */
export interface SyncBatchNormOptions extends BatchNormOptions {
  /** The group whose ranks share statistics (default: the whole world, as PyTorch's). */
  processGroup?: distributed.ProcessGroup | null;
}

/**
 * PyTorch's `torch.nn.SyncBatchNorm(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, process_group=None)`:
 * BatchNorm over any [N, C, ...] input whose training statistics are those of the whole distributed batch (every
 * rank's shard), for DistributedDataParallel with small per-rank batches. Without a process group, with one rank, or
 * in eval mode it is plain BatchNorm. Unlike PyTorch, CPU tensors work too (synchronized over Gloo).
 */
export class SyncBatchNorm extends BatchNormNd {
  /** The group whose ranks share statistics (null: the default group). */
  processGroup: distributed.ProcessGroup | null;
  constructor(numFeatures: number, options: SyncBatchNormOptions = {}) {
    const { processGroup, ...rest } = options;
    super('SyncBatchNorm', [], numFeatures, rest);
    if (processGroup != null && !(processGroup instanceof distributed.ProcessGroup)) {
      argError('SyncBatchNorm()', 'processGroup', 'a torch.distributed ProcessGroup or null', processGroup);
    }
    this.processGroup = processGroup ?? null;
  }

  protected override checkInput(x: Tensor): void {
    if (!(x instanceof Tensor)) argError('SyncBatchNorm.forward()', 'input', 'a Tensor', x);
    if (x.dim() < 2) throw new TorchError(`SyncBatchNorm: expected at least 2D input (got ${x.dim()}D input)`, 'ERR_TORCH_ARG');
    if (x.shape[1] === 0) throw new TorchError('SyncBatchNorm: the number of input channels should be non-zero', 'ERR_TORCH_ARG');
  }

  protected override normalize(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, training: boolean, momentum: number): Tensor {
    // As PyTorch: synchronize only while training on batch statistics in an initialized job of 2+ ranks.
    const group = training && this.training && distributed.isInitialized() ? distributed.groupOf('SyncBatchNorm.forward()', this.processGroup) : null;
    if (!group || group.size < 2) return super.normalize(x, runningMean, runningVar, training, momentum);
    return syncBatchNorm(x, this.weight, this.bias, runningMean, runningVar, this.eps, momentum, group);
  }

  /**
   * PyTorch's SyncBatchNorm.convert_sync_batchnorm: every BatchNorm1d/2d/3d in `module` (or `module`
   * itself) replaced by a SyncBatchNorm sharing its parameters, buffers and training flag, in the same
   * place; returns the module (a new one when `module` itself was a BatchNorm).
   */
  static convertSyncBatchnorm<M extends Module>(module: M, processGroup: distributed.ProcessGroup | null = null): M {
    let out: Module = module;
    if (module instanceof BatchNormNd && !(module instanceof SyncBatchNorm)) {
      const bn = module;
      const s = new SyncBatchNorm(bn.numFeatures, {
        eps: bn.eps,
        momentum: bn.momentum,
        affine: bn.affine,
        trackRunningStats: bn.trackRunningStats,
        bias: !bn.affine || bn.bias !== null,
        processGroup,
      });
      if (bn.affine) {
        s.registerParameter('weight', bn.weight);
        s.registerParameter('bias', bn.bias);
      }
      s.registerBuffer('running_mean', bn.runningMean);
      s.registerBuffer('running_var', bn.runningVar);
      s.registerBuffer('num_batches_tracked', bn.numBatchesTracked);
      s.training = bn.training;
      out = s;
    }
    for (const [name, child] of module.namedChildren()) out.addModule(name, SyncBatchNorm.convertSyncBatchnorm(child, processGroup));
    return out as M;
  }
}

/** The statistics of the batch over every rank of `group`, then the affine normalization. */
function syncBatchNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  eps: number,
  momentum: number,
  group: distributed.ProcessGroup,
): Tensor {
  const allReduce = (t: Tensor) => distributed.nn.functional.allReduce(t, { group });
  const C = x.shape[1];
  const dims = [0, ...Array.from({ length: x.dim() - 2 }, (_, i) => i + 2)];
  const view = [1, C, ...Array(x.dim() - 2).fill(1)];
  const local = x.numel() / C;
  // One all-reduce for the sums and the count (a rank with an empty shard contributes nothing).
  const sums = allReduce(cat([x.sum(dims), full([1], local, { dtype: x.dtype, device: x.device })]));
  const count = sums.narrow(0, C, 1).item() as number;
  if (count <= 1) {
    throw new TorchError(`SyncBatchNorm: expected more than 1 value per channel when training, got ${count} over all ranks`, 'ERR_TORCH_ARG');
  }
  const mean = sums.narrow(0, 0, C).div(count);
  const centered = x.sub(mean.view(view));
  const variance = allReduce(centered.square().sum(dims)).div(count);
  let y = centered.mul(variance.add(eps).rsqrt().view(view));
  if (weight) y = y.mul(weight.view(view));
  if (bias) y = y.add(bias.view(view));
  noGrad(() => {
    if (runningMean) runningMean.mul_(1 - momentum).add_(mean.detach().mul(momentum));
    if (runningVar) runningVar.mul_(1 - momentum).add_(variance.detach().mul((momentum * count) / (count - 1)));
  });
  return y;
}
