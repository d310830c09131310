"""An MDT coordinator checks tomorrow's cases at once: `livermet validate cases/*.yaml`.

It was refused ("Got unexpected extra argument(s)"). Several files are now checked one after
the other, a file that cannot be read is reported and the others still checked, then a
summary; exit 2 when any is invalid. One file behaves as before (its report object in JSON).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

from livermet.data import demo_case_path

ENTRY = "from livermet.cli.main import main; main()"
DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))


def livermet(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80", "PYTHONUTF8": "1"}
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True,
                          encoding="utf-8", env=env, cwd=cwd, timeout=120)


def _cases(tmp_path):
    good = copy.deepcopy(DEMO)
    good["id"] = "good"
    bad = copy.deepcopy(DEMO)
    bad["id"] = "bad"
    bad["labs"]["albumin"] = 41  # g/L written as g/dL
    (tmp_path / "a-good.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "b-bad.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "c-broken.yaml").write_text("id: x\npatient: {age: 61\n", encoding="utf-8")
    return ["a-good.json", "b-bad.json", "c-broken.yaml", "d-missing.json"]


def test_several_cases_each_checked_then_a_summary(tmp_path):
    r = livermet("validate", *_cases(tmp_path), cwd=tmp_path)
    assert r.returncode == 2
    out = r.stdout
    assert "valid: a-good.json" in out
    assert "✗ labs.albumin = 41" in out  # b-bad.json's problem, in its section
    assert out.index("b-bad.json ─") < out.index("labs.albumin") < out.index("c-broken.yaml ─")
    assert "invalid: b-bad.json: 1 error(s)" in r.stderr
    assert "c-broken.yaml, line 3" in r.stderr or "c-broken.yaml, line 2" in r.stderr
    assert "d-missing.json: file not found" in r.stderr
    assert out.rstrip().endswith("4 case files: 1 valid, 3 invalid")
    assert "Traceback" not in r.stderr


def test_several_cases_json_is_a_list_with_each_file(tmp_path):
    r = livermet("validate", *_cases(tmp_path), "--json", cwd=tmp_path)
    assert r.returncode == 2
    data = json.loads(r.stdout)
    assert [(d["file"], d["valid"]) for d in data] == [
        ("a-good.json", True), ("b-bad.json", False), ("c-broken.yaml", False),
        ("d-missing.json", False)]
    assert [p["path"] for p in data[1]["problems"]] == ["labs.albumin"]
    assert data[1]["case"] is None and data[0]["case"]["id"] == "good"
    assert "not found" in data[3]["error"] and data[3]["problems"][0]["code"] == "file"


def test_all_valid_exits_0(tmp_path):
    _cases(tmp_path)
    r = livermet("validate", "a-good.json", "a-good.json", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout.rstrip().endswith("2 case files: 2 valid, 0 invalid")


def test_one_file_unchanged(tmp_path):
    _cases(tmp_path)
    r = livermet("validate", "b-bad.json", "--json", cwd=tmp_path)
    assert r.returncode == 2
    data = json.loads(r.stdout)
    assert isinstance(data, dict) and data["valid"] is False and "file" not in data
    r = livermet("validate", "d-missing.json", cwd=tmp_path)
    assert r.returncode == 2 and "d-missing.json: file not found" in r.stderr
