// CPU implementations of xai_fast::fill_masked_rows and xai_fast::background_mean.
// Same contracts as xai_fast/masking/fill_ref.py; parallel over pairs with at::parallel_for,
// which shares the thread pool of the model's own CPU ops.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cstring>
#include <vector>

#include "../arg_checks.h"

namespace xai_fast {
namespace {

// Two ways to build a pair's N rows, both on the bit patterns of the values (same-width
// integer views: exact, NaN and -0.0 included):
// - narrow rows (d <= kNarrow): copy the background block (one memcpy of N * d values), then
//   set the coalition's columns to the instance's values; about 1.5x faster there, because
//   inner loops of a few values do not vectorise;
// - wider rows: blend every value through the coalition's mask, a loop that vectorises.
constexpr int64_t kNarrow = 16;

template <typename bits_t>
void fill_bits(const at::Tensor& X, const at::Tensor& B, const at::Tensor& Z,
               const at::Tensor& var_idx, int64_t start, const at::Tensor& out, int64_t S,
               int64_t M, int64_t N, int64_t d, int64_t P) {
  const bits_t* xp = X.data_ptr<bits_t>();
  const bits_t* bp = B.data_ptr<bits_t>();
  const bool* zp = Z.data_ptr<bool>();
  const int64_t* vp = var_idx.data_ptr<int64_t>();
  bits_t* op = out.data_ptr<bits_t>();
  const int64_t block = N * d;
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(block, 1));
  at::parallel_for(0, P, grain, [&](int64_t lo, int64_t hi) {
    std::vector<bits_t> keep(d), xrow(d);
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t p = start + q, i = p / S, s = p % S;
      const bool* zs = zp + s * M;
      const int64_t* vi = vp + i * M;
      const bits_t* xi = xp + i * d;
      bits_t* __restrict__ blk = op + q * block;
      if (d <= kNarrow) {
        std::memcpy(blk, bp, static_cast<size_t>(block) * sizeof(bits_t));
        for (int64_t j = 0; j < M; ++j) {
          if (!zs[j]) continue;
          const int64_t c = vi[j];
          const bits_t v = xi[c];
          for (int64_t b = 0; b < N; ++b) blk[b * d + c] = v;
        }
        continue;
      }
      std::fill(keep.begin(), keep.end(), static_cast<bits_t>(-1));
      for (int64_t j = 0; j < M; ++j)
        if (zs[j]) keep[vi[j]] = 0;
      for (int64_t c = 0; c < d; ++c) xrow[c] = xi[c] & ~keep[c];
      const bits_t* __restrict__ xr = xrow.data();
      const bits_t* __restrict__ kp = keep.data();
      for (int64_t b = 0; b < N; ++b) {
        const bits_t* __restrict__ brow = bp + b * d;
        bits_t* __restrict__ orow = blk + b * d;
        for (int64_t c = 0; c < d; ++c) orow[c] = xr[c] | (brow[c] & kp[c]);
      }
    }
  });
}

void fill_masked_rows_cpu(const at::Tensor& X, const at::Tensor& B, const at::Tensor& Z,
                          const at::Tensor& var_idx, int64_t start, const at::Tensor& out) {
  const FillSizes z = check_fill_masked_rows(X, B, Z, var_idx, start, out);
  const int64_t S = z.S, M = z.M, N = z.N, d = z.d, P = z.P;
  const auto Xc = X.contiguous(), Bc = B.contiguous(), Zc = Z.contiguous();
  const auto Vc = var_idx.contiguous();
  if (X.element_size() == 4) {
    fill_bits<int32_t>(Xc.view(at::kInt), Bc.view(at::kInt), Zc, Vc, start, out.view(at::kInt),
                       S, M, N, d, P);
  } else {  // 8 bytes (checked)
    fill_bits<int64_t>(Xc.view(at::kLong), Bc.view(at::kLong), Zc, Vc, start,
                       out.view(at::kLong), S, M, N, d, P);
  }
}

void background_mean_cpu(const at::Tensor& out, const at::Tensor& weights, const at::Tensor& ey) {
  check_background_mean(out, weights, ey);
  const int64_t N = weights.size(0), P = ey.size(0), k = ey.size(1);
  const auto Oc = out.contiguous();
  const auto Wc = weights.contiguous();
  const double* w = Wc.data_ptr<double>();
  double* e = ey.data_ptr<double>();
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "background_mean", [&] {
    const scalar_t* o = Oc.data_ptr<scalar_t>();  // accumulated in double
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < k; ++c) {
        double acc = 0.0;
        for (int64_t b = 0; b < N; ++b) acc += static_cast<double>(o[(p * N + b) * k + c]) * w[b];
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
