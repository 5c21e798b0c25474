"""The Makefile holds NumPy and OpenBLAS to their AVX2 kernels on x86-64 (CONTRIBUTING.md, "Stored
outputs"), so stored outputs reproduce on machines with and without AVX-512. This checks that make
exports the two settings and that NumPy and OpenBLAS, started with them, really use those kernels:
a NumPy release that renamed its CPU features would otherwise drop the pin without a word."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINNED = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the pin applies on x86-64 only")


def make_exports():
    """The two variables as make exports them to its recipes, from an environment without them."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED and not k.startswith("MAKE")}
    show = "show-kernels:; @echo \"$$OPENBLAS_CORETYPE|$$NPY_DISABLE_CPU_FEATURES\""
    out = subprocess.run(["make", "-s", "-f", "Makefile", "--eval", show, "show-kernels"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    return dict(zip(PINNED, out.split("|")))


def test_make_exports_the_avx2_pin():
    assert make_exports() == {"OPENBLAS_CORETYPE": "Haswell",
                              "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


def test_numpy_and_openblas_use_the_pinned_kernels():
    probe = ("import json, numpy\n"
             "from numpy._core._multiarray_umath import __cpu_features__ as found, __cpu_dispatch__ as built\n"
             "from threadpoolctl import threadpool_info\n"
             "print(json.dumps({'numpy': [f for f in built if found.get(f)],\n"
             "                  'openblas': [p['architecture'] for p in threadpool_info()\n"
             "                               if p['internal_api'] == 'openblas']}))\n")
    env = {**os.environ, **make_exports()}
    kernels = json.loads(subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                                        check=True).stdout)
    assert not {"X86_V4", "AVX512_ICL", "AVX512_SPR"} & set(kernels["numpy"]), kernels
    assert kernels["openblas"] and set(kernels["openblas"]) == {"Haswell"}, kernels
