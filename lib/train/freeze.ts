/**
 * Freezing and the state-dict recipes of transfer learning (../shared/RECIPES.md A and B):
 * freeze / unfreeze by parameter-name globs, freezeUntil a child, trainable parameters and counts, a
 * report of what is frozen, BatchNorm kept in eval inside frozen parts, nn.Frozen, setDropout, and
 * state-dict helpers for partial loading (keep matching keys / shapes, strip or add a prefix, rename).
 */
import { checkProbability } from '../checks';
import { noGrad } from '../autograd';
import { TorchError, argError } from '../errors';
import type { Tensor } from '../tensor';
import { MemberView, Module, type Parameter, stateDictEntries, type StateDictLike } from '../nn/module';
import { BatchNorm1d, BatchNorm2d, Dropout } from '../nn/layers';

/** Glob over dotted parameter names: '*' any run of characters, '?' one; a bare module path matches everything under it. */
export function nameMatches(name: string, pattern: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return re.test(name) || (!/[*?]/.test(pattern) && name.startsWith(pattern + '.'));
}

function matching(module: Module, patterns: string | string[] | undefined, fn: string): [string, Parameter][] {
  if (!(module instanceof Module)) argError(fn, 'module', 'a Module', module);
  const list = patterns === undefined ? null : Array.isArray(patterns) ? patterns : [patterns];
  if (list && !list.every((p) => typeof p === 'string')) argError(fn, 'patterns', 'a string or an array of strings', patterns);
  const all = [...module.namedParameters()];
  if (!list) return all;
  const hits = all.filter(([name]) => list.some((p) => nameMatches(name, p)));
  const unused = list.filter((p) => !all.some(([name]) => nameMatches(name, p)));
  if (unused.length) {
    throw new TorchError(
      `${fn}: no parameter matches ${unused.map((p) => `'${p}'`).join(', ')}; names look like ${all
        .slice(0, 3)
        .map(([n]) => `'${n}'`)
        .join(', ')}`,
      'ERR_TORCH_ARG',
    );
  }
  return hits;
}

/** Sets requiresGrad = false on the matching parameters (all when no pattern). Returns their names. */
export function freeze(module: Module, patterns?: string | string[]): string[] {
  const hits = matching(module, patterns, 'freeze()');
  for (const [, p] of hits) p.requiresGrad_(false);
  return hits.map(([n]) => n);
}

/** Sets requiresGrad = true on the matching parameters (all when no pattern). Returns their names. */
export function unfreeze(module: Module, patterns?: string | string[]): string[] {
  const hits = matching(module, patterns, 'unfreeze()');
  for (const [, p] of hits) p.requiresGrad_(true);
  return hits.map(([n]) => n);
}

/**
 * Freezes every parameter registered before the child `name` (that child and later ones stay as they
 * are): the seeds' "freeze the first k layers". With `{ inclusive: true }` the child itself too.
 */
export function freezeUntil(module: Module, name: string, options: { inclusive?: boolean } = {}): string[] {
  const fn = 'freezeUntil()';
  const children = [...module.namedChildren().keys()];
  const idx = children.indexOf(name);
  if (idx < 0) throw new TorchError(`${fn}: ${module.constructor.name} has no child '${name}'; children: ${children.join(', ')}`, 'ERR_TORCH_ARG');
  const before = new Set(children.slice(0, idx + (options.inclusive ? 1 : 0)));
  const frozen: string[] = [];
  // Parameters of the module itself (registered directly) count as "before" every child.
  for (const [pname, p] of module.namedParameters()) {
    const head = pname.split('.')[0];
    if (!pname.includes('.') || before.has(head)) {
      p.requiresGrad_(false);
      frozen.push(pname);
    }
  }
  return frozen;
}

/** The parameters that will train (requiresGrad): what to hand an optimizer. */
export function trainableParameters(module: Module): Parameter[] {
  return module.parameters().filter((p) => p.requiresGrad);
}

