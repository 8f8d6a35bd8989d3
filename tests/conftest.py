"""Suite-wide fixtures."""

from __future__ import annotations

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
