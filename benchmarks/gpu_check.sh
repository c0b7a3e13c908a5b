#!/usr/bin/env bash
# GPU check of xai_fast: build with the CUDA kernels, run the tests with the CUDA cases enabled,
# and benchmark Kernel SHAP on the GPU. Meant for a machine with CUDA and a preinstalled torch
# (nothing is fetched); it takes under 8 minutes. Without CUDA it runs through, skips the CUDA
# parts with a line saying so, and exits 0 when the CPU parts pass.
#
#   bash benchmarks/gpu_check.sh            # from the repository root
#
# Environment:
#   PYTHON                   the interpreter (default: python)
#   GPU_CHECK_SKIP_INSTALL=1 use the package as it is installed / on PYTHONPATH (no build)
#   GPU_CHECK_TEST_LIMIT     seconds for the whole test suite (default 180)
#   GPU_CHECK_TESTS          what pytest runs first (default: tests, the whole suite)
#   GPU_CHECK_BENCH_ARGS     arguments of benchmarks/bench_gpu.py (default: none)
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
TEST_LIMIT=${GPU_CHECK_TEST_LIMIT:-180}
status=0
say() { printf '\n== %s\n' "$*"; }

cuda_kernels() {
  "$PY" - <<'PYEOF'
import torch
from xai_fast.backends import available
from xai_fast.backends.extension import has_cuda_kernel, extension_status
ops = ("fill_masked_rows", "background_mean", "rescale_multiplier")
print("extension:", extension_status()[1])
print("CUDA kernels registered:", {op: has_cuda_kernel(op) for op in ops})
raise SystemExit(0 if "torch" in available() and all(map(has_cuda_kernel, ops)) else 1)
PYEOF
}

have_cuda=0
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" && have_cuda=1

# (a) build (the log keeps the compiler's output)
LOG=${TMPDIR:-/tmp}/xai_fast_gpu_check_build.log
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
if [ "${GPU_CHECK_SKIP_INSTALL:-0}" = "1" ]; then
  say "install: skipped (GPU_CHECK_SKIP_INSTALL=1)"
else
  say "install: pip install --no-build-isolation --no-deps -e . (log: $LOG)"
  if ! "$PY" -m pip install -v --no-build-isolation --no-deps -e . >"$LOG" 2>&1; then
    echo "pip install failed:"; tail -n 40 "$LOG"; status=1
  fi
  if [ "$have_cuda" = "1" ] && ! cuda_kernels >/dev/null 2>&1; then
    echo "THE CUDA KERNELS FAILED TO BUILD (or to load); their errors:"
    grep -n -i -E "error|warning: building of|failed" "$LOG" | head -n 40
    echo "rebuilding with XAI_FAST_BUILD_CUDA=0"
    status=1
    XAI_FAST_BUILD_CUDA=0 "$PY" -m pip install -v --no-build-isolation --no-deps -e . \
      >"$LOG.cpu" 2>&1 || { echo "the CPU build failed too:"; tail -n 40 "$LOG.cpu"; exit 1; }
  fi
fi

# (b) versions
say "versions"
"$PY" - <<'PYEOF'
import torch
print(f"torch {torch.__version__}, CUDA build {torch.version.cuda}, "
      f"cuda available {torch.cuda.is_available()}")
if torch.cuda.is_available():
    print("device:", torch.cuda.get_device_name(), "capability", torch.cuda.get_device_capability())
PYEOF
if [ "$have_cuda" = "1" ]; then
  cuda_kernels || { echo "CUDA kernels NOT registered: the CUDA op tests will skip"; status=1; }
else
  cuda_kernels || true
  echo "CUDA: not available on this machine; the CUDA tests and benchmark cases are skipped"
fi

# (c) tests
TESTS=${GPU_CHECK_TESTS:-tests}
say "tests: pytest -q -x $TESTS (limit ${TEST_LIMIT}s)"
# shellcheck disable=SC2086
timeout "$TEST_LIMIT" "$PY" -m pytest -q -x -p no:cacheprovider $TESTS
rc=$?
[ $rc -eq 124 ] && echo "the test suite hit the ${TEST_LIMIT}s limit"
[ $rc -ne 0 ] && status=1
say "tests marked cuda, verbose"
timeout 60 "$PY" -m pytest -v -s -m cuda -p no:cacheprovider tests
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 5 ] && status=1   # 5: nothing collected
[ "$have_cuda" = "1" ] || echo "(no CUDA device: the cuda-marked tests above are skipped)"

# (d) benchmark
say "benchmark: benchmarks/bench_gpu.py ${GPU_CHECK_BENCH_ARGS:-}"
(cd benchmarks && timeout 150 "$PY" bench_gpu.py ${GPU_CHECK_BENCH_ARGS:-}) || status=1

[ "$have_cuda" = "1" ] || echo "CUDA: not available; only the CPU parts ran"
say "gpu_check done (status $status)"
exit $status
