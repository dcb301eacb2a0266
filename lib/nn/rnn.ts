/**
 * Recurrent layers: RNN, LSTM and GRU, as torch.nn's. The same parameters in the same order
 * (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0[, weight_hr_l0], then `_reverse`, then the next
 * layer), the same initialisation (uniform(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)) over the
 * parameters in that order, so after torch.manualSeed(s) the weights are PyTorch's), and the same
 * forward: one call to aten::lstm / aten::gru / aten::rnn_tanh / aten::rnn_relu with the flat weight
 * list, which is what PyTorch's modules call (inter-layer dropout in training mode included).
 *
 * Results are arrays where PyTorch returns tuples: LSTM gives [output, [hN, cN]], GRU and RNN give
 * [output, hN]. Unbatched input (2-D: [seq, feature]) works as in PyTorch.
 *
 * Not supported: PackedSequence input. On CUDA the weights are not flattened into one cuDNN buffer
 * (flatten_parameters); libtorch copies them per call instead, with its one-time warning.
 */
import { native, type Id } from '../binding';
import { checkBool, checkInt, checkProbability } from '../checks';
import { zeros, type TensorOptions } from '../creation';
import type { DeviceLike } from '../device';
import type { DType } from '../dtype';
import { TorchError, argError } from '../errors';
import { op } from '../ops/handles';
import { tidy } from '../scope';
import { type Tensor, idOf, wrap } from '../tensor';
import { uniform_ } from './init';
import { newParam, pyFloat } from './layers';
import { Module, type Parameter, markRetainsNothing } from './module';

/** The keyword arguments RNN, LSTM and GRU share (PyTorch's `num_layers=`, `bias=`, `batch_first=`, `dropout=`, `bidirectional=`, `dtype=`, `device=`). */
export interface RNNBaseOptions {
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Whether the layers have bias_ih / bias_hh (default true). */
  bias?: boolean;
  /** Input and output as [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Default false. */
  bidirectional?: boolean;
  /** The parameters' dtype (default float32). */
  dtype?: DType;
  /** The parameters' device (default `'cpu'`). */
  device?: DeviceLike;
}

/** The keyword arguments of PyTorch's `nn.LSTM` (and GRU's, which has no projSize). */
export interface LSTMOptions extends RNNBaseOptions {
  /** LSTM with projections: h is projected to projSize features (0, the default, disables it). */
  projSize?: number;
}

/** The keyword arguments of PyTorch's `nn.RNN`. */
export interface RNNOptions extends RNNBaseOptions {
  /** The activation, `'tanh'` (default) or `'relu'`. */
  nonlinearity?: 'tanh' | 'relu';
}

/** PyTorch's RNNBase `mode`: which recurrence a layer runs. */
export type RNNMode = 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';

const pyBool = (b: boolean) => (b ? 'True' : 'False');
const pyShape = (xs: number[]) => `(${xs.join(', ')})`;

const OPS: Record<RNNMode, string> = { LSTM: 'lstm.input', GRU: 'gru.input', RNN_TANH: 'rnn_tanh.input', RNN_RELU: 'rnn_relu.input' };

/** What RNN, LSTM and GRU share (torch.nn.RNNBase): parameters, initialisation, checks, printing. */
export abstract class RNNBase extends Module {
  /** The number of features of each input step. */
  readonly inputSize: number;
  /** The number of features of the hidden state. */
  readonly hiddenSize: number;
  /** The number of stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have bias_ih / bias_hh. */
  readonly bias: boolean;
  /** Whether input and output are [batch, seq, feature] rather than [seq, batch, feature]. */
  readonly batchFirst: boolean;
  /** The dropout probability between layers in training mode. */
  readonly dropout: number;
  /** Whether each layer also runs backwards (outputs concatenate both directions). */
  readonly bidirectional: boolean;
  /** The LSTM projection size (0: none). */
  readonly projSize: number;
  /** @internal the parameter names in the order aten::lstm/gru/rnn_* take them */
  readonly _flatWeightsNames: string[] = [];
  /** @internal the names per (layer, direction) */
  readonly _allWeights: string[][] = [];

