'use strict';
// Bad input: every failure is a torch.TorchError whose message names the problem (asserted by regex
// here, not just "it threw"), with no C++ backtrace in the message (that goes on .nativeStack).
// Errors raised by libtorch itself are also compared word for word with what Python PyTorch says for
// the same call (runPython, PyTorch 2.15).
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const live = () => torch.memory().liveTensors;
const fileBaseline = live();

/** Asserts fn throws a TorchError with a message matching re (and code, when given); returns it. */
function throwsTorch(fn, re, code) {
  let err;
  assert.throws(fn, (e) => {
    err = e;
    return true;
  });
  assert.ok(err instanceof torch.TorchError, `expected a TorchError, got ${err?.constructor?.name}: ${err?.message}`);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'TorchError');
  assert.equal(typeof err.code, 'string');
  if (code) assert.equal(err.code, code, `code of: ${err.message}`);
  assert.match(err.message, re);
  assert.ok(!err.message.includes('Exception raised from'), `C++ backtrace in the message: ${err.message}`);
  assert.ok(!/\bframe #\d+:/.test(err.message), `C++ frames in the message: ${err.message}`);
  return err;
}

// Errors that come from libtorch (ATen / autograd). Each: torch-node call, the same call in Python,
// and a regex naming the problem. Python's message must equal ours (both are libtorch's).
const NATIVE = {
  addBroadcast: {
    js: () => torch.ones(2, 3).add(torch.ones(4, 5)),
    py: 'torch.ones(2, 3).add(torch.ones(4, 5))',
    re: /size of tensor a \(3\) must match the size of tensor b \(5\) at non-singleton dimension 1/,
  },
  mulBroadcast: {
    js: () => torch.ones(3).mul(torch.ones(4)),
    py: 'torch.ones(3).mul(torch.ones(4))',
    re: /size of tensor a \(3\) must match the size of tensor b \(4\)/,
  },
  mmInner: {
    js: () => torch.ones(2, 3).mm(torch.ones(2, 2)),
    py: 'torch.ones(2, 3).mm(torch.ones(2, 2))',
    re: /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x2\)/,
  },
  matmulInner: {
    js: () => torch.ones(4, 3).matmul(torch.ones(4, 3)),
    py: 'torch.ones(4, 3).matmul(torch.ones(4, 3))',
    re: /shapes cannot be multiplied \(4x3 and 4x3\)/,
  },
  reshape: {
    js: () => torch.ones(2, 3).reshape(4, 2),
    py: 'torch.ones(2, 3).reshape(4, 2)',
    re: /shape '\[4, 2\]' is invalid for input of size 6/,
  },
  viewNonContiguous: {
    js: () => torch.ones(2, 3).t().view(6),
    py: 'torch.ones(2, 3).t().view(6)',
    re: /view size is not compatible with input tensor's size and stride.*Use \.reshape/,
  },
  expand: {
    js: () => torch.ones(2, 3).expand(4, 2),
    py: 'torch.ones(2, 3).expand(4, 2)',
    re: /expanded size of the tensor \(2\) must match the existing size \(3\)/,
  },
  cat: {
    js: () => torch.cat([torch.ones(2, 3), torch.ones(4, 5)]),
    py: 'torch.cat([torch.ones(2, 3), torch.ones(4, 5)])',
    re: /Sizes of tensors must match except in dimension 0\. Expected size 3 but got size 5/,
  },
  matmulDtype: {
    js: () => torch.ones(2, 2).matmul(torch.ones(2, 2, { dtype: 'float64' })),
    py: 'torch.ones(2, 2).matmul(torch.ones(2, 2, dtype=torch.float64))',
    re: /expected m1 and m2 to have the same dtype, but got: float != double/,
  },
  inplaceIntFromFloat: {
    js: () => torch.tensor([1, 2]).add_(torch.ones(2)),
    py: 'torch.tensor([1, 2]).add_(torch.ones(2))',
    re: /result type Float can't be cast to the desired output type Long/,
  },
  sumDim: {
    js: () => torch.ones(2, 3).sum(5),
    py: 'torch.ones(2, 3).sum(5)',
    re: /Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)/,
  },
  softmaxDim: {
    js: () => torch.ones(2, 3).softmax(-3),
    py: 'torch.ones(2, 3).softmax(-3)',
    re: /Dimension out of range \(expected to be in range of \[-2, 1\], but got -3\)/,
  },
  selectIndex: {
    js: () => torch.ones(2, 3).select(0, 7),
    py: 'torch.ones(2, 3).select(0, 7)',
    re: /select\(\): index 7 out of range for tensor of size \[2, 3\] at dimension 0/,
  },
  narrow: {
    js: () => torch.ones(2, 3).narrow(0, 1, 5),
    py: 'torch.ones(2, 3).narrow(0, 1, 5)',
    re: /start \(1\) \+ length \(5\) exceeds dimension size \(2\)/,
  },
  backwardNonScalar: {
    js: () => torch.ones(3, { requiresGrad: true }).mul(2).backward(),
    py: 'torch.ones(3, requires_grad=True).mul(2).backward()',
    re: /grad can be implicitly created only for scalar outputs/,
  },
  backwardNoGrad: {
    js: () => torch.ones(3).sum().backward(),
    py: 'torch.ones(3).sum().backward()',
    re: /does not require grad and does not have a grad_fn/,
  },
  backwardTwice: {
    js: () => {
      const y = torch.ones(2, { requiresGrad: true }).exp().sum();
      y.backward();
      y.backward();
    },
    py: '(lambda y: (y.backward(), y.backward()))(torch.ones(2, requires_grad=True).exp().sum())',
    re: /Trying to backward through the graph a second time.*retain_graph=True/s,
  },
  viewInplaceLeaf: {
    js: () => torch.ones(3, { requiresGrad: true }).view(3).add_(1),
    py: 'torch.ones(3, requires_grad=True).view(3).add_(1)',
    re: /a view of a leaf Variable that requires grad is being used in an in-place operation/,
  },
  nonLeafRequiresGrad: {
    js: () => torch.ones(2, { requiresGrad: true }).mul(2).requiresGrad_(false),
    py: 'torch.ones(2, requires_grad=True).mul(2).requires_grad_(False)',
    re: /you can only change requires_grad flags of leaf variables/,
  },
  retainGradNoGrad: {
    js: () => torch.ones(2).retainGrad(),
    py: 'torch.ones(2).retain_grad()',
    re: /can't retain_grad on Tensor that has requires_grad=False/,
  },
  inferenceTensorInAutograd: {
    js: () => torch.inferenceMode(() => torch.ones(2)).mul(torch.ones(2, { requiresGrad: true })),
    py: 'torch.inference_mode()(torch.ones)(2).mul(torch.ones(2, requires_grad=True))',
    re: /Inference tensors cannot be saved for backward/,
  },
  inferenceTensorInplace: {
    js: () => torch.inferenceMode(() => torch.ones(2)).add_(1),
    py: 'torch.inference_mode()(torch.ones)(2).add_(1)',
    re: /Inplace update to inference tensor outside InferenceMode is not allowed/,
  },
  inplaceLeaf: {
    js: () => torch.ones(3, { requiresGrad: true }).add_(1),
    py: 'torch.ones(3, requires_grad=True).add_(1)',
    re: /a leaf Variable that requires grad is being used in an in-place operation/,
  },
};

