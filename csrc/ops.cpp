// Op schemas of the xai_fast extension: the one place where every op is declared.
// Implementations register per device in cpu/*.cpp (and cuda/*.cu when built with CUDA).
#include <Python.h>
#include <torch/library.h>

extern "C" {
// An empty Python module, so that `import xai_fast._C` loads this library and runs the
// registrations below.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {
      PyModuleDef_HEAD_INIT, "_C", "xai_fast compiled kernels (registered as torch.ops.xai_fast)",
      -1, nullptr};
  return PyModule_Create(&module_def);
}
}

TORCH_LIBRARY(xai_fast, m) {
  // Kernel SHAP coalition design. Outputs are padded to nsamples rows; the first n_used are valid.
  m.def(
      "kernel_design(int M, int nsamples, int seed, Tensor weight_vector, int num_full, "
      "int num_paired, Tensor binoms, Tensor cdf) -> (Tensor Z, Tensor w, Tensor n_used)");
  // Perturbed rows of consecutive (instance, coalition) pairs, written into out.
  m.def(
      "fill_masked_rows(Tensor X, Tensor B, Tensor Z, Tensor var_idx, int start, "
      "Tensor(a!) out) -> ()");
  // Weighted mean of the model output over each pair's background rows, written into ey.
  m.def("background_mean(Tensor out, Tensor weights, Tensor(a!) ey) -> ()");
  // Efficiency-constrained weighted least squares for many right-hand sides.
  m.def("constrained_wls(Tensor Z, Tensor w, Tensor Y, Tensor total) -> Tensor");
  // DeepLIFT's rescale multipliers (y - y_b) / (x - x_b), NaN where |x - x_b| < eps, and how
  // many those are; x_b and y_b may hold fewer rows, tiled (row r pairs with row r % M).
  m.def(
      "rescale_multiplier(Tensor x, Tensor x_b, Tensor y, Tensor y_b, float eps) "
      "-> (Tensor m, Tensor n_small)");
}
