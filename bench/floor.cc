// The C++ floor for bench/run.js: the per-call cost of the same small ops in a plain C++ loop on the
// same libtorch, one thread. Prints JSON: {"op": microseconds per call, ...}.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ScalarOps.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  at::set_num_threads(1);
  at::Tensor a = at::ones({1});
  at::Tensor b = at::ones({1});
  auto time = [&](auto&& fn) {
    for (long i = 0; i < n / 10; ++i) fn();  // warm-up
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) fn();
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
  };
  double add = time([&] { at::Tensor c = a + b; });
  // `a * 2.0` as PyTorch's Python binding and torch-node run it: mul.Tensor with a wrapped-number
  // tensor (at::mul(Tensor, Scalar) would add a dispatch hop that neither of them takes).
  double mul_scalar = time([&] { at::Tensor c = at::mul(a, at::native::wrapped_scalar_tensor(2.0)); });
  double relu = time([&] { at::Tensor c = at::relu(a); });
  double sum = time([&] { at::Tensor c = a.sum(); });
  double sum0 = time([&] { at::Tensor c = a.sum(0); });
  std::printf("{\"add\": %.4f, \"mulScalar\": %.4f, \"relu\": %.4f, \"sum\": %.4f, \"sum0\": %.4f}\n", add, mul_scalar, relu,
              sum, sum0);
  return 0;
}
