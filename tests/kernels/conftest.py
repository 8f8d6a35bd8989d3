"""Fixtures of the kernel tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def without_c_kernels():
    """actlab's C kernels switched off for one test, so that it proves the other fast paths (torch's
    verified ops, the fused GLU Function's own code), which serve when the extension is not built."""
    from actlab.kernels import ckernels

    before = ckernels.enabled()
    ckernels.set_enabled(False)
    yield
    ckernels.set_enabled(before)
