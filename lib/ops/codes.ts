/**
 * Op codes of the native fast path (binding/ops/pointwise.cc): each list is in the order of the
 * C++ table of the same name. Method names are PyTorch's, camelCased.
 */
export const BINARY = [
  'add', 'sub', 'mul', 'div', 'pow', 'remainder', 'fmod', 'floorDivide', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'atan2', 'logicalAnd', 'logicalOr', 'logicalXor',
  'bitwiseAnd', 'bitwiseOr', 'bitwiseXor', 'matmul', 'mm', 'bmm',
] as const;

/** tensor (op) scalar; entries 16.. are scalar (op) tensor (rsub, rdiv, rpow). */
export const SCALAR = [
  'add', 'sub', 'mul', 'div', 'pow', 'remainder', 'fmod', 'floorDivide', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'rsub', 'rdiv', 'rpow',
] as const;

export const UNARY = [
  'neg', 'abs', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'floor',
  'ceil', 'round', 'sign', 'reciprocal', 'rsqrt', 'log1p', 'expm1', 'logicalNot', 'isnan', 'clone',
  'detach', 'contiguous', 'square', 'log2', 'log10', 'trunc', 'erf', 'asin', 'acos', 'atan', 'sinh',
  'cosh', 'isinf', 'isfinite', 'bitwiseNot', 'frac', 'silu', 'gelu', 't',
  // full reductions (no dim, no dtype): Tensor.sum() / mean() use these
  'sumAll', 'meanAll',
] as const;

export const BINARY_INPLACE = ['add_', 'sub_', 'mul_', 'div_', 'pow_', 'remainder_', 'fmod_', 'floorDivide_', 'copy_'] as const;

export const SCALAR_INPLACE = [
  'add_', 'sub_', 'mul_', 'div_', 'pow_', 'remainder_', 'fmod_', 'fill_', 'clampMin_', 'clampMax_',
] as const;

export const UNARY_INPLACE = [
  'neg_', 'abs_', 'exp_', 'log_', 'sqrt_', 'sin_', 'cos_', 'tan_', 'tanh_', 'sigmoid_', 'relu_',
  'floor_', 'ceil_', 'round_', 'sign_', 'reciprocal_', 'rsqrt_', 'log1p_', 'expm1_', 'zero_',
] as const;

export type BinaryName = (typeof BINARY)[number];
export type UnaryName = (typeof UNARY)[number];
export type UnaryInplaceName = (typeof UNARY_INPLACE)[number];

export function codeOf(list: readonly string[], name: string): number {
  return list.indexOf(name);
}
