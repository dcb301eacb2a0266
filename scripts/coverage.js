'use strict';
// How much of Python's torch.Tensor and torch.* torch-node names directly: lists Python's public
// names (the reference Python), maps each to torch-node's spelling (snake_case -> camelCase, a
// trailing underscore kept), and counts those present on torch.Tensor.prototype and the torch
// namespace, after an explicit, reasoned exclusion list (Python-only machinery and deprecated names).
// Everything else is still reachable through torch.ops.aten.<name>.<overload> (lib/ops/aten.ts).
//
//   node scripts/coverage.js [--json] [--missing]
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

// Names that have no place in torch-node (yet), each group with its reason: Python machinery,
// other layouts (sparse, quantized, nested, named, complex), other backends, names PyTorch removed.
// Everything not listed is counted; scripts/gen-api.js generates what lib/ does not write by hand.
const EXCLUDED = [
  [
    'Tensor',
    /^(T|H|mT|mH|data|grad_fn|is_leaf|ndim|shape|dtype|device|layout|itemsize|nbytes|output_nr|_version|is_cuda|is_cpu|is_meta|is_quantized|is_sparse|is_sparse_csr|is_mkldnn|is_nested|is_xla|is_xpu|is_mps|is_ipu|is_hpu|is_mtia|is_maia|is_vulkan|grad_dtype|volatile)$/,
    'attributes, not methods (torch-node reads the ones it has as getters: shape, dtype, device, ndim, T, isLeaf, gradFn, isCuda)',
  ],
  [
    'Tensor',
    /^(numpy|__.*|new|apply_|map_|map2_|module_load|as_subclass|register_post_accumulate_grad_hook|storage|untyped_storage|storage_type|share_memory_|is_shared|data_ptr|const_data_ptr|pin_memory|is_pinned|record_stream|set_|is_set_to|dim_order|reinforce)$/,
    'Python machinery and storage internals (no Python objects, storages or pointers in JS)',
  ],
  ['Tensor', /^(names|has_names|refine_names|rename|rename_|align_as|align_to|name)$/, 'named tensors (a prototype in PyTorch)'],
  [
    'Tensor',
    /^(to_mkldnn|to_padded_tensor|nested_.*|resize_as_sparse_|sparse_.*|to_sparse.*|indices|values|crow_indices|col_indices|ccol_indices|row_indices|coalesce|is_coalesced|dense_dim|sparse_dim|smm|sspaddmm|_nnz|q_.*|int_repr|dequantize|qscheme)$/,
    'sparse, quantized, nested and MKL-DNN layouts: torch-node has strided tensors only',
  ],
  [
    'Tensor',
    /^(real|imag|cfloat|cdouble|chalf|is_complex|is_conj|is_neg|resolve_conj|resolve_neg|conj_physical_|stft|istft|hash_tensor)$/,
    'complex and uint64 tensors: torch-node has the real dtypes only',
  ],
  ['Tensor', /^(xpu|mps|ipu|hpu|mtia)$/, 'backends torch-node does not build for (CPU and CUDA only)'],
  [
    'Tensor',
    /^(cholesky|eig|lstsq|qr|solve|symeig|lu|resize|resize_as|slice_inverse)$/,
    'removed from or deprecated in PyTorch (cholesky, eig, lstsq, qr, solve, symeig raise there; lu is deprecated for torch.linalg.lu_factor; non-in-place resize warns), or internal (slice_inverse)',
  ],
  [
    'torch',
    /^(is_tensor|is_storage|set_default_tensor_type|set_default_dtype|get_default_dtype|set_default_device|get_default_device|compile|jit|export|onnx|fx|utils|nn|optim|distributed|cuda|backends|autograd|library|ops|classes|hub|package|profiler|quantization|ao|sparse|special|fft|linalg|testing|overrides|random|serialization|storage|multiprocessing|futures|amp|cpu|mps|xpu|mtia|accelerator|func|masked|nested|signal|monitor|types|version|functional|cond|while_loop|vmap|typename|chunk_size|no_grad|enable_grad|inference_mode|set_grad_enabled|is_grad_enabled|is_inference_mode_enabled|use_deterministic_algorithms|are_deterministic_algorithms_enabled|is_deterministic_algorithms_warn_only_enabled|set_deterministic_debug_mode|get_deterministic_debug_mode|set_float32_matmul_precision|get_float32_matmul_precision|set_warn_always|is_warn_always_enabled|compiled_with_cxx11_abi|get_file_path|prepare_multiprocessing_environment|set_printoptions|sym_.*|from_numpy|from_dlpack|to_dlpack|frombuffer|from_file|asarray|load|save|manual_seed|seed|initial_seed|get_rng_state|set_rng_state|get_num_threads|set_num_threads|get_num_interop_threads|set_num_interop_threads|init_num_threads|is_anomaly_enabled|is_anomaly_check_nan_enabled|set_anomaly_enabled|Generator|Size|Tensor|dtype|device|layout|memory_format|finfo|iinfo|Storage|TypedStorage|UntypedStorage|.*Tensor|.*Storage|set_flush_denormal|vitals_enabled|set_vital|read_vitals|obj|e|pi|inf|nan|newaxis|classproperty|fork|wait|import_ir_module|import_ir_module_from_buffer|parse_ir|parse_schema|parse_type_comment|merge_type_from_type_comment|unify_type_list|thread_safe_generator|profiler_.*|get_device_module|is_vulkan_available|_.*)$/,
    'Python namespaces (torch-node has its own: torch.nn, torch.optim, ...), Python and TorchScript machinery, dtype/storage classes, global settings torch-node names differently (manualSeed, setNumThreads, noGrad, ... in the README), internals (_*)',
  ],
  ['torch', /^(.*autocast.*)$/, 'automatic mixed precision (autocast) is not in torch-node yet'],
  [
    'torch',
    /^(q_.*|quantize_.*|fake_quantize_.*|fused_moving_avg_obs_fake_quant|choose_qparams_optimized|dequantize|int_repr|empty_quantized|quantized_.*|dsmm|hsmm|hspmm|saddmm|smm|spmm|sspaddmm|sparse_.*|.*indices_copy|values_copy|resize_as_sparse_|segment_reduce|nested_.*|to_dlpack|align_tensors|embedding_renorm_)$/,
    'sparse, quantized and nested layouts, named tensors: torch-node has strided tensors only',
  ],
  [
    'torch',
    /^(fbgemm_.*|mkldnn_.*|miopen_.*|cudnn_.*|native_.*|batch_norm_.*|is_vulkan_available)$/,
    'backend-specific kernels and internal decompositions (their public forms are counted: batch_norm, layer_norm, dropout, norm, ...)',
  ],
  [
    'torch',
    /^(complex|polar|view_as_complex|view_as_complex_copy|view_as_real|view_as_real_copy|real|imag|is_complex|is_conj|is_neg|resolve_conj|resolve_neg|conj|conj_physical|conj_physical_|stft|istft|hash_tensor)$/,
    'complex and uint64 tensors: torch-node has the real dtypes only',
  ],
  [
    'torch',
    /^(cosine_embedding_loss|hinge_embedding_loss|margin_ranking_loss|poisson_nll_loss|triplet_margin_loss|ctc_loss|kl_div|binary_cross_entropy_with_logits|lstm|gru|rnn_tanh|rnn_relu)$/,
    "ATen's forms of losses (an integer reduction) and multi-layer RNN kernels (flat weight lists): Python code calls torch.nn.functional's losses and torch.nn.LSTM/GRU/RNN, which torch-node has",
  ],
  [
    'torch',
    /^(cholesky|eig|lstsq|matrix_rank|qr|solve|symeig|lu|chain_matmul|slice_inverse|norm_except_dim|lobpcg|pca_lowrank|svd_lowrank)$/,
    'removed from or deprecated in PyTorch (torch.linalg has them), internal, or Python-level algorithms not ported (lobpcg, pca_lowrank, svd_lowrank)',
  ],
];

