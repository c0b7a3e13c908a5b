// xai_fast::constrained_wls from ATen ops, so one registration serves every device
// (CompositeExplicitAutograd); the CPU has its own kernel for small systems
// (cpu/constrained_wls.cpp), which calls this one for large ones. Same contract as
// xai_fast/solvers/kernel_wls_ref.py.
#include "constrained_wls.h"

#include <torch/library.h>

namespace xai_fast {

void check_constrained_wls_args(const at::Tensor& Z, const at::Tensor& w, const at::Tensor& Y,
                                const at::Tensor& total) {
  TORCH_CHECK(Z.dim() == 2 && Z.size(1) >= 2, "Z must be (S, M) with M >= 2");
  const int64_t S = Z.size(0);
  TORCH_CHECK(w.dim() == 1 && w.size(0) == S, "w must be (S,)");
  TORCH_CHECK(Y.dim() == 2 && Y.size(0) == S, "Y must be (S, R)");
  TORCH_CHECK(total.dim() == 1 && total.size(0) == Y.size(1), "total must be (R,)");
  TORCH_CHECK(Z.scalar_type() == at::kDouble && w.scalar_type() == at::kDouble &&
                  Y.scalar_type() == at::kDouble && total.scalar_type() == at::kDouble,
              "constrained_wls works in float64");
}

at::Tensor constrained_wls_aten(const at::Tensor& Z, const at::Tensor& w, const at::Tensor& Y,
                                const at::Tensor& total) {
  check_constrained_wls_args(Z, w, Y, total);
  const int64_t M = Z.size(1);
  const auto last = Z.narrow(1, M - 1, 1);            // (S, 1)
  const auto X = Z.narrow(1, 0, M - 1) - last;        // (S, M-1)
  const auto WX = X * w.unsqueeze(1);                 // (S, M-1)
  const auto Yadj = Y - last * total.unsqueeze(0);    // (S, R)
  const auto sol = at::linalg_solve(at::matmul(X.t(), WX), at::matmul(WX.t(), Yadj));
  auto phi = at::cat({sol, (total - sol.sum(0)).unsqueeze(0)}, 0);  // (M, R)
  return phi.masked_fill(phi.abs() < 1e-10, 0.0);
}

TORCH_LIBRARY_IMPL(xai_fast, CompositeExplicitAutograd, m) {
  m.impl("constrained_wls", &constrained_wls_aten);
}

}  // namespace xai_fast
