// The counter-based SplitMix64 specification of xai_fast/_rng.py.
#pragma once
#include <cstdint>

namespace xai_fast {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t stream_key(uint64_t seed, uint64_t stream) {
  return mix64(seed ^ mix64(stream + kGolden));
}

inline double uniform(uint64_t key, uint64_t counter) {
  return static_cast<double>(mix64(key + (counter + 1) * kGolden) >> 11) * 0x1.0p-53;
}

}  // namespace xai_fast