let pyMessages;
function pythonMessages() {
  if (!pyMessages) {
    const code = `
import json, sys, torch
cases = json.load(sys.stdin)
out = {}
for name, expr in cases.items():
    try:
        eval(expr)
        out[name] = None
    except Exception as e:
        out[name] = str(e)
print(json.dumps(out))
`;
    pyMessages = runPython(code, Object.fromEntries(Object.entries(NATIVE).map(([k, v]) => [k, v.py])));
  }
  return pyMessages;
}

for (const [name, c] of Object.entries(NATIVE)) {
  test(`libtorch error, ${name}: TorchError with PyTorch's message, backtrace only on nativeStack`, () => {
    torch.tidy(() => {
      const e = throwsTorch(c.js, c.re, 'ERR_TORCH');
      assert.equal(typeof e.nativeStack, 'string', 'libtorch errors carry the native backtrace');
      assert.ok(e.nativeStack.includes(e.message.split('\n')[0]), 'nativeStack starts from the same error');
      const py = pythonMessages()[name];
      assert.notEqual(py, null, 'Python raises too');
      assert.match(py, c.re, 'the regex describes the Python error as well');
      assert.equal(e.message, py);
    });
  });
}

test('disposed tensors: ERR_TORCH_DISPOSED naming the tensor or the argument', () => {
  torch.tidy(() => {
    const a = torch.ones(2);
    const d = torch.ones(2);
    d.dispose();
    throwsTorch(() => d.add(1), /add\(\): the tensor was disposed and cannot be used/, 'ERR_TORCH_DISPOSED');
    throwsTorch(() => a.add(d), /add\(\): argument 'other' was disposed/, 'ERR_TORCH_DISPOSED');
    throwsTorch(() => a.matmul(d), /matmul\(\): argument 'other' was disposed/, 'ERR_TORCH_DISPOSED');
    throwsTorch(() => torch.stack([a, d]), /stack\(\): argument 'tensors\[1\]' was disposed/, 'ERR_TORCH_DISPOSED');
    throwsTorch(() => d.reshape(2, 1), /reshape\(\): the tensor was disposed/, 'ERR_TORCH_DISPOSED');
    throwsTorch(() => d.shape, /shape: the tensor was disposed/, 'ERR_TORCH_DISPOSED');
    throwsTorch(() => d.backward(), /backward\(\): the tensor was disposed/, 'ERR_TORCH_DISPOSED');
  });
});

