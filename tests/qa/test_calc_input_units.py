"""`livermet calc` shows the inputs it used with their units.

The result panel listed "bilirubin=1.988" for bilirubin=34umol/L, and "bilirubin=17" for a
bare 17: a person could not tell which unit the calculator had read. Each input now carries
its canonical unit, and a converted value the unit it was typed in. 34 umol/L of bilirubin
is 34 / 17.104 = 1.988 mg/dL (molar mass 584.7 g/mol); 90 umol/L of creatinine is
90 / 88.42 = 1.018 mg/dL (113.12 g/mol).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 200)
    monkeypatch.setattr(common.out, "width", 200)
    return CliRunner()


def _inputs_line(stdout: str) -> str:
    line = next(line for line in stdout.splitlines() if "inputs" in line)
    return " ".join(line.strip("│ ").split())


def test_converted_inputs_show_unit_and_what_was_typed(runner):
    r = runner.invoke(app, ["calc", "meld_na", "bilirubin=34umol/L", "inr=1.4",
                            "creatinine=90umol/L", "sodium=131"])
    assert r.exit_code == 0, r.output
    line = _inputs_line(r.stdout)
    assert "bilirubin=1.988 mg/dL (from 34umol/L)" in line
    assert "creatinine=1.018 mg/dL (from 90umol/L)" in line
    assert "sodium=131 mmol/L" in line and "(from 131)" not in line
    assert "inr=1.4," in line  # unitless: no unit
    assert "dialysis=false" in line  # as the user types it, not Python's False


def test_bare_number_shows_the_unit_it_was_read_in(runner):
    r = runner.invoke(app, ["calc", "albi", "bilirubin=17", "albumin=4.1"])
    assert r.exit_code == 0, r.output
    assert "bilirubin=17 mg/dL, albumin=4.1 g/dL" in _inputs_line(r.stdout)


def test_json_inputs_unchanged(runner):
    # the contract: inputs are canonical numbers
    r = runner.invoke(app, ["calc", "albi", "bilirubin=17umol/L", "albumin=41g/L", "--json"])
    assert r.exit_code == 0, r.output
    inputs = json.loads(r.stdout)["inputs"]
    assert inputs["bilirubin"] == pytest.approx(17 / 17.104, abs=1e-3)
    assert inputs["albumin"] == pytest.approx(4.1)
