"""Names typed as people write them: `livermet calc Child-Pugh` / `MELD-Na` were unknown
calculators, and a misspelt calculator or option code got the whole list without a
suggestion ('pve' is pve_then_resection, 'abaltion' ablation)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 400)
    monkeypatch.setattr(common.out, "width", 200)
    return CliRunner()


@pytest.mark.parametrize("typed, name, args", [
    ("Child-Pugh", "child_pugh", ["bilirubin=1.2", "albumin=3.9", "inr=1.1", "ascites=none",
                                  "encephalopathy=none"]),
    ("MELD-Na", "meld_na", ["bilirubin=1.2", "inr=1.1", "creatinine=0.9", "sodium=137"]),
    ("ALBI", "albi", ["bilirubin=1.2", "albumin=3.9"]),
])
def test_calculator_names_as_written_in_papers(runner, typed, name, args):
    r = runner.invoke(app, ["calc", typed, *args, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["name"] == name


def test_meld_na_value_same_as_canonical_name(runner):
    args = ["bilirubin=2", "inr=1.5", "creatinine=1", "sodium=130", "--json"]
    a = json.loads(runner.invoke(app, ["calc", "MELD-Na", *args]).stdout)
    b = json.loads(runner.invoke(app, ["calc", "meld_na", *args]).stdout)
    assert a["value"] == b["value"]


@pytest.mark.parametrize("typed, suggestion", [
    ("child_pugg", "did you mean child_pugh?"),
    ("meld3", "did you mean meld_3"),
])
def test_misspelt_calculator_suggests(runner, typed, suggestion):
    r = runner.invoke(app, ["calc", typed, "x=1"])
    assert r.exit_code == 2
    assert f"unknown calculator '{typed}'" in r.stderr and suggestion in r.stderr


@pytest.mark.parametrize("typed, suggestion", [
    ("pve", "did you mean pve_then_resection?"),
    ("abaltion", "did you mean ablation?"),
    ("two-stage", "did you mean two_stage_hepatectomy?"),
])
def test_misspelt_option_code_suggests(runner, typed, suggestion):
    r = runner.invoke(app, ["explain", typed, "--json"])
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    assert data["error"] == f"unknown option code '{typed}'"
    assert data["hint"].startswith(suggestion) and "Codes: resection," in data["hint"]


def test_no_suggestion_for_nonsense(runner):
    r = runner.invoke(app, ["explain", "xyz"])
    assert r.exit_code == 2 and "did you mean" not in r.stderr
