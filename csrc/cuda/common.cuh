// Launch helpers shared by the CUDA kernels of xai_fast: a fixed block size and a capped grid
// (the kernels are grid-stride loops, so any grid covers every element).
#pragma once

#include <algorithm>
#include <cstdint>

namespace xai_fast {
namespace cuda_util {

constexpr int kThreads = 256;

inline unsigned int blocks_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned int>(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535));
}

__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ inline int64_t grid_stride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

}  // namespace cuda_util
}  // namespace xai_fast
