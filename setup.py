"""Builds actlab's optional C kernels (``actlab.kernels._ckernels``); everything else is in pyproject.toml.

The extension is plain C against the Python API (no torch headers, so no torch at build time). It is
optional: if it cannot be compiled (no C compiler), the install still succeeds and actlab uses torch's
verified ops and its exact reference instead.
"""

import ctypes.util
import glob
import platform
import sys

from setuptools import Extension, setup

macros = []
libraries = []
if (
    sys.platform.startswith("linux")
    and platform.libc_ver()[0] == "glibc"
    and ctypes.util.find_library("mvec")
):
    # glibc's vector maths library: SIMD expf, log1pf, tanhf, erff, ... for the `omp simd` loops
    macros.append(("ACTLAB_LIBMVEC", "1"))
    libraries += ["mvec", "m"]

compile_args = (
    []
    if sys.platform == "win32"
    else [
        "-O3",
        "-std=gnu11",
        "-fopenmp-simd",  # the `omp simd` pragmas only; no OpenMP runtime
        "-fno-math-errno",
        "-ffp-contract=off",  # both instruction-set variants round the same way
    ]
)

setup(
    ext_modules=[
        Extension(
            "actlab.kernels._ckernels",
            sources=["src/actlab/kernels/csrc/ckernels.c"],
            depends=sorted(glob.glob("src/actlab/kernels/csrc/*.h")),
            define_macros=macros,
            libraries=libraries,
            extra_compile_args=compile_args,
            optional=True,
        )
    ]
)
