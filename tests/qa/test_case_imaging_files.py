"""QA: `livermet validate` said "valid" for a case whose image files did not exist (only
`assess` failed, later); a CT without label maps was skipped without a word; an imaging error
of a case named the `livermet volumetry` option `--portal-branches` instead of the case field."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 120)
    monkeypatch.setattr(common.err, "width", 120)
    return CliRunner()


def _case(tmp_path, imaging: dict) -> str:
    f = tmp_path / "case.yaml"
    f.write_text("id: qa-images\nimaging:\n" + "".join(f"  {k}: {v}\n" for k, v in imaging.items()),
                 encoding="utf-8")
    return str(f)


def test_validate_names_each_missing_image_file(runner, tmp_path):
    (tmp_path / "liver.nii.gz").write_bytes(b"")
    f = _case(tmp_path, {"ct": "ct.nii.gz", "masks": "{liver: liver.nii.gz, tumour: t.nii.gz}"})
    r = runner.invoke(app, ["validate", f, "--json"])
    assert r.exit_code == 2
    report = json.loads(r.stdout)
    assert not report["valid"]
    assert [(p["path"], p["value"]) for p in report["problems"] if p["severity"] == "error"] == [
        ("imaging.ct", "ct.nii.gz"), ("imaging.masks.tumour", "t.nii.gz")]
    human = runner.invoke(app, ["validate", f])
    assert human.exit_code == 2 and "imaging.masks.tumour" in human.output
    assert "file not found: t.nii.gz" in human.output


def test_assess_lists_them_too_but_not_with_no_imaging(runner, tmp_path):
    f = _case(tmp_path, {"labels": "seg.nii.gz", "labelset": "liver_segments"})
    r = runner.invoke(app, ["assess", f, "--json"])
    assert r.exit_code == 2
    (p,) = json.loads(r.stdout)["problems"]
    assert (p["path"], p["code"]) == ("imaging.labels", "file")
    assert runner.invoke(app, ["assess", f, "--no-imaging", "--json"]).exit_code == 0


def test_a_ct_alone_is_valid_with_a_warning_that_it_is_not_used(runner, tmp_path):
    (tmp_path / "ct.nii.gz").write_bytes(b"")
    f = _case(tmp_path, {"ct": "ct.nii.gz", "lables": "seg.nii.gz"})
    r = runner.invoke(app, ["validate", f, "--json"])
    assert r.exit_code == 0
    warnings = {p["path"]: p for p in json.loads(r.stdout)["problems"]}
    assert "the images are not used" in warnings["imaging"]["message"]
    assert warnings["imaging.lables"]["hint"] == "did you mean 'labels'?"
    a = runner.invoke(app, ["assess", f, "--json"])
    assert a.exit_code == 0
    assert any(w.startswith("imaging: imaging.ct given without a label map")
               for w in json.loads(a.stdout)["warnings"])


def test_an_imaging_error_names_the_case_field_not_the_option(tmp_path):
    # An anatomic resection on a liver mask without segments: the imaging step asks for segment
    # labels, landmarks or portal branches, in `livermet volumetry` options.
    from livermet.assess import assess_case
    from livermet.case.errors import CaseError

    m = np.zeros((60, 60, 60), np.uint8)
    m[10:50, 10:50, 10:50] = 1  # 40^3 voxels of 2 mm: 512 mL
    nib.save(nib.Nifti1Image(m, np.diag([2.0, 2, 2, 1])), str(tmp_path / "liver.nii.gz"))
    (tmp_path / "case.json").write_text(json.dumps({
        "id": "qa-portal", "imaging": {"masks": {"liver": "liver.nii.gz"}},
        "volumetry": {"planned_resection": "right_hepatectomy"}}))
    with pytest.raises(CaseError) as e:
        assess_case(tmp_path / "case.json", decision=False)
    text = str(e.value)
    assert text.startswith("volumetry.planned_resection: ")
    assert "imaging.portal_branches" in text and "imaging.landmarks" in text
    assert "--" not in text
