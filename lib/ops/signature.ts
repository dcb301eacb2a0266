/**
 * An operator schema as libtorch prints it ('aten::index_add(Tensor self, int dim, Tensor index,
 * Tensor source, *, Scalar alpha=1) -> Tensor'), parsed into typed arguments and returns. Pure (no
 * addon): the generated methods' overload resolution (lib/ops/resolve.ts) and their generator
 * (scripts/gen-api.js, which writes their TypeScript signatures) read schemas with it.
 */
import { splitTop } from './split';

export interface SigArg {
  name: string;
  /** The type without '?' and alias annotations: 'Tensor', 'int[]', 'Scalar', 'ScalarType', ... */
  type: string;
  /** `int[2]` -> 2 (one number stands for all); null otherwise. */
  listN: number | null;
  /** `Type?`: null/undefined allowed. */
  optional: boolean;
  hasDefault: boolean;
  /** After `*` in the schema: Python takes it only by keyword (torch-node: the options object). */
  kwOnly: boolean;
  /** `Tensor(a!)`: the operator writes to it. */
  written: boolean;
  /** The alias letter of `Tensor(a!)` / `Tensor(a)`, else null: a return with the same letter is this argument. */
  alias: string | null;
}

export interface SigReturn {
  type: string;
  name: string | null;
  /** The alias letter of `Tensor(a!)` / `Tensor(a)` returns, else null. */
  alias: string | null;
  written: boolean;
}

export interface Signature {
  text: string;
  /** 'aten::index_add' */
  name: string;
  /** '' for the default overload. */
  overload: string;
  args: SigArg[];
  returns: SigReturn[];
}

function parseType(decl: string): { type: string; optional: boolean; listN: number | null; alias: string | null; written: boolean } {
  // 'Tensor(a!)?', 'int[2]', 'Tensor(a)[]', 'SymInt[]?', 'Scalar?'
  const alias = /\(([a-z])(!?)[^)]*\)/.exec(decl);
  let t = decl.replace(/\([^)]*\)/g, '');
  const optional = t.endsWith('?');
  if (optional) t = t.slice(0, -1);
  let listN: number | null = null;
  const n = /\[(\d+)\]$/.exec(t);
  if (n) {
    listN = Number(n[1]);
    t = `${t.slice(0, n.index)}[]`;
  }
  return { type: t, optional, listN, alias: alias ? alias[1] : null, written: alias ? alias[2] === '!' : false };
}

export function parseSignature(text: string): Signature {
  const open = text.indexOf('(');
  const arrow = text.lastIndexOf(') ->');
  const full = text.slice(0, open);
  const dot = full.indexOf('.', full.indexOf('::') + 2);
  const args: SigArg[] = [];
  let kwOnly = false;
  for (const a of splitTop(text.slice(open + 1, arrow))) {
    if (a === '*') {
      kwOnly = true;
      continue;
    }
    const eq = a.indexOf('=');
    const decl = (eq < 0 ? a : a.slice(0, eq)).trim();
    const sp = decl.lastIndexOf(' ');
    const t = parseType(decl.slice(0, sp));
    args.push({
      name: decl.slice(sp + 1),
      type: t.type,
      listN: t.listN,
      optional: t.optional,
      hasDefault: eq >= 0,
      kwOnly,
      written: t.written,
      alias: t.alias,
    });
  }
  let ret = text.slice(arrow + 4).trim();
  if (ret.startsWith('(') && ret.endsWith(')')) ret = ret.slice(1, -1);
  const returns = splitTop(ret).map((r) => {
    const sp = r.lastIndexOf(' ');
    const named = sp > 0 && !/[\]?)]$/.test(r) && !r.slice(sp + 1).includes('(');
    const t = parseType(named ? r.slice(0, sp) : r);
    return { type: t.type, name: named ? r.slice(sp + 1) : null, alias: t.alias, written: t.written };
  });
  return { text, name: dot < 0 ? full : full.slice(0, dot), overload: dot < 0 ? '' : full.slice(dot + 1), args, returns };
}
