/**
 * The pickler (torch.save): protocol 2, only what PyTorch's weights_only unpickler accepts, in the
 * layout Python's own pickler produces (BINPUT memoizing, SETITEMS / APPENDS batched by 1000).
 */
import { TorchError } from '../errors';
import { Device } from '../device';
import { pyTuples, pyOrderedDicts, pyFloatKeys, pyAttributes } from './py-values';

// ---- pickling ---------------------------------------------------------------------------------
/** How a tensor is written: its storage record and its view of it. */
export interface TensorReduce {
  storageName: string; // 'FloatStorage'
  key: string;
  location: string;
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
  requiresGrad: boolean;
  parameter: boolean;
}

export interface PickleOptions {
  /** The tensor description of `v` if it is a tensor, else null; a TorchError's message says why it cannot be saved. */
  tensorOf(v: object): TensorReduce | null;
}

class Out {
  buf = new Uint8Array(1 << 16);
  len = 0;
  private dv = new DataView(this.buf.buffer);
  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  byte(b: number) {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: ArrayLike<number>) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u16(v: number) {
    this.ensure(2);
    this.dv.setUint16(this.len, v, true);
    this.len += 2;
  }
  u32(v: number) {
    this.ensure(4);
    this.dv.setUint32(this.len, v, true);
    this.len += 4;
  }
  i32(v: number) {
    this.ensure(4);
    this.dv.setInt32(this.len, v, true);
    this.len += 4;
  }
  f64be(v: number) {
    this.ensure(8);
    this.dv.setFloat64(this.len, v, false);
    this.len += 8;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const enc = new TextEncoder();

function describeForSave(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (v === undefined) return 'undefined';
  const name = (v as object)?.constructor?.name;
  return name ? `a ${name}` : 'an object';
}

/** Pickles `value` (protocol 2) as torch.save does. Throws TorchError naming what cannot be saved and where. */
export function pickle(value: unknown, opts: PickleOptions): Uint8Array {
  const out = new Out();
  const memo = new Map<unknown, number>(); // objects by identity; strings and globals by value
  const inProgress = new Set<object>();
  const path: string[] = ['obj'];
  const fail = (msg: string): never => {
    throw new TorchError(`torch.save: cannot save ${msg} (at ${path.join('')})`, 'ERR_TORCH_SAVE');
  };
  const put = (key: unknown) => {
    const i = memo.size;
    memo.set(key, i);
    if (i < 256) {
      out.byte(0x71);
      out.byte(i);
    } else {
      out.byte(0x72);
      out.u32(i);
    }
  };
  const get = (key: unknown): boolean => {
    const i = memo.get(key);
    if (i === undefined) return false;
    if (i < 256) {
      out.byte(0x68);
      out.byte(i);
    } else {
      out.byte(0x6a);
      out.u32(i);
    }
    return true;
  };
  const str = (s: string) => {
    const k = `s:${s}`;
    if (get(k)) return;
    const b = enc.encode(s);
    out.byte(0x58);
    out.u32(b.length);
    out.bytes(b);
    put(k);
  };
  const global = (module: string, name: string) => {
    const k = `g:${module}\n${name}`;
    if (get(k)) return;
    out.byte(0x63);
    out.bytes(enc.encode(`${module}\n${name}\n`));
    put(k);
  };
  const int = (v: number | bigint) => {
    const b = BigInt(v);
    if (b >= 0n && b <= 0xffn) {
      out.byte(0x4b);
      out.byte(Number(b));
    } else if (b >= 0n && b <= 0xffffn) {
      out.byte(0x4d);
      out.u16(Number(b));
    } else if (b >= -0x80000000n && b <= 0x7fffffffn) {
      out.byte(0x4a);
      out.i32(Number(b));
    } else {
      // LONG1: minimal little-endian two's complement
      const bytes: number[] = [];
      let x = b;
      for (;;) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
        const sign = bytes[bytes.length - 1] & 0x80;
        if ((x === 0n && !sign) || (x === -1n && sign)) break;
      }
      if (bytes.length < 256) {
        out.byte(0x8a);
        out.byte(bytes.length);
      } else {
        out.byte(0x8b);
        out.i32(bytes.length);
      }
      out.bytes(bytes);
    }
  };
  const float = (v: number) => {
    out.byte(0x47);
    out.f64be(v);
  };
  const number = (v: number, asFloat: boolean) => {
    if (asFloat || !Number.isSafeInteger(v) || Object.is(v, -0)) float(v);
    else int(v);
  };
  /** A tuple of already-known small values (sizes, strides, args): TUPLE1/2/3 or MARK..TUPLE, memoized. */
  const tupleOf = (items: (() => void)[]) => {
    if (items.length === 0) {
      out.byte(0x29);
      return;
    }
    if (items.length > 3) out.byte(0x28);
    for (const f of items) f();
    out.byte(items.length === 1 ? 0x85 : items.length === 2 ? 0x86 : items.length === 3 ? 0x87 : 0x74);
    put({}); // a fresh key: tuples are memoized but never looked up
  };
  const emptyOrderedDict = () => {
    global('collections', 'OrderedDict');
    out.byte(0x29);
    out.byte(0x52);
    put({});
  };
  const tensor = (t: TensorReduce) => {
    // The tensor's own REDUCE result is memoized by save() (as the object); a Parameter's inner data tensor here.
    const rebuild = (requiresGrad: boolean, memoize: boolean) => {
      global('torch._utils', '_rebuild_tensor_v2');
      out.byte(0x28);
      tupleOf([() => str('storage'), () => global('torch', t.storageName), () => str(t.key), () => str(t.location), () => int(t.numel)]);
      out.byte(0x51);
      int(t.offset);
      tupleOf(t.size.map((s) => () => int(s)));
      tupleOf(t.stride.map((s) => () => int(s)));
      out.byte(requiresGrad ? 0x88 : 0x89);
      emptyOrderedDict();
      out.byte(0x74);
      put({});
      out.byte(0x52);
      if (memoize) put({});
    };
    if (t.parameter) {
      global('torch._utils', '_rebuild_parameter');
      tupleOf([() => rebuild(false, true), () => out.byte(t.requiresGrad ? 0x88 : 0x89), emptyOrderedDict]);
      out.byte(0x52);
    } else {
      rebuild(t.requiresGrad, false);
    }
  };
  const isFloatKey = (container: object, k: unknown) => pyFloatKeys.get(container)?.has(k) ?? false;

  const item = (container: object, k: unknown, v: unknown, label: string) => {
    path.push(label);
    if (typeof v === 'number') number(v, isFloatKey(container, k));
    else save(v);
    path.pop();
  };
  const keyLabel = (k: unknown) => (typeof k === 'string' ? `[${JSON.stringify(k)}]` : `[${String(k)}]`);

  const batched = (n: number, emitOne: (i: number) => void, one: number, many: number) => {
    for (let start = 0; start < n; start += 1000) {
      const end = Math.min(n, start + 1000);
      if (end - start === 1) {
        emitOne(start);
        out.byte(one);
      } else {
        out.byte(0x28);
        for (let i = start; i < end; i++) emitOne(i);
        out.byte(many);
      }
    }
  };
  const dictItems = (container: object, entries: [unknown, unknown][]) => {
    batched(
      entries.length,
      (i) => {
        const [k, v] = entries[i];
        path.push(`${keyLabel(k)}(key)`);
        save(k);
        path.pop();
        item(container, k, v, keyLabel(k));
      },
      0x73,
      0x75,
    );
  };

  function save(v: unknown): void {
    if (v === null) return out.byte(0x4e);
    switch (typeof v) {
      case 'boolean':
        return out.byte(v ? 0x88 : 0x89);
      case 'number':
        return number(v, false);
      case 'bigint':
        return int(v);
      case 'string':
        return str(v);
      case 'object':
        break;
      default:
        fail(describeForSave(v));
    }
    const o = v as object;
    if (get(o)) return;
    if (inProgress.has(o)) fail('a tuple that contains itself');
    let t: TensorReduce | null;
    try {
      t = opts.tensorOf(o);
    } catch (e) {
      if (e instanceof TorchError) fail(e.message);
      throw e;
    }
    if (t) {
      tensor(t);
      put(o);
      return;
    }
    if (Array.isArray(o)) {
      if (pyTuples.has(o)) {
        inProgress.add(o);
        if (o.length === 0) out.byte(0x29);
        else {
          if (o.length > 3) out.byte(0x28);
          o.forEach((x, i) => item(o, i, x, `[${i}]`));
          // Pickled items may have memoized this very tuple through a list inside it.
          if (memo.has(o)) fail('a tuple that contains itself');
          out.byte(o.length === 1 ? 0x85 : o.length === 2 ? 0x86 : o.length === 3 ? 0x87 : 0x74);
        }
        inProgress.delete(o);
        if (o.length) put(o);
        return;
      }
      out.byte(0x5d);
      put(o);
      batched(o.length, (i) => item(o, i, o[i], `[${i}]`), 0x61, 0x65);
      return;
    }
    if (o instanceof Map) {
      const own = Object.hasOwn(o, '_metadata') ? (o as { _metadata?: unknown })._metadata : undefined;
      const attrs = new Map(pyAttributes.get(o) ?? []);
      if (own !== undefined) attrs.set('_metadata', own);
      if (pyOrderedDicts.has(o) || attrs.size > 0) {
        global('collections', 'OrderedDict');
        out.byte(0x29);
        out.byte(0x52);
        put(o);
        dictItems(o, [...o]);
        if (attrs.size) {
          out.byte(0x7d);
          put({});
          path.push('._metadata');
          dictItems(attrs, [...attrs]);
          path.pop();
          out.byte(0x62);
        }
        return;
      }
      out.byte(0x7d);
      put(o);
      dictItems(o, [...o]);
      return;
    }
    if (o instanceof Set) {
      global('__builtin__', 'set');
      out.byte(0x5d);
      put({});
      const items = [...o];
      batched(items.length, (i) => item(items, i, items[i], `{${i}}`), 0x61, 0x65);
      out.byte(0x85);
      put({});
      out.byte(0x52);
      put(o);
      return;
    }
    if (o instanceof Uint8Array) {
      // bytes, as protocol 2 writes them: _codecs.encode(latin-1 text, 'latin1')
      global('_codecs', 'encode');
      let s = '';
      for (let i = 0; i < o.length; i += 8192) s += String.fromCharCode(...o.subarray(i, i + 8192));
      tupleOf([() => str(s), () => str('latin1')]);
      out.byte(0x52);
      put(o);
      return;
    }
    if (o instanceof Device) {
      global('torch', 'device');
      tupleOf(o.index === null ? [() => str(o.type)] : [() => str(o.type), () => int(o.index as number)]);
      out.byte(0x52);
      put(o);
      return;
    }
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) {
      fail(`${describeForSave(o)}; make it a tensor first (torch.tensor(...))`);
    }
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) {
      out.byte(0x7d);
      put(o);
      dictItems(o, Object.entries(o));
      return;
    }
    if (typeof (o as { stateDict?: unknown }).stateDict === 'function' && typeof (o as { forward?: unknown }).forward === 'function') {
      fail(
        `${describeForSave(o)}: a module is saved as its state dict, torch.save(model.stateDict(), f), and rebuilt in code ` +
          "before model.loadStateDict(torch.load(f)). (Python's torch.save(model) pickles the class by its import path, which no " +
          'Python could import for a JavaScript class.) For a file that carries the architecture too, use torch.jit.trace(model, x).save(f)',
      );
    }
    fail(describeForSave(o));
  }

  out.byte(0x80);
  out.byte(2);
  save(value);
  out.byte(0x2e);
  return out.result();
}
