"""Build of the optional C++ extension ``xai_fast._C``; all other metadata is in pyproject.toml.

The extension is compiled against the torch found at build time (install with
``--no-build-isolation`` so that it is the environment's torch). Set
``XAI_FAST_BUILD_EXTENSION=0`` to skip it; when it is missing the package runs on Numba.
"""

import glob
import os

from setuptools import setup


def extension_modules():
    if os.environ.get("XAI_FAST_BUILD_EXTENSION", "1") == "0":
        return [], {}
    try:
        import torch
        from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension
    except ImportError:
        print("xai_fast: torch is not importable at build time; skipping the C++ extension")
        return [], {}
    sources = sorted(
        glob.glob("csrc/*.cpp") + glob.glob("csrc/cpu/*.cpp") + glob.glob("csrc/composite/*.cpp")
    )
    cxx = ["-O3", "-ffp-contract=off", "-DPy_LIMITED_API=0x03090000"]
    use_cuda = (
        torch.version.cuda is not None
        and CUDA_HOME is not None
        and os.environ.get("XAI_FAST_BUILD_CUDA", "1") != "0"
    )
    if use_cuda:
        ext = CUDAExtension(
            "xai_fast._C",
            sources + sorted(glob.glob("csrc/cuda/*.cu")),
            extra_compile_args={"cxx": cxx, "nvcc": ["-O3", "--fmad=false"]},
            py_limited_api=True,
            optional=True,
        )
    else:
        ext = CppExtension(
            "xai_fast._C",
            sources,
            extra_compile_args={"cxx": cxx},
            py_limited_api=True,
            optional=True,
        )
    return [ext], {"build_ext": BuildExtension}


ext_modules, cmdclass = extension_modules()
setup(
    ext_modules=ext_modules,
    cmdclass=cmdclass,
    options={"bdist_wheel": {"py_limited_api": "cp39"}} if ext_modules else {},
)
