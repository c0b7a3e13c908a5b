// CPU implementations of xai_fast::fill_masked_rows and xai_fast::background_mean.
// Same contracts as xai_fast/masking/fill_ref.py; parallel over pairs with at::parallel_for,
// which shares the thread pool of the model's own CPU ops.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

namespace xai_fast {
namespace {

void fill_masked_rows_cpu(const at::Tensor& X, const at::Tensor& B, const at::Tensor& Z,
                          const at::Tensor& var_idx, int64_t start, const at::Tensor& out) {
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
  const auto Xc = X.contiguous(), Bc = B.contiguous(), Zc = Z.contiguous();
  const auto Vc = var_idx.contiguous();
  const bool* zp = Zc.data_ptr<bool>();
  const int64_t* vp = Vc.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "fill_masked_rows", [&] {
    const scalar_t* xp = Xc.data_ptr<scalar_t>();
    const scalar_t* bp = Bc.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(N * d, 1));
    at::parallel_for(0, P, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t q = lo; q < hi; ++q) {
        const int64_t p = start + q, i = p / S, s = p % S;
        scalar_t* rows = op + q * N * d;
        std::copy(bp, bp + N * d, rows);
        for (int64_t j = 0; j < M; ++j) {
          if (!zp[s * M + j]) continue;
          const int64_t c = vp[i * M + j];
          const scalar_t v = xp[i * d + c];
          for (int64_t b = 0; b < N; ++b) rows[b * d + c] = v;
        }
      }
    });
  });
}

void background_mean_cpu(const at::Tensor& out, const at::Tensor& weights, const at::Tensor& ey) {
  TORCH_CHECK(out.dim() == 2 && weights.dim() == 1 && ey.dim() == 2,
              "background_mean expects out (P*N, k), weights (N,), ey (P, k)");
  const int64_t N = weights.size(0), P = ey.size(0), k = ey.size(1);
  TORCH_CHECK(out.size(0) == P * N && out.size(1) == k, "out must have shape (P*N, k)");
  TORCH_CHECK(weights.scalar_type() == at::kDouble && ey.scalar_type() == at::kDouble,
              "weights and ey must be float64");
  TORCH_CHECK(ey.is_contiguous(), "ey must be contiguous");
  const auto Oc = out.to(at::kDouble).contiguous();
  const auto Wc = weights.contiguous();
  const double* o = Oc.data_ptr<double>();
  const double* w = Wc.data_ptr<double>();
  double* e = ey.data_ptr<double>();
  at::parallel_for(0, P, std::max<int64_t>(1, 4096 / std::max<int64_t>(N * k, 1)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t p = lo; p < hi; ++p)
                       for (int64_t c = 0; c < k; ++c) {
                         double acc = 0.0;
                         for (int64_t b = 0; b < N; ++b) acc += o[(p * N + b) * k + c] * w[b];
                         e[p * k + c] = acc;
                       }
                   });
}

}  // namespace

TORCH_LIBRARY_IMPL(xai_fast, CPU, m) {
  m.impl("fill_masked_rows", &fill_masked_rows_cpu);
  m.impl("background_mean", &background_mean_cpu);
}

}  // namespace xai_fast
