/** Containers (torch/nn/modules/container.py): Sequential, ModuleList, ModuleDict, with Python's indexing. */
import { TorchError, argError } from '../../errors';
import { Module, RAW, TRAPS, baseTraps, chainForward, setSlot } from '../module';

const INDEX_RE = /^-?\d+$/;

/** Python's _get_abs_string_index: a position in [-n, n) made absolute, else PyTorch's IndexError. */
function absIndex(c: IndexedModules, fn: string, i: unknown): number {
  const n = c._modules.size;
  if (typeof i !== 'number' || !Number.isInteger(i)) argError(fn, 'index', 'an integer', i);
  if (i < -n || i >= n) throw new TorchError(`${fn}: index ${i} is out of range for ${n} modules`, 'ERR_TORCH_INDEX');
  return i < 0 ? i + n : i;
}

/**
 * Index traps for Sequential and ModuleList: `seq[-1]` reads from the end, a missing index throws
 * PyTorch's IndexError, `seq[i] = m` replaces in place and `delete seq[i]` removes and renumbers,
 * as Python's __getitem__/__setitem__/__delitem__.
 */
const indexedTraps: ProxyHandler<Module> = {
  ...baseTraps,
  get(target, key, receiver) {
    if (typeof key === 'string' && INDEX_RE.test(key) && !(key in target)) {
      const c = target as IndexedModules;
      return c._item(`${c.constructor.name}[${key}]`, Number(key));
    }
    return Reflect.get(target, key, receiver);
  },
  defineProperty(target, key, desc) {
    if (typeof key === 'string' && INDEX_RE.test(key) && 'value' in desc) {
      const c = target as IndexedModules;
      const i = absIndex(c, `${c.constructor.name}[${key}] = ...`, Number(key));
      return baseTraps.defineProperty!(target, [...c._modules.keys()][i], desc);
    }
    return baseTraps.defineProperty!(target, key, desc);
  },
  deleteProperty(target, key) {
    if (typeof key === 'string' && INDEX_RE.test(key)) {
      (target as IndexedModules).delete(Number(key));
      return true;
    }
    return baseTraps.deleteProperty!(target, key);
  },
};

/** Children named '0', '1', ... with list access: what Sequential and ModuleList share. */
abstract class IndexedModules extends Module {
  /** The number of modules (Python's `len(container)`). */
  get length(): number {
    return this._modules.size;
  }
  /** list[i] (negative counts from the end); `container[i]` works too. */
  at(i: number): Module {
    return this._item(`${this.constructor.name}.at()`, i);
  }
  /** @internal list[i] for `fn`'s messages. */
  _item(fn: string, i: unknown): Module {
    return [...this._modules.values()][absIndex(this, fn, i)] as Module;
  }
  /** Adds a module at the end (Python's append). */
  append(m: Module): this {
    if (!(m instanceof Module)) argError(`${this.constructor.name}.append()`, 'module', 'a Module', m);
    this.registerModule(String(this._modules.size), m);
    return this;
  }
  /** Appends every module of an array or container (Python's extend). */
  extend(modules: Iterable<Module>): this {
    if (modules === null || typeof (modules as any)?.[Symbol.iterator] !== 'function') {
      argError(`${this.constructor.name}.extend()`, 'modules', 'an array or container of modules', modules);
    }
    for (const m of [...modules]) this.append(m);
    return this;
  }
  /** Inserts a module before position `index` (negative counts from the end), renumbering the rest. */
  insert(index: number, m: Module): this {
    const fn = `${this.constructor.name}.insert()`;
    if (!(m instanceof Module)) argError(fn, 'module', 'a Module', m);
    const n = this._modules.size;
    if (typeof index !== 'number' || !Number.isInteger(index)) argError(fn, 'index', 'an integer', index);
    if (index < -n || index > n) throw new TorchError(`${fn}: index ${index} is out of range for ${n} modules`, 'ERR_TORCH_INDEX');
    const at = index < 0 ? index + n : index;
    const list = [...this._modules.values()] as Module[];
    list.splice(at, 0, m);
    this._renumber(list);
    return this;
  }
  /** Removes the module at `index` (default: the last) and returns it, renumbering the rest. */
  pop(index = -1): Module {
    const m = this.at(index);
    this.delete(index);
    return m;
  }
  /** Python's `del container[i]` (also `delete container[i]`): removes and renumbers. */
  delete(index: number): void {
    const i = absIndex(this, `${this.constructor.name}.delete()`, index);
    const list = [...this._modules.values()] as Module[];
    list.splice(i, 1);
    this._renumber(list);
  }
  /** The modules at positions [start, end) (negatives count from the end), as Python's `container[start:end]`. */
  abstract slice(start?: number, end?: number): IndexedModules;
  /** @internal [key, module] of a Python slice [start:end]. */
  protected _sliceEntries(start?: number, end?: number): [string, Module][] {
    const entries = [...this._modules] as [string, Module][];
    for (const [v, name] of [
      [start, 'start'],
      [end, 'end'],
    ] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) argError(`${this.constructor.name}.slice()`, name, 'an integer', v);
    }
    return entries.slice(start, end);
  }
  /** @internal Re-registers `list` as '0', '1', ... (Python's renumbering after a deletion). */
  _renumber(list: Module[]): void {
    const raw = (this as any)[RAW] as Module;
    for (const k of [...this._modules.keys()]) {
      this._modules.delete(k);
      Reflect.deleteProperty(raw, k);
    }
    list.forEach((m, i) => {
      this._modules.set(String(i), m);
      setSlot(this, String(i), m);
    });
  }
  /** Iterates the modules in order (`for (const m of seq)`, `[...seq]`). */
  [Symbol.iterator](): Iterator<Module> {
    return ([...this._modules.values()].filter(Boolean) as Module[])[Symbol.iterator]();
  }
}
(IndexedModules.prototype as any)[TRAPS] = indexedTraps;

