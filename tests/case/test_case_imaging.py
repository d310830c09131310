"""The images a case names: unused images are said to be unused, misspelt keys get a
suggestion, and (when the case file's folder is known) every missing file is an error naming
its field and path. Before, `imaging: {ct: ...}` without label maps, or `lables:`, was skipped
without a word, and `validate` called a case valid whose images did not exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livermet.case import CaseValidationError, load_case, read_case_data, validate_case


def _write(folder: Path, imaging: dict, name: str = "case.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"id": "img", "imaging": imaging}), encoding="utf-8")
    return path


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_a_ct_without_label_maps_is_said_to_be_unused():
    report = validate_case({"id": "x", "imaging": {"ct": "ct.nii.gz"}})
    assert report.ok
    (p,) = report.for_path("imaging")
    assert p.severity == "warning" and p.code == "missing"
    assert p.message.startswith("imaging.ct given without a label map (imaging.labels) or masks")
    assert "the images are not used" in p.message
    assert "livermet segment" in p.hint


def test_imaging_studies_alone_are_not_images_to_measure():
    report = validate_case({"id": "x", "imaging": {"studies": [{"modality": "ct", "date": "2026-10-01"}]}})
    assert report.problems == ()


def test_a_misspelt_labels_key_gets_a_suggestion_twice():
    report = validate_case({"id": "x", "imaging": {"ct": "ct.nii.gz", "lables": "seg.nii.gz"}})
    (unknown,) = report.for_path("imaging.lables")
    assert unknown.code == "unknown_field" and unknown.hint == "did you mean 'labels'?"
    (unused,) = report.for_path("imaging")
    assert unused.hint == "imaging.lables is not read: did you mean imaging.labels?"


def test_portal_branches_is_a_known_imaging_field():
    # The imaging step reads it (from the model's extras): not "unknown ... not used".
    report = validate_case({"id": "x", "imaging": {"labels": "a.nii.gz", "portal_branches": "pb.nii.gz"}})
    assert report.problems == ()
    typo = validate_case({"id": "x", "imaging": {"labels": "a.nii.gz", "portal_branchs": "pb.nii.gz"}})
    (p,) = typo.for_path("imaging.portal_branchs")
    assert p.hint == "did you mean 'portal_branches'?" and "portal_branches" in p.expected
    from livermet.case.schema import case_json_schema

    assert "portal_branches" in case_json_schema()["$defs"]["Imaging"]["properties"]


def test_missing_image_files_are_errors_relative_to_the_case_file(tmp_path, monkeypatch):
    folder = tmp_path / "cases" / "p1"
    _touch(folder / "images" / "liver.nii.gz")
    _touch(folder / "images" / "t1.nii.gz")
    absent = tmp_path / "elsewhere" / "t2.nii.gz"
    path = _write(folder, {"ct": "images/ct.nii.gz", "masks": {
        "liver": "images/liver.nii.gz", "tumour": ["images/t1.nii.gz", str(absent)]}})
    monkeypatch.chdir(tmp_path)  # relative to the case file, not to the current directory
    with pytest.raises(CaseValidationError) as e:
        load_case(path)
    assert load_case(path, check_files=False).imaging.ct == "images/ct.nii.gz"
    errors = e.value.report.errors
    assert [(p.path, p.code, p.value) for p in errors] == [
        ("imaging.ct", "file", "images/ct.nii.gz"),
        ("imaging.masks.tumour[1]", "file", str(absent))]
    assert errors[0].message == (f"file not found: images/ct.nii.gz (read from the case file's "
                                 f"folder: {folder.resolve() / 'images' / 'ct.nii.gz'})")
    assert errors[1].message == f"file not found: {absent}"
    _touch(folder / "images" / "ct.nii.gz")
    _touch(absent)
    assert load_case(path).imaging.masks["tumour"][1] == str(absent)


def test_a_dicom_folder_counts_as_existing(tmp_path):
    (tmp_path / "ct_series").mkdir()
    _touch(tmp_path / "seg.nii.gz")
    path = _write(tmp_path, {"ct": "ct_series", "labels": "seg.nii.gz", "labelset": "liver_segments"})
    assert load_case(path).imaging.ct == "ct_series"


def test_the_folder_travels_with_the_data_read_from_a_file(tmp_path):
    path = _write(tmp_path, {"labels": "seg.nii.gz"}, name="case.yaml")
    data = read_case_data(path)
    assert [p.path for p in validate_case(data).errors] == ["imaging.labels"]
    assert [p.path for p in validate_case(read_case_data(data)).errors] == ["imaging.labels"]
    # a mapping of unknown origin: files are not checked, unless its folder is given
    plain = json.loads(path.read_text())
    assert validate_case(plain).ok
    assert [p.path for p in validate_case(plain, base_dir=tmp_path).errors] == ["imaging.labels"]
    # not reading the images (assess --no-imaging): not checked
    assert validate_case(data, check_files=False).ok


def test_a_label_set_livermet_cannot_read_is_an_error():
    def problem(labelset):
        (p,) = validate_case({"id": "x", "imaging": {"labels": "a.nii.gz", "labelset": labelset}}).errors
        return p

    p = problem("Liver_Segments")  # the imaging step reads it as a file name
    assert p.path == "imaging.labelset" and p.hint == "write 'liver_segments'"
    p = problem("liver_segmets")
    assert p.hint == "did you mean 'liver_segments'?" and "totalsegmentator" in p.expected
    assert validate_case({"id": "x", "imaging": {"labels": "a.nii.gz", "labelset": "total"}}).ok


def test_a_mask_role_livermet_does_not_know_is_an_error():
    report = validate_case({"id": "x", "imaging": {"masks": {"tumor": "t.nii.gz", "livr": "l.nii.gz"}}})
    by_path = {p.path: p for p in report.errors}
    assert by_path["imaging.masks.tumor"].hint == "write 'tumour'"
    assert by_path["imaging.masks.livr"].hint == "did you mean 'liver'?"
    assert "segment_8" in by_path["imaging.masks.livr"].expected