  protected constructor(
    /** The recurrence: `'LSTM'`, `'GRU'`, `'RNN_TANH'` or `'RNN_RELU'`. */
    readonly mode: RNNMode,
    inputSize: number,
    hiddenSize: number,
    options: LSTMOptions,
  ) {
    super();
    const name = mode === 'RNN_TANH' || mode === 'RNN_RELU' ? 'RNN' : mode;
    const fn = `${name}()`;
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an options object', options);
    this.inputSize = checkInt(fn, 'inputSize', inputSize, 1);
    this.hiddenSize = checkInt(fn, 'hiddenSize', hiddenSize, 1);
    this.numLayers = checkInt(fn, 'numLayers', options.numLayers ?? 1, 1);
    this.bias = checkBool(fn, 'bias', options.bias ?? true);
    this.batchFirst = checkBool(fn, 'batchFirst', options.batchFirst ?? false);
    this.dropout = checkProbability(fn, 'dropout', options.dropout ?? 0);
    this.bidirectional = checkBool(fn, 'bidirectional', options.bidirectional ?? false);
    this.projSize = checkInt(fn, 'projSize', options.projSize ?? 0, 0);
    if (this.projSize > 0 && mode !== 'LSTM') {
      throw new TorchError(`${fn}: projSize is only supported for LSTM, not RNN or GRU`, 'ERR_TORCH_ARG');
    }
    if (this.projSize >= hiddenSize) {
      throw new TorchError(`${fn}: projSize (${this.projSize}) has to be smaller than hiddenSize (${hiddenSize})`, 'ERR_TORCH_ARG');
    }

    const gateSize = { LSTM: 4, GRU: 3, RNN_TANH: 1, RNN_RELU: 1 }[mode] * hiddenSize;
    const factory: TensorOptions = { dtype: options.dtype, device: options.device };
    const numDirections = this.bidirectional ? 2 : 1;
    const realHidden = this.projSize > 0 ? this.projSize : hiddenSize;
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let direction = 0; direction < numDirections; direction++) {
        const layerInput = layer === 0 ? inputSize : realHidden * numDirections;
        const suffix = direction === 1 ? '_reverse' : '';
        const params: [string, number[]][] = [
          [`weight_ih_l${layer}${suffix}`, [gateSize, layerInput]],
          [`weight_hh_l${layer}${suffix}`, [gateSize, realHidden]],
        ];
        if (this.bias) params.push([`bias_ih_l${layer}${suffix}`, [gateSize]], [`bias_hh_l${layer}${suffix}`, [gateSize]]);
        if (this.projSize > 0) params.push([`weight_hr_l${layer}${suffix}`, [this.projSize, hiddenSize]]);
        for (const [pname, shape] of params) this.registerParameter(pname, newParam(shape, factory));
        const names = params.map(([n]) => n);
        this._flatWeightsNames.push(...names);
        this._allWeights.push(names);
      }
    }
    this.resetParameters();
  }

  /** uniform(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)) over every parameter, in registration order. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  /** The parameters aten's RNN ops take, in their order (looked up by name: a replaced one is used). */
  get flatWeights(): Parameter[] {
    return this._flatWeightsNames.map((n) => {
      const p = this._parameters.get(n);
      if (!p) throw new TorchError(`${this.constructor.name}: parameter '${n}' is missing`, 'ERR_TORCH_ARG');
      return p as Parameter;
    });
  }

  /** PyTorch's all_weights: the parameters per layer and direction. */
  get allWeights(): Parameter[][] {
    return this._allWeights.map((names) => names.map((n) => this._parameters.get(n) as Parameter));
  }

  /** @internal */
  protected get _fn(): string {
    return `${this.constructor.name}.forward()`;
  }

  /** @internal PyTorch's check_input: dtype, dims, feature size (input is 3-D by now). */
  protected _checkInput(input: Tensor): void {
    const fn = this._fn;
    const w = this.flatWeights[0];
    if (input.dtype !== w.dtype) {
      throw new TorchError(
        `${fn}: RNN input dtype (${input.dtype}) does not match weight dtype (${w.dtype}). ` +
          `Convert input: input.to('${w.dtype}'), or convert model: model.to('${input.dtype}')`,
        'ERR_TORCH_ARG',
      );
    }
    if (input.dim() !== 3) throw new TorchError(`${fn}: input must have 3 dimensions, got ${input.dim()}`, 'ERR_TORCH_ARG');
    const got = input.size(-1);
    if (got !== this.inputSize) {
      throw new TorchError(`${fn}: input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${got}`, 'ERR_TORCH_ARG');
    }
  }

  /** @internal [numLayers * numDirections, batch, size] */
  protected _expectedHidden(input: Tensor, size: number): number[] {
    const batch = input.size(this.batchFirst ? 0 : 1);
    return [this.numLayers * (this.bidirectional ? 2 : 1), batch, size];
  }

  /** @internal PyTorch's check_hidden_size. */
  protected _checkHidden(hx: Tensor, expected: number[], what = 'hidden'): void {
    const got = hx.shape;
    if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) {
      throw new TorchError(`${this._fn}: Expected ${what} size ${pyShape(expected)}, got [${got.join(', ')}]`, 'ERR_TORCH_ARG');
    }
  }

  /** @internal input checked for 2-D/3-D; returns [batched input, isBatched]. */
  protected _batchInput(input: Tensor): [Tensor, boolean] {
    const fn = this._fn;
    idOf(input, fn, 'input');
    const name = this.constructor.name;
    const d = input.dim();
    if (d !== 2 && d !== 3) {
      throw new TorchError(`${fn}: ${name}: Expected input to be 2D or 3D, got ${d}D ${name === 'RNN' ? 'tensor ' : ''}instead`, 'ERR_TORCH_ARG');
    }
    return d === 3 ? [input, true] : [input.unsqueeze(this.batchFirst ? 0 : 1), false];
  }

  /** @internal the aten op on the flat weights; returns the ids it gives back. */
  protected _run(input: Tensor, hx: Tensor | Tensor[]): Id[] {
    const hxArg = Array.isArray(hx) ? hx.map((h) => h._h) : hx._h;
    return native.callOp(
      op(OPS[this.mode]),
      input._h,
      hxArg,
      this.flatWeights.map((p) => idOf(p, this._fn, 'weights')),
      this.bias,
      this.numLayers,
      this.dropout,
      this.training,
      this.bidirectional,
      this.batchFirst,
    ) as Id[];
  }

  /** GRU and RNN: one hidden-state tensor. */
  protected _forwardSingle(input: Tensor, hx: Tensor | null | undefined): [Tensor, Tensor] {
    const fn = this._fn;
    if (hx != null) idOf(hx, fn, 'hx');
    return tidy(() => {
      const [x, batched] = this._batchInput(input);
      let h: Tensor;
      if (hx == null) {
        h = zeros(this._expectedHidden(x, this.hiddenSize), { dtype: x.dtype, device: x.device });
      } else if (!batched) {
        if (hx.dim() !== 2) throw new TorchError(`${fn}: For unbatched 2-D input, hx should also be 2-D but got ${hx.dim()}-D tensor`, 'ERR_TORCH_ARG');
        h = hx.unsqueeze(1);
      } else {
        if (hx.dim() !== 3) throw new TorchError(`${fn}: For batched 3-D input, hx should also be 3-D but got ${hx.dim()}-D tensor`, 'ERR_TORCH_ARG');
        h = hx;
      }
      this._checkInput(x);
      this._checkHidden(h, this._expectedHidden(x, this.hiddenSize));
      const [out, hn] = this._run(x, h).map(wrap);
      if (!batched) return [out.squeeze(this.batchFirst ? 0 : 1), hn.squeeze(1)] as [Tensor, Tensor];
      return [out, hn] as [Tensor, Tensor];
    });
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${pyFloat(this.dropout)}`;
    if (this.bidirectional) s += `, bidirectional=${pyBool(this.bidirectional)}`;
    return s;
  }
}

/**
 * torch.nn.LSTM: `new nn.LSTM(inputSize, hiddenSize, { numLayers, bias, batchFirst, dropout,
 * bidirectional, projSize })`. forward(input, [h0, c0]?) returns [output, [hN, cN]].
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super('LSTM', inputSize, hiddenSize, options);
  }

  /**
   * PyTorch's `torch.nn.LSTM` forward: input [L, N, inputSize] ([N, L, inputSize] with batchFirst, [L, inputSize] unbatched); [h0, c0] optional (zeros), h0
   * [D * numLayers, N, H_out] and c0 [D * numLayers, N, hiddenSize] (D = 2 if bidirectional, H_out = projSize or hiddenSize; no N unbatched). Returns
   * [output, [hN, cN]]: output [L, N, D * H_out] ([N, L, D * H_out] with batchFirst), hN and cN of h0's and c0's shapes.
   */
  override forward(input: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const fn = this._fn;
    if (hx != null) {
      if (!Array.isArray(hx) || hx.length !== 2) argError(fn, 'hx', 'an array [h0, c0] or null', hx);
      idOf(hx[0], fn, 'hx[0]');
      idOf(hx[1], fn, 'hx[1]');
    }
    return tidy(() => {
      const [x, batched] = this._batchInput(input);
      const realHidden = this.projSize > 0 ? this.projSize : this.hiddenSize;
      let h: Tensor;
      let c: Tensor;
      if (hx == null) {
        h = zeros(this._expectedHidden(x, realHidden), { dtype: x.dtype, device: x.device });
        c = zeros(this._expectedHidden(x, this.hiddenSize), { dtype: x.dtype, device: x.device });
      } else {
        const want = batched ? 3 : 2;
        if (hx[0].dim() !== want || hx[1].dim() !== want) {
          throw new TorchError(
            `${fn}: For ${batched ? 'batched 3-D' : 'unbatched 2-D'} input, hx and cx should also be ${want}-D but got (${hx[0].dim()}-D, ${hx[1].dim()}-D) tensors`,
            'ERR_TORCH_ARG',
          );
        }
        [h, c] = batched ? hx : [hx[0].unsqueeze(1), hx[1].unsqueeze(1)];
      }
      this._checkInput(x);
      this._checkHidden(h, this._expectedHidden(x, realHidden), 'hidden[0]');
      this._checkHidden(c, this._expectedHidden(x, this.hiddenSize), 'hidden[1]');
      const [out, hn, cn] = this._run(x, [h, c]).map(wrap);
      if (!batched) return [out.squeeze(this.batchFirst ? 0 : 1), [hn.squeeze(1), cn.squeeze(1)]] as [Tensor, [Tensor, Tensor]];
      return [out, [hn, cn]] as [Tensor, [Tensor, Tensor]];
    });
  }
}

/** torch.nn.GRU: forward(input, h0?) returns [output, hN]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    if (options && (options as LSTMOptions).projSize) {
      throw new TorchError('GRU(): projSize is only supported for LSTM, not RNN or GRU', 'ERR_TORCH_ARG');
    }
    super('GRU', inputSize, hiddenSize, options);
  }
  /**
   * PyTorch's `torch.nn.GRU` forward: input [L, N, inputSize] ([N, L, inputSize] with batchFirst, [L, inputSize] unbatched), h0 [D * numLayers, N, hiddenSize]
   * (zeros when omitted; D = 2 if bidirectional; no N unbatched). Returns [output, hN]: output [L, N, D * hiddenSize] ([N, L, ...] with batchFirst), hN of h0's
   * shape.
   */
  override forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    return this._forwardSingle(input, hx);
  }
}

/**
 * torch.nn.RNN, the Elman RNN: `new nn.RNN(inputSize, hiddenSize, { nonlinearity: 'tanh' | 'relu', ... })`.
 * forward(input, h0?) returns [output, hN].
 */
export class RNN extends RNNBase {
  /** The activation, `'tanh'` or `'relu'`. */
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nl = options?.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') argError('RNN()', 'nonlinearity', "'tanh' or 'relu'", nl);
    if (options && (options as LSTMOptions).projSize) {
      throw new TorchError('RNN(): projSize is only supported for LSTM, not RNN or GRU', 'ERR_TORCH_ARG');
    }
    super(nl === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  /**
   * PyTorch's `torch.nn.RNN` forward (tanh or relu): input [L, N, inputSize] ([N, L, inputSize] with batchFirst, [L, inputSize] unbatched), h0
   * [D * numLayers, N, hiddenSize] (zeros when omitted; D = 2 if bidirectional; no N unbatched). Returns [output, hN]: output [L, N, D * hiddenSize]
   * ([N, L, ...] with batchFirst), hN of h0's shape.
   */
  override forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    return this._forwardSingle(input, hx);
  }
}

// ---- cells ---------------------------------------------------------------------------------------
/** The keyword arguments LSTMCell, GRUCell and RNNCell share (PyTorch's `bias=`, `dtype=`, `device=`). */
export interface RNNCellOptions {
  /** Whether the cell has bias_ih / bias_hh (default true). */
  bias?: boolean;
  /** The parameters' dtype (default float32). */
  dtype?: DType;
  /** The parameters' device (default `'cpu'`). */
  device?: DeviceLike;
}

type CellOp = 'lstm_cell' | 'gru_cell' | 'rnn_tanh_cell' | 'rnn_relu_cell';

/**
 * What RNNCell, LSTMCell and GRUCell share (torch.nn.RNNCellBase): weight_ih [chunks * hidden, input],
 * weight_hh [chunks * hidden, hidden], bias_ih and bias_hh [chunks * hidden] (or null), in that
 * order, each uniform(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)) as PyTorch draws them. A step is one
 * call of aten::lstm_cell / gru_cell / rnn_tanh_cell / rnn_relu_cell, as PyTorch's forward makes.
 */
export abstract class RNNCellBase extends Module {
  /** `weight_ih`: the input-hidden weights, [gates * hiddenSize, inputSize] (gates: 4 for LSTMCell, 3 for GRUCell, 1 for RNNCell). */
  declare weight_ih: Parameter;
  /** `weight_hh`: the hidden-hidden weights, [gates * hiddenSize, hiddenSize]. */
  declare weight_hh: Parameter;
  /** `bias_ih`, [gates * hiddenSize], or null with `bias: false`. */
  declare bias_ih: Parameter | null;
  /** `bias_hh`, [gates * hiddenSize], or null with `bias: false`. */
  declare bias_hh: Parameter | null;
  /** The number of features of the input. */
  readonly inputSize: number;
  /** The number of features of the hidden state. */
  readonly hiddenSize: number;
  /** Whether the cell has bias_ih / bias_hh. */
  readonly bias: boolean;

  protected constructor(
    /** @internal the class name PyTorch's messages use */
    protected readonly _name: string,
    inputSize: number,
    hiddenSize: number,
    chunks: number,
    options: RNNCellOptions,
  ) {
    super();
    const fn = `${_name}()`;
    if (options === null || typeof options !== 'object') argError(fn, 'options', 'an options object', options);
    this.inputSize = checkInt(fn, 'inputSize', inputSize, 1);
    this.hiddenSize = checkInt(fn, 'hiddenSize', hiddenSize, 1);
    this.bias = checkBool(fn, 'bias', options.bias ?? true);
    const factory: TensorOptions = { dtype: options.dtype, device: options.device };
    this.registerParameter('weight_ih', newParam([chunks * hiddenSize, inputSize], factory));
    this.registerParameter('weight_hh', newParam([chunks * hiddenSize, hiddenSize], factory));
    this.registerParameter('bias_ih', this.bias ? newParam([chunks * hiddenSize], factory) : null);
    this.registerParameter('bias_hh', this.bias ? newParam([chunks * hiddenSize], factory) : null);
    this.resetParameters();
  }

  /** uniform(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)) over every parameter, in registration order. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  /** @internal the input's dimension count, checked (1-D: unbatched, 2-D: batched) as PyTorch's message says. */
  protected _inputDim(input: Tensor): number {
    const d = native.dim(idOf(input, `${this._name}.forward()`, 'input'));
    if (d !== 1 && d !== 2) throw new TorchError(`${this._name}: Expected input to be 1D or 2D, got ${d}D instead`, 'ERR_TORCH_ARG');
    return d;
  }

  /** @internal a hidden state's dimension count, checked. */
  protected _hiddenDim(h: Tensor, param: string, what: string): number {
    const d = native.dim(idOf(h, `${this._name}.forward()`, param));
    if (d !== 1 && d !== 2) throw new TorchError(`${this._name}: Expected ${what} to be 1D or 2D, got ${d}D instead`, 'ERR_TORCH_ARG');
    return d;
  }

  /** @internal one step of `op` on batched input and state ids; the ids it returns. */
  protected _step(op_: CellOp, x: Id, hx: Id | Id[]): Id | Id[] {
    const bi = this.bias_ih;
    const bh = this.bias_hh;
    return native.callOp(op(op_), x, hx, this.weight_ih._h, this.weight_hh._h, bi === null ? null : bi._h, bh === null ? null : bh._h) as Id | Id[];
  }

  /** @internal GRUCell and RNNCell: one hidden-state tensor. */
  protected _forwardSingle(op_: CellOp, input: Tensor, hx: Tensor | null | undefined): Tensor {
    const batched = this._inputDim(input) === 2;
    if (hx != null) this._hiddenDim(hx, 'hx', 'hidden');
    if (batched && hx != null) return wrap(this._step(op_, input._h, hx._h) as Id);
    return tidy(() => {
      const x = batched ? input : input.unsqueeze(0);
      const h = hx == null ? zeros([x.size(0), this.hiddenSize], { dtype: x.dtype, device: x.device }) : batched ? hx : hx.unsqueeze(0);
      const out = wrap(this._step(op_, x._h, h._h) as Id);
      return batched ? out : out.squeeze(0);
    });
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias ? '' : ', bias=False'}`;
  }
}

