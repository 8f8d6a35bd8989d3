"""Specifications of actlab.swap: what is found, what replaces it, what is preserved, and the errors."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import actlab
from actlab.surgery import SwapError, SwapResult, swap


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _types(model: nn.Module) -> list[tuple[str, type]]:
    return [(name, type(m)) for name, m in model.named_modules()]


def _assert_untouched(
    model: nn.Module, state: dict[str, torch.Tensor], types: list[tuple[str, type]]
) -> None:
    assert _types(model) == types
    now = model.state_dict()
    assert now.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(now[key], value), key


class Mixed(nn.Module):
    """Activation modules and functional calls of every kind swap must find."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.fc1(x))
        h = F.relu(self.fc2(h))
        h = torch.relu(h + 0.5) + h.relu() + torch.sigmoid(h)
        return self.fc3(h)


def _mixed_by_hand(model: Mixed, x: torch.Tensor, act) -> torch.Tensor:
    h = act(model.fc1(x))
    h = act(model.fc2(h))
    h = act(h + 0.5) + act(h) + torch.sigmoid(h)
    return model.fc3(h)


# --------------------------------------------------------------------------------------------------
# finding and replacing
# --------------------------------------------------------------------------------------------------
def test_result_unpacks_and_names_attributes() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    result = actlab.swap(model, {"relu": "gelu"})
    assert isinstance(result, SwapResult)
    swapped, report = result
    assert swapped is result.model and report is result.report
    assert [s.path for s in report.swapped] == ["1"]
    site = report.swapped[0]
    assert (site.old_activation, site.new_activation, site.kind) == ("relu", "gelu", "module")
    assert isinstance(swapped[1], actlab.nn.Activation) and swapped[1].spec.name == "gelu"


@pytest.mark.parametrize("key", ["relu", "ReLU", "rectifier", nn.ReLU])
def test_keys_by_name_alias_or_class(key) -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh())
    swapped, report = swap(model, {key: "silu"})
    assert [s.path for s in report.swapped] == ["1"]
    assert swapped[1].spec.name == "silu" and isinstance(swapped[3], nn.Tanh)


def test_name_keys_also_match_actlab_modules() -> None:
    model = nn.Sequential(nn.Linear(3, 3), actlab.get("relu"), nn.ReLU())
    _, report = swap(model, {"relu": "tanh"})
    assert [s.path for s in report.swapped] == ["1", "2"]


def test_value_forms_name_kwargs_instance_factory() -> None:
    model = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.GELU())
    prototype = nn.ELU(alpha=0.5)
    swapped, report = swap(
        model,
        {
            "relu": ("leaky_relu", {"negative_slope": 0.1}),
            "tanh": prototype,
            "sigmoid": nn.SiLU,
            nn.GELU: lambda: actlab.get("softplus", beta=2.0),
        },
    )
    assert swapped[0].spec.name == "leaky_relu" and swapped[0].static_params["negative_slope"] == 0.1
    assert isinstance(swapped[1], nn.ELU) and swapped[1].alpha == 0.5 and swapped[1] is not prototype
    assert isinstance(swapped[2], nn.SiLU)
    assert swapped[3].spec.name == "softplus"
    assert {s.init for s in report.swapped} == {"default", "given"}


def test_instance_is_copied_per_site() -> None:
    model = nn.Sequential(nn.ReLU(), nn.Linear(2, 2), nn.ReLU())
    swapped, _ = swap(model, {"relu": nn.PReLU()})
    assert swapped[0] is not swapped[2]


def test_per_site_callable_decides_by_path() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU())
    seen: list[str] = []

    def choose(path: str, module: nn.Module):
        seen.append(path)
        if isinstance(module, nn.ReLU) and path == "3":
            return "gelu"
        return None

    swapped, report = swap(model, choose)
    assert "" in seen and "1" in seen and "3" in seen
    assert [s.path for s in report.swapped] == ["3"]
    assert isinstance(swapped[1], nn.ReLU) and swapped[3].spec.name == "gelu"


def test_shared_module_gets_one_shared_replacement() -> None:
    act = nn.ReLU()
    model = nn.Sequential(nn.Linear(2, 2), act, nn.Linear(2, 2), act)
    swapped, report = swap(model, {"relu": "prelu"})
    assert swapped[1] is swapped[3]
    assert [s.path for s in report.swapped] == ["1", "3"]


def test_vgg16_all_fifteen_relus() -> None:
    torchvision = pytest.importorskip("torchvision")
    vgg = torchvision.models.vgg16(weights=None)
    assert sum(isinstance(m, nn.ReLU) for m in vgg.modules()) == 15  # the architecture this test assumes
    swapped, report = swap(vgg, {"relu": "gelu"})
    paths = [s.path for s in report.modules]
    assert len(paths) == 15
    assert sum(p.startswith("features.") for p in paths) == 13
    assert sum(p.startswith("classifier.") for p in paths) == 2
    assert not any(isinstance(m, nn.ReLU) for m in swapped.modules())
    assert (
        sum(getattr(m, "spec", None) is not None and m.spec.name == "gelu" for m in swapped.modules()) == 15
    )
    assert all(s.note.startswith("in-place") for s in report.modules)  # VGG's ReLUs are in-place, GELU is not
    assert report.complete
    # the original is untouched and still has its 15 ReLUs
    assert sum(isinstance(m, nn.ReLU) for m in vgg.modules()) == 15


