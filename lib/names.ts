/** PyTorch's snake_case names and torch-node's camelCase ones. */

/** camelCase -> snake_case. */
export function toSnake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** snake_case -> camelCase, where the way back is lossless (else the name as it is). */
export function toCamel(k: string): string {
  const c = k.replace(/_([a-z])/g, (_m, x: string) => x.toUpperCase());
  return toSnake(c) === k ? c : k;
}