/** Number of parameter elements: all, or only trainable / only frozen ones. */
export function countParameters(module: Module, options: { trainable?: boolean } = {}): number {
  return module
    .parameters()
    .filter((p) => options.trainable === undefined || p.requiresGrad === options.trainable)
    .reduce((n, p) => n + p.numel(), 0);
}

/** One parameter in frozenReport(). */
export interface FrozenRow {
  /** The parameter's dotted name. */
  name: string;
  /** The parameter's shape. */
  shape: number[];
  /** The parameter's number of elements. */
  numel: number;
  /** false when the parameter is frozen. */
  requiresGrad: boolean;
}

/** Each parameter's name, shape and requiresGrad (the seeds' "check which parameters are fixed"). */
export function frozenReport(module: Module): FrozenRow[] {
  return [...module.namedParameters()].map(([name, p]) => ({ name, shape: p.shape, numel: p.numel(), requiresGrad: p.requiresGrad }));
}

/** frozenReport as a printable table, with totals; warns when nothing would train. */
export function formatFrozenReport(module: Module): string {
  const rows = frozenReport(module);
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  const lines = [`${'name'.padEnd(w)}  ${'shape'.padEnd(18)}  ${'params'.padStart(10)}  trainable`];
  for (const r of rows)
    lines.push(`${r.name.padEnd(w)}  ${`[${r.shape.join(', ')}]`.padEnd(18)}  ${String(r.numel).padStart(10)}  ${r.requiresGrad ? 'yes' : 'no (frozen)'}`);
  const trainable = countParameters(module, { trainable: true });
  const total = countParameters(module);
  lines.push(`trainable ${trainable} of ${total} parameters (${total ? ((100 * trainable) / total).toFixed(1) : '0.0'}%)`);
  if (total > 0 && trainable === 0) lines.push('warning: every parameter is frozen; the loss will not move');
  return lines.join('\n');
}

/**
 * Puts every BatchNorm whose parameters are all frozen into eval mode (running statistics fixed) —
 * the classic fine-tuning bug is model.train() quietly updating them. Call after model.train(), or use
 * trainKeepingFrozenBatchNorm(model). Returns the names of the BatchNorm modules it set.
 */
export function keepFrozenBatchNormEval(module: Module): string[] {
  const set: string[] = [];
  for (const [name, m] of module.namedModules()) {
    if (!(m instanceof BatchNorm1d || m instanceof BatchNorm2d)) continue;
    const params = m.parameters({ recurse: false });
    if (params.length === 0 || params.every((p) => !p.requiresGrad)) {
      m.eval();
      set.push(name);
    }
  }
  return set;
}

/** model.train(), then keepFrozenBatchNormEval(model). */
export function trainKeepingFrozenBatchNorm<M extends Module>(module: M): M {
  module.train();
  keepFrozenBatchNormEval(module);
  return module;
}

/** Sets the rate of every Dropout (and Dropout2d) in the model: the seeds' dropout-tuning recipe. */
export function setDropout(module: Module, p: number): number {
  checkProbability('setDropout()', 'p', p);
  let n = 0;
  for (const m of module.modules()) {
    if (m instanceof Dropout) {
      m.p = p;
      n++;
    }
  }
  return n;
}

/**
 * nn.Frozen(module): runs the wrapped module's forward under no-grad (the seeds' second way to
 * freeze: `with torch.no_grad(): x = self.layer1(x)`) and freezes its parameters. It is transparent
 * to names: it shares the wrapped module's parameters, buffers and children, so state-dict keys are
 * those of the wrapped module where Frozen is registered (`bulk1.0.weight`, as the Python model that
 * wraps `self.bulk1` in no_grad has) and a Python checkpoint loads strictly. `frozen.module` is the
 * wrapped module (a reference, not a child).
 */
