"""torchvision models (weights=None, offline): every activation found and swapped; tiny forward passes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actlab.surgery import swap

torchvision = pytest.importorskip("torchvision")


def _count(model: nn.Module, cls: type) -> int:
    return sum(type(m) is cls for m in model.modules())


def _count_spec(model: nn.Module, name: str) -> int:
    return sum(getattr(getattr(m, "spec", None), "name", None) == name for m in model.modules())


@pytest.mark.parametrize(
    ("factory", "source", "cls", "size"),
    [
        ("resnet18", "relu", nn.ReLU, 64),
        ("resnet50", "relu", nn.ReLU, 64),
        ("mobilenet_v3_small", "hardswish", nn.Hardswish, 64),
        ("efficientnet_b0", "silu", nn.SiLU, 64),
    ],
)
def test_convnets_swap_every_site(factory: str, source: str, cls: type, size: int) -> None:
    torch.manual_seed(0)
    model = getattr(torchvision.models, factory)(weights=None).eval()
    sites = [p for p, m in model.named_modules(remove_duplicate=False) if type(m) is cls]
    assert sites
    # inplace=True skips the deep copy of a large model (test_swap checks that the default leaves it alone)
    swapped, report = swap(model, {source: "gelu"}, inplace=True)
    assert report.complete, str(report)
    assert _count(swapped, cls) == 0
    assert sorted(s.path for s in report.modules) == sorted(sites)
    assert swapped.training is False
    with torch.no_grad():
        out = swapped(torch.randn(1, 3, size, size))
    assert out.shape == (1, 1000) and out.dtype == torch.float32 and torch.isfinite(out).all()


def test_mobilenet_swaps_hardswish_and_relu_separately() -> None:
    model = torchvision.models.mobilenet_v3_small(weights=None)
    relus, hardswishes = _count(model, nn.ReLU), _count(model, nn.Hardswish)
    swapped, report = swap(model, {"relu": "silu", nn.Hardswish: "mish"})
    assert _count_spec(swapped, "silu") == relus
    assert _count_spec(swapped, "mish") == hardswishes
    assert report.complete


def test_resnet18_shared_relu_is_swapped_at_each_use() -> None:
    model = torchvision.models.resnet18(weights=None)
    swapped, report = swap(model, {"relu": "prelu"})
    # each BasicBlock calls its one ReLU twice; a shared replacement keeps that sharing
    block = swapped.layer1[0]
    assert block.relu.spec.name == "prelu"
    assert all(s.init == "fitted" for s in report.modules)
    assert all(abs(s.fit.params["weight"][0]) < 1e-6 for s in report.modules)  # prelu fitted to relu


def test_vit_b_16_swaps_gelu() -> None:
    torch.manual_seed(0)
    model = torchvision.models.vit_b_16(weights=None).eval()
    gelus = _count(model, nn.GELU)
    assert gelus == 12
    swapped, report = swap(model, {"gelu": "silu"}, inplace=True)
    assert len(report.modules) == 12 and _count(swapped, nn.GELU) == 0
    assert report.complete, str(report)  # every forward (root, encoder, blocks) was traced and inspected
    with torch.no_grad():
        out = swapped(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()
