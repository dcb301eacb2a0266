/**
 * The restricted unpickler (torch.load): never runs anything from the file; GLOBAL resolves only
 * through the allow-list (allowlist.ts); opcodes that call or build arbitrary objects are refused;
 * every length is checked against the data and every memo index against the memo. Python values
 * become JS values as pickle.ts describes.
 */
import { TorchError } from '../errors';
import { Device } from '../device';
import { Global, PyFloat, TensorRef, StorageRef, pyTuples, pyOrderedDicts, pyAttributes, markFloatKey } from './py-values';
import { resolveGlobal } from './allowlist';

// ---- unpickling ------------------------------------------------------------------------------
export interface UnpickleOptions {
  /** What to call the data in messages, e.g. 'model.pt (archive/data.pkl)'. */
  where: string;
  /** Resolves a BINPERSID id (a tuple) to a StorageRef; throws TorchError if it is bad. */
  persistentLoad(pid: unknown[]): StorageRef;
  /** Called for every tensor made, after the caller-independent checks. */
  onTensor?(t: TensorRef): void;
  /** Where the pickle starts in `data` (legacy files hold several pickles in a row); 0 by default. */
  start?: number;
  /** Told the offset just past the STOP opcode. */
  onEnd?(end: number): void;
}

const MAX_LONG_BYTES = 1024;
const MAX_DEPTH = 1000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = opts.start ?? 0;
  let opPos = pos;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const where = () => `${opts.where} at byte ${opPos}`;
  const fail = (msg: string, code = 'ERR_TORCH_LOAD'): never => {
    throw new TorchError(`torch.load: ${where()}: ${msg}`, code);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) fail(`the pickle data ends early (needs ${n} more bytes, ${data.length - pos} left): the file is truncated or corrupt`);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u64 = (): number => {
    need(8);
    const lo = dv.getUint32(pos, true);
    const hi = dv.getUint32(pos + 4, true);
    pos += 8;
    if (hi > 0x1fffff) fail('a length above 2^53');
    return hi * 0x100000000 + lo;
  };
  const line = (): string => {
    const nl = data.subarray(pos, pos + 1025).indexOf(0x0a);
    if (nl < 0) fail('a GLOBAL name without its newline (truncated or corrupt)');
    const end = pos + nl;
    const s = decodeUtf8(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const decodeUtf8 = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('a string that is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('the pickle stack is empty (corrupt data)');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('the pickle stack is empty (corrupt data)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail('a MARK is missing (corrupt data)');
    stack = prev as unknown[];
    return items;
  };
  const push = (v: unknown) => stack.push(v);
  const tuple = (items: unknown[]): unknown[] => {
    pyTuples.add(items);
    return items;
  };
  const longFrom = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  };
  const describeValue = (v: unknown): string => {
    if (v === null) return 'None';
    if (v instanceof Global) return v.path;
    if (v instanceof TensorRef) return 'a tensor';
    if (v instanceof StorageRef) return 'a storage';
    if (v instanceof Map) return 'a dict';
    if (Array.isArray(v)) return pyTuples.has(v) ? 'a tuple' : 'a list';
    if (v instanceof PyFloat) return 'a float';
    return typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : `a ${typeof v}`;
  };
  const checkTensorArgs = (storage: unknown, offset: unknown, size: unknown, stride: unknown): [StorageRef, number, number[], number[]] => {
    if (!(storage instanceof StorageRef)) fail(`a tensor's storage is ${describeValue(storage)}, not a storage`);
    const st = storage as StorageRef;
    if (!isInt(offset) || offset < 0) fail(`a tensor's storage offset is ${String(offset)}, not a non-negative integer`);
    const dims = (v: unknown, what: string): number[] => {
      if (!Array.isArray(v)) fail(`a tensor's ${what} is ${describeValue(v)}, not a tuple`);
      const a = v as unknown[];
      if (a.length > 1024) fail(`a tensor with ${a.length} dimensions`);
      for (const x of a) {
        if (!isInt(x) || x < 0) {
          const shown = typeof x === 'bigint' || typeof x === 'number' ? String(x) : describeValue(x);
          fail(`a tensor's ${what} holds ${shown}, not a non-negative integer below 2^53`);
        }
      }
      return a as number[];
    };
    const sz = dims(size, 'size');
    const sd = dims(stride, 'stride');
    if (sz.length !== sd.length) fail(`a tensor has ${sz.length} sizes but ${sd.length} strides`);
    // Bounds, exactly (BigInt): the last element the view touches must lie inside the storage.
    const off = offset as number;
    let empty = false;
    let last = BigInt(off);
    for (let i = 0; i < sz.length; i++) {
      if (sz[i] === 0) empty = true;
      else last += BigInt(sz[i] - 1) * BigInt(sd[i]);
    }
    const shape = `shape [${sz.join(', ')}] with strides [${sd.join(', ')}] at offset ${off}`;
    const numel = sz.reduce((a, b) => a * BigInt(b), 1n);
    if (numel > 9007199254740991n) fail(`a tensor of ${shape} has ${numel} elements, more than torch-node can index (2^53)`);
    if (empty ? off > st.numel : last >= BigInt(st.numel)) {
      fail(
        `a tensor of ${shape} needs ${empty ? off : last + 1n} elements of storage '${st.key}', which holds ${st.numel} ${st.dtype} elements`,
        'ERR_TORCH_LOAD',
      );
    }
    return [st, off, sz.slice(), sd.slice()];
  };
  const makeTensor = (t: TensorRef): TensorRef => {
    opts.onTensor?.(t);
    return t;
  };
  const asParameter = (data: unknown, requiresGrad: unknown): TensorRef => {
    if (!(data instanceof TensorRef)) fail(`a Parameter's data is ${describeValue(data)}, not a tensor`);
    const d = data as TensorRef;
    const rg = requiresGrad === undefined ? true : requiresGrad;
    if (typeof rg !== 'boolean') fail(`a Parameter's requires_grad is ${describeValue(rg)}`);
    return makeTensor(new TensorRef(d.storage, d.offset, d.size, d.stride, rg as boolean, true));
  };
  const mapFromPairs = (pairs: unknown, what: string): Map<unknown, unknown> => {
    const m = new Map<unknown, unknown>();
    if (pairs === undefined) return m;
    const items = pairs instanceof Map ? [...pairs] : pairs;
    if (!Array.isArray(items)) fail(`${what} built from ${describeValue(pairs)}`);
    for (const p of items as unknown[]) {
      if (!Array.isArray(p) || p.length !== 2) fail(`${what} built from an item that is not a (key, value) pair`);
      const [k, v] = p as unknown[];
      m.set(k instanceof PyFloat ? k.value : k, v); // a PyFloat value is unwrapped and marked by the final walk
    }
    return m;
  };
  const toBytes = (v: unknown): Uint8Array => {
    if (v instanceof Uint8Array) return new Uint8Array(v);
    if (Array.isArray(v) && v.every((x) => isInt(x) && x >= 0 && x < 256)) return Uint8Array.from(v as number[]);
    return fail(`bytes built from ${describeValue(v)}`);
  };
  const encode = (s: unknown, encoding: unknown): Uint8Array => {
    if (typeof s !== 'string') return fail(`_codecs.encode(${describeValue(s)})`);
    const e = String(encoding).toLowerCase().replace('_', '-');
    if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1') {
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) fail(`_codecs.encode: character U+${c.toString(16)} is not latin-1`);
        out[i] = c;
      }
      return out;
    }
    if (e === 'utf-8' || e === 'utf8') return new TextEncoder().encode(s);
    return fail(`_codecs.encode with encoding ${describeValue(encoding)}`);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global)) return fail(`REDUCE calls ${describeValue(fn)}, which is not an allowed function`, 'ERR_TORCH_UNSAFE');
    if (!Array.isArray(args)) return fail(`REDUCE with arguments ${describeValue(args)}, not a tuple`);
    const a = args as unknown[];
    const arity = (min: number, max: number) => {
      if (a.length < min || a.length > max) fail(`${fn.path} called with ${a.length} arguments (expects ${min === max ? min : `${min} to ${max}`})`);
    };
    switch (fn.kind) {
      case 'OrderedDict': {
        arity(0, 1);
        const m = mapFromPairs(a[0], 'an OrderedDict');
        pyOrderedDicts.add(m);
        return m;
      }
      case 'dict':
        arity(0, 1);
        return mapFromPairs(a[0], 'a Counter');
      case 'rebuild': {
        arity(4, 4);
        const [st, off, sz, sd] = checkTensorArgs(a[0], a[1], a[2], a[3]);
        return makeTensor(new TensorRef(st, off, sz, sd, false, false));
      }
      case 'rebuild_v2': {
        arity(6, 7);
        const [st, off, sz, sd] = checkTensorArgs(a[0], a[1], a[2], a[3]);
        if (typeof a[4] !== 'boolean') fail(`a tensor's requires_grad is ${describeValue(a[4])}`);
        const meta = a[6];
        if (meta instanceof Map && [...meta.values()].some((x) => x === true)) {
          fail(`a tensor with metadata ${[...meta.keys()].join(', ')} (conjugate / negative bits), which torch-node does not support`, 'ERR_TORCH_UNSUPPORTED');
        }
        return makeTensor(new TensorRef(st, off, sz, sd, a[4] as boolean, false));
      }
      case 'param':
        arity(2, 3);
        return asParameter(a[0], a[1]);
      case 'param_state':
        arity(4, 4);
        return asParameter(a[0], a[1]);
      case 'from_type_v2': {
        arity(4, 4);
        const [func, type, inner] = a;
        if (!(type instanceof Global) || (type.kind !== 'Tensor' && type.kind !== 'Parameter')) {
          fail(`_rebuild_from_type_v2 for ${describeValue(type)}: only torch.Tensor and Parameter are supported`, 'ERR_TORCH_UNSUPPORTED');
        }
        const t = reduce(func, inner);
        if (!(t instanceof TensorRef)) return fail(`_rebuild_from_type_v2 did not rebuild a tensor`);
        return (type as Global).kind === 'Parameter' ? asParameter(t, t.requiresGrad) : t;
      }
      case 'device': {
        arity(1, 2);
        const [type, index] = a;
        if (typeof type !== 'string' || !/^[a-z_]+(:\d+)?$/.test(type)) fail(`torch.device(${describeValue(type)})`);
        if (index !== undefined && index !== null && (!isInt(index) || index < 0)) fail(`torch.device index ${describeValue(index)}`);
        const spec = index === undefined || index === null ? (type as string) : `${type}:${index}`;
        return /^(cpu|cuda|meta)(:\d+)?$/.test(spec) ? new Device(spec) : spec;
      }
      case 'Size': {
        arity(0, 1);
        const dims = a[0] === undefined ? [] : a[0];
        if (!Array.isArray(dims) || !dims.every(isInt)) fail(`torch.Size(${describeValue(dims)})`);
        return tuple([...(dims as number[])]);
      }
      case 'set': {
        arity(0, 1);
        if (a[0] !== undefined && !Array.isArray(a[0]) && !(a[0] instanceof Set)) fail(`set(${describeValue(a[0])})`);
        return new Set(a[0] === undefined ? [] : [...(a[0] as Iterable<unknown>)].map((x) => (x instanceof PyFloat ? x.value : x)));
      }
      case 'bytearray':
        arity(0, 2);
        if (a.length === 0) return new Uint8Array(0);
        if (typeof a[0] === 'string') return encode(a[0], a[1] ?? 'utf-8');
        return toBytes(a[0]);
      case 'encode':
        arity(1, 2);
        return encode(a[0], a[1] ?? 'utf-8');
      case 'bytes':
        arity(0, 0);
        return new Uint8Array(0);
      default:
        return fail(`${fn.path} cannot be called`, 'ERR_TORCH_UNSAFE');
    }
  };

  const persid = (pid: unknown): unknown => {
    if (!Array.isArray(pid)) return fail(`a persistent id that is ${describeValue(pid)}, not a tuple (legacy or foreign format)`);
    return opts.persistentLoad(pid as unknown[]);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        if (u64() > data.length - pos) fail('a FRAME longer than the data');
        break;
      case 0x2e: // STOP
        if (metastack.length) fail('STOP inside an unfinished MARK');
        opts.onEnd?.(pos);
        return finish(pop(), where);
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        if (metastack.length > 100000) fail('more than 100000 nested MARKs');
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(longFrom(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0 || n > MAX_LONG_BYTES) fail(`an integer of ${n} bytes (at most ${MAX_LONG_BYTES} are read)`);
        push(longFrom(bytes(n)));
        break;
      }
      case 0x47: {
        // BINFLOAT, big-endian
        need(8);
        const v = dv.getFloat64(pos, false);
        pos += 8;
        push(Number.isInteger(v) ? new PyFloat(v) : v);
        break;
      }
      case 0x58: // BINUNICODE
        push(decodeUtf8(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(decodeUtf8(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(decodeUtf8(bytes(u64())));
        break;
      case 0x55: // SHORT_BINSTRING (a Python 2 str; torch.load decodes it as UTF-8)
        push(decodeUtf8(bytes(u8())));
        break;
      case 0x54: {
        // BINSTRING
        const n = i32();
        push(decodeUtf8(bytes(n)));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        push(new Uint8Array(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        push(new Uint8Array(bytes(u32())));
        break;
      case 0x8e: // BINBYTES8
        push(new Uint8Array(bytes(u64())));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85:
        push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items');
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < items.length; i += 2) m.set(key(items[i]), items[i + 1]);
        push(m);
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark().map(unwrapFloat)));
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list) || pyTuples.has(list)) fail(`APPEND to ${describeValue(list)}, not a list`);
        (list as unknown[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list) || pyTuples.has(list)) fail(`APPENDS to ${describeValue(list)}, not a list`);
        for (const v of items) (list as unknown[]).push(v);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        const m = top();
        if (!(m instanceof Map)) fail(`SETITEM on ${describeValue(m)}, not a dict`);
        (m as Map<unknown, unknown>).set(key(k), v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const m = top();
        if (!(m instanceof Map)) fail(`SETITEMS on ${describeValue(m)}, not a dict`);
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) (m as Map<unknown, unknown>).set(key(items[i]), items[i + 1]);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`ADDITEMS on ${describeValue(s)}, not a set`);
        for (const v of items) (s as Set<unknown>).add(unwrapFloat(v));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(resolveGlobal(module, name, where()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without string names');
        push(resolveGlobal(module as string, name as string, where()));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        push(reduce(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) for the few allowed classes
        const args = pop();
        const cls = pop();
        if (!(cls instanceof Global) || !Array.isArray(args)) return fail(`NEWOBJ of ${describeValue(cls)}`, 'ERR_TORCH_UNSAFE');
        if (cls.kind === 'Parameter') push(asParameter((args as unknown[])[0], (args as unknown[])[1]));
        else if (cls.kind === 'OrderedDict' || cls.kind === 'dict') push(reduce(cls, []));
        else if (cls.kind === 'set') push(new Set());
        else fail(`NEWOBJ of ${cls.path} is not allowed`, 'ERR_TORCH_UNSAFE');
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const inst = top();
        if (inst instanceof Map && pyOrderedDicts.has(inst)) {
          if (!(state instanceof Map)) fail(`BUILD of an OrderedDict with state ${describeValue(state)}`);
          for (const [k, v] of state as Map<unknown, unknown>) {
            if (typeof k !== 'string') fail('BUILD of an OrderedDict with a non-string attribute name');
            if (k === '_metadata') {
              Object.defineProperty(inst, '_metadata', { value: v, writable: true, configurable: true, enumerable: false });
            } else {
              let attrs = pyAttributes.get(inst);
              if (!attrs) pyAttributes.set(inst, (attrs = new Map()));
              attrs.set(k as string, v);
            }
          }
        } else if (inst instanceof TensorRef) {
          // Python attributes of a tensor or Parameter (tensor subclasses' __dict__): not kept.
        } else {
          fail(`BUILD of ${describeValue(inst)}: only OrderedDict, Tensor and Parameter can be built`, 'ERR_TORCH_UNSAFE');
        }
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: {
        // LONG_BINPUT
        memo.set(u32(), top());
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: {
        // BINGET
        const i = u8();
        if (!memo.has(i)) fail(`BINGET of memo ${i}, which was never stored`);
        push(memo.get(i));
        break;
      }
      case 0x6a: {
        // LONG_BINGET
        const i = u32();
        if (!memo.has(i)) fail(`LONG_BINGET of memo ${i}, which was never stored`);
        push(memo.get(i));
        break;
      }
      case 0x51: // BINPERSID
        push(persid(pop()));
        break;
      case 0x50: // PERSID (text)
        return fail('a text persistent id (PERSID): not a torch.save file');
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83:
      case 0x84:
      case 0x92: // NEWOBJ_EX
        return fail(
          `the pickle opcode 0x${op.toString(16)} ('${String.fromCharCode(op)}') builds arbitrary objects, and torch-node never runs code from a file`,
          'ERR_TORCH_UNSAFE',
        );
      default:
        return fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} (corrupt data, or a pickle torch.save does not write)`);
    }
  }

  function key(k: unknown): unknown {
    return k instanceof PyFloat ? k.value : k;
  }
}

function unwrapFloat(v: unknown): unknown {
  return v instanceof PyFloat ? v.value : v;
}

/**
 * The final walk: integral floats become numbers and are recorded as float keys of their
 * container; dtype globals become dtype strings; any other global left as a value is refused.
 * Shared and cyclic containers are visited once.
 */
function finish(root: unknown, where: () => string): unknown {
  const leaf = (v: unknown): unknown => {
    if (v instanceof Global) {
      if (v.kind === 'dtype') return v.dtype;
      throw new TorchError(`torch.load: ${where()}: the file holds '${v.path}' itself as a value, which torch-node cannot represent`, 'ERR_TORCH_UNSUPPORTED');
    }
    return v;
  };
  const walked = forEachSlot(root, leaf, where());
  // Floats: replace in place and mark their keys (forEachSlot cannot tell the container).
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    if (depth > MAX_DEPTH) throw new TorchError(`torch.load: ${where()}: containers nested more than ${MAX_DEPTH} levels deep`, 'ERR_TORCH_LOAD');
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x instanceof PyFloat) {
          v[i] = x.value;
          markFloatKey(v, i);
        } else visit(x, depth + 1);
      }
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        if (x instanceof PyFloat) {
          v.set(k, x.value);
          markFloatKey(v, k);
        } else visit(x, depth + 1);
        visit(k, depth + 1);
      }
      const meta = (v as { _metadata?: unknown })._metadata;
      if (meta instanceof PyFloat) (v as { _metadata?: unknown })._metadata = meta.value;
      else if (meta !== undefined) visit(meta, depth + 1);
      const attrs = pyAttributes.get(v);
      if (attrs)
        for (const [k, x] of attrs) {
          if (x instanceof PyFloat) attrs.set(k, x.value);
          else visit(x, depth + 1);
        }
    } else if (v instanceof Set) {
      for (const x of v) visit(x, depth + 1);
    }
  };
  if (walked instanceof PyFloat) return walked.value;
  visit(walked, 0);
  return walked;
}

/** Containers, in the order the final walk sees them, for callers that replace refs in place. */
export function forEachSlot(root: unknown, fn: (v: unknown) => unknown, where = 'torch.load'): unknown {
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    if (depth > MAX_DEPTH) throw new TorchError(`torch.load: ${where}: containers nested more than ${MAX_DEPTH} levels deep`, 'ERR_TORCH_LOAD');
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = fn(v[i]);
        if (r !== v[i]) v[i] = r;
        else visit(v[i], depth + 1);
      }
    } else if (v instanceof Map) {
      const entries = [...v];
      let changed = false;
      const out: [unknown, unknown][] = [];
      for (const [k, x] of entries) {
        const nk = fn(k);
        const nx = fn(x);
        if (nk !== k || nx !== x) changed = true;
        if (nk === k) visit(k, depth + 1);
        if (nx === x) visit(x, depth + 1);
        out.push([nk, nx]);
      }
      if (changed) {
        // Rebuild in order (a replaced key would otherwise move to the end).
        v.clear();
        for (const [k, x] of out) v.set(k, x);
      }
      const meta = (v as { _metadata?: unknown })._metadata;
      if (meta !== undefined) {
        const r = fn(meta);
        if (r !== meta) (v as { _metadata?: unknown })._metadata = r;
        else visit(meta, depth + 1);
      }
      const attrs = pyAttributes.get(v);
      if (attrs)
        for (const [k, x] of attrs) {
          const r = fn(x);
          if (r !== x) attrs.set(k, r);
          else visit(x, depth + 1);
        }
    } else if (v instanceof Set) {
      const items = [...v];
      const out = items.map(fn);
      if (out.some((x, i) => x !== items[i])) {
        v.clear();
        for (const x of out) v.add(x);
      }
      for (let i = 0; i < items.length; i++) if (out[i] === items[i]) visit(items[i], depth + 1);
    }
  };
  const r = fn(root);
  if (r !== root) return r;
  visit(root, 0);
  return root;
}
