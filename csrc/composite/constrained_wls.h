// The ATen-composed constrained_wls, shared by its device-agnostic registration and the CPU
// kernel (which uses it for large systems).
#pragma once
#include <ATen/ATen.h>

namespace xai_fast {

// TORCH_CHECKs the shapes (Z (S, M) with M >= 2, w (S,), Y (S, R), total (R,)) and float64.
void check_constrained_wls_args(const at::Tensor& Z, const at::Tensor& w, const at::Tensor& Y,
                                const at::Tensor& total);

// Coefficients phi (M, R) minimising sum_s w[s] (Y[s] - Z[s] @ phi)^2 with
// phi.sum(0) == total; Z (S, M), w (S,), Y (S, R), total (R,), all float64.
at::Tensor constrained_wls_aten(const at::Tensor& Z, const at::Tensor& w, const at::Tensor& Y,
                                const at::Tensor& total);

}  // namespace xai_fast
