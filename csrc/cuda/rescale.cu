// CUDA implementation of xai_fast::rescale_multiplier, DeepLIFT's rescale rule in one pass.
// Same contract and checks as cpu/rescale.cpp: IEEE subtraction and division, explicitly
// rounded, in the tensors' dtype (bit-identical to rescale_multiplier_ref), NaN where
// |x - x_b| < eps. Their count stays on the device (an int64 scalar tensor): no host sync.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <limits>
#include <tuple>

#include "../arg_checks.h"
#include "common.cuh"

namespace xai_fast {
namespace {

using cuda_util::blocks_for;
using cuda_util::first_index;
using cuda_util::grid_stride;
using cuda_util::kThreads;

__device__ inline float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ inline double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ inline float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline float abs_val(float a) { return fabsf(a); }
__device__ inline double abs_val(double a) { return fabs(a); }

template <typename scalar_t>
__global__ void rescale_multiplier_kernel(const scalar_t* __restrict__ x,
                                          const scalar_t* __restrict__ x_b,
                                          const scalar_t* __restrict__ y,
                                          const scalar_t* __restrict__ y_b, int64_t n, int64_t S,
                                          int64_t Mb, scalar_t eps, scalar_t nan,
                                          scalar_t* __restrict__ m,
                                          unsigned long long* __restrict__ n_small) {
  unsigned long long small = 0;
  for (int64_t t = first_index(); t < n; t += grid_stride()) {
    const int64_t r = t / S, k = t % S;
    const int64_t base = (r % Mb) * S + k;
    const scalar_t dx = sub_rn(x[t], x_b[base]);
    const bool tiny = abs_val(dx) < eps;
    small += tiny;
    m[t] = tiny ? nan : div_rn(sub_rn(y[t], y_b[base]), dx);
  }
  // one atomic per block: the block's counts summed in shared memory
  __shared__ unsigned long long partial[kThreads];
  partial[threadIdx.x] = small;
  __syncthreads();
  for (unsigned int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0 && partial[0] != 0) atomicAdd(n_small, partial[0]);
}

std::tuple<at::Tensor, at::Tensor> rescale_multiplier_cuda(const at::Tensor& x,
                                                           const at::Tensor& x_b,
                                                           const at::Tensor& y,
                                                           const at::Tensor& y_b, double eps) {
  check_rescale_multiplier(x, x_b, y, y_b);
  const int64_t R = x.size(0), Mb = x_b.size(0);
  for (const auto& t : {x_b, y, y_b})
    TORCH_CHECK(x.is_cuda() && t.is_cuda() && t.device() == x.device(),
                "x, x_b, y and y_b must all be CUDA tensors on one device");
  const c10::cuda::CUDAGuard guard(x.device());
  const auto xc = x.contiguous(), xbc = x_b.contiguous(), yc = y.contiguous(),
             ybc = y_b.contiguous();
  auto m = at::empty_like(xc);
  auto n_small = at::zeros({}, x.options().dtype(at::kLong));
  const int64_t n = xc.numel();
  const int64_t S = R > 0 ? n / R : 0;
  if (n == 0) return {m, n_small};
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  static_assert(sizeof(unsigned long long) == sizeof(int64_t), "64-bit counter");
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rescale_multiplier_cuda", [&] {
    rescale_multiplier_kernel<scalar_t><<<blocks_for(n), kThreads, 0, stream>>>(
        xc.data_ptr<scalar_t>(), xbc.data_ptr<scalar_t>(), yc.data_ptr<scalar_t>(),
        ybc.data_ptr<scalar_t>(), n, S, Mb, static_cast<scalar_t>(eps),
        std::numeric_limits<scalar_t>::quiet_NaN(), m.data_ptr<scalar_t>(),
        reinterpret_cast<unsigned long long*>(n_small.data_ptr<int64_t>()));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {m, n_small};
}

}  // namespace

TORCH_LIBRARY_IMPL(xai_fast, CUDA, m) { m.impl("rescale_multiplier", &rescale_multiplier_cuda); }

}  // namespace xai_fast
