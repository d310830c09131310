"""With --json, a failing command still writes JSON on stdout (and the message on stderr):
a script parsing stdout gets {"error": ...}, not an empty string."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from livermet.data import demo_case_path

MISSING = "no-such-file.json"


@pytest.mark.parametrize("args, needle", [
    (["calc", "child_pugh", "bilirubin=3"], "albumin is missing"),
    (["calc", "no_such_calculator", "x=1"], "unknown calculator"),
    (["volumetry", "--labels", "no-such.nii.gz"], "no-such.nii.gz"),
    (["explain", "no_such_option"], "no_such_option"),
    (["report", str(demo_case_path()), "--out", "report.docx"], ".html or .pdf"),
    (["fhir", "import", MISSING], MISSING),
    (["validate", MISSING], MISSING),
    (["assess", MISSING], MISSING),
])
def test_json_error_object_on_stdout(monkeypatch, args, needle):
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 300)
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 2
    assert needle in json.loads(r.stdout)["error"]
    assert needle in r.stderr


def test_without_json_stdout_stays_empty_on_error():
    r = CliRunner().invoke(app, ["calc", "child_pugh", "bilirubin=3"])
    assert r.exit_code == 2 and r.stdout == ""


@pytest.mark.parametrize("command", [
    ["schema"], ["validate"], ["assess"], ["demo"], ["calc"], ["volumetry"], ["segment"],
    ["explain"], ["knowledge"], ["report"], ["dicom-sr"], ["fhir", "export"], ["fhir", "import"],
    ["users", "list"],
])
def test_every_command_producing_data_takes_json(monkeypatch, command):
    # README: "every command that produces data has --json (only JSON on stdout)"
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 200)
    r = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "--json" in r.stdout


def test_fhir_export_json(tmp_path):
    r = CliRunner().invoke(app, ["fhir", "export", str(demo_case_path()), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["resourceType"] == "Bundle"
    out = tmp_path / "bundle.json"
    r = CliRunner().invoke(app, ["fhir", "export", str(demo_case_path()), "--out", str(out), "--json"])
    assert r.exit_code == 0
    summary = json.loads(r.stdout)
    assert summary["resources"] == len(json.loads(out.read_text())["entry"])


def test_text_with_colons_is_not_turned_into_emoji(monkeypatch, tmp_path):
    # "nope.py:X:" once printed as "nope.py❌" (Rich's :x: emoji code)
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 300)
    ct = tmp_path / "ct.nii.gz"
    ct.write_bytes(b"")
    r = CliRunner().invoke(app, ["segment", str(ct), str(tmp_path / "out"), "--runner", "nope.py:X"])
    assert r.exit_code == 2
    assert "nope.py:X" in r.stderr and "\u274c" not in r.stderr


@pytest.mark.parametrize("args", [
    ["assess", "nope[draft].json"],
    ["report", "nope[/draft].json", "--out", "x.html"],
    ["volumetry", "--labels", "no[/x].nii.gz"],
    ["calc", "child_pugh", "bilirubin=[red]3"],
])
def test_brackets_in_user_text_are_printed_not_interpreted(monkeypatch, args):
    # Rich markup in a file name once vanished ("[draft]") or crashed ("[/draft]": MarkupError)
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 300)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    needle = next(a for a in args if "[" in a).split("=", 1)[-1]
    assert needle in r.stderr


def test_validate_names_a_bracketed_file_as_it_is(monkeypatch, tmp_path):
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 300)
    monkeypatch.setattr(common.err, "width", 300)
    f = tmp_path / "case[draft].json"
    f.write_text('{"id": "x"}')
    r = CliRunner().invoke(app, ["validate", str(f)])
    assert r.exit_code == 0 and f"valid: {f}" in r.stdout
    f.write_text('{"id": "x", "labs": {"albumin": 41}}')
    r = CliRunner().invoke(app, ["validate", str(f)])
    assert r.exit_code == 2 and f"invalid: {f}: 1 error(s)" in r.stderr


def test_fhir_import_prints_unmapped_values_as_they_are(monkeypatch, tmp_path):
    # A hospital bundle's value "[/alien]" once crashed the import with a Rich MarkupError.
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 300)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "gender": "[/alien]"}}]}))
    r = CliRunner().invoke(app, ["fhir", "import", str(bundle), "--out", str(tmp_path / "case.json")])
    assert r.exit_code == 0, r.output
    assert "Patient.gender '[/alien]'" in r.stderr


def test_case_values_with_brackets_are_shown_not_interpreted(monkeypatch, tmp_path):
    # A case whose id or values look like Rich closing tags once crashed validate and assess.
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 200)
    f = tmp_path / "case.json"
    f.write_text(json.dumps({"id": "[/x]", "primary": {"site": "[/s]"}}))
    r = CliRunner().invoke(app, ["validate", str(f)])
    assert r.exit_code == 2 and r.exception is None or isinstance(r.exception, SystemExit)
    assert "'[/s]'" in r.stdout
    f.write_text(json.dumps({"id": "[/x]", "patient": {"age": 50},
                             "metastases": {"extrahepatic": {"present": True, "sites": ["[/lung]"]}}}))
    r = CliRunner().invoke(app, ["assess", str(f)])
    assert r.exit_code == 0, r.output
    assert "livermet assessment · [/x]" in r.stdout and "[/lung]" in r.stdout


def test_dicom_sr_of_a_case_without_images_says_what_it_needs(monkeypatch, tmp_path):
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 300)
    seg, ct = tmp_path / "seg.dcm", tmp_path / "ct"
    seg.write_bytes(b"")
    ct.mkdir()
    r = CliRunner().invoke(app, ["dicom-sr", str(demo_case_path()), "--seg", str(seg), "--ct", str(ct),
                                 "--out", str(tmp_path / "sr.dcm")])
    assert r.exit_code == 2
    assert "imaging: imaging" not in r.stderr and 'expected case.imaging with "labels" or "masks"' in r.stderr
