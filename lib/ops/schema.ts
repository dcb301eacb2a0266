/**
 * An operator's schema as the dispatcher prints it ('add.Tensor(Tensor self, Tensor other, *, Scalar
 * alpha=1) -> Tensor'), read once per operator: argument names in order (keyword-only ones
 * included), which take tensors, which the operator writes to (`Tensor(a!)`), and the kinds of its
 * returns. torch.ops and the exported-graph interpreter both call operators by these.
 */
import { native } from '../binding';
import { splitTop } from './split';

export { splitTop };

export interface OpSchema {
  text: string;
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
  const text = native.opSchema(handle);
  const arrow = text.lastIndexOf(') ->');
  const decls = splitTop(text.slice(text.indexOf('(') + 1, arrow))
    .filter((a) => a !== '*')
    .map((a) => a.split('=')[0].trim());
  let ret = text.slice(arrow + 4).trim();
  if (ret.startsWith('(') && ret.endsWith(')')) ret = ret.slice(1, -1);
  s = {
    text,
    names: decls.map((a) => a.split(' ').pop() as string),
    tensorParams: decls.map((a) => /^Tensor(\([^)]*\))?\??\s/.test(a)),
    written: decls.map((a) => /^Tensor\(([a-z])!\)/.exec(a)?.[1] ?? null),
    returns: splitTop(ret).map((r) => ({
      kind: /^Tensor(\(.*?\))?\[\]/.test(r) ? 'list' : /^Tensor\b/.test(r) ? 'tensor' : 'other',
      alias: /^Tensor\(([a-z])!\)/.exec(r)?.[1] ?? null,
    })),
  };
  cache.set(handle, s);
  return s;
}
