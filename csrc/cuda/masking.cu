// CUDA implementations of xai_fast::fill_masked_rows and xai_fast::background_mean.
// Same contracts and checks as cpu/masking.cpp: rows are blended on the bit patterns of the
// values (exact, NaN and -0.0 included), and the background mean accumulates in double with
// explicitly rounded products and sums (no contraction into FMA), in the CPU kernel's order.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../arg_checks.h"
#include "common.cuh"

namespace xai_fast {
namespace {

using cuda_util::blocks_for;
using cuda_util::first_index;
using cuda_util::grid_stride;
using cuda_util::kThreads;

// present[q * d + c] = 1 where column c of pair start + q takes the explained row's value.
__global__ void present_columns_kernel(const bool* __restrict__ Z, const int64_t* __restrict__ var_idx,
                                       int64_t start, int64_t S, int64_t M, int64_t d, int64_t P,
                                       uint8_t* __restrict__ present) {
  const int64_t n = P * M;
  for (int64_t t = first_index(); t < n; t += grid_stride()) {
    const int64_t q = t / M, j = t % M;
    const int64_t p = start + q, i = p / S, s = p % S;
    if (Z[s * M + j]) present[q * d + var_idx[i * M + j]] = 1;  // same value from any thread
  }
}

// out[(q * N + b) * d + c] = present ? X[i, c] : B[b, c], copied as bits.
template <typename bits_t>
__global__ void blend_rows_kernel(const bits_t* __restrict__ X, const bits_t* __restrict__ B,
                                  const uint8_t* __restrict__ present, int64_t start, int64_t S,
                                  int64_t N, int64_t d, int64_t P, bits_t* __restrict__ out) {
  const int64_t n = P * N * d;
  for (int64_t t = first_index(); t < n; t += grid_stride()) {
    const int64_t c = t % d, row = t / d;
    const int64_t q = row / N, b = row % N;
    const int64_t i = (start + q) / S;
    out[t] = present[q * d + c] ? X[i * d + c] : B[b * d + c];
  }
}

void check_same_cuda_device(const at::Tensor& ref, std::initializer_list<at::Tensor> tensors,
                            const char* what) {
  TORCH_CHECK(ref.is_cuda(), what, " must all be CUDA tensors on one device");
  for (const auto& t : tensors)
    TORCH_CHECK(t.is_cuda() && t.device() == ref.device(), what,
                " must all be CUDA tensors on one device");
}

void fill_masked_rows_cuda(const at::Tensor& X, const at::Tensor& B, const at::Tensor& Z,
                           const at::Tensor& var_idx, int64_t start, const at::Tensor& out) {
  const FillSizes z = check_fill_masked_rows(X, B, Z, var_idx, start, out);
  check_same_cuda_device(out, {X, B, Z, var_idx}, "X, B, Z, var_idx and out");
  const int64_t S = z.S, M = z.M, N = z.N, d = z.d, P = z.P;
  if (P == 0 || d == 0) return;
  const c10::cuda::CUDAGuard guard(out.device());
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const auto Xc = X.contiguous(), Bc = B.contiguous(), Zc = Z.contiguous();
  const auto Vc = var_idx.contiguous();
  auto present = at::zeros({P, d}, out.options().dtype(at::kByte));
  if (M > 0) {
    present_columns_kernel<<<blocks_for(P * M), kThreads, 0, stream>>>(
        Zc.data_ptr<bool>(), Vc.data_ptr<int64_t>(), start, S, M, d, P,
        present.data_ptr<uint8_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  const int64_t total = P * N * d;
  if (X.element_size() == 4) {
    blend_rows_kernel<int32_t><<<blocks_for(total), kThreads, 0, stream>>>(
        Xc.view(at::kInt).data_ptr<int32_t>(), Bc.view(at::kInt).data_ptr<int32_t>(),
        present.data_ptr<uint8_t>(), start, S, N, d, P, out.view(at::kInt).data_ptr<int32_t>());
  } else {
    blend_rows_kernel<int64_t><<<blocks_for(total), kThreads, 0, stream>>>(
        Xc.view(at::kLong).data_ptr<int64_t>(), Bc.view(at::kLong).data_ptr<int64_t>(),
        present.data_ptr<uint8_t>(), start, S, N, d, P, out.view(at::kLong).data_ptr<int64_t>());
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// ey[p, c] = sum_b out[p * N + b, c] * w[b], summed over b in order, in double.
template <typename scalar_t>
__global__ void background_mean_kernel(const scalar_t* __restrict__ out,
                                       const double* __restrict__ w, int64_t N, int64_t P,
                                       int64_t k, double* __restrict__ ey) {
  const int64_t n = P * k;
  for (int64_t t = first_index(); t < n; t += grid_stride()) {
    const int64_t p = t / k, c = t % k;
    double acc = 0.0;
    for (int64_t b = 0; b < N; ++b)
      acc = __dadd_rn(acc, __dmul_rn(static_cast<double>(out[(p * N + b) * k + c]), w[b]));
    ey[t] = acc;
  }
}

void background_mean_cuda(const at::Tensor& out, const at::Tensor& weights, const at::Tensor& ey) {
  check_background_mean(out, weights, ey);
  check_same_cuda_device(ey, {out, weights}, "out, weights and ey");
  const int64_t N = weights.size(0), P = ey.size(0), k = ey.size(1);
  if (P == 0 || k == 0) return;
  const c10::cuda::CUDAGuard guard(ey.device());
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const auto Oc = out.contiguous();
  const auto Wc = weights.contiguous();
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "background_mean_cuda", [&] {
    background_mean_kernel<scalar_t><<<blocks_for(P * k), kThreads, 0, stream>>>(
        Oc.data_ptr<scalar_t>(), Wc.data_ptr<double>(), N, P, k, ey.data_ptr<double>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(xai_fast, CUDA, m) {
  m.impl("fill_masked_rows", &fill_masked_rows_cuda);
  m.impl("background_mean", &background_mean_cuda);
}

}  // namespace xai_fast