def test_inplace_site_keeps_inplace_when_the_target_has_it() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(inplace=True))
    swapped, report = swap(model, {"relu": "leaky_relu"})
    assert swapped[1].inplace is True
    assert "in-place" not in report.swapped[0].note
    x = torch.randn(4, 3)
    expected = F.leaky_relu(model[0](x))
    torch.testing.assert_close(swapped(x), expected)


# --------------------------------------------------------------------------------------------------
# functional calls through torch.fx
# --------------------------------------------------------------------------------------------------
def test_functional_calls_swapped_and_output_equals_manual_computation() -> None:
    torch.manual_seed(0)
    model = Mixed()
    x = torch.randn(5, 6)
    swapped, report = swap(model, {"relu": "gelu"})
    kinds = sorted(s.kind for s in report.swapped)
    assert kinds == ["function"] * 3 + ["module"]
    assert {s.old_activation for s in report.swapped} == {"relu"}
    texts = " ".join(s.old for s in report.functions)
    assert "F.relu" in texts and "torch.relu" in texts and "Tensor.relu" in texts
    torch.testing.assert_close(swapped(x), _mixed_by_hand(model, x, F.gelu))
    # sigmoid was not asked for: still torch.sigmoid
    assert "sigmoid" in swapped.code


def test_inplace_functional_variants() -> None:
    class InPlace(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = self.fc(x)
            b = F.relu(a * 2, inplace=True)
            c = a - 1
            torch.relu_(c)
            d = (a + 1).relu_()
            e = F.relu(a + 2, True)
            return b + c + d + e  # c was overwritten in place: its later use reads relu(c)

    torch.manual_seed(0)
    model = InPlace()
    x = torch.randn(3, 4)
    swapped, report = swap(model, {"relu": "silu"})
    assert len(report.functions) == 4
    assert all("out-of-place" in s.note for s in report.functions)
    a = model.fc(x)
    expected = F.silu(a * 2) + F.silu(a - 1) + F.silu(a + 1) + F.silu(a + 2)
    torch.testing.assert_close(swapped(x), expected)


def test_functional_sites_in_nested_modules_keep_the_rest_of_the_model() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.width = 4  # a plain attribute the rewritten module must keep

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(self.fc(x)) + x

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = Block()
            self.spare = nn.Linear(2, 2)  # not used in forward: must survive in the state dict
            self.head = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.block(x))

    torch.manual_seed(0)
    model = Net().eval()
    swapped, report = swap(model, {"relu": "tanh"})
    assert [s.path for s in report.swapped] == ["block.forward:relu"]
    assert type(swapped) is Net  # only the module whose forward had the call was rewritten
    assert swapped.block.width == 4
    assert swapped.training is False and swapped.block.training is False
    assert set(model.state_dict()) <= set(swapped.state_dict())
    x = torch.randn(3, 4)
    torch.testing.assert_close(swapped(x), model.head(torch.tanh(model.block.fc(x)) + x))


def test_untraceable_forward_is_reported_and_strict_raises() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:  # data-dependent control flow: fx cannot trace it
                return F.relu(self.fc(x))
            return self.act(self.fc(x))

    model = Branchy()
    state, types = _state(model), _types(model)
    swapped, report = swap(model, {"relu": "gelu"})
    assert [s.path for s in report.swapped] == ["act"]  # the module is still swapped
    assert len(report.skipped) == 1
    assert report.skipped[0].path == "forward"
    assert "untraceable control flow" in report.skipped[0].reason
    assert "could not be inspected" in report.skipped[0].reason
    assert not report.complete

    with pytest.raises(SwapError, match="untraceable control flow") as caught:
        swap(model, {"relu": "gelu"}, strict=True)
    assert caught.value.report.skipped
    # strict=True with inplace=True fails before changing anything
    with pytest.raises(SwapError):
        swap(model, {"relu": "gelu"}, strict=True, inplace=True)
    _assert_untouched(model, state, types)
    # a class key never needs tracing: no skip reported
    _, by_class = swap(model, {nn.ReLU: "gelu"}, strict=True)
    assert by_class.complete and len(by_class.swapped) == 1


def test_functional_false_swaps_modules_only() -> None:
    _, report = swap(Mixed(), {"relu": "gelu"}, functional=False)
    assert [s.kind for s in report.swapped] == ["module"]


