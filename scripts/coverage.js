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

// Names that have no place in a JS library, with the reason (prefix match with '*').
const EXCLUDED = [
  ['Tensor', /^(T|H|mT|mH|data|grad_fn|is_leaf|names|ndim|shape|dtype|device|layout|itemsize|nbytes|real|imag|output_nr|_version)$/, 'attributes: read as getters (shape, dtype, device, ...) or Python-only'],
  ['Tensor', /^(numpy|tolist|__.*|storage|untyped_storage|storage_type|share_memory_|is_shared|data_ptr|element_size|pin_memory|is_pinned|apply_|map_|map2_|new|type|type_as|dim_order|has_names|refine_names|rename|rename_|align_as|align_to|unflatten|register_post_accumulate_grad_hook|module_load|smm|sspaddmm|to_mkldnn|to_padded_tensor|is_nested|nested_.*|resize_as_sparse_|sparse_.*|to_sparse.*|indices|values|crow_indices|col_indices|ccol_indices|row_indices|coalesce|is_coalesced|dense_dim|sparse_dim|_nnz|q_.*|int_repr|dequantize|qscheme|is_quantized|cpu|cuda|xpu|mps|ipu|hpu|mtia|is_cuda|is_cpu|is_xpu|is_mps|is_ipu|is_hpu|is_mtia|is_meta|is_mkldnn|is_vulkan|is_sparse|is_sparse_csr|is_maia|is_quantized|get_device|record_stream|bfloat16|half|double|float|long|int|short|char|byte|bool|cfloat|cdouble|chalf|is_complex|is_conj|is_neg|resolve_conj|resolve_neg|conj_physical_|is_inference|is_floating_point|is_signed|nonzero_static|dim)$/, 'Python machinery, storage internals, sparse/quantized/nested layouts or dtype shortcuts (torch-node: .to(dtype), .dtype checks)'],
  ['torch', /^(is_tensor|is_storage|set_default_tensor_type|set_default_dtype|get_default_dtype|compile|jit|export|onnx|fx|utils|nn|optim|distributed|cuda|backends|autograd|library|ops|classes|hub|package|profiler|quantization|ao|sparse|special|fft|linalg|testing|overrides|random|serialization|storage|multiprocessing|futures|amp|cpu|mps|xpu|mtia|accelerator|func|masked|nested|signal|monitor|types|version|hub|cond|while_loop|vmap|typename|chunk_size|no_grad|enable_grad|inference_mode|set_grad_enabled|is_grad_enabled|is_inference_mode_enabled|use_deterministic_algorithms|are_deterministic_algorithms_enabled|is_deterministic_algorithms_warn_only_enabled|set_deterministic_debug_mode|get_deterministic_debug_mode|set_float32_matmul_precision|get_float32_matmul_precision|set_warn_always|is_warn_always_enabled|compiled_with_cxx11_abi|get_file_path|prepare_multiprocessing_environment|set_printoptions|sym_.*|unravel_index|from_numpy|from_dlpack|to_dlpack|frombuffer|from_file|asarray|as_tensor|load|save|manual_seed|seed|initial_seed|get_rng_state|set_rng_state|get_num_threads|set_num_threads|get_num_interop_threads|set_num_interop_threads|is_anomaly_enabled|is_anomaly_check_nan_enabled|set_anomaly_enabled|Generator|Size|Tensor|dtype|device|layout|memory_format|finfo|iinfo|Storage|TypedStorage|UntypedStorage|.*Tensor|.*Storage|q_.*|quantize_.*|fake_quantize_.*|fbgemm_.*|mkldnn_.*|miopen_.*|cudnn_.*|native_.*|batch_norm_.*|_.*|is_nonzero|is_same_size|result_type|can_cast|promote_types|is_floating_point|is_complex|is_conj|is_neg|get_device|set_flush_denormal|vitals_enabled|set_vital|read_vitals|obj|e|pi|inf|nan|newaxis|typename|align_tensors|broadcast_shapes|block_diag|cdist|chain_matmul|lobpcg|lu|pca_lowrank|svd_lowrank|stft|istft|norm_except_dim|unique_consecutive|split|meshgrid|einsum|tensordot|atleast_.*|functional|sparse_.*|segment_reduce|embedding_renorm_|feature_.*|alpha_dropout_|dropout_|rrelu_|celu_|selu_|relu_|threshold_|hardshrink|ctc_loss|cosine_embedding_loss|hinge_embedding_loss|kl_div|margin_ranking_loss|poisson_nll_loss|triplet_margin_loss|binary_cross_entropy_with_logits|affine_grid_generator|grid_sampler.*|constant_pad_nd|conv_tbc|conv_transpose.*|convolution|ctc_.*|rnn_.*|lstm_cell|gru_cell|lstm|gru|rnn_tanh|rnn_relu|quantized_.*|slice_inverse|index_reduce|frexp)$/, 'Python namespaces and machinery, dtype/storage classes, internals (_*), backend-specific kernels, or under torch.nn.functional / torch.ops.aten in torch-node'],
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

module.exports = { coverage, camel, EXCLUDED };

if (require.main === module) {
  const c = coverage();
  if (process.argv.includes('--json')) console.log(JSON.stringify(c, null, 2));
  else {
    for (const kind of ['Tensor', 'torch']) {
      const k = c[kind];
      console.log(`${kind === 'Tensor' ? 'torch.Tensor methods' : 'torch.* functions'}: ${k.present} of ${k.counted} (${k.percent}%) named directly; ${k.excluded} of Python's ${k.python} public names excluded (see scripts/coverage.js)`);
      if (process.argv.includes('--missing')) console.log(`  missing: ${k.missing.join(', ')}`);
    }
    console.log(`(Python torch ${c.version}; every ATen operator is also reachable as torch.ops.aten.<name>.<overload>)`);
  }
}
