/**
 * Python's named tuples (torch.return_types.max, sort, topk, ...): `values, indices = x.max(1)` and
 * `x.max(1).values` both work in Python, so the port returns an array that also has each field by
 * name: `const [values, indices] = x.max(1)` and `x.max(1).values`. The names are non-enumerable
 * properties, so the result prints, spreads, serializes and compares (assert.deepEqual) as the plain
 * array. A field named like an array method shadows it on that array (`values` is not
 * Array.prototype.values() there, as it is not a method in Python either); iteration uses
 * Symbol.iterator and is unaffected.
 */

/** The fields of a named tuple by name: `NamedFields<['values', 'indices'], [A, B]>` is `{ values: A; indices: B }`. */
export type NamedFields<N extends readonly string[], V extends readonly unknown[]> = {
  readonly [I in keyof N & `${number}` as N[I] & string]: I extends keyof V ? V[I] : never;
};

/** A named tuple: the tuple V with V[i] also readable as the property N[i]. */
export type NamedTuple<N extends readonly string[], V extends readonly unknown[]> = V & NamedFields<N, V>;

/** `namedTuple(['values', 'indices'], [v, i])`: the array [v, i] with `.values` (v) and `.indices` (i). */
export function namedTuple<const N extends readonly string[], V extends unknown[]>(names: N, values: [...V]): NamedTuple<N, V> {
  if (names.length !== values.length) throw new RangeError(`namedTuple(): ${names.length} names for ${values.length} values`);
  const out = [...values];
  names.forEach((name, i) => Object.defineProperty(out, name, { value: values[i], enumerable: false, writable: false, configurable: true }));
  return out as unknown as NamedTuple<N, V>;
}