/** Sequential(a, b, c): children named '0', '1', ...; forward chains them. */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m) => this.append(m));
  }
  /** Each module on the previous one's result; intermediates are freed as soon as the next module has read them (chainForward). */
  override forward(x: any): any {
    return chainForward(x, this._modules.values());
  }
  /** Python's `seq[start:end]`: a Sequential of the same modules, which keep their keys (as PyTorch's). */
  override slice(start?: number, end?: number): Sequential {
    const out = new Sequential();
    for (const [k, m] of this._sliceEntries(start, end)) out.registerModule(k, m);
    return out;
  }
  /** Python's `seq + other`: a new Sequential of both's modules, numbered from 0. */
  add(other: Sequential): Sequential {
    if (!(other instanceof Sequential)) argError('Sequential.add()', 'other', 'a Sequential', other);
    return new Sequential(...this, ...other);
  }
}

/**
 * PyTorch's `torch.nn.ModuleList(modules)`: a list of registered children named '0', '1', ..., with `list[i]`, at(),
 * append, extend, insert, pop, slice; it has no forward.
 */
export class ModuleList extends IndexedModules {
  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }
  /** Python's `list[start:end]`: a ModuleList of the same modules, numbered from 0 (as PyTorch's). */
  override slice(start?: number, end?: number): ModuleList {
    return new ModuleList(this._sliceEntries(start, end).map(([, m]) => m));
  }
  /** Python's `list + other`. */
  add(other: Iterable<Module>): ModuleList {
    return new ModuleList([...this, ...other]);
  }
}

/** ModuleDict: children by name; `md.get(k)`, `md.set(k, m)`, `md.k`, `delete md.k`, iteration over keys, as PyTorch's. */
export class ModuleDict extends Module {
  constructor(modules: Map<string, Module> | Record<string, Module> | [string, Module][] = {}) {
    super();
    this.update(modules);
  }
  /** md[key] (undefined when absent, as Map.get). */
  get(key: string): Module | undefined {
    return this._modules.get(key) ?? undefined;
  }
  /** @internal the module at `key`, or PyTorch's KeyError naming the keys. */
  private _need(fn: string, key: string): Module {
    const m = this._modules.get(key);
    if (m === undefined) throw new TorchError(`ModuleDict.${fn}(): no key '${key}'; keys: ${this.keys().join(', ') || '(none)'}`, 'ERR_TORCH_INDEX');
    return m as Module;
  }
  /** Python's `md[key] = module`: registers (or replaces) the child `key`; returns this. */
  set(key: string, m: Module): this {
    if (!(m instanceof Module)) argError('ModuleDict.set()', 'module', 'a Module', m);
    this.registerModule(key, m);
    return this;
  }
  /** Python's `key in md`. */
  has(key: string): boolean {
    return this._modules.has(key);
  }
  /** Python's `del md[key]`. */
  delete(key: string): void {
    this._need('delete', key);
    delete (this as any)[key];
  }
  /** Removes a key and returns its module. */
  pop(key: string): Module {
    const m = this._need('pop', key);
    this.delete(key);
    return m;
  }
  /** Removes every module (Python's `clear()`). */
  clear(): void {
    for (const k of this.keys()) this.delete(k);
  }
  /** Adds or replaces each (key, module) of a Map, an object or an array of pairs. */
  update(modules: Map<string, Module> | Record<string, Module> | [string, Module][]): this {
    if (modules === null || typeof modules !== 'object') argError('ModuleDict.update()', 'modules', 'a Map, an object or [key, module] pairs', modules);
    const entries =
      modules instanceof Map
        ? [...modules]
        : Array.isArray(modules)
          ? modules
          : modules instanceof Module
            ? [...(modules as unknown as ModuleDict)._modules]
            : Object.entries(modules);
    for (const [k, m] of entries as [string, Module][]) this.set(k, m);
    return this;
  }
  /** The keys in insertion order (Python's `keys()`). */
  keys(): string[] {
    return [...this._modules.keys()];
  }
  /** The modules in insertion order (Python's `values()`). */
  values(): Module[] {
    return [...this._modules.values()] as Module[];
  }
  /** Python's items(). */
  items(): [string, Module][] {
    return [...this._modules] as [string, Module][];
  }
  /** An iterator over [key, module] pairs, as Map.entries(). */
  entries(): IterableIterator<[string, Module]> {
    return this.items()[Symbol.iterator]();
  }
  /** The number of modules, as Map.size. */
  get size(): number {
    return this._modules.size;
  }
  /** The number of modules (Python's `len(md)`). */
  get length(): number {
    return this._modules.size;
  }
  /** As Python: iterating a ModuleDict gives its keys. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}
