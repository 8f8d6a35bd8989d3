"""Fixtures of the kernel tests."""

from __future__ import annotations

import pytest


def _instruction_sets() -> list[str]:
    """The C kernels' variants this CPU runs: baseline, and avx2 where the CPU has AVX2 and FMA."""
    from actlab.kernels import ckernels

    if not ckernels.available():
        return []
    from actlab.kernels import _ckernels

    return ["baseline"] + (["avx2"] if _ckernels.isa() == "avx2" else [])


ISAS = _instruction_sets()


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs a test once per C-kernel variant, restoring the one in use afterwards."""
    from actlab.kernels import _ckernels

    before = _ckernels.isa()
    _ckernels.set_isa(request.param)
    yield request.param
    _ckernels.set_isa(before)


@pytest.fixture
def without_c_kernels():
    """actlab's C kernels switched off for one test, so that it proves the other fast paths (torch's
    verified ops, the fused GLU Function's own code), which serve when the extension is not built."""
    from actlab.kernels import ckernels

    before = ckernels.enabled()
    ckernels.set_enabled(False)
    yield
    ckernels.set_enabled(before)
