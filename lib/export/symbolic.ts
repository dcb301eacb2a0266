/**
 * Symbolic sizes of exported programs (dynamic shapes): the sympy expressions the archive writes for
 * symbolic dimensions (`Symbol('s17', positive=True, integer=True)`, `Mul(Integer(2), Symbol(...))`,
 * srepr form), evaluated against the symbols bound from the actual inputs, and the Python operators
 * the graph uses on SymInt / SymFloat / SymBool values (`_operator.mul`, `torch.sym_max`, ...), as
 * torch/_export/serde/serialize.py's _SYM_OPS lists them.
 *
 * Parsing is bounded (length and nesting) so a hostile archive gives a TorchError, not a stack overflow.
 */
import { brief, exportError } from './archive';

export type SymValue = number | boolean;

/** A parsed sympy expression: a call `Name(args..., key=value)`, an integer, a string or a boolean. */
export type Expr = { fn: string; args: Expr[] } | number | string | boolean;

const MAX_EXPR_CHARS = 4096;
const MAX_EXPR_DEPTH = 32;

/** Parses sympy's srepr text (what serialize.py writes in `as_expr.expr_str`). */
export function parseExpr(text: string, what: string): Expr {
  if (typeof text !== 'string') throw exportError(`${what}: the symbolic expression is ${brief(text)}, not a string`);
  if (text.length > MAX_EXPR_CHARS) throw exportError(`${what}: a symbolic expression of ${text.length} characters (at most ${MAX_EXPR_CHARS} are read)`);
  let i = 0;
  const bad = (msg: string): never => {
    throw exportError(
      `${what}: cannot read the symbolic expression ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)}: ${msg} at character ${i}`,
    );
  };
  const ws = (): void => {
    while (i < text.length && text[i] === ' ') i++;
  };
  const value = (depth: number): Expr => {
    if (depth > MAX_EXPR_DEPTH) bad(`nested deeper than ${MAX_EXPR_DEPTH} levels`);
    ws();
    const rest = text.slice(i);
    let m = /^-?\d+/.exec(rest);
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    m = /^'([^'\\]*)'/.exec(rest);
    if (m) {
      i += m[0].length;
      return m[1];
    }
    m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (!m) return bad('expected a name, a number or a string');
    const name = (m as RegExpExecArray)[0];
    i += name.length;
    if (name === 'True' || name === 'False') return name === 'True';
    ws();
    if (text[i] !== '(') return bad(`expected '(' after ${name}`);
    i++;
    const args: Expr[] = [];
    ws();
    if (text[i] === ')') {
      i++;
      return { fn: name, args };
    }
    for (;;) {
      ws();
      const kw = /^([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(text.slice(i));
      if (kw) {
        // keyword arguments (assumptions such as positive=True) do not change the value
        i += kw[0].length;
        value(depth + 1);
      } else args.push(value(depth + 1));
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ')') {
        i++;
        return { fn: name, args };
      }
      return bad("expected ',' or ')'");
    }
  };
  const e = value(0);
  ws();
  if (i !== text.length) bad('unexpected text after the expression');
  return e;
}

/** The symbol names an expression uses. */
export function freeSymbols(e: Expr, out = new Set<string>()): Set<string> {
  if (typeof e === 'object') {
    if (e.fn === 'Symbol' && typeof e.args[0] === 'string') out.add(e.args[0]);
    else for (const a of e.args) freeSymbols(a, out);
  }
  return out;
}

/** Renders an expression the way a reader writes it (for error messages): 2*s17 + 1. */
export function showExpr(e: Expr): string {
  if (typeof e !== 'object') return String(e);
  const a = e.args.map(showExpr);
  switch (e.fn) {
    case 'Symbol':
      return String(e.args[0]);
    case 'Integer':
      return a[0];
    case 'Add':
      return a.join(' + ');
    case 'Mul':
      return a.join('*');
    default:
      return `${e.fn}(${a.join(', ')})`;
  }
}

const pyFloorDiv = (a: number, b: number): number => {
  if (b === 0) throw exportError('integer division or modulo by zero in a symbolic size');
  return Math.floor(a / b);
};
const pyMod = (a: number, b: number): number => {
  if (b === 0) throw exportError('integer division or modulo by zero in a symbolic size');
  return a - Math.floor(a / b) * b;
};

/** Evaluates an expression with the symbols bound so far; an unbound symbol throws `Unbound`. */
export class Unbound extends Error {
  constructor(readonly symbol: string) {
    super(`symbol ${symbol} is not bound`);
  }
}

