"""`livermet calc`: list, describe, run, --json, and clean errors (exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from livermet.cli import calc_cmds

# Only the calc command, so these tests do not depend on the other domains' commands; the
# subprocess test at the end goes through the real entry point.
app = typer.Typer(pretty_exceptions_enable=False)
app.callback()(lambda: None)
calc_cmds.register(app)
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["calc", *args])


def test_list_json():
    r = invoke("--list", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert len(data) == 26
    meld = next(d for d in data if d["name"] == "meld_na")
    assert "sodium" in meld["parameters"] and meld["sources"]


def test_list_table():
    r = invoke("--list")
    assert r.exit_code == 0
    assert "child_pugh" in r.stdout and "tumour_burden_score" in r.stdout


def test_run_json_with_units():
    """MELD-Na from SI units: bilirubin 34.2 umol/L = 2.0, creatinine 106.08 umol/L = 1.2,
    INR 1.5, Na 130 -> 21 (see test_meld_na_hand)."""
    r = invoke("meld_na", "bilirubin=34.2umol/L", "creatinine=106.08umol/L", "inr=1.5", "sodium=130",
               "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["value"] == 21 and "category" in data
    assert data["inputs"]["bilirubin"] == pytest.approx(2.0)


def test_run_category_json():
    r = invoke("child_pugh", "bilirubin=2", "albumin=35g/L", "inr=1.2", "ascites=none",
               "encephalopathy=none", "--json")
    data = json.loads(r.stdout)
    assert (data["value"], data["category"]) == (7, "B")


def test_run_human_panel():
    r = invoke("sflr", "remnant_ml=620", "total_liver_ml=1650", "tumour_ml=45")
    assert r.exit_code == 0
    assert "38.6" in r.stdout and "adequate" in r.stdout


def test_describe_without_params():
    r = invoke("icg")
    assert r.exit_code == 0
    assert "icg_r15" in r.stdout and "icg_pdr" in r.stdout
    d = json.loads(invoke("icg", "--json").stdout)
    assert [p["name"] for p in d["parameters"]] == ["icg_r15", "icg_k", "icg_pdr"]


@pytest.mark.parametrize("args, fragment", [
    (["meld", "bilirubin=abc", "inr=1", "creatinine=1"], "bilirubin"),
    (["meld", "bilirubin=1", "inr=1"], "creatinine"),
    (["meld", "bilirubin=1", "inr=1", "creatinine=1", "sodium=130"], "sodium"),
    (["meld", "bilirubin", "inr=1"], "key=value"),
    (["albi", "bilirubin=1 parsec", "albumin=4"], "bilirubin"),
    (["nosuch", "a=1"], "nosuch"),
    (["meld", "bilirubin=[bold]x[/]", "inr=1", "creatinine=1"], "[bold]x[/]"),  # no markup crash
    (["meld", "bilirubin=1", "bilirubin=2", "inr=1", "creatinine=1"], "given twice"),
])
def test_bad_input_exits_2_naming_the_field(args, fragment):
    r = invoke(*args)
    assert r.exit_code == 2
    assert fragment in r.stderr
    assert "Traceback" not in r.output


def test_subprocess_json_only_on_stdout():
    """The installed entry point: --json output parses and nothing else is on stdout."""
    p = subprocess.run(
        [sys.executable, "-m", "livermet.cli.main", "calc", "albi", "bilirubin=17.1umol/L",
         "albumin=40g/L", "--json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["category"] == "2" and data["value"] == -2.59
    bad = subprocess.run(
        [sys.executable, "-m", "livermet.cli.main", "calc", "albi", "bilirubin=x", "albumin=4"],
        capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "bilirubin" in bad.stderr and "Traceback" not in bad.stderr