export class Frozen extends MemberView {
  constructor(module: Module) {
    super('Frozen()', module);
    module.requiresGrad_(false);
  }
  /** The wrapped module. */
  get module(): Module {
    return this._inner;
  }
  /** The wrapped module's forward (hooks included) under no_grad: its result takes no part in backward. */
  override forward(...args: any[]): any {
    return noGrad(() => this.module.call(...args));
  }
  override extraRepr(): string {
    return this.module.extraRepr();
  }
  override toString(): string {
    return `Frozen(${this.module.toString().split('\n').join('\n')})`;
  }
}

// ---- state-dict helpers ------------------------------------------------------------------------
function toMap(fn: string, sd: StateDictLike): Map<string, Tensor> {
  return new Map(stateDictEntries(fn, sd));
}

/**
 * The entries of `stateDict` that `module` has (and, with matchShapes, of the same shape): the seeds'
 * `{k: v for k, v in pretrained.items() if k in model_dict}`. The result loads with { strict: false }.
 */
export function filterStateDict(stateDict: StateDictLike, module: Module, options: { matchShapes?: boolean } = {}): Map<string, Tensor> {
  const fn = 'filterStateDict()';
  const own = new Map(module._stateEntries());
  const out = new Map<string, Tensor>();
  for (const [k, v] of toMap(fn, stateDict)) {
    const target = own.get(k);
    if (!target) continue;
    if (options.matchShapes) {
      const a = v.shape;
      const b = target.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) continue;
    }
    out.set(k, v);
  }
  return out;
}

/** Removes a prefix from every key that has it ('module.' from a DataParallel checkpoint). */
export function stripPrefix(stateDict: StateDictLike, prefix = 'module.'): Map<string, Tensor> {
  return new Map([...toMap('stripPrefix()', stateDict)].map(([k, v]) => [k.startsWith(prefix) ? k.slice(prefix.length) : k, v]));
}

/** Adds a prefix to every key. */
export function addPrefix(stateDict: StateDictLike, prefix: string): Map<string, Tensor> {
  return new Map([...toMap('addPrefix()', stateDict)].map(([k, v]) => [prefix + k, v]));
}

/** Renames keys by a function; returning null drops the entry (e.g. layers to retrain). */
export function renameKeys(stateDict: StateDictLike, fn: (key: string) => string | null): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of toMap('renameKeys()', stateDict)) {
    const nk = fn(k);
    if (nk === null) continue;
    if (out.has(nk)) throw new TorchError(`renameKeys(): two keys map to '${nk}'`, 'ERR_TORCH_ARG');
    out.set(nk, v);
  }
  return out;
}

/**
 * Makes `target`'s parameters the very same tensors as `source`'s (by name): the Siamese-network recipe
 * of two branches sharing weights. Returns the shared names. The two modules then own the same
 * tensors: dispose() one of them, not both (the second finds them already freed, which is harmless).
 */
export function shareParameters(source: Module, target: Module): string[] {
  const fn = 'shareParameters()';
  const src = source.namedParameters();
  const shared: string[] = [];
  for (const [name, p] of target.namedParameters()) {
    const s = src.get(name);
    if (!s) throw new TorchError(`${fn}: the source has no parameter '${name}'`, 'ERR_TORCH_ARG');
    const a = s.shape;
    const b = p.shape;
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
      throw new TorchError(`${fn}: ${name}: source [${a.join(', ')}] vs target [${b.join(', ')}]`, 'ERR_TORCH_ARG');
    }
  }
  for (const [name] of target.namedParameters()) {
    const dot = name.lastIndexOf('.');
    const owner = target.getSubmodule(dot < 0 ? '' : name.slice(0, dot));
    const old = owner._parameters.get(name.slice(dot + 1));
    owner.registerParameter(name.slice(dot + 1), src.get(name)!);
    if (old && old !== src.get(name)) old.dispose();
    shared.push(name);
  }
  return shared;
}