export function evalExpr(e: Expr, env: Map<string, number>, what: string): number {
  if (typeof e === 'number') return e;
  if (typeof e !== 'object') throw exportError(`${what}: ${brief(e)} is not a number in a symbolic expression`);
  if (e.fn === 'Symbol') {
    const v = env.get(String(e.args[0]));
    if (v === undefined) throw new Unbound(String(e.args[0]));
    return v;
  }
  const a = e.args.map((x) => evalExpr(x, env, what));
  const two = (): void => {
    if (a.length !== 2) throw exportError(`${what}: ${e.fn} takes 2 arguments in a symbolic expression, got ${a.length}`);
  };
  switch (e.fn) {
    case 'Integer':
      return a[0];
    case 'Rational':
      two();
      return a[0] / a[1];
    case 'Add':
      return a.reduce((x, y) => x + y, 0);
    case 'Mul':
      return a.reduce((x, y) => x * y, 1);
    case 'Pow':
    case 'PowByNatural':
      two();
      return a[0] ** a[1];
    case 'FloorDiv':
      two();
      return pyFloorDiv(a[0], a[1]);
    case 'Mod':
    case 'PythonMod':
      two();
      return pyMod(a[0], a[1]);
    case 'CleanDiv':
    case 'IntTrueDiv':
    case 'FloatTrueDiv':
      two();
      return a[0] / a[1];
    case 'Max':
      return Math.max(...a);
    case 'Min':
      return Math.min(...a);
    case 'CeilToInt':
      return Math.ceil(a[0]);
    case 'FloorToInt':
      return Math.floor(a[0]);
    case 'TruncToInt':
      return Math.trunc(a[0]);
    default:
      throw exportError(`${what}: the symbolic expression uses ${e.fn}, which torch-node does not evaluate`, 'ERR_TORCH_UNSUPPORTED');
  }
}

/**
 * Solves expr(symbol) = value for the one unbound symbol of a linear expression (a*s + b, what
 * derived dimensions such as 2*batch or batch + 1 give); null when there is no integer solution.
 */
export function solveLinear(e: Expr, symbol: string, value: number, env: Map<string, number>, what: string): number | null {
  const at = (s: number): number => evalExpr(e, new Map(env).set(symbol, s), what);
  const b = at(0);
  const a = at(1) - b;
  if (a === 0 || at(2) !== 2 * a + b) return null;
  const s = (value - b) / a;
  return Number.isInteger(s) && at(s) === value ? s : null;
}

/** Python's semantics for the operators serialize.py allows on symbolic values (_SYM_OPS). */
const int = (x: SymValue): number => Number(x);
export const SYM_OPS: Record<string, (...a: SymValue[]) => SymValue> = {
  '_operator.eq': (a, b) => a === b,
  '_operator.ne': (a, b) => a !== b,
  '_operator.le': (a, b) => a <= b,
  '_operator.ge': (a, b) => a >= b,
  '_operator.lt': (a, b) => a < b,
  '_operator.gt': (a, b) => a > b,
  '_operator.neg': (a) => -int(a),
  '_operator.pos': (a) => +int(a),
  'math.trunc': (a) => Math.trunc(int(a)),
  'torch.sym_not': (a) => !a,
  '_operator.mul': (a, b) => int(a) * int(b),
  '_operator.add': (a, b) => int(a) + int(b),
  '_operator.sub': (a, b) => int(a) - int(b),
  '_operator.floordiv': (a, b) => pyFloorDiv(int(a), int(b)),
  '_operator.mod': (a, b) => pyMod(int(a), int(b)),
  '_operator.pow': (a, b) => int(a) ** int(b),
  'torch.sym_int': (a) => Math.trunc(int(a)),
  'torch.sym_float': (a) => int(a),
  'torch.sym_ite': (c, t, f) => (c ? t : f),
  'torch.sym_max': (a, b) => Math.max(int(a), int(b)),
  'torch.sym_min': (a, b) => Math.min(int(a), int(b)),
  'torch._sym_sqrt': (a) => Math.sqrt(int(a)),
  'torch.sym_sqrt': (a) => Math.sqrt(int(a)),
  '_operator.truediv': (a, b) => {
    if (int(b) === 0) throw exportError('division by zero in a symbolic value');
    return int(a) / int(b);
  },
  '_operator.and_': (a, b) => (typeof a === 'boolean' && typeof b === 'boolean' ? a && b : int(a) & int(b)),
  '_operator.or_': (a, b) => (typeof a === 'boolean' && typeof b === 'boolean' ? a || b : int(a) | int(b)),
  '_operator.lshift': (a, b) => int(a) * 2 ** int(b),
  '_operator.rshift': (a, b) => Math.floor(int(a) / 2 ** int(b)),
};
