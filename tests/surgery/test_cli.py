"""`actlab swap` and `actlab swap-eval`: tables, JSON, report folder, store resume, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torch import nn
from typer.testing import CliRunner

from actlab.cli import app

runner = CliRunner()


def tiny_net() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


# Few steps, one seed: the specification is the shape of the results, not their values.
FAST = ["--seeds", "2", "--train-steps", "30", "--finetune-steps", "5", "--to", "gelu,prelu"]


def test_swap_eval_json_and_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(app, ["swap-eval", *FAST, "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    variants = [e["variant"] for e in doc["summary"]]
    assert variants == ["gelu", "prelu [fitted]", "prelu [default]"]
    for entry in doc["summary"]:
        assert entry["n"] == 2
        assert 0.0 <= entry["swap_metric"]["mean"] <= 1.0
        assert entry["swap_drop"]["ci"] is not None
    fitted = next(e for e in doc["summary"] if e["variant"] == "prelu [fitted]")
    assert abs(fitted["fitted_params"]["weight"][0]) < 1e-6
    # prelu fitted to relu is relu: nothing changes right after the swap
    assert fitted["swap_drop"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert "fit_vs_default" in fitted
    assert len(doc["runs"]) == 6
    for name in ("results.json", "report.md", "swap_eval.png"):
        assert (out / name).stat().st_size > 0
    assert "fitted vs default" in (out / "report.md").read_text()


def test_swap_eval_table_and_store_resume(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    args = [
        "swap-eval",
        "--seeds",
        "1",
        "--train-steps",
        "20",
        "--finetune-steps",
        "3",
        "--to",
        "tanh",
        "--store",
        str(store),
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "tanh" in first.stdout and "done in" in first.stdout
    second = runner.invoke(app, [*args, "--json"])
    assert second.exit_code == 0, second.output
    doc = json.loads(second.stdout)
    assert doc["summary"][0]["n"] == 1
    assert "training" not in second.stderr  # everything came from the store


def test_swap_eval_user_model_with_checkpoint(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    save_file(tiny_net().state_dict(), str(tmp_path / "net.safetensors"))
    result = runner.invoke(
        app,
        [
            "swap-eval",
            "--model",
            f"{__name__}:tiny_net",
            "--checkpoint",
            str(tmp_path / "net.safetensors"),
            "--seeds",
            "1",
            "--finetune-steps",
            "2",
            "--to",
            "silu",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"][0]["sites"] == 1
    del torch


def test_swap_command_reports_sites() -> None:
    pytest.importorskip("torchvision")
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18(weights=None)
    sites = [p for p, m in model.named_modules(remove_duplicate=False) if isinstance(m, nn.ReLU)]
    result = runner.invoke(app, ["swap", "resnet18", "--map", "relu=gelu", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(s["path"] for s in report["swapped"]) == sorted(sites)
    assert report["counts"]["skipped"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["swap-eval", "--to", "gelux"], "unknown activation 'gelux'"),
        (["swap-eval", "--from", "relux", "--to", "gelu"], "unknown activation 'relux'"),
        (["swap-eval", "--seeds", "0"], "--seeds"),
        (["swap-eval", "--model", "nope_model"], "unknown model"),
        (
            ["swap-eval", "--model", f"{__name__}:tiny_net", "--checkpoint", "/nonexistent.pt"],
            "does not exist",
        ),
        (["swap", f"{__name__}:tiny_net", "--map", "relu"], "--map takes old=new"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
