"""Warnings of the imaging step reach `livermet assess` (and so the CLI, the report, the web).

Before, `livermet volumetry` printed them but an assessment of a case naming the same images
dropped them: a TotalSegmentator `total` map read as Couinaud segments (spleen = "segment 1",
liver = "segment 5") gave an sFLR with no word of doubt.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np

from livermet.assess import assess_case


def _case(imaging: dict) -> dict:
    return {"id": "qa-imaging-warnings",
            "patient": {"age": 60, "sex": "male", "height_cm": 175, "weight_kg": 75},
            "primary": {"site": "colorectal"}, "imaging": imaging}


def test_resampling_warning_reaches_the_assessment(tmp_path):
    # CT: 40^3 voxels of 4 mm; liver mask: 80^3 voxels of 2 mm over the same space, a
    # 40^3-voxel block (512 mL, a plausible liver for the case validator).
    nib.save(nib.Nifti1Image(np.zeros((40, 40, 40), np.int16), np.diag([4.0, 4, 4, 1])),
             str(tmp_path / "ct.nii.gz"))
    m = np.zeros((80, 80, 80), np.uint8)
    m[20:60, 20:60, 20:60] = 1
    nib.save(nib.Nifti1Image(m, np.diag([2.0, 2, 2, 1])), str(tmp_path / "liver.nii.gz"))
    (tmp_path / "case.json").write_text(json.dumps(_case(
        {"ct": "ct.nii.gz", "masks": {"liver": "liver.nii.gz"}})))
    a = assess_case(tmp_path / "case.json", decision=False)
    assert any(w.startswith("imaging: ") and "resampled" in w for w in a.warnings)


def test_label_set_contradicting_the_file_is_not_silent(totalseg_example, tmp_path):
    case = _case({"ct": str(totalseg_example / "example_ct.nii.gz"),
                  "labels": str(totalseg_example / "example_seg_fast_force_split.nii.gz"),
                  "labelset": "liver_segments"})
    a = assess_case(case, base_dir=tmp_path, decision=False)
    assert any("'spleen' in the file but 'segment_1'" in w for w in a.warnings)
    assert any("'liver' in the file but 'segment_5'" in w for w in a.warnings)


def test_assess_text_output_shows_what_was_measured(tmp_path, monkeypatch):
    # A case pointing at its images: the readable summary must say the images were measured.
    from typer.testing import CliRunner

    from livermet.cli import common
    from livermet.cli.main import app

    monkeypatch.setattr(common.out, "width", 120)
    m = np.zeros((80, 80, 80), np.uint8)
    m[20:60, 20:60, 20:60] = 1  # 40^3 voxels of 8 uL = 512 mL
    nib.save(nib.Nifti1Image(m, np.diag([2.0, 2, 2, 1])), str(tmp_path / "liver.nii.gz"))
    (tmp_path / "case.json").write_text(json.dumps(_case({"masks": {"liver": "liver.nii.gz"}})))
    r = CliRunner().invoke(app, ["assess", str(tmp_path / "case.json")])
    assert r.exit_code == 0, r.output
    assert "Imaging: liver 512.0 mL" in r.stdout


def test_imaging_errors_in_a_case_name_the_case_fields(tmp_path):
    # A planned anatomic resection on a label map without segments: the user of a case must
    # be told which case fields to fill, not `livermet volumetry` options.
    import pytest

    from livermet.case.errors import CaseError

    m = np.zeros((80, 80, 80), np.uint8)
    m[20:60, 20:60, 20:60] = 1
    nib.save(nib.Nifti1Image(m, np.diag([2.0, 2, 2, 1])), str(tmp_path / "liver.nii.gz"))
    case = _case({"masks": {"liver": "liver.nii.gz"}})
    case["volumetry"] = {"planned_resection": "right_hepatectomy"}
    (tmp_path / "case.json").write_text(json.dumps(case))
    with pytest.raises(CaseError) as e:
        assess_case(tmp_path / "case.json", decision=False)
    text = str(e.value)
    assert text.startswith("volumetry.planned_resection: ")
    assert "imaging.labelset" in text and "imaging.masks" in text and "--labelset" not in text


def test_a_bad_mask_in_a_case_is_named_by_its_case_field(tmp_path):
    import pytest

    from livermet.case.errors import CaseError

    lab = np.zeros((20, 20, 20), np.uint8)
    lab[2:8, 2:8, 2:8], lab[10:18, 10:18, 10:18] = 1, 2  # a label map, not a mask
    nib.save(nib.Nifti1Image(lab, np.eye(4)), str(tmp_path / "labels.nii.gz"))
    (tmp_path / "case.json").write_text(json.dumps(_case({"masks": {"liver": "labels.nii.gz"}})))
    with pytest.raises(CaseError) as e:
        assess_case(tmp_path / "case.json", decision=False)
    assert str(e.value).startswith("imaging.masks.liver: ")
