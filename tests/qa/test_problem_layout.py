"""How `livermet validate` / `assess` show a case's problems to a person.

At 80 columns (a default terminal, and what Rich assumes for a pipe or a log file) the table
squeezed a long field path's neighbours into a few characters per line ('moder / ate',
'["lung / "]') and repeated what was expected when the message already said it. Below 100
columns each problem is now one block: the field and the value as written on one line, then
the message, what was expected and the hint. The commands run as a user runs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ENTRY = "from livermet.cli.main import main; main()"

CASE = {
    "id": "qa-layout",
    "patient": {"age": 61, "sex": "male", "ecog": 1},
    "metastases": {
        "synchronous": True, "disease_free_interval_months": 30,
        "lesions": [{"id": "L1", "segments": [2], "diameter_mm": "4.5cm"}],
        "extrahepatic": {"present": False, "sites": ["lung"]},
    },
    "liver": {"ascites": "moderate"},
}


def livermet(*args: str, columns: int = 80, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(COLUMNS=str(columns), PYTHONUTF8="1")
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True,
                          encoding="utf-8", env=env, cwd=cwd, timeout=120)


def _case(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE), encoding="utf-8")
    return path


def test_validate_at_80_columns_one_block_per_problem(tmp_path):
    r = livermet("validate", str(_case(tmp_path)))
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert all(line == line.rstrip() for line in lines)  # no padding to the full width
    # field and the value as written, whole, on one line (the table split them: 'moder|ate')
    assert "✗ liver.ascites = 'moderate'" in lines
    assert "✗ metastases.lesions[0].diameter_mm = '4.5cm'" in lines
    assert '! metastases.extrahepatic.sites = ["lung"]' in lines
    assert "! metastases.disease_free_interval_months = 30.0" in lines
    # the message, then what was expected and the hint, indented under their field
    i = lines.index("✗ liver.ascites = 'moderate'")
    block = " ".join(line.strip() for line in lines[i + 1:i + 4])
    assert block.startswith("'moderate' is not an accepted value expected: one of: none | "
                            "controlled | refractory")
    assert all(line.startswith("    ") for line in lines[i + 1:i + 3])


def test_expected_is_not_repeated_when_the_message_says_it(tmp_path):
    r = livermet("validate", str(_case(tmp_path)))
    i = r.stdout.index("diameter_mm = '4.5cm'")
    block = r.stdout[i:r.stdout.index("✗", i + 1) if "✗" in r.stdout[i + 1:] else None]
    # message: "expected a number in mm, possible ... got str '4.5cm'": said once, not twice
    assert block.count("a number in mm") == 1
    assert "\n    expected:" not in block
    # ... while a message that does not say it keeps its "expected:" line
    j = r.stdout.index("liver.ascites")
    assert "expected: one of: none" in r.stdout[j:j + 200]


def test_wide_terminal_keeps_the_table(tmp_path):
    r = livermet("validate", str(_case(tmp_path)), columns=140)
    assert r.returncode == 2
    assert "Problem, expected, hint" in r.stdout and "│ liver.ascites" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 100


def test_assess_prints_the_same_blocks_on_stderr(tmp_path):
    r = livermet("assess", str(_case(tmp_path)))
    assert r.returncode == 2 and r.stdout == ""
    assert "Problems in the case" in r.stderr
    assert "✗ liver.ascites = 'moderate'" in r.stderr.splitlines()
    assert "nothing was assessed" in r.stderr


def test_json_error_keeps_its_hint_on_stderr(tmp_path):
    # the human-readable stderr of a --json failure said the error but dropped the hint
    r = livermet("assess", str(_case(tmp_path)), "--json", columns=300)
    assert r.returncode == 2
    data = json.loads(r.stdout)
    assert data["hint"] and data["hint"] in r.stderr
    empty = tmp_path / "empty.yaml"
    empty.write_text("- a\n- b\n", encoding="utf-8")
    r = livermet("validate", str(empty), "--json", columns=300)
    assert r.returncode == 2
    assert "hint: start from `livermet schema`" in r.stderr


def test_demo_out_naming_a_file_fails_at_once(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me", encoding="utf-8")
    r = livermet("demo", "--out", str(target), columns=200)
    assert r.returncode == 2
    assert f"--out {target}: is a file; expected a folder" in r.stderr
    assert "Traceback" not in r.stderr and target.read_text() == "keep me"
