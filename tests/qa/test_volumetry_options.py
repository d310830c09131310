"""`livermet volumetry` options a user half-fills: say what is missing, never a bare dash."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app


@pytest.fixture
def segments_map(tmp_path):
    # eight 10 x 10 x 10 blocks of 2 mm voxels labelled 1-8 (liver_segments label set)
    lab = np.zeros((40, 20, 10), np.uint8)
    for n in range(8):
        i, j = divmod(n, 2)
        lab[i * 10:(i + 1) * 10, j * 10:(j + 1) * 10, :] = n + 1
    path = tmp_path / "segments.nii.gz"
    nib.save(nib.Nifti1Image(lab, np.diag([2.0, 2, 2, 1])), str(path))
    return path


def test_height_without_weight_is_explained(monkeypatch, segments_map):
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 120)
    monkeypatch.setattr(common.err, "width", 200)
    r = CliRunner().invoke(app, ["volumetry", "--labels", str(segments_map), "--labelset",
                                 "liver_segments", "--resection", "right_hepatectomy",
                                 "--height-cm", "175"])
    assert r.exit_code == 0
    assert "needs both --height-cm and --weight-kg" in r.stderr
    assert "needs --height-cm and --weight-kg" in r.stdout
    # right hepatectomy takes segments 5-8: half of eight equal blocks
    assert "50.0 %" in r.stdout


def test_an_absent_input_is_not_shown_as_none(monkeypatch, segments_map):
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 200)
    r = CliRunner().invoke(app, ["volumetry", str(segments_map)])  # a CT, no labels or masks
    assert r.exit_code == 2
    assert "labels: expected a label map (--labels) or at least one mask" in r.stderr
    assert "None" not in r.stderr


def test_ignored_landmarks_are_named_without_cli_flags(segments_map):
    # the same warning reaches `livermet assess` of a case, where there are no --flags
    from livermet.imaging.pipeline import run_volumetry

    r = run_volumetry(labels=segments_map, labelset="liver_segments", landmarks={"unused": True})
    (w,) = [w for w in r.warnings if "landmarks" in w]
    assert "not used" in w and "--" not in w


def test_folder_without_liver_structures(tmp_path, capfd):
    # A TotalSegmentator output folder of the wrong task: say so, and without ITK's own
    # "No Series were found" printed on stderr.
    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.pipeline import run_volumetry

    folder = tmp_path / "ts"
    folder.mkdir()
    nib.save(nib.Nifti1Image(np.ones((4, 4, 4), np.uint8), np.eye(4)), str(folder / "spleen.nii.gz"))
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(labels=folder)
    assert "TotalSegmentator" in e.value.expected and "spleen.nii.gz" in e.value.expected
    assert "No Series were found" not in capfd.readouterr().err


@pytest.mark.parametrize("height, needle, code", [
    ("1.75", "1.75 looks like m: use --height-cm 175", 2),  # impossible in cm: refused, with the fix
    ("70", "70 looks like in: use --height-cm 178", 0),     # possible but unusual: measured, warned
])
def test_height_in_another_unit(monkeypatch, segments_map, height, needle, code):
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 200)
    r = CliRunner().invoke(app, ["volumetry", "--labels", str(segments_map), "--labelset",
                                 "liver_segments", "--resection", "right_hepatectomy",
                                 "--height-cm", height, "--weight-kg", "75"])
    assert r.exit_code == code
    assert r.stderr.count(needle) == 1