/**
 * torch.nn.LSTMCell: `new nn.LSTMCell(inputSize, hiddenSize, { bias })`. forward(input, [h, c]?)
 * returns [h', c'] (PyTorch's tuple); input [batch, inputSize] or unbatched [inputSize].
 */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('LSTMCell', inputSize, hiddenSize, 4, options);
  }
  /**
   * PyTorch's `torch.nn.LSTMCell` forward, one step: input [N, inputSize] (or unbatched [inputSize]), [h, c] each [N, hiddenSize] (or [hiddenSize]; zeros when
   * omitted) -> [h', c'], each of h's shape.
   */
  override forward(input: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, Tensor] {
    const batched = this._inputDim(input) === 2;
    if (hx != null) {
      if (!Array.isArray(hx) || hx.length !== 2) argError('LSTMCell.forward()', 'hx', 'an array [h, c] or null', hx);
      this._hiddenDim(hx[0], 'hx[0]', 'hx[0]');
      this._hiddenDim(hx[1], 'hx[1]', 'hx[1]');
    }
    // The common case of a step loop, batched with a state, makes no intermediate tensor.
    if (batched && hx != null) {
      const [h, c] = this._step('lstm_cell', input._h, [hx[0]._h, hx[1]._h]) as Id[];
      return [wrap(h), wrap(c)];
    }
    return tidy(() => {
      const x = batched ? input : input.unsqueeze(0);
      let state: Tensor[];
      if (hx == null) {
        const z = zeros([x.size(0), this.hiddenSize], { dtype: x.dtype, device: x.device });
        state = [z, z];
      } else state = batched ? hx : [hx[0].unsqueeze(0), hx[1].unsqueeze(0)];
      const [h, c] = (this._step('lstm_cell', x._h, [state[0]._h, state[1]._h]) as Id[]).map(wrap);
      return (batched ? [h, c] : [h.squeeze(0), c.squeeze(0)]) as [Tensor, Tensor];
    });
  }
}

