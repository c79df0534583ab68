"""Build the single extension fastap._core from csrc/*.c and fastap/_core.pyx.

The CUDA kernel (csrc/cuda/box_iou.cu) is not compiled here: it is copied, with the
per-pair formula csrc/iou_pair.h it includes, into the package as fastap/_cuda_src/, and
compiled at run time by CuPy (NVRTC). No CUDA toolkit is needed to build fastap.

OpenMP is used when the compiler accepts it (checked by compiling a probe); otherwise
the same sources build serially (the `prange` loops become plain loops).
Floating-point contraction is switched off: fastap's arithmetic must round exactly as
pycocotools' NumPy/C code does, and a fused multiply-add would not.

The extension is built without debug information (gcc/clang: -g0, and on Linux the linker
drops any that static objects bring: -Wl,--strip-debug): 1.8 MB instead of 9.5 MB.
FASTAP_DEBUG=1 keeps it (-g, no stripping) for a debugger or a profiler.

FASTAP_EXTRA_CFLAGS / FASTAP_EXTRA_LDFLAGS (space-separated) are added after all of the
above, to the extension and to the OpenMP probe: the sanitizer build of the fuzz tests
(tests/test_fuzz_python.py, tools/fuzz_campaign.py) uses
FASTAP_EXTRA_CFLAGS="-O1 -fsanitize=address,undefined ..." (a later -O wins).
"""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _probe_openmp(compiler, flag, link_flag, extra_c=(), extra_l=()):
    """Return True when `compiler` compiles and links an OpenMP program with `flag` (and
    the extra compile / link flags the extension will get)."""
    tmp = tempfile.mkdtemp()
    src = os.path.join(tmp, "omp_probe.c")
    with open(src, "w") as f:
        f.write("#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\nn+=1;\nreturn n>0?0:1;}\n")
    try:
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=[flag] + list(extra_c))
        compiler.link_executable(objs, os.path.join(tmp, "omp_probe"),
                                 extra_postargs=([link_flag] if link_flag else []) + list(extra_l))
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def build_extensions(self):
        ctype = self.compiler.compiler_type
        no_omp = os.environ.get("FASTAP_NO_OPENMP", "") not in ("", "0")
        debug = os.environ.get("FASTAP_DEBUG", "") not in ("", "0")
        if ctype == "msvc":
            cflags, lflags = ["/O2", "/fp:precise"], []
            omp_c, omp_l = "/openmp", None
        else:
            cflags = ["-O3", "-ffp-contract=off", "-fno-strict-aliasing", "-Wall"]
            lflags = []
            if debug:
                cflags += ["-g"]
            else:
                # after Python's own CFLAGS (which often carry -g): the last -g option wins
                cflags += ["-g0"]
                if sys.platform.startswith("linux"):
                    lflags += ["-Wl,--strip-debug"]
            omp_c, omp_l = "-fopenmp", "-fopenmp"
            if sys.platform == "darwin":
                omp_c, omp_l = "-Xpreprocessor -fopenmp", "-lomp"
        extra_c = os.environ.get("FASTAP_EXTRA_CFLAGS", "").split()
        extra_l = os.environ.get("FASTAP_EXTRA_LDFLAGS", "").split()
        use_omp = (not no_omp) and _probe_openmp(self.compiler, omp_c, omp_l, extra_c, extra_l)
        if use_omp:
            cflags += omp_c.split()
            if omp_l:
                lflags += [omp_l]
        cflags += extra_c
        lflags += extra_l
        print("fastap: building %s OpenMP%s" % ("with" if use_omp else "WITHOUT",
                                                 ", with debug information (FASTAP_DEBUG)" if debug else ""))
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + cflags
            ext.extra_link_args = list(ext.extra_link_args or []) + lflags
            ext.define_macros = list(ext.define_macros or []) + [("FASTAP_OPENMP", "1" if use_omp else "0")]
        super().build_extensions()


CUDA_SOURCES = ["csrc/cuda/box_iou.cu", "csrc/iou_pair.h", "csrc/cuda/rotated_iou.cu", "csrc/rotated_pair.h"]


class BuildPy(build_py):
    """Ships the CUDA source as package data: fastap/_cuda_src/{box_iou.cu, iou_pair.h}."""

    def run(self):
        super().run()
        dst = os.path.join(self.build_lib, "fastap", "_cuda_src")
        os.makedirs(dst, exist_ok=True)
        for src in CUDA_SOURCES:
            self.copy_file(os.path.join(HERE, src), os.path.join(dst, os.path.basename(src)))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, "fastap", "_cuda_src", os.path.basename(s)) for s in CUDA_SOURCES]


# the C extension: C files only (csrc/cuda/*.cu is compiled at run time, above)
sources = ["fastap/_core.pyx"] + sorted(glob.glob("csrc/*.c"))
ext = Extension(
    "fastap._core",
    sources=sources,
    include_dirs=[np.get_include(), "csrc"],
    # a change to a header rebuilds every C file (setuptools compares the sources' times only)
    depends=sorted(glob.glob("csrc/*.h")) + sorted(glob.glob("fastap/*.pxi")) + ["fastap/_capi.pxd"],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
)

setup(
    ext_modules=cythonize([ext], language_level=3,
                          compiler_directives={"boundscheck": False, "wraparound": False,
                                               "cdivision": True, "initializedcheck": False}),
    cmdclass={"build_ext": BuildExt, "build_py": BuildPy},
)
