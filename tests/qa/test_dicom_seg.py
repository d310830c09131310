"""DICOM SEG as hospitals (and livermet itself) write it: overlapping segments, some of them
not liver structures, Couinaud segments labelled "Couinaud segment 7" (livermet's own export).

Before, such a SEG was refused ("it names no structures itself") and livermet could not read
back the segments SEG it had exported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from livermet.imaging.labelsets import normalise_role
from livermet.imaging.pipeline import run_volumetry

_spec = importlib.util.spec_from_file_location(
    "qa_dicom_phantom", Path(__file__).resolve().parents[1] / "interop" / "dicom_phantom.py")
phantom = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(phantom)

VOXEL_ML = 0.8 * 0.8 * 2.0 / 1000  # the phantom CT: 0.8 x 0.8 mm pixels, 2 mm slices


@pytest.mark.parametrize("label, role", [
    ("Couinaud segment 7", "segment_7"),
    ("Couinaud hepatic segment VII", "segment_7"),
    ("Segment IVa", "segment_4"),
    ("S4", "segment_4"),
    ("liver", "liver"),
    ("remnant", None),
])
def test_segment_labels(label, role):
    assert normalise_role(label) == role


@pytest.fixture
def dicom_study(tmp_path):
    ct = phantom.write_ct_series(tmp_path / "ct")
    seg = phantom.write_seg(tmp_path / "seg.dcm", ct)
    return tmp_path / "ct", seg


def test_seg_with_an_unknown_segment_is_read_with_a_warning(dicom_study):
    ct, seg = dicom_study
    r = run_volumetry(ct=ct, labels=seg)
    # phantom: liver 4 x 12 x 12 voxels, segment 7 4 x 6 x 6, one 2 x 3 x 3 tumour
    assert r.liver_ml == pytest.approx(4 * 12 * 12 * VOXEL_ML, abs=0.01)
    assert r.segments_ml["7"] == pytest.approx(4 * 6 * 6 * VOXEL_ML, abs=0.01)
    assert [les.volume_ml for les in r.lesions] == [pytest.approx(2 * 3 * 3 * VOXEL_ML, abs=0.01)]
    assert any("'remnant'" in w and "ignored" in w for w in r.warnings)
    # the SEG's frames are the CT's own voxels in another index order: an exact copy, so no
    # "resampled" warning (before: one per segment)
    assert not any("resampled" in w for w in r.warnings)


def test_livermet_reads_back_its_own_segments_seg(dicom_study, tmp_path):
    ct, seg = dicom_study
    first = run_volumetry(ct=ct, labels=seg, export_dir=tmp_path / "out")
    again = run_volumetry(ct=ct, labels=tmp_path / "out" / "segments.seg.dcm")
    assert again.liver_ml == pytest.approx(first.liver_ml, abs=0.01)
    assert again.segments_ml == first.segments_ml


def test_dicom_series_with_a_missing_slice_is_refused(tmp_path):
    # ITK reads it as evenly spaced (2.25 mm instead of 2 mm with a 4 mm hole) and only prints
    # a warning; livermet must not measure on that geometry.
    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.io import read_grid

    ct = tmp_path / "ct"
    phantom.write_ct_series(ct, shape=(10, 16, 16))
    assert read_grid(ct).spacing[2] == pytest.approx(2.0)
    sorted(ct.iterdir())[5].unlink()
    with pytest.raises(ImagingInputError) as e:
        read_grid(ct)
    assert "2.00 to 4.00 mm" in e.value.expected and "missing" in e.value.expected


def test_folder_with_two_series_is_not_guessed(tmp_path):
    # Before, the series with more files was measured without a word (arterial vs portal
    # venous phase, thin vs thick slices: the user's choice, not livermet's).
    import shutil

    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.io import read_grid

    phantom.write_ct_series(tmp_path / "a", shape=(6, 16, 16))
    phantom.write_ct_series(tmp_path / "b", shape=(8, 16, 16))
    both = tmp_path / "both"
    both.mkdir()
    for sub in ("a", "b"):
        for f in (tmp_path / sub).iterdir():
            shutil.copy(f, both / f"{sub}_{f.name}")
    with pytest.raises(ImagingInputError) as e:
        read_grid(both)
    assert "holds 2" in e.value.expected and "(6 files)" in e.value.expected
    assert "(8 files)" in e.value.expected
    assert read_grid(tmp_path / "b").shape[2] == 8  # one series per folder reads as before


def test_ct_folder_with_its_seg_beside_the_slices_reads_the_ct(dicom_study):
    # A PACS export often puts the SEG in the CT's folder: it is not a second image series.
    import shutil

    ct, seg = dicom_study
    shutil.copy(seg, ct / "seg.dcm")
    r = run_volumetry(ct=ct, labels=seg)
    assert r.liver_ml == pytest.approx(4 * 12 * 12 * VOXEL_ML, abs=0.01)
