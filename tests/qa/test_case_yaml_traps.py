"""QA: PyYAML's YAML 1.1 reading turned `ascites: no` into False ("False is not an accepted
value", no hint), `id: 0012` into the octal 10, and `inr: 1,1` gave "unknown unit ',1'"."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from livermet.cli.main import app

BAD = """\
id: 0012
liver:
  ascites: no
labs:
  inr: 1,1
"""


def test_validate_explains_each_trap(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text(BAD, encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(f), "--json"])
    assert r.exit_code == 2
    problems = {p["path"]: p for p in json.loads(r.stdout)["problems"]}
    assert set(problems) == {"liver.ascites", "labs.inr"}  # the id "0012" is fine
    assert problems["liver.ascites"]["value"] == "no"
    assert problems["liver.ascites"]["hint"] == "did you mean 'none'?"
    assert problems["labs.inr"]["value"] == "1,1"
    assert "decimal comma" in problems["labs.inr"]["hint"] and "write 1.1" in problems["labs.inr"]["hint"]
    assert "unknown unit" not in problems["labs.inr"]["message"]


def test_an_id_with_leading_zeros_reaches_the_assessment(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text(BAD.replace("ascites: no", "ascites: none").replace("1,1", "1.1"), encoding="utf-8")
    r = CliRunner().invoke(app, ["assess", str(f), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["case_id"] == "0012"
