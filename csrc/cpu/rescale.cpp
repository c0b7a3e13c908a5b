// CPU implementation of xai_fast::rescale_multiplier, DeepLIFT's rescale rule in one pass.
// Same contract as xai_fast/explainers/propagation/_rescale.py::rescale_multiplier_ref: IEEE
// subtraction and division in the tensors' dtype, so the result is bit-identical to it.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <tuple>

#include "../arg_checks.h"

namespace xai_fast {
namespace {

std::tuple<at::Tensor, at::Tensor> rescale_multiplier_cpu(const at::Tensor& x,
                                                          const at::Tensor& x_b,
                                                          const at::Tensor& y,
                                                          const at::Tensor& y_b, double eps) {
  check_rescale_multiplier(x, x_b, y, y_b);
  const int64_t R = x.size(0), Mb = x_b.size(0);
  const auto xc = x.contiguous(), xbc = x_b.contiguous(), yc = y.contiguous(),
             ybc = y_b.contiguous();
  auto m = at::empty_like(xc);
  const int64_t S = R > 0 ? xc.numel() / R : 0;
  std::atomic<int64_t> small_total{0};
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rescale_multiplier", [&] {
    const scalar_t* xp = xc.data_ptr<scalar_t>();
    const scalar_t* xbp = xbc.data_ptr<scalar_t>();
    const scalar_t* yp = yc.data_ptr<scalar_t>();
    const scalar_t* ybp = ybc.data_ptr<scalar_t>();
    scalar_t* mp = m.data_ptr<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    const scalar_t nan = std::numeric_limits<scalar_t>::quiet_NaN();
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(S, 1));
    at::parallel_for(0, R, grain, [&](int64_t lo, int64_t hi) {
      int64_t small = 0;
      for (int64_t r = lo; r < hi; ++r) {
        const scalar_t* __restrict__ a = xp + r * S;
        const scalar_t* __restrict__ ab = xbp + (r % Mb) * S;
        const scalar_t* __restrict__ c = yp + r * S;
        const scalar_t* __restrict__ cb = ybp + (r % Mb) * S;
        scalar_t* __restrict__ out = mp + r * S;
        for (int64_t k = 0; k < S; ++k) {
          const scalar_t dx = a[k] - ab[k];
          const bool tiny = std::abs(dx) < e;
          small += tiny;
          out[k] = tiny ? nan : (c[k] - cb[k]) / dx;
        }
      }
      small_total += small;
    });
  });
  return {m, at::scalar_tensor(small_total.load(), x.options().dtype(at::kLong))};
}

}  // namespace

TORCH_LIBRARY_IMPL(xai_fast, CPU, m) { m.impl("rescale_multiplier", &rescale_multiplier_cpu); }

}  // namespace xai_fast
