"""`livermet calc` with numbers typed in the wrong unit: say what was probably meant.

A European fellow types bilirubin in umol/L. Child-Pugh with bilirubin=34 taken as mg/dL
scores 3 points for bilirubin instead of 1 (Pugh 1973 bands: < 2, 2-3, > 3 mg/dL; 34 umol/L
= 1.99 mg/dL), so the number must not pass without a word.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app

CP = ["calc", "child_pugh", "albumin=3.1", "inr=1.4", "ascites=none", "encephalopathy=none"]


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    # The Rich consoles are created once per process: fix their width so that messages are
    # not wrapped differently depending on which test ran first.
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 200)
    monkeypatch.setattr(common.out, "width", 200)
    return CliRunner()


def test_unitless_bilirubin_in_the_umol_range_is_flagged_on_stderr(runner):
    r = runner.invoke(app, [*CP, "bilirubin=34", "--json"])
    assert r.exit_code == 0
    # Taken as 34 mg/dL: 3 (bilirubin > 3) + 2 (albumin 2.8-3.5) + 1 (INR < 1.7) + 1 + 1 = 8.
    assert json.loads(r.stdout)["value"] == 8
    assert "bilirubin=34umol/L" in r.stderr and "warning" in r.stderr


def test_the_same_number_with_its_unit_passes_silently(runner):
    r = runner.invoke(app, [*CP, "bilirubin=34umol/L", "--json"])
    assert r.exit_code == 0
    # 34 umol/L = 1.99 mg/dL: 1 + 2 + 1 + 1 + 1 = 6.
    assert json.loads(r.stdout)["value"] == 6
    assert r.stderr == ""


def test_albumin_in_g_per_l_gets_a_hint_with_the_fix(runner):
    r = runner.invoke(app, ["calc", "child_pugh", "bilirubin=1", "albumin=31", "inr=1.0",
                            "ascites=none", "encephalopathy=none"])
    assert r.exit_code == 2
    assert "albumin='31'" in r.stderr and "albumin=31g/L" in r.stderr
    assert "3.1 g/dL" in r.stderr


def test_icg_retention_as_a_fraction(runner):
    r = runner.invoke(app, ["calc", "icg", "icg_r15=0.08", "--json"])
    assert r.exit_code == 0
    assert "icg_r15=8" in r.stderr  # 0.08 x 100 = 8 %


def test_a_missing_parameter_is_called_missing(runner):
    r = runner.invoke(app, ["calc", "child_pugh", "bilirubin=3", "--json"])
    assert r.exit_code == 2
    assert "albumin is missing" in r.stderr and "None" not in r.stderr
    assert "albumin is missing" in json.loads(r.stdout)["error"]  # --json: JSON on stdout


def test_volume_in_litres_is_named_when_another_parameter_fails(runner):
    # total_liver_ml=1.6 (litres) makes the tumour "larger than the liver": the hint must point
    # at the volume typed in the wrong unit, not only at the parameter that failed.
    r = runner.invoke(app, ["calc", "sirt_bsa", "height_cm=175", "weight_kg=75", "tumour_ml=100",
                            "total_liver_ml=1.6", "lung_shunt_percent=8"])
    assert r.exit_code == 2
    assert "total_liver_ml=1.6L (= 1600 mL)" in r.stderr
