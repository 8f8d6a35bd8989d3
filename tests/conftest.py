"""Suite-wide fixtures."""

from __future__ import annotations

import mpmath as mp
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread per test. The suite's tensors are small, and some tests run a server, a
    browser or a killed sweep beside pytest: extra OpenMP threads then make each step several times
    slower. Restored afterwards so a test that sets its own count is unaffected."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _mp_precision():
    """mpmath references at 113 bits (quad precision): far beyond fp32/fp64, still fast, and enough for
    references that cancel (x - tanh x near 0 is 0 at mpmath's default 53 bits)."""
    with mp.workprec(113):
        yield
