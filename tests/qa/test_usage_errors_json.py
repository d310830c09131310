"""A usage error (a misspelt option, a missing argument, an option value of the wrong type)
with --json: stdout was empty, so a hospital script that parses stdout got no JSON at all,
although every other failure writes {"error", "hint"} there. Run as a user runs them (the
console entry point, in a subprocess): Click's own error handling is what is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from livermet.data import demo_case_path

ENTRY = "from livermet.cli.main import main; main()"


def livermet(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "PYTHONUTF8": "1"}
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True,
                          encoding="utf-8", env=env, timeout=120)


@pytest.mark.parametrize("args, needle", [
    (["assess", "--json"], "Missing argument 'case'"),
    (["assess", str(demo_case_path()), "--json", "--no-imagin"], "No such option: --no-imagin"),
    (["report", str(demo_case_path()), "--json"], "Missing option '--out'"),
    (["volumetry", "--labels", "x.nii.gz", "--margin-mm", "abc", "--json"], "'abc' is not a valid float"),
    (["nosuchcommand", "--json"], "No such command 'nosuchcommand'"),
])
def test_usage_error_with_json_writes_a_json_error(args, needle):
    r = livermet(*args)
    assert r.returncode == 2
    data = json.loads(r.stdout)  # only JSON on stdout
    assert needle in data["error"]
    assert "--help` lists the arguments and options" in data["hint"]
    assert needle in r.stderr and "Traceback" not in r.stderr  # the usual panel stays


def test_usage_error_without_json_leaves_stdout_empty():
    r = livermet("assess", str(demo_case_path()), "--no-imagin")
    assert r.returncode == 2 and r.stdout == ""
    assert "No such option: --no-imagin" in r.stderr


@pytest.mark.parametrize("args, code", [
    (["--version"], 0), (["schema", "--help"], 0), (["fhir"], 2), ([], 2),
])
def test_exit_codes_of_help_and_version_unchanged(args, code):
    r = livermet(*args)
    assert r.returncode == code and r.stdout.strip() and "Traceback" not in r.stderr


def test_the_error_path_costs_no_start_up_import():
    # typer.rich_utils (Markdown, tracebacks: ~70 ms) is loaded only to print a usage error
    code = ("import sys; sys.argv = ['livermet', 'calc', 'bsa', 'height_cm=175', 'weight_kg=70'];"
            "from livermet.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n"
            "    print('exit', e.code, 'typer.rich_utils' in sys.modules, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, encoding="utf-8",
                       env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert r.stderr.strip().splitlines()[-1] == "exit 0 False", r.stderr