/** torch.nn.GRUCell: `new nn.GRUCell(inputSize, hiddenSize, { bias })`. forward(input, h?) returns h'. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('GRUCell', inputSize, hiddenSize, 3, options);
  }
  /**
   * PyTorch's `torch.nn.GRUCell` forward, one step: input [N, inputSize] (or unbatched [inputSize]), h [N, hiddenSize] (or [hiddenSize]; zeros when omitted) ->
   * h', h's shape.
   */
  override forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this._forwardSingle('gru_cell', input, hx);
  }
}

/**
 * torch.nn.RNNCell, the Elman cell: `new nn.RNNCell(inputSize, hiddenSize, { bias, nonlinearity:
 * 'tanh' | 'relu' })`. forward(input, h?) returns h'.
 */
export class RNNCell extends RNNCellBase {
  /** The activation, `'tanh'` or `'relu'`. */
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    const nl = options?.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') argError('RNNCell()', 'nonlinearity', "'tanh' or 'relu'", nl);
    super('RNNCell', inputSize, hiddenSize, 1, options);
    this.nonlinearity = nl;
  }
  /**
   * PyTorch's `torch.nn.RNNCell` forward, one step: h' = nonlinearity(input·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh); input [N, inputSize] (or unbatched [inputSize]), h
   * [N, hiddenSize] (or [hiddenSize]; zeros when omitted) -> h', h's shape.
   */
  override forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this._forwardSingle(this.nonlinearity === 'tanh' ? 'rnn_tanh_cell' : 'rnn_relu_cell', input, hx);
  }
  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'tanh' ? '' : `, nonlinearity=${this.nonlinearity}`);
  }
}

markRetainsNothing(LSTM, GRU, RNN, LSTMCell, GRUCell, RNNCell);
