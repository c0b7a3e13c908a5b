// CPU kernel of xai_fast::constrained_wls for small systems: the normal equations are
// accumulated in one pass over the coalitions and solved by Gaussian elimination with partial
// pivoting, with no ATen op in between (the composed version dispatches about ten ops and a
// LAPACK call: about 120 us at 1,000 coalitions of 10 players, against 20 us here). Large
// systems go to the composed version (composite/constrained_wls.cpp), whose matrix products
// use BLAS. Same contract as xai_fast/solvers/kernel_wls_ref.py.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <cmath>
#include <utility>
#include <vector>

#include "../composite/constrained_wls.h"

namespace xai_fast {
namespace {

// Systems up to this many multiply-adds (S * M * (M + R)) are solved here.
constexpr int64_t kDirectWork = int64_t{1} << 24;

// Solves A x = B in place (A (m, m) row-major, B (m, R) row-major; B becomes x). Raises
// torch.linalg.LinAlgError on an exactly zero pivot, as LAPACK's gesv does.
void solve_in_place(std::vector<double>& A, std::vector<double>& B, int64_t m, int64_t R) {
  for (int64_t c = 0; c < m; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < m; ++r)
      if (std::abs(A[r * m + c]) > std::abs(A[piv * m + c])) piv = r;
    TORCH_CHECK_LINALG(A[piv * m + c] != 0.0, "constrained_wls: the normal equations are ",
                       "singular (zero pivot in column ", c, ")");
    if (piv != c) {
      for (int64_t k = 0; k < m; ++k) std::swap(A[c * m + k], A[piv * m + k]);
      for (int64_t k = 0; k < R; ++k) std::swap(B[c * R + k], B[piv * R + k]);
    }
    const double inv = 1.0 / A[c * m + c];
    for (int64_t r = c + 1; r < m; ++r) {
      const double f = A[r * m + c] * inv;
      if (f == 0.0) continue;
      for (int64_t k = c; k < m; ++k) A[r * m + k] -= f * A[c * m + k];
      for (int64_t k = 0; k < R; ++k) B[r * R + k] -= f * B[c * R + k];
    }
  }
  for (int64_t c = m - 1; c >= 0; --c) {  // back substitution
    const double inv = 1.0 / A[c * m + c];
    for (int64_t k = 0; k < R; ++k) {
      double v = B[c * R + k];
      for (int64_t j = c + 1; j < m; ++j) v -= A[c * m + j] * B[j * R + k];
      B[c * R + k] = v * inv;
    }
  }
}

at::Tensor constrained_wls_cpu(const at::Tensor& Z_in, const at::Tensor& w_in,
                               const at::Tensor& Y_in, const at::Tensor& total_in) {
  check_constrained_wls_args(Z_in, w_in, Y_in, total_in);
  const int64_t S = Z_in.size(0), M = Z_in.size(1), R = Y_in.size(1), m = M - 1;
  if (S * M * (M + R) > kDirectWork) return constrained_wls_aten(Z_in, w_in, Y_in, total_in);
  const auto Z = Z_in.contiguous(), w = w_in.contiguous(), Y = Y_in.contiguous(),
             total = total_in.contiguous();
  const double* zp = Z.data_ptr<double>();
  const double* wp = w.data_ptr<double>();
  const double* yp = Y.data_ptr<double>();
  const double* tp = total.data_ptr<double>();
  // Eliminating the last player: x = z[:m] - z[m], y' = y - z[m] * total.
  std::vector<double> A(m * m, 0.0), B(m * R, 0.0), x(m), ya(R);
  for (int64_t s = 0; s < S; ++s) {
    const double* z = zp + s * M;
    const double zl = z[m], ws = wp[s];
    for (int64_t j = 0; j < m; ++j) x[j] = z[j] - zl;
    for (int64_t r = 0; r < R; ++r) ya[r] = yp[s * R + r] - zl * tp[r];
    for (int64_t j = 0; j < m; ++j) {
      const double wx = ws * x[j];
      if (wx == 0.0) continue;
      double* Aj = A.data() + j * m;
      for (int64_t k = 0; k <= j; ++k) Aj[k] += wx * x[k];
      double* Bj = B.data() + j * R;
      for (int64_t r = 0; r < R; ++r) Bj[r] += wx * ya[r];
    }
  }
  for (int64_t j = 0; j < m; ++j)  // the lower triangle was accumulated
    for (int64_t k = j + 1; k < m; ++k) A[j * m + k] = A[k * m + j];
  solve_in_place(A, B, m, R);
  auto phi = at::empty({M, R}, Y.options());
  double* pp = phi.data_ptr<double>();
  for (int64_t r = 0; r < R; ++r) {
    double acc = 0.0;
    for (int64_t j = 0; j < m; ++j) {
      pp[j * R + r] = B[j * R + r];
      acc += B[j * R + r];
    }
    pp[m * R + r] = tp[r] - acc;
  }
  for (int64_t i = 0; i < M * R; ++i)
    if (std::abs(pp[i]) < 1e-10) pp[i] = 0.0;
  return phi;
}

}  // namespace

TORCH_LIBRARY_IMPL(xai_fast, CPU, m) { m.impl("constrained_wls", &constrained_wls_cpu); }

}  // namespace xai_fast