def test_unmatched_key_is_reported_and_strict_raises() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    _, report = swap(model, {"relu": "gelu", "tanh": "silu"})
    assert report.unmatched == ["tanh"]
    with pytest.raises(SwapError, match="nothing in the model matched 'tanh'"):
        swap(model, {"relu": "gelu", "tanh": "silu"}, strict=True)


# --------------------------------------------------------------------------------------------------
# preserved: the original, dtype, device, training mode
# --------------------------------------------------------------------------------------------------
def test_original_untouched_unless_inplace() -> None:
    torch.manual_seed(0)
    model = Mixed()
    state, types = _state(model), _types(model)
    x = torch.randn(2, 6)
    before = model(x.clone())
    swapped, _ = swap(model, {"relu": "gelu"})
    _assert_untouched(model, state, types)
    torch.testing.assert_close(model(x.clone()), before)
    assert swapped is not model
    assert swapped.fc1.weight is not model.fc1.weight


def test_inplace_true_mutates_the_given_model() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 3), nn.ReLU()))
    weight = model[0].weight
    swapped, report = swap(model, {"relu": "gelu"}, inplace=True)
    assert swapped is model
    assert model[1].spec.name == "gelu" and model[2][1].spec.name == "gelu"
    assert model[0].weight is weight
    assert len(report.swapped) == 2


def test_inplace_true_with_functional_root_returns_graph_module_sharing_parameters() -> None:
    torch.manual_seed(0)
    model = Mixed()
    swapped, report = swap(model, {"relu": "gelu"}, inplace=True)
    assert swapped is not model and isinstance(swapped, torch.fx.GraphModule)
    assert swapped.fc1.weight is model.fc1.weight
    assert model.act.spec.name == "gelu"  # modules were swapped in the given model itself
    assert any("GraphModule" in note for note in report.notes)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
@pytest.mark.parametrize("training", [True, False])
def test_dtype_and_training_flag_preserved(dtype: torch.dtype, training: bool) -> None:
    torch.manual_seed(0)
    model = Mixed().to(dtype).train(training)
    swapped, _ = swap(model, {"relu": "prelu", "sigmoid": "tanh"})
    for module in swapped.modules():
        assert module.training is training
        for p in module.parameters(recurse=False):
            assert p.dtype == dtype
    out = swapped(torch.randn(2, 6, dtype=dtype))
    assert out.dtype == dtype


def test_device_preserved() -> None:
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("meta")
    model = nn.Sequential(nn.Linear(3, 3), nn.PReLU(), nn.Linear(3, 3), nn.ReLU()).to(device)
    swapped, _ = swap(model, {"prelu": "prelu", "relu": "swish"}, init="default")
    assert {p.device.type for p in swapped.parameters()} == {device.type}


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------
def test_unknown_names_list_close_names() -> None:
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(ValueError, match="unknown activation 'relux'.*closest: .*relu"):
        swap(model, {"relux": "gelu"})
    with pytest.raises(ValueError, match="unknown activation 'gelux'.*closest: .*gelu"):
        swap(model, {"relu": "gelux"})
    with pytest.raises(ValueError, match="unknown activation"):
        swap(model, {"relu": ("geluu", {})})


def test_bad_parameters_fail_before_anything_changes() -> None:
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="negative_slop"):
        swap(model, {"relu": ("leaky_relu", {"negative_slop": 0.1})}, inplace=True)
    assert isinstance(model[0], nn.ReLU)


def test_non_module_and_invalid_mappings() -> None:
    with pytest.raises(TypeError, match="torch.nn.Module"):
        swap(lambda x: x, {"relu": "gelu"})  # type: ignore[arg-type]
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(ValueError, match="empty mapping"):
        swap(model, {})
    with pytest.raises(TypeError, match="mapping must be"):
        swap(model, ["relu", "gelu"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="neither an activation name nor an nn.Module class"):
        swap(model, {3: "gelu"})
    with pytest.raises(TypeError, match="replacement must be"):
        swap(model, {"relu": 3})
    with pytest.raises(TypeError, match="not an nn.Module"):
        swap(model, {"relu": lambda: "gelu"})
    with pytest.raises(TypeError, match="pair"):
        swap(model, {"relu": ("leaky_relu", 0.1)})
    with pytest.raises(ValueError, match="init"):
        swap(model, {"relu": "gelu"}, init="zeros")  # type: ignore[arg-type]


def test_report_serialises() -> None:
    import json

    _, report = swap(Mixed(), {"relu": "rational"})
    data = json.loads(json.dumps(report.as_dict()))
    assert data["counts"]["modules"] == 1 and data["counts"]["functions"] == 3
    assert data["swapped"][0]["fit"]["max_error"] >= 0
    assert "->" in str(report)


def test_deepcopy_of_swapped_model_works() -> None:
    swapped, _ = swap(Mixed(), {"relu": "gelu"})
    clone = copy.deepcopy(swapped)
    x = torch.randn(2, 6)
    torch.testing.assert_close(clone(x), swapped(x))
