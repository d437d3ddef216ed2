"""Build script for the optional C kernel (``lrdsl._kernel``, from ``ext/``).

The extension is optional: without a compiler or Cython the package installs
and runs on the numpy reference evaluator (``lrdsl.backend()`` says so).
``LRDSL_REQUIRE_EXT=1`` turns a failed extension build into an install error
(CI sets it); ``LRDSL_NO_EXT=1`` skips the extension (CI proves the fallback).

The grammar, ``grammar/lrdsl.lark``, is copied into the package so an
installed lrdsl ships it.
"""

import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRE = os.environ.get("LRDSL_REQUIRE_EXT") == "1"
SKIP = os.environ.get("LRDSL_NO_EXT") == "1"


def _warn(message):
    sys.stderr.write(f"\nlrdsl: {message}\nlrdsl: continuing with the numpy reference backend\n\n")


class BuildPy(build_py):
    """Also ship grammar/lrdsl.lark inside the package."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "lrdsl", "grammar")
        os.makedirs(target, exist_ok=True)
        shutil.copy2(os.path.join(HERE, "grammar", "lrdsl.lark"), target)


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as err:  # no compiler, no Python headers, ...
            if REQUIRE:
                raise
            _warn(f"the C extension was not built: {err}")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as err:
            if REQUIRE:
                raise
            _warn(f"the C extension {ext.name} failed to build: {err}")


def extensions():
    if SKIP:
        if REQUIRE:
            raise SystemExit("LRDSL_REQUIRE_EXT=1 and LRDSL_NO_EXT=1 contradict each other")
        return []
    source = os.path.join("ext", "_kernel.pyx")
    if not os.path.exists(os.path.join(HERE, source)):
        if REQUIRE:
            raise SystemExit("LRDSL_REQUIRE_EXT=1 but ext/_kernel.pyx is missing")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as err:
        if REQUIRE:
            raise
        _warn(f"Cython is not available ({err})")
        return []
    ext = Extension(
        "lrdsl._kernel",
        sources=[source, os.path.join("ext", "lrdsl_kernel.c"), os.path.join("ext", "lrdsl_prims.c")],
        depends=[
            os.path.join("ext", name)
            for name in ("lrdsl_kernel.h", "lrdsl_math.h", "lrdsl_ops.h", "lrdsl_dispatch.inc", "lrdsl_cycles.c")
        ],
        include_dirs=["ext"],
        extra_compile_args=_cflags(),
        extra_link_args=_ldflags(),
    )
    return cythonize([ext], language_level=3, compiler_directives={"boundscheck": False, "wraparound": False})


def _cflags():
    if sys.platform == "win32":
        return ["/O2"]
    # Vectorize sin/exp/pow through glibc's libmvec (omp declare simd in the C
    # source) without -ffast-math: no reassociation, no contraction, IEEE results.
    # A primitive without its C function must not build (the dispatch is generated).
    return [
        "-O3",
        "-fopenmp-simd",
        "-fno-math-errno",
        "-ffp-contract=off",
        "-fno-trapping-math",
        "-Werror=implicit-function-declaration",
    ]


def _ldflags():
    if sys.platform.startswith("linux"):
        return ["-lmvec", "-lm"]
    return []


setup(ext_modules=extensions(), cmdclass={"build_py": BuildPy, "build_ext": OptionalBuildExt})
