/**
 * PyTorch's tensor repr, following torch/_tensor_str.py with its default print options
 * (precision 4, threshold 1000, edgeitems 3, linewidth 80): the same int/fixed/scientific mode
 * choice, widths, line wrapping, summarisation with '...', and suffixes (device, dtype, grad_fn).
 */
import { native } from './binding';
import { carrierOf, dtypeFromCode, isFloatingPoint, type DType } from './dtype';

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE = 3;
const LINEWIDTH = 80;

/** Python's '{:.Ne}': at least two exponent digits. */
function expo(v: number, digits: number): string {
  const s = v.toExponential(digits);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return null;
}

class Formatter {
  intMode = true;
  sciMode = false;
  maxWidth = 1;
  constructor(
    private readonly floating: boolean,
    private readonly isBool: boolean,
    values: number[],
  ) {
    if (!floating) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, this.str(v).length);
      return;
    }
    const nz = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (nz.length === 0) return;
    const abs = nz.map(Math.abs);
    const min = Math.min(...abs);
    const max = Math.max(...abs);
    for (const v of nz) {
      if (v !== Math.ceil(v)) {
        this.intMode = false;
        break;
      }
    }
    if (this.intMode) {
      if (max / min > 1000 || max > 1e8) {
        this.sciMode = true;
        for (const v of nz) this.maxWidth = Math.max(this.maxWidth, expo(v, PRECISION).length);
      } else {
        for (const v of nz) this.maxWidth = Math.max(this.maxWidth, v.toFixed(0).length + 1);
      }
    } else if (max / min > 1000 || max > 1e8 || min < 1e-4) {
      this.sciMode = true;
      for (const v of nz) this.maxWidth = Math.max(this.maxWidth, expo(v, PRECISION).length);
    } else {
      for (const v of nz) this.maxWidth = Math.max(this.maxWidth, v.toFixed(PRECISION).length);
    }
  }
  private str(v: number): string {
    if (this.isBool) return v ? 'True' : 'False';
    return String(v);
  }
  format(v: number): string {
    let ret: string;
    if (this.floating) {
      const sp = special(v);
      if (sp !== null) ret = sp;
      else if (this.sciMode) ret = expo(v, PRECISION);
      else if (this.intMode) ret = (Object.is(v, -0) ? '-0' : v.toFixed(0)) + '.';
      else ret = v.toFixed(PRECISION);
      if (Object.is(v, -0) && !this.intMode) ret = '-' + ret;
    } else {
      ret = this.str(v);
    }
    return ' '.repeat(Math.max(0, this.maxWidth - ret.length)) + ret;
  }
}

/** Values of the elements that will be printed (the edge items when summarising). */
function printedValues(data: ArrayLike<number>, shape: number[], summarize: boolean): number[] {
  const out: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const walk = (d: number, offset: number) => {
    if (d === shape.length) {
      out.push(Number(data[offset]));
      return;
    }
    const n = shape[d];
    const idx = summarize && n > 2 * EDGE ? [0, 1, 2, n - 3, n - 2, n - 1] : [...Array(n).keys()];
    for (const i of idx) walk(d + 1, offset + i * strides[d]);
  };
  walk(0, 0);
  return out;
}

function tensorBody(data: ArrayLike<number>, shape: number[], fmt: Formatter, summarize: boolean, indent: number): string {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rec = (d: number, offset: number, ind: number): string => {
    const dim = shape.length - d;
    const n = shape[d];
    if (dim === 1) {
      const elementLength = fmt.maxWidth + 2;
      const perLine = Math.max(1, Math.floor((LINEWIDTH - ind) / elementLength));
      let items: string[];
      if (summarize && n > 2 * EDGE) {
        items = [
          ...[0, 1, 2].map((i) => fmt.format(Number(data[offset + i * strides[d]]))),
          ' ...',
          ...[n - 3, n - 2, n - 1].map((i) => fmt.format(Number(data[offset + i * strides[d]]))),
        ];
      } else {
        items = [...Array(n).keys()].map((i) => fmt.format(Number(data[offset + i * strides[d]])));
      }
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return '[' + lines.join(',\n' + ' '.repeat(ind + 1)) + ']';
    }
    let slices: string[];
    if (summarize && n > 2 * EDGE) {
      slices = [
        ...[0, 1, 2].map((i) => rec(d + 1, offset + i * strides[d], ind + 1)),
        '...',
        ...[n - 3, n - 2, n - 1].map((i) => rec(d + 1, offset + i * strides[d], ind + 1)),
      ];
    } else {
      slices = [...Array(n).keys()].map((i) => rec(d + 1, offset + i * strides[d], ind + 1));
    }
    return '[' + slices.join(',' + '\n'.repeat(dim - 1) + ' '.repeat(ind + 1)) + ']';
  };
  return rec(0, 0, indent);
}

function addSuffixes(body: string, suffixes: string[], indent: number): string {
  const parts = [body];
  let lastLineLen = body.length - body.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLineLen + s.length + 2 > LINEWIDTH) {
      parts.push(',\n' + ' '.repeat(indent) + s);
      lastLineLen = indent + s.length;
    } else {
      parts.push(', ' + s);
      lastLineLen += s.length + 2;
    }
  }
  parts.push(')');
  return parts.join('');
}

export function formatTensor(t: { _h: number }): string {
  const id = t._h;
  const [shape, code, device, requiresGrad] = native.meta(id);
  const dtype: DType = dtypeFromCode(code);
  const prefix = 'tensor(';
  const indent = prefix.length;
  const suffixes: string[] = [];
  if (device !== 'cpu') suffixes.push(`device='${device}'`);
  const numel = shape.reduce((a, b) => a * b, 1);
  let body: string;
  if (numel === 0) {
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
    if (dtype !== 'float32') suffixes.push(`dtype=torch.${dtype}`);
    body = '[]';
  } else {
    if (!['float32', 'int64', 'bool'].includes(dtype)) suffixes.push(`dtype=torch.${dtype}`);
    const { ctor } = carrierOf(dtype);
    const raw = new ctor(native.toBuffer(id));
    const data: ArrayLike<number> = raw instanceof BigInt64Array ? Array.from(raw, Number) : (raw as ArrayLike<number>);
    const summarize = numel > THRESHOLD;
    const fmt = new Formatter(isFloatingPoint(dtype), dtype === 'bool', printedValues(data, shape, summarize));
    body = shape.length === 0 ? fmt.format(Number(data[0])) : tensorBody(data, shape, fmt, summarize, indent);
  }
  const gradFn = native.gradFn(id);
  if (gradFn !== null) suffixes.push(`grad_fn=<${gradFn}>`);
  else if (requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(prefix + body, suffixes, indent);
}
