from __future__ import annotations

import json

from typer.testing import CliRunner

from actlab.cli import app

runner = CliRunner()


def test_demo_prints_its_evidence_verbatim(tmp_path):
    # the conclusion quotes "[nan, nan, nan]": it must not be eaten as console markup
    result = runner.invoke(app, ["demo", "softmax", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "[nan, nan, nan]" in result.output
    assert (tmp_path / "softmax.png").stat().st_size > 5000


def test_demo_json_and_unknown_name(tmp_path):
    result = runner.invoke(app, ["demo", "softmax", "--json", "-o", str(tmp_path)])
    data = json.loads(result.stdout)
    assert data["name"] == "softmax" and data["passed"] is True
    bad = runner.invoke(app, ["demo", "dying-relo"])
    assert bad.exit_code == 2 and "closest: dying-relu" in bad.output
