"""QA: `planned_resection: rihgt_hepatectomy` passed `livermet validate` and `livermet assess`
when the case had no images. It is now an error naming the field, the value, the accepted
names and a suggestion; a lesion left outside an anatomic plan is a warning."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app

CASE = """\
id: qa-resection
metastases:
  lesions:
    - {id: L1, segments: [6], diameter_mm: 20}
    - {id: L2, segments: [2], diameter_mm: 15}
volumetry:
  planned_resection: %s
"""


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 120)
    monkeypatch.setattr(common.err, "width", 120)
    return CliRunner()


@pytest.mark.parametrize("command", ["validate", "assess"])
def test_a_misspelt_resection_fails_validate_and_assess(runner, tmp_path, command):
    f = tmp_path / "case.yaml"
    f.write_text(CASE % "rihgt_hepatectomy", encoding="utf-8")
    r = runner.invoke(app, [command, str(f)])
    assert r.exit_code == 2, r.output
    assert "volumetry.planned_resection" in r.output
    assert "'rihgt_hepatectomy' is not a resection" in r.output  # (the table wraps the rest)
    assert "did you mean 'right_hepatectomy'?" in r.output
    as_json = runner.invoke(app, [command, str(f), "--json"])
    assert as_json.exit_code == 2
    problems = json.loads(as_json.stdout)["problems"]
    (p,) = [p for p in problems if p["path"] == "volumetry.planned_resection"]
    assert p["severity"] == "error" and "right_posterior_sectionectomy" in p["expected"]
    assert p["message"] == "'rihgt_hepatectomy' is not a resection livermet knows"
    assert p["hint"] == "did you mean 'right_hepatectomy'?"


def test_a_lesion_the_plan_leaves_behind_is_in_the_assessment_warnings(runner, tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text(CASE % "right_hepatectomy", encoding="utf-8")
    r = runner.invoke(app, ["validate", str(f)])
    assert r.exit_code == 0 and "1 warning(s)" in r.output
    a = runner.invoke(app, ["assess", str(f), "--json"])
    assert a.exit_code == 0, a.output
    warnings = json.loads(a.stdout)["warnings"]
    assert any(w.startswith("metastases.lesions[1].segments: lesion L2 in segment 2 is outside "
                            "right_hepatectomy (segments 5-8): it stays in the remnant") for w in warnings)
