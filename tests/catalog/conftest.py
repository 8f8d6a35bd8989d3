import mpmath as mp
import pytest


@pytest.fixture(autouse=True)
def _mp_precision():
    # 113 bits (quad precision) is far beyond fp32/fp64 and keeps the references fast
    with mp.workprec(113):
        yield
