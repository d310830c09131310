"""`livermet report` / `fhir export` / `dicom-sr` of an invalid case named only the first
three problems, run together on one line ("... (and 3 more)"); the coordinator had to run
`validate` to see the rest. They now list every problem as `assess` does (stderr; with --json
in "problems") and say that nothing was written."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.data import demo_case_path

DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))
BAD_PATHS = ["patient.ecog", "labs.albumin", "labs.platelets", "liver.ascites",
             "metastases.lesions[1].id"]


@pytest.fixture
def bad_case(tmp_path, monkeypatch):
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 80)
    doc = copy.deepcopy(DEMO)
    doc["patient"]["ecog"] = 7
    doc["labs"]["albumin"] = 41
    doc["labs"]["platelets"] = 230000
    doc["liver"]["ascites"] = "moderate"
    doc["metastases"]["lesions"][1]["id"] = "L1"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("command, output, nothing", [
    (["report"], "r.pdf", "no report was written"),
    (["fhir", "export"], "b.json", "no bundle was written"),
])
def test_every_problem_listed(bad_case, tmp_path, command, output, nothing):
    r = CliRunner().invoke(app, [*command, str(bad_case), "--out", str(tmp_path / output)])
    assert r.exit_code == 2
    for path in BAD_PATHS:  # all five, not the first three
        assert f"✗ {path} = " in r.stderr
    assert "and 2 more" not in r.stderr
    assert f"error: the case has 5 error(s); {nothing}" in r.stderr
    assert not (tmp_path / output).exists()


@pytest.mark.parametrize("command", [["report"], ["fhir", "export"]])
def test_every_problem_in_json(bad_case, tmp_path, command):
    r = CliRunner().invoke(app, [*command, str(bad_case), "--out", str(tmp_path / "x.html"),
                                 "--json"])
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    assert sorted(p["path"] for p in data["problems"] if p["severity"] == "error") == sorted(BAD_PATHS)
    assert data["error"].startswith("the case has 5 error(s)")
