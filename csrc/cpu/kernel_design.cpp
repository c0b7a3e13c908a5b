// CPU implementation of xai_fast::kernel_design, bit-identical to the numpy reference
// (xai_fast/sampling/kernel_design_ref.py) and the Numba kernel for the same seed.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

#include "splitmix.h"

namespace xai_fast {
namespace {

// Every coalition of sizes 1..num_full (with complements for paired sizes). Returns rows used.
int64_t enumerate_sizes(int64_t M, int64_t num_full, int64_t num_paired, const double* wv,
                        const double* binoms, bool* Z, double* w) {
  int64_t n = 0;
  std::vector<int64_t> idx(M);
  for (int64_t s = 1; s <= num_full; ++s) {
    const bool paired = s <= num_paired;
    const double wgt = wv[s - 1] / binoms[s - 1] / (paired ? 2.0 : 1.0);
    for (int64_t i = 0; i < s; ++i) idx[i] = i;
    while (true) {  // combinations in lexicographic order
      for (int64_t i = 0; i < s; ++i) Z[n * M + idx[i]] = true;
      w[n++] = wgt;
      if (paired) {
        for (int64_t j = 0; j < M; ++j) Z[n * M + j] = !Z[(n - 1) * M + j];
        w[n++] = wgt;
      }
      int64_t i = s - 1;
      while (i >= 0 && idx[i] == M - s + i) --i;
      if (i < 0) break;
      ++idx[i];
      for (int64_t k = i + 1; k < s; ++k) idx[k] = idx[k - 1] + 1;
    }
  }
  return n;
}

// Paired random sampling of the remaining sizes; duplicates add to the weight. Returns rows used.
int64_t random_part(int64_t M, int64_t samples_left, uint64_t seed, const double* wv,
                    int64_t n_sizes, int64_t num_full, int64_t num_paired, const double* cdf,
                    int64_t L, bool* Z, double* w) {
  const int64_t P = 4 * samples_left;
  const int64_t nwords = (M + 63) / 64;
  int64_t tsize = 1;
  while (tsize < 2 * samples_left) tsize *= 2;
  std::vector<int64_t> table(tsize, -1);  // open addressing: slot -> unique id
  std::vector<uint64_t> words(samples_left * nwords);
  std::vector<int64_t> row_of(samples_left);
  std::vector<char> has_comp(samples_left, 0);
  std::vector<double> mult(samples_left, 0.0);
  std::vector<int64_t> perm(M);
  std::vector<uint64_t> cur(nwords);
  std::vector<char> mask(M);
  int64_t n_unique = 0, added = 0;
  for (int64_t t = 0; t < P && added < samples_left; ++t) {
    const uint64_t key = stream_key(seed, static_cast<uint64_t>(t));
    const double u0 = uniform(key, 0);
    int64_t q = 0;
    while (q < L - 1 && u0 >= cdf[q]) ++q;
    const int64_t s = q + num_full + 1;
    for (int64_t j = 0; j < M; ++j) perm[j] = j;
    for (int64_t j = 0; j < s; ++j) {  // partial Fisher-Yates
      const int64_t r =
          j + std::min(static_cast<int64_t>(uniform(key, j + 1) * (M - j)), M - j - 1);
      std::swap(perm[j], perm[r]);
    }
    std::fill(mask.begin(), mask.end(), 0);
    for (int64_t j = 0; j < s; ++j) mask[perm[j]] = 1;
    std::fill(cur.begin(), cur.end(), 0);
    for (int64_t j = 0; j < M; ++j)
      if (mask[j]) cur[j / 64] |= uint64_t{1} << (j % 64);
    uint64_t h = 0;
    for (int64_t k = 0; k < nwords; ++k) h = mix64(h ^ cur[k]);
    int64_t slot = static_cast<int64_t>(h & static_cast<uint64_t>(tsize - 1));
    int64_t found = -1;
    while (table[slot] != -1) {
      const int64_t uid = table[slot];
      if (std::memcmp(&words[uid * nwords], cur.data(), nwords * sizeof(uint64_t)) == 0) {
        found = uid;
        break;
      }
      slot = (slot + 1) & (tsize - 1);
    }
    if (found >= 0) {
      mult[found] += 1.0;
      continue;
    }
    const int64_t uid = n_unique++;
    table[slot] = uid;
    std::copy(cur.begin(), cur.end(), words.begin() + uid * nwords);
    row_of[uid] = added;
    mult[uid] = 1.0;
    for (int64_t j = 0; j < M; ++j) Z[added * M + j] = mask[j];
    ++added;
    if (s <= num_paired && added < samples_left) {
      for (int64_t j = 0; j < M; ++j) Z[added * M + j] = !mask[j];
      has_comp[uid] = 1;
      ++added;
    }
  }
  for (int64_t uid = 0; uid < n_unique; ++uid) {
    w[row_of[uid]] = mult[uid];
    if (has_comp[uid]) w[row_of[uid] + 1] = mult[uid];
  }
  double total = 0.0, left = 0.0;
  for (int64_t i = 0; i < added; ++i) total += w[i];
  for (int64_t k = num_full; k < n_sizes; ++k) left += wv[k];
  for (int64_t i = 0; i < added; ++i) w[i] *= left / total;
  return added;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> kernel_design_cpu(
    int64_t M, int64_t nsamples, int64_t seed, const at::Tensor& weight_vector, int64_t num_full,
    int64_t num_paired, const at::Tensor& binoms, const at::Tensor& cdf) {
  TORCH_CHECK(M >= 2, "kernel_design needs M >= 2 players, got ", M);
  TORCH_CHECK(nsamples >= 0, "nsamples must be non-negative, got ", nsamples);
  TORCH_CHECK(weight_vector.scalar_type() == at::kDouble && binoms.scalar_type() == at::kDouble &&
                  cdf.scalar_type() == at::kDouble,
              "weight_vector, binoms and cdf must be float64");
  TORCH_CHECK(weight_vector.dim() == 1 && binoms.sizes() == weight_vector.sizes() &&
                  cdf.dim() == 1 && cdf.numel() >= 1,
              "weight_vector and binoms must be 1-D of equal length, cdf 1-D and non-empty");
  TORCH_CHECK(num_full >= 0 && num_full <= weight_vector.numel(), "num_full out of range");
  const auto wv = weight_vector.contiguous();
  const auto bn = binoms.contiguous();
  const auto cd = cdf.contiguous();
  // Zeroed serially: at::zeros would wake the intra-op thread pool for a few hundred kB.
  auto Z = at::empty({nsamples, M}, at::TensorOptions().dtype(at::kBool));
  auto w = at::empty({nsamples}, at::TensorOptions().dtype(at::kDouble));
  bool* Zp = Z.data_ptr<bool>();
  double* wp = w.data_ptr<double>();
  std::fill(Zp, Zp + nsamples * M, false);
  std::fill(wp, wp + nsamples, 0.0);
  int64_t n = enumerate_sizes(M, num_full, num_paired, wv.data_ptr<double>(),
                              bn.data_ptr<double>(), Zp, wp);
  TORCH_INTERNAL_ASSERT(n <= nsamples, "enumerated part exceeds the budget");
  const int64_t n_sizes = wv.numel();
  const int64_t samples_left = nsamples - n;
  if (num_full < n_sizes && samples_left > 0) {
    n += random_part(M, samples_left, static_cast<uint64_t>(seed), wv.data_ptr<double>(),
                     n_sizes, num_full, num_paired, cd.data_ptr<double>(), cd.numel(),
                     Zp + n * M, wp + n);
  }
  return {Z, w, at::scalar_tensor(n, at::TensorOptions().dtype(at::kLong))};
}

}  // namespace

TORCH_LIBRARY_IMPL(xai_fast, CPU, m) { m.impl("kernel_design", &kernel_design_cpu); }

}  // namespace xai_fast
