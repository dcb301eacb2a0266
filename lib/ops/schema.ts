/**
 * An operator's schema read once per handle (lib/ops/signature.ts parses what the dispatcher
 * prints), with what the exported-graph interpreter asks of it: argument names in order (keyword-only
 * ones included), which take tensors, which the operator writes to (`Tensor(a!)`), and the kinds of
 * its returns.
 */
import { native } from '../binding';
import { type Signature, parseSignature } from './signature';

export interface OpSchema {
  text: string;
  /** The parsed signature the fields below are read from. */
  sig: Signature;
  /** Argument names in schema order. */
  names: string[];
  /** Per argument: its type is Tensor or Tensor? (a number there must become a 0-dim tensor). */
  tensorParams: boolean[];
  /** Per argument: the alias letter when the operator writes to it (`Tensor(a!) self` -> 'a'), else null. */
  written: (string | null)[];
  /** Per return: a tensor, a list of tensors, or another value; and the argument it aliases when written (an in-place op's self). */
  returns: { kind: 'tensor' | 'list' | 'other'; alias: string | null }[];
}

const cache = new Map<number, OpSchema>();

export function schemaOfHandle(handle: number): OpSchema {
  let s = cache.get(handle);
  if (s) return s;
  const sig = parseSignature(native.opSchema(handle));
  s = {
    text: sig.text,
    sig,
    names: sig.args.map((a) => a.name),
    tensorParams: sig.args.map((a) => a.type === 'Tensor'),
    written: sig.args.map((a) => (a.written ? a.alias : null)),
    returns: sig.returns.map((r) => ({
      kind: r.type === 'Tensor[]' ? 'list' : r.type === 'Tensor' ? 'tensor' : 'other',
      alias: r.written ? r.alias : null,
    })),
  };
  cache.set(handle, s);
  return s;
}
