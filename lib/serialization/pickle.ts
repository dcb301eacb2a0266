/**
 * A restricted unpickler and a pickler for the subset of Python's pickle that torch.save uses
 * (unpickler.ts, its allow-list allowlist.ts, pickler.ts, and the values and marks they share,
 * py-values.ts); this module re-exports them.
 *
 * Unpickling never runs anything from the file. Like PyTorch's weights_only unpickler
 * (torch/_weights_only_unpickler.py), GLOBAL may only name an allow-list of globals, and each is
 * a fixed TypeScript rule here, not a lookup: collections.OrderedDict, the tensor / parameter
 * rebuild functions of torch._utils, the torch.*Storage types, torch dtypes, torch.device,
 * torch.Size, builtins.set, and _codecs.encode / bytearray for bytes. Any other global is a
 * TorchError naming it, raised when the GLOBAL opcode is read. Opcodes that call or build
 * arbitrary objects (INST, OBJ, EXT*, NEWOBJ_EX, PERSID) are refused; NEWOBJ and BUILD only apply
 * to the allowed types. Every length is checked against the data, and memo indices against the memo.
 *
 * Python values become JS values: None -> null, bool -> boolean, int -> number (BigInt beyond
 * +-2^53), float -> number, str -> string, bytes -> Uint8Array, list and tuple -> Array, dict and
 * OrderedDict -> Map, set -> Set. Tensors come out as TensorRef/StorageRef descriptions that
 * torch-file.ts checks against the archive and turns into tensors. What JS cannot express is
 * remembered beside the values, so that saving writes it back (see the marks below).
 *
 * The pickler writes protocol 2 with only what the weights_only unpickler accepts, in the layout
 * Python's own pickler produces (memoizing with BINPUT, batching SETITEMS / APPENDS by 1000).
 */
export * from './py-values';
export * from './allowlist';
export * from './unpickler';
export * from './pickler';
