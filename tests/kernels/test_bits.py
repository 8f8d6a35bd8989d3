import pytest
import torch

from actlab.kernels.bits import pack_bits, packed_size, unpack_bits


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (8,), (9,), (3, 5), (2, 3, 11), (1000,)])
def test_round_trip(shape):
    mask = torch.rand(shape, generator=torch.Generator().manual_seed(1)) > 0.5
    packed = pack_bits(mask)
    assert packed.dtype == torch.uint8
    assert packed.numel() == packed_size(mask.numel())
    assert torch.equal(unpack_bits(packed, mask.shape), mask)


def test_non_contiguous_and_numeric_input():
    base = torch.rand(6, 10, generator=torch.Generator().manual_seed(2)) > 0.3
    view = base.t()[::2]
    assert not view.is_contiguous()
    assert torch.equal(unpack_bits(pack_bits(view), view.shape), view)
    numeric = torch.tensor([0.0, 2.0, -1.0, 0.0, 5.0])
    assert unpack_bits(pack_bits(numeric), (5,)).tolist() == [False, True, True, False, True]


def test_eight_per_byte_and_bad_size():
    mask = torch.zeros(16, dtype=torch.bool)
    mask[0] = mask[9] = True
    assert pack_bits(mask).tolist() == [1, 2]
    with pytest.raises(ValueError, match="cannot hold"):
        unpack_bits(torch.zeros(1, dtype=torch.uint8), (9,))
