"""Bit packing: a boolean tensor stored as 1 bit per element (8 elements per byte, little-endian in a byte).

Used by the lean backward passes to keep the branch of a piecewise function (or of a non-monotonic one)
instead of the whole input. ``pack_bits`` accepts any shape and layout; ``unpack_bits`` restores it.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

_SHIFTS_CACHE: dict[torch.device, Tensor] = {}


def _shifts(device: torch.device) -> Tensor:
    shifts = _SHIFTS_CACHE.get(device)
    if shifts is None:
        shifts = torch.arange(8, dtype=torch.uint8, device=device)
        _SHIFTS_CACHE[device] = shifts
    return shifts


def packed_size(numel: int) -> int:
    """Bytes needed for ``numel`` bits."""
    return (numel + 7) // 8


def pack_bits(mask: Tensor) -> Tensor:
    """Pack a boolean (or 0/1) tensor of any shape into a flat uint8 tensor of ``ceil(n / 8)`` bytes."""
    flat = mask.reshape(-1)
    if flat.dtype != torch.bool:
        flat = flat != 0
    n = flat.numel()
    pad = packed_size(n) * 8 - n
    if pad:
        flat = torch.cat([flat, flat.new_zeros(pad)])
    lanes = flat.view(-1, 8).to(torch.uint8) << _shifts(flat.device)
    # the 8 lanes hold disjoint bits, so their sum is their bitwise or
    return lanes.sum(dim=1, dtype=torch.uint8)


def unpack_bits(packed: Tensor, shape: torch.Size | tuple[int, ...]) -> Tensor:
    """The boolean tensor of ``shape`` that ``pack_bits`` packed (contiguous)."""
    n = 1
    for size in shape:
        n *= int(size)
    if packed.numel() != packed_size(n):
        raise ValueError(f"unpack_bits: {packed.numel()} bytes cannot hold a tensor of shape {tuple(shape)}")
    bits = (packed.unsqueeze(1) >> _shifts(packed.device)) & 1
    return bits.reshape(-1)[:n].view(shape).bool()