const camel = (n) => {
  const trailing = n.endsWith('_') && !n.endsWith('__') ? '_' : '';
  const core = trailing ? n.slice(0, -1) : n;
  return core.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()) + trailing;
};

function pythonNames() {
  const { findPython } = require('../test/helpers/python');
  const { python } = findPython();
  const code = `
import json, torch, inspect
t = sorted(n for n in dir(torch.Tensor) if not n.startswith('_'))
f = sorted(n for n in dir(torch) if not n.startswith('_') and callable(getattr(torch, n)) and not inspect.isclass(getattr(torch, n)) and not inspect.ismodule(getattr(torch, n)))
print(json.dumps({'Tensor': t, 'torch': f, 'version': torch.__version__}))
`;
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function coverage() {
  const torch = require(path.join(root, 'dist'));
  const names = pythonNames();
  const proto = torch.Tensor.prototype;
  const has = {
    Tensor: (n) => n in proto || Object.getOwnPropertyDescriptor(proto, n) !== undefined,
    torch: (n) => n in torch || (torch.nn?.functional && n in torch.nn.functional),
  };
  const out = { version: names.version };
  for (const kind of ['Tensor', 'torch']) {
    const rows = names[kind].map((py) => {
      const js = camel(py);
      const rule = EXCLUDED.find(([k, re]) => k === kind && re.test(py));
      return { py, js, excluded: rule ? rule[2] : null, present: has[kind](js) || has[kind](py) };
    });
    const counted = rows.filter((r) => !r.excluded);
    out[kind] = {
      python: rows.length,
      excluded: rows.length - counted.length,
      counted: counted.length,
      present: counted.filter((r) => r.present).length,
      missing: counted.filter((r) => !r.present).map((r) => r.py),
    };
    out[kind].percent = Math.round((1000 * out[kind].present) / out[kind].counted) / 10;
  }
  return out;
}

module.exports = { coverage, camel, EXCLUDED, pythonNames };

if (require.main === module) {
  const c = coverage();
  if (process.argv.includes('--json')) console.log(JSON.stringify(c, null, 2));
  else {
    for (const kind of ['Tensor', 'torch']) {
      const k = c[kind];
      console.log(
        `${kind === 'Tensor' ? 'torch.Tensor methods' : 'torch.* functions'}: ${k.present} of ${k.counted} (${k.percent}%) named directly; ${k.excluded} of Python's ${k.python} public names excluded (see scripts/coverage.js)`,
      );
      if (process.argv.includes('--missing')) console.log(`  missing: ${k.missing.join(', ')}`);
    }
    console.log(`(Python torch ${c.version}; every ATen operator is also reachable as torch.ops.aten.<name>.<overload>)`);
  }
}
