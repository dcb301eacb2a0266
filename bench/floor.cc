// The C++ floor for bench/run.js: the per-call cost of the same small ops in a plain C++ loop on the
// same libtorch, one thread. Prints JSON: {"op": microseconds per call, ...} (lstmStep: per step).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ScalarOps.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  at::set_num_threads(1);
  at::Tensor a = at::ones({1});
  at::Tensor b = at::ones({1});
  at::Tensor x = at::ones({4});
  at::Tensor img = at::ones({1, 3, 8, 8});
  at::Tensor w = at::ones({4, 3, 3, 3});
  // Runs fn in chunks of `chunk` calls, as bench/run.js's other sides do, and returns the median
  // chunk's time per call (robust to other processes taking the CPU for a while). `scale`: the share
  // of n a heavier op runs (bench/run.js runs the same share).
  auto time = [&](auto&& fn, double scale = 1.0, long chunk = 1000) {
    long m = static_cast<long>(n * scale) > 0 ? static_cast<long>(n * scale) : 1;
    for (long i = 0; i < m / 10; ++i) fn();  // warm-up
    std::vector<double> per_chunk;
    for (long done = 0; done < m; done += chunk) {
      auto t0 = std::chrono::steady_clock::now();
      for (long i = 0; i < chunk; ++i) fn();
      auto t1 = std::chrono::steady_clock::now();
      per_chunk.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / chunk);
    }
    std::sort(per_chunk.begin(), per_chunk.end());
    size_t k = per_chunk.size() / 2;
    return per_chunk.size() % 2 ? per_chunk[k] : (per_chunk[k - 1] + per_chunk[k]) / 2;
  };
  double add = time([&] { at::Tensor c = a + b; });
  // `a * 2.0` as PyTorch's Python binding and torch-node run it: mul.Tensor with a wrapped-number
  // tensor (at::mul(Tensor, Scalar) would add a dispatch hop that neither of them takes).
  double mul_scalar = time([&] { at::Tensor c = at::mul(a, at::native::wrapped_scalar_tensor(2.0)); });
  double relu = time([&] { at::Tensor c = at::relu(a); });
  double sum = time([&] { at::Tensor c = a.sum(); });
  double sum0 = time([&] { at::Tensor c = a.sum(0); });
  // Python's x[1:3] is one aten::slice call.
  double index = time([&] { at::Tensor c = x.slice(0, 1, 3); });
  double cat = time([&] { at::Tensor c = at::cat({a, b}); });
  double softmax = time([&] { at::Tensor c = at::softmax(a, -1); });
  double conv2d = time([&] { at::Tensor c = at::conv2d(img, w); }, 0.5);
  // One step of nn.LSTMCell(32, 32) at batch 1 under no_grad: the aten::lstm_cell its forward calls.
  at::Tensor w_ih = at::randn({128, 32}), w_hh = at::randn({128, 32}), b_ih = at::randn({128}), b_hh = at::randn({128});
  at::Tensor xs = at::randn({1, 32}), h0 = at::zeros({1, 32}), c0 = at::zeros({1, 32});
  c10::NoGradGuard no_grad;
  double lstm_step = time(
                         [&] {
                           at::Tensor h = h0, c = c0;
                           for (int i = 0; i < 50; ++i)
                             std::tie(h, c) = at::lstm_cell(xs, {h, c}, w_ih, w_hh, b_ih, b_hh);
                         },
                         0.2 / 50, 20) /
                     50;
  std::printf(
      "{\"add\": %.4f, \"mulScalar\": %.4f, \"relu\": %.4f, \"sum\": %.4f, \"sum0\": %.4f, \"index\": %.4f, \"cat\": "
      "%.4f, "
      "\"softmax\": %.4f, \"conv2d\": %.4f, \"lstmStep\": %.4f}\n",
      add, mul_scalar, relu, sum, sum0, index, cat, softmax, conv2d, lstm_step);
  return 0;
}
