"""load_model: local weights only, with clear errors for missing, corrupt and mismatched checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from actlab.surgery import load_model, swap


def small_net(width: int = 4) -> nn.Module:
    return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))


def test_safetensors_and_torch_checkpoints_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = small_net()
    save_file(source.state_dict(), str(tmp_path / "w.safetensors"))
    torch.save(source.state_dict(), tmp_path / "w.pt")
    torch.save(
        {"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, tmp_path / "wrapped.pt"
    )
    factory = f"{__name__}:small_net"
    for name in ("w.safetensors", "w.pt", "wrapped.pt"):
        loaded = load_model(factory, tmp_path / name)
        for key, value in source.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value), (name, key)


def test_factory_callable_and_kwargs() -> None:
    model = load_model(small_net, None, width=7)
    assert model[0].out_features == 7


def test_torchvision_by_name_without_download() -> None:
    pytest.importorskip("torchvision")
    model = load_model("resnet18", num_classes=10)
    assert model.fc.out_features == 10
    swapped, report = swap(model, {"relu": "gelu"})
    assert report.modules


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(small_net, tmp_path / "nope.safetensors")


def test_corrupt_files(tmp_path: Path) -> None:
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="could not be read as a safetensors"):
        load_model(small_net, tmp_path / "bad.safetensors")
    (tmp_path / "bad.pt").write_bytes(b"\x80\x04garbage")
    with pytest.raises(ValueError, match="could not be read as a torch checkpoint"):
        load_model(small_net, tmp_path / "bad.pt")


def test_pickled_whole_model_is_refused(tmp_path: Path) -> None:
    torch.save(small_net(), tmp_path / "whole.pt")
    with pytest.raises(ValueError, match="weights_only|could not be read|state dict"):
        load_model(small_net, tmp_path / "whole.pt")


def test_wrong_keys_and_shapes(tmp_path: Path) -> None:
    state = small_net().state_dict()
    state["extra.weight"] = torch.zeros(1)
    del state["2.bias"]
    save_file(state, str(tmp_path / "keys.safetensors"))
    with pytest.raises(
        ValueError, match=r"1 missing key\(s\): 2\.bias.*1 unexpected key\(s\): extra\.weight"
    ):
        load_model(small_net, tmp_path / "keys.safetensors")
    save_file(small_net(width=5).state_dict(), str(tmp_path / "shape.safetensors"))
    with pytest.raises(ValueError, match="shape mismatch.*0.weight"):
        load_model(small_net, tmp_path / "shape.safetensors")


def test_unknown_model_names() -> None:
    pytest.importorskip("torchvision")
    with pytest.raises(ValueError, match="unknown model 'resnet19'.*closest: .*resnet18"):
        load_model("resnet19")
    with pytest.raises(ValueError, match="cannot import"):
        load_model("no_such_package_xyz:factory")
    with pytest.raises(ValueError, match="no callable"):
        load_model(f"{__name__}:missing_factory")
