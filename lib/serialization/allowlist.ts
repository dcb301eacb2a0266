/**
 * The restricted unpickler's allow-list: the only globals a GLOBAL opcode may name, each a fixed
 * rule (collections.OrderedDict, torch._utils' rebuild functions, the torch.*Storage types, dtypes,
 * torch.device, torch.Size, builtins.set, _codecs.encode / bytearray), as PyTorch's weights_only
 * unpickler (torch/_weights_only_unpickler.py). Any other name is a TorchError naming it.
 */
import { TorchError } from '../errors';
import type { DType } from '../dtype';
import { Global, StorageType } from './py-values';

export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};
export const STORAGE_NAMES: Record<DType, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};
const DTYPE_NAMES: Record<string, DType> = {
  float32: 'float32',
  float: 'float32',
  float64: 'float64',
  double: 'float64',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  short: 'int16',
  int32: 'int32',
  int: 'int32',
  int64: 'int64',
  long: 'int64',
  bool: 'bool',
};
/** Safe in Python's allow-list but without a torch-node equivalent: named, not called unsafe. */
const UNSUPPORTED: Record<string, string> = {
  'builtins.complex': 'complex numbers',
  'torch._utils._rebuild_tensor_v3': 'tensors of dtypes torch-node lacks (uint16/32/64, float8, ...)',
  'torch._utils._rebuild_sparse_tensor': 'sparse tensors',
  'torch._utils._rebuild_qtensor': 'quantized tensors',
  'torch._utils._rebuild_meta_tensor_no_storage': 'meta tensors',
  'torch._utils._rebuild_wrapper_subclass': 'tensor subclasses',
  'torch._utils._rebuild_device_tensor_from_numpy': 'tensors saved from numpy on other devices',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor': 'tensors of devices without storage',
  'torch.serialization._get_layout': 'sparse tensor layouts',
};
const UNSUPPORTED_DTYPES = /^(complex\d*|cfloat|cdouble|chalf|uint(16|32|64)|float8_\w+|qu?int\w*|quint\w*|int[1-7]|uint[1-7]|bits\w*)$/;
const UNSUPPORTED_STORAGES = /^(Complex\w*|QU?Int\w*|Q\w+)Storage$/;

/**
 * Python 2 names that protocol-2 pickles use (pickle's fix_imports writes them; Python's
 * _compat_pickle maps them back), and torch's own renames. Only the names matter for error
 * messages and the allow-list, so the common part of the table is enough.
 */
const MODULE_NAMES: Record<string, string> = {
  __builtin__: 'builtins',
  exceptions: 'builtins',
  copy_reg: 'copyreg',
  commands: 'subprocess',
  cPickle: 'pickle',
  StringIO: 'io',
  cStringIO: 'io',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  Queue: 'queue',
  urllib2: 'urllib.request',
  httplib: 'http.client',
  'torch.tensor': 'torch._tensor',
};
function normalizeModule(m: string): string {
  return Object.hasOwn(MODULE_NAMES, m) ? MODULE_NAMES[m] : m;
}

export function resolveGlobal(module: string, name: string, where: string): Global {
  const mod = normalizeModule(module);
  const path = `${mod}.${name}`;
  switch (path) {
    case 'collections.OrderedDict':
      return new Global(path, 'OrderedDict');
    case 'collections.Counter':
      return new Global(path, 'dict');
    case 'torch._utils._rebuild_tensor':
      return new Global(path, 'rebuild');
    case 'torch._utils._rebuild_tensor_v2':
      return new Global(path, 'rebuild_v2');
    case 'torch._utils._rebuild_parameter':
      return new Global(path, 'param');
    case 'torch._utils._rebuild_parameter_with_state':
      return new Global(path, 'param_state');
    case 'torch._tensor._rebuild_from_type_v2':
      return new Global(path, 'from_type_v2');
    case 'torch.nn.parameter.Parameter':
      return new Global(path, 'Parameter');
    case 'torch.Tensor':
    case 'torch._tensor.Tensor':
      return new Global(path, 'Tensor');
    case 'torch.device':
      return new Global(path, 'device');
    case 'torch.Size':
      return new Global(path, 'Size');
    case 'builtins.set':
    case 'builtins.frozenset':
      return new Global(path, 'set');
    case '_codecs.encode':
      return new Global(path, 'encode');
    case 'builtins.bytearray':
      return new Global(path, 'bytearray');
    case 'builtins.bytes':
      return new Global(path, 'bytes');
  }
  if ((mod === 'torch' || mod === 'torch.cuda') && Object.hasOwn(STORAGE_DTYPES, name)) {
    return new Global(path, 'storage', new StorageType(name, STORAGE_DTYPES[name]));
  }
  if (mod === 'torch' && Object.hasOwn(DTYPE_NAMES, name)) {
    return new Global(path, 'dtype', null, DTYPE_NAMES[name]);
  }
  let what = UNSUPPORTED[path];
  if (!what && (mod === 'torch' || mod === 'torch.cuda') && UNSUPPORTED_STORAGES.test(name)) what = `${name} storages`;
  if (!what && mod === 'torch' && UNSUPPORTED_DTYPES.test(name)) what = `the dtype torch.${name}`;
  if (!what && mod === 'torch' && /^per_(tensor|channel)_/.test(name)) what = 'quantized tensors';
  if (what) {
    throw new TorchError(`torch.load: ${where}: the file holds ${what} ('${path}'), which torch-node does not support`, 'ERR_TORCH_UNSUPPORTED');
  }
  const wholeModel = /^(torch\.nn\.modules\.|torchvision\.models\.|__main__\.)/.test(path) || /\.[A-Z][A-Za-z0-9]*$/.test(path);
  throw new TorchError(
    `torch.load: unsupported global '${path}' in ${where}: this file wants to run code, and torch-node never runs code from a file. ` +
      'Only tensors, Parameters, storages, dicts/OrderedDicts, lists, tuples, sets, numbers, strings, bytes, torch.device and torch.Size can be loaded.' +
      (wholeModel
        ? ' If it is a whole model saved with torch.save(model), re-save its state dict in Python, ' +
          "torch.save(torch.load(f, weights_only=False).state_dict(), 'weights.pt'), build the model here and loadStateDict() it; " +
          'or export the model with torch.jit.script/trace and load it with torch.jit.load'
        : ''),
    'ERR_TORCH_UNSAFE',
  );
}
