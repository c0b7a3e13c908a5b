// Argument checks of the xai_fast ops, shared by their CPU (cpu/) and CUDA (cuda/) kernels so
// that both refuse the same inputs with the same messages. Device checks stay with each backend.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace xai_fast {

// Sizes of a fill_masked_rows call: n rows of d values, N background rows, S coalitions over M
// varying features, P pairs written.
struct FillSizes {
  int64_t n, d, N, S, M, P;
};

inline FillSizes check_fill_masked_rows(const at::Tensor& X, const at::Tensor& B,
                                        const at::Tensor& Z, const at::Tensor& var_idx,
                                        int64_t start, const at::Tensor& out) {
  TORCH_CHECK(X.dim() == 2 && B.dim() == 2 && Z.dim() == 2 && var_idx.dim() == 2 && out.dim() == 2,
              "fill_masked_rows expects 2-D X, B, Z, var_idx and out");
  const int64_t n = X.size(0), d = X.size(1), N = B.size(0), S = Z.size(0), M = Z.size(1);
  TORCH_CHECK(B.size(1) == d && out.size(1) == d, "X, B and out must have the same columns");
  TORCH_CHECK(X.scalar_type() == B.scalar_type() && X.scalar_type() == out.scalar_type(),
              "X, B and out must share a dtype");
  TORCH_CHECK(Z.scalar_type() == at::kBool, "Z must be bool");
  TORCH_CHECK(var_idx.scalar_type() == at::kLong && var_idx.size(0) == n && var_idx.size(1) == M,
              "var_idx must be int64 of shape (n, M)");
  TORCH_CHECK(out.is_contiguous(), "out must be contiguous");
  TORCH_CHECK(N > 0 && out.size(0) % N == 0, "out rows must be a multiple of the background rows");
  const int64_t P = out.size(0) / N;
  TORCH_CHECK(start >= 0 && start + P <= n * S, "pairs [", start, ", ", start + P,
              ") exceed the ", n * S, " pairs");
  TORCH_CHECK(X.element_size() == 4 || X.element_size() == 8,
              "fill_masked_rows supports 32- and 64-bit floats");
  return {n, d, N, S, M, P};
}

inline void check_background_mean(const at::Tensor& out, const at::Tensor& weights,
                                  const at::Tensor& ey) {
  TORCH_CHECK(out.dim() == 2 && weights.dim() == 1 && ey.dim() == 2,
              "background_mean expects out (P*N, k), weights (N,), ey (P, k)");
  const int64_t N = weights.size(0), P = ey.size(0), k = ey.size(1);
  TORCH_CHECK(out.size(0) == P * N && out.size(1) == k, "out must have shape (P*N, k)");
  TORCH_CHECK(weights.scalar_type() == at::kDouble && ey.scalar_type() == at::kDouble,
              "weights and ey must be float64");
  TORCH_CHECK(ey.is_contiguous(), "ey must be contiguous");
}

inline void check_rescale_multiplier(const at::Tensor& x, const at::Tensor& x_b,
                                     const at::Tensor& y, const at::Tensor& y_b) {
  TORCH_CHECK(x.dim() >= 1 && x.sizes() == y.sizes(), "x and y must have the same shape");
  TORCH_CHECK(x_b.sizes() == y_b.sizes(), "x_b and y_b must have the same shape");
  TORCH_CHECK(x_b.dim() == x.dim() && x_b.sizes().slice(1) == x.sizes().slice(1),
              "x_b must have x's shape after the row axis");
  const int64_t R = x.size(0), Mb = x_b.size(0);
  TORCH_CHECK(Mb > 0 && R % Mb == 0, "x's rows must be a multiple of x_b's rows");
  TORCH_CHECK(x.scalar_type() == x_b.scalar_type() && x.scalar_type() == y.scalar_type() &&
                  x.scalar_type() == y_b.scalar_type(),
              "x, x_b, y and y_b must share a dtype");
}

}  // namespace xai_fast
