/**
 * `Symbol.dispose` for projects whose TypeScript `lib` lacks ESNext.Disposable (the default for
 * targets up to ES2022): the declarations that use it (`using t = ...`) then type-check there too.
 * Node has the symbol at run time from 18.18 / 20.4. The same declaration as @types/node's.
 */
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
export {};
