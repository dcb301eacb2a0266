/** Embeddings (torch/nn/modules/sparse.py). */
import { checkBool, checkInt, checkNumber, idOf } from '../../checks';
import { argError } from '../../errors';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { normal_, zeros_ } from '../init';
import { Module, type Parameter } from '../module';
import { noGrad } from '../../autograd';
import { TorchError } from '../../errors';
import { callInplace } from '../../ops/call';
import { FACTORY_KEYS, type FactoryOptions, layerOptions, newParam, pyFloat } from './common';

/**
 * PyTorch's `torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None)`: a lookup table; forward maps
 * an integer tensor of indices to their rows, [..., embeddingDim].
 */
export class Embedding extends Module {
  /** The table, [numEmbeddings, embeddingDim], initialised from N(0, 1). */
  declare weight: Parameter;
  /** The row that is zeroed at initialisation and gets no gradient (PyTorch's `padding_idx`, made non-negative), or null. */
  readonly paddingIdx: number | null;
  /** Rows looked up whose norm exceeds this are renormalised to it in place, as PyTorch's `max_norm` (default null: never). */
  readonly maxNorm: number | null;
  /** The p of the norm maxNorm bounds (default 2). */
  readonly normType: number;
  /** Scale each row's gradient by the inverse of its frequency in the mini-batch (default false). */
  readonly scaleGradByFreq: boolean;
  constructor(
    /** The number of rows (the vocabulary size). */
    readonly numEmbeddings: number,
    /** The size of each row. */
    readonly embeddingDim: number,
    options: { paddingIdx?: number | null; maxNorm?: number | null; normType?: number; scaleGradByFreq?: boolean; sparse?: false } & FactoryOptions = {},
  ) {
    super();
    layerOptions('Embedding()', options, ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse', ...FACTORY_KEYS]);
    if (options.sparse !== undefined && options.sparse !== false) {
      throw new TorchError("Embedding(): sparse gradients are not supported by torch-node; leave 'sparse' false (dense gradients)", 'ERR_TORCH_ARG');
    }
    this.maxNorm = options.maxNorm ?? null;
    if (this.maxNorm !== null) checkNumber('Embedding()', 'maxNorm', this.maxNorm);
    this.normType = checkNumber('Embedding()', 'normType', options.normType ?? 2);
    this.scaleGradByFreq = checkBool('Embedding()', 'scaleGradByFreq', options.scaleGradByFreq ?? false);
    checkInt('Embedding()', 'numEmbeddings', numEmbeddings, 1);
    checkInt('Embedding()', 'embeddingDim', embeddingDim, 1);
    let pad = options.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        argError('Embedding()', 'paddingIdx', `an integer in [-${numEmbeddings}, ${numEmbeddings})`, pad);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.registerParameter('weight', newParam([numEmbeddings, embeddingDim], options));
    this.resetParameters();
  }
  /** PyTorch's reset_parameters: N(0, 1), the padding row zeroed. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.weight.select(0, this.paddingIdx);
      zeros_(row);
      row.dispose();
    }
  }
  /** PyTorch's `torch.nn.Embedding` forward: the table's rows at integer indices [...] -> [..., embeddingDim] (the paddingIdx row gets no gradient). */
  override forward(x: Tensor): Tensor {
    // As PyTorch's F.embedding with max_norm: the looked-up rows renormalised in place first, outside autograd.
    if (this.maxNorm !== null)
      noGrad(() =>
        callInplace(
          'embedding_renorm_',
          idOf(this.weight, 'Embedding.forward()', 'weight'),
          idOf(x, 'Embedding.forward()', 'input'),
          this.maxNorm,
          this.normType,
        ),
      );
    return F.embedding(x, this.weight, { paddingIdx: this.paddingIdx, scaleGradByFreq: this.scaleGradByFreq });
  }
  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    return s;
  }
}
