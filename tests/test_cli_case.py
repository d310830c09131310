"""`livermet schema | validate | assess | demo`: exit codes, JSON purity, readable output."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.data import demo_case_path

DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    # The Rich console is created once per process; under pytest-xdist its width depends on
    # whichever test created it. Fix it so wrapped text does not depend on test order.
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 100)
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_heavy_hooks(monkeypatch):
    """The decision layer and the imaging phantom have their own tests; keep these fast."""
    import livermet.decision as decision
    import livermet.imaging.phantom as phantom

    monkeypatch.setattr(decision, "assess_options", lambda case, scores: {})
    monkeypatch.setattr(phantom, "run_demo", lambda out_dir: {"summary": "phantom (stand-in)"})


def _write(tmp_path: Path, doc, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _bad(tmp_path: Path) -> Path:
    doc = copy.deepcopy(DEMO)
    doc["labs"]["albumin"] = 41
    doc["metastases"]["lesions"][1]["id"] = "L1"
    return _write(tmp_path, doc)


def test_validate_valid_case_exits_0(runner):
    result = runner.invoke(app, ["validate", str(demo_case_path())])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout


def test_validate_invalid_case_exits_2_with_each_problem(runner, tmp_path):
    result = runner.invoke(app, ["validate", str(_bad(tmp_path))], env={"COLUMNS": "100"})
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert "labs.albumin" in result.stdout and "metastases.lesions[1].id" in result.stdout
    assert "4.1 g/dL" in result.stdout  # what was probably meant
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_validate_json_is_pure_json(runner, tmp_path):
    result = runner.invoke(app, ["validate", str(_bad(tmp_path)), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert {p["path"] for p in data["problems"]} >= {"labs.albumin", "metastases.lesions[1].id"}
    ok = runner.invoke(app, ["validate", str(demo_case_path()), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["case"]["id"] == "demo-crc-001"


@pytest.mark.parametrize("command", ["validate", "assess"])
def test_missing_file_exits_2(runner, tmp_path, command):
    result = runner.invoke(app, [command, str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "not found" in result.stderr
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", ["validate", "assess"])
def test_broken_json_exits_2_with_line(runner, tmp_path, command):
    path = _write(tmp_path, '{\n  "id": "x",\n  "patient": {"age": 61,}\n}\n')
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2
    assert "line 3" in result.stderr
    as_json = runner.invoke(app, [command, str(path), "--json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["problems"][0]["line"] == 3


def test_assess_json_has_the_contract_keys(runner):
    result = runner.invoke(app, ["assess", str(demo_case_path()), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"case_id", "scores", "warnings", "missing"} <= set(data)
    assert data["scores"]["child_pugh"]["value"] == 5
    assert data["scores"]["fong"]["category"] == "high"


def test_assess_invalid_exits_2(runner, tmp_path):
    result = runner.invoke(app, ["assess", str(_bad(tmp_path))])
    assert result.exit_code == 2
    assert "labs.albumin" in result.stderr
    as_json = runner.invoke(app, ["assess", str(_bad(tmp_path)), "--json"])
    assert as_json.exit_code == 2
    assert "labs.albumin" in {p["path"] for p in json.loads(as_json.stdout)["problems"]}


def test_assess_readable_fits_100_columns(runner, tmp_path):
    doc = copy.deepcopy(DEMO)
    doc["metastases"]["extrahepatic"]["sites"] = ["lung"]  # a warning to render
    result = runner.invoke(app, ["assess", str(_write(tmp_path, doc))], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "demo-crc-001" in text and "male, 61 y" in text
    for name in ("child_pugh", "fong", "sflr", "meld"):
        assert name in text
    assert "nordlinger" in text and "primary.serosal_invasion" in text  # missing input
    assert "metastases.extrahepatic.sites" in text  # warning
    assert max(len(line) for line in text.splitlines()) <= 100


def test_yaml_case(runner, tmp_path):
    import yaml

    path = _write(tmp_path, yaml.safe_dump(DEMO), "case.yaml")
    result = runner.invoke(app, ["assess", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["case_id"] == "demo-crc-001"


def test_demo_json_and_out(runner, tmp_path):
    result = runner.invoke(app, ["demo", "--json", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["case_id"] == "demo-crc-001"
    saved = json.loads((tmp_path / "out" / "assessment.json").read_text())
    assert saved["scores"]["child_pugh"]["value"] == 5


def test_demo_calls_the_imaging_phantom_hook(runner, tmp_path, monkeypatch):
    import livermet.imaging.phantom as phantom

    calls = []

    def run_demo(out_dir):
        calls.append(out_dir)
        return {"summary": "phantom liver 1500 mL (analytic 1500 mL)", "liver_ml": 1500.0}

    monkeypatch.setattr(phantom, "run_demo", run_demo)
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert calls == [tmp_path / "imaging"]
    assert "phantom liver 1500 mL" in result.stdout
    assert "child_pugh" in result.stdout
    # The MDT report of the demo case is written beside the assessment, as HTML and PDF.
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "demo-crc-001" in html and "child" in html.lower()
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_help_everywhere(runner):
    for command in ("schema", "validate", "assess", "demo"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_real_process_exit_code_and_no_traceback(tmp_path):
    """The installed console command, as a user runs it."""
    exe = Path(sys.executable).with_name("livermet")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "livermet.cli.main"]
    env = {**os.environ, "COLUMNS": "100"}
    bad = subprocess.run([*cmd, "validate", str(_bad(tmp_path)), "--json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert json.loads(bad.stdout)["valid"] is False


def test_case_from_standard_input(runner):
    result = runner.invoke(app, ["assess", "-", "--json"], input=json.dumps(DEMO))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scores"]["child_pugh"]["value"] == 5
    bad = runner.invoke(app, ["validate", "-"], input="id: x\nlabs: {albumin: 41}\n")
    assert bad.exit_code == 2 and "labs.albumin" in bad.stdout


def test_real_demo_end_to_end(tmp_path):
    """The README's main command, unfaked: demo case, options, phantom, report files."""
    exe = Path(sys.executable).with_name("livermet")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "livermet.cli.main"]
    env = {**os.environ, "COLUMNS": "100"}
    run = subprocess.run([*cmd, "demo", "--out", str(tmp_path)], capture_output=True, text=True,
                         env=env, timeout=180)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "Treatment options" in run.stdout and "recommended" in run.stdout
    assert "Synthetic CT phantom" in run.stdout
    saved = json.loads((tmp_path / "assessment.json").read_text(encoding="utf-8"))
    assert {o["code"] for o in saved["options"]} >= {"resection", "ablation", "systemic_therapy"}
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "imaging" / "figures" / "axial.png").exists()