test('non-numeric and ragged data in torch.tensor()', () => {
  throwsTorch(() => torch.tensor(['a']), /tensor\(\): data\[0\] is string "a"; expected a number or a boolean/, 'ERR_TORCH_ARG');
  throwsTorch(() => torch.tensor([1, undefined]), /data\[1\] is undefined; expected a number or a boolean/, 'ERR_TORCH_ARG');
  throwsTorch(
    () =>
      torch.tensor([
        [1, 2],
        [3, null],
      ]),
    /data\[1\]\[1\] is null; expected a number/,
    'ERR_TORCH_ARG',
  );
  throwsTorch(() => torch.tensor({ a: 1 }), /tensor\(\): data is an object; expected a number or a boolean/, 'ERR_TORCH_ARG');
  throwsTorch(() => torch.tensor([[1, 2], [3]]), /data\[1\] has length 1, expected 2 \(ragged nested arrays\)/, 'ERR_TORCH_ARG');
  throwsTorch(() => torch.tensor([[1, 2], 3]), /data\[1\] is number 3 but an array of length 2 was expected \(ragged/, 'ERR_TORCH_ARG');
  throwsTorch(
    () =>
      torch.tensor([
        [[1], [2]],
        [[3], [4, 5]],
      ]),
    /data\[1\]\[1\] has length 2, expected 1 \(ragged/,
    'ERR_TORCH_ARG',
  );
  throwsTorch(() => torch.tensor(new Uint32Array(2)), /tensor\(\): argument 'data' must be a Float32Array.*got a Uint32Array/, 'ERR_TORCH_ARG');
});

test('out-of-range dimensions and indices', () => {
  torch.tidy(() => {
    const a = torch.ones(2, 3);
    throwsTorch(() => a.size(5), /size\(\): dim 5 is out of range for a tensor with 2 dimensions \(expected -2\.\.1\)/, 'ERR_TORCH_ARG');
    throwsTorch(() => a.transpose(0, 3), /Dimension out of range .*but got 3/);
    throwsTorch(() => a.select(1, -4), /index -4 out of range for tensor of size \[2, 3\] at dimension 1/);
    throwsTorch(() => a.index([0, 0, 0]), /index\(\): too many indices for a tensor of dimension 2 \(got 3\)/, 'ERR_TORCH_ARG');
    throwsTorch(() => a.indexSelect(0, torch.tensor([5])), /index out of range/);
    throwsTorch(() => a.sum([0, 0]), /dim 0 appears multiple times in the list of dims/);
  });
});

test('bad dtype strings name the accepted dtypes', () => {
  torch.tidy(() => {
    const accepted = /argument 'dtype' must be one of .*float32.*float64.*got string "float128"/;
    throwsTorch(() => torch.zeros(2, { dtype: 'float128' }), new RegExp('zeros\\(\\): ' + accepted.source), 'ERR_TORCH_ARG');
    throwsTorch(() => torch.tensor([1], { dtype: 'float128' }), accepted, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(2).to({ dtype: 'float128' }), accepted, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(2).sum(0, { dtype: 'float128' }), accepted, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(2).type('complex32'), /type\(\): argument 'dtype' must be one of .*got string "complex32"/, 'ERR_TORCH_ARG');
  });
});

test('bad device strings name the accepted devices', () => {
  torch.tidy(() => {
    const accepted = /argument 'device' must be 'cpu', 'cuda', 'cuda:N' or a torch\.device, got string "tpu"/;
    throwsTorch(() => torch.zeros(2, { device: 'tpu' }), accepted, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(2).to('tpu'), accepted, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.device('tpu'), accepted, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.zeros(2, { device: 'cuda:x' }), /got string "cuda:x"/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(2).cuda(1.5), /cuda\(\): argument 'device' must be an integer, got number 1\.5/, 'ERR_TORCH_ARG');
  });
});

test('non-integer and negative sizes name the offending size', () => {
  torch.tidy(() => {
    throwsTorch(() => torch.zeros(2.5), /zeros\(\): argument 'size\[0\]' must be a non-negative integer, got number 2\.5/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones([2, 1.5]), /ones\(\): argument 'size\[1\]' must be a non-negative integer, got number 1\.5/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.randn(-1), /randn\(\): argument 'size\[0\]' must be a non-negative integer, got number -1/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.zeros('2'), /argument 'size\[0\]' must be a non-negative integer, got string "2"/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(6).reshape(2.5, 2), /reshape\(\): argument 'size\[0\]' must be an integer >= -1, got number 2\.5/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.ones(6).view(-1, -1), /only one dimension can be inferred/);
    throwsTorch(() => torch.ones(6).select(0, 1.5), /select\(\): argument 'index' must be an integer, got number 1\.5/, 'ERR_TORCH_ARG');
  });
});

test('requiresGrad on an integer tensor', () => {
  torch.tidy(() => {
    const re = /Only Tensors of floating point (and complex )?dtype can require gradients/i;
    throwsTorch(() => torch.tensor([1, 2]).requiresGrad_(), re);
    throwsTorch(() => {
      torch.tensor([1, 2]).requiresGrad = true;
    }, re);
    throwsTorch(() => torch.zeros(2, { dtype: 'int64', requiresGrad: true }), re);
    throwsTorch(
      () => torch.tensor([1]).requiresGrad_('yes'),
      /requiresGrad_\(\): argument 'requiresGrad' must be a boolean, got string "yes"/,
      'ERR_TORCH_ARG',
    );
  });
});

test('backward with a gradient of the wrong shape', () => {
  torch.tidy(() => {
    const y = torch.ones(3, { requiresGrad: true }).mul(2);
    throwsTorch(() => y.backward(torch.ones(2)), /invalid gradient at index 0 - got \[2\] but expected shape compatible with \[3\]/);
    throwsTorch(() => y.backward([1, 1, 1]), /backward\(\): argument 'gradient' must be a Tensor, got an array of length 3/, 'ERR_TORCH_ARG');
  });
});

test('item() on a tensor that is not one element', () => {
  torch.tidy(() => {
    throwsTorch(() => torch.ones(2, 3).item(), /item\(\): a tensor with 6 elements cannot be converted to a number; it needs exactly one element/);
    throwsTorch(() => torch.zeros(0).item(), /a tensor with 0 elements cannot be converted/);
  });
});

test('wrong argument types name the parameter and what was passed', () => {
  torch.tidy(() => {
    const a = torch.ones(2);
    throwsTorch(() => a.add('x'), /add\(\): argument 'other' must be a Tensor or a number, got string "x"/, 'ERR_TORCH_ARG');
    throwsTorch(() => a.matmul(2), /matmul\(\): argument 'other' must be a Tensor, got number 2/, 'ERR_TORCH_ARG');
    throwsTorch(() => a.sum('x'), /sum\(\): argument 'dim' must be an integer or an array of integers, got string "x"/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.cat([]), /cat\(\): argument 'tensors' must be a non-empty array of Tensors/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.cat([a, [1]]), /cat\(\): argument 'tensors\[1\]' must be a Tensor, got an array of length 1/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.noGrad(5), /noGrad\(\): argument 'fn' must be a function, got number/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.manualSeed(-1), /manualSeed\(\): argument 'seed' must be a non-negative integer, got number -1/, 'ERR_TORCH_ARG');
    throwsTorch(() => torch.arange(0, 5, 0), /arange\(\): argument 'step' must be nonzero/, 'ERR_TORCH_ARG');
  });
});

test('the process survives repeated bad input and keeps computing correctly', () => {
  const base = live();
  const cases = [
    ...Object.values(NATIVE).map((c) => c.js),
    () => torch.tensor(['a']),
    () => torch.zeros(2.5),
    () => torch.zeros(2, { dtype: 'float128' }),
    () => torch.zeros(2, { device: 'tpu' }),
    () => torch.ones(2, 3).item(),
  ];
  for (let i = 0; i < 50; i++) {
    torch.tidy(() => {
      for (const c of cases) assert.throws(c, torch.TorchError);
    });
  }
  assert.equal(live(), base, 'failed calls leave no tensors behind');
  assert.equal(torch.memory().scopeDepth, 0);
  assert.equal(torch.isGradEnabled(), true);
  const r = torch.tidy(() =>
    torch
      .tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32' },
      )
      .mm(torch.eye(2))
      .sum()
      .item(),
  );
  assert.equal(r, 10);
});

test('no tensors leaked by this file', () => {
  assert.equal(live(), fileBaseline);
});
