/** Embeddings (torch/nn/modules/sparse.py). */
import { checkInt } from '../../checks';
import { argError } from '../../errors';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { normal_, zeros_ } from '../init';
import { Module, type Parameter } from '../module';
import { type FactoryOptions, newParam } from './common';

/**
 * PyTorch's `torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None)`: a lookup table; forward maps
 * an integer tensor of indices to their rows, [..., embeddingDim].
 */
export class Embedding extends Module {
  /** The table, [numEmbeddings, embeddingDim], initialised from N(0, 1). */
  declare weight: Parameter;
  /** The row that is zeroed at initialisation and gets no gradient (PyTorch's `padding_idx`, made non-negative), or null. */
  readonly paddingIdx: number | null;
  constructor(
    /** The number of rows (the vocabulary size). */
    readonly numEmbeddings: number,
    /** The size of each row. */
    readonly embeddingDim: number,
    options: { paddingIdx?: number | null } & FactoryOptions = {},
  ) {
    super();
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
    return F.embedding(x, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
  }
}
