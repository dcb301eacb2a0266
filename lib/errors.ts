/**
 * The one error type torch-node throws for bad input and libtorch failures. Native code throws it too
 * (the class is handed to the addon at load), with `.code` and, for libtorch errors, the C++ backtrace
 * on `.nativeStack` rather than in the message.
 */
export class TorchError extends Error {
  /** What kind of error: `'ERR_TORCH_ARG'` (a bad argument), `'ERR_TORCH_DISPOSED'`, `'ERR_TORCH_NO_CUDA'`, `'ERR_TORCH_STATE_DICT'`, ...; `'ERR_TORCH'` for libtorch's own errors. */
  code: string;
  /** For an error raised inside libtorch: its C++ backtrace (kept out of the message). */
  nativeStack?: string;
  constructor(message: string, code = 'ERR_TORCH') {
    super(message);
    this.name = 'TorchError';
    this.code = code;
  }
}

/** Describes a JS value for an error message: its type and a short rendering. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'function') return 'a function';
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** Throws a TorchError naming the first key of `options` that is not in `known` (and what `subject` takes). */
export function checkOptions(fn: string, options: object, known: readonly string[], subject = 'it'): void {
  // for-in rather than Object.keys: no array per call (this runs on every F.conv2d, sum(dim), ...).
  for (const k in options) {
    if (!Object.hasOwn(options, k) || known.includes(k)) continue;
    throw new TorchError(`${fn}: unknown option '${k}'; ${subject} takes ${known.join(', ')}`, 'ERR_TORCH_ARG');
  }
}

/** Throws a TorchError for argument `param` of `fn`: "fn(): argument 'param' must be X, got Y". */
export function argError(fn: string, param: string, expected: string, got: unknown): never {
  throw new TorchError(`${fn}: argument '${param}' must be ${expected}, got ${describe(got)}`, 'ERR_TORCH_ARG');
}
