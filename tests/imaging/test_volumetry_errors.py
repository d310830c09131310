"""Bad imaging input: each case is a clear ImagingInputError naming the field."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from _h3_shapes import ellipsoid, make_grid, save_nifti

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.pipeline import run_volumetry

C = np.array([0.0, 0.0, 0.0])


@pytest.fixture
def grid():
    return make_grid((40, 40, 20), (1.0, 1.0, 2.0), centre=C)


@pytest.fixture
def liver_file(tmp_path, grid):
    return save_nifti(tmp_path / "liver.nii.gz", ellipsoid(grid, C, (15, 15, 15)).astype(np.uint8), grid)


def test_corrupt_gzip(tmp_path, liver_file):
    data = liver_file.read_bytes()
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(data[: len(data) // 2])  # truncated download
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", bad)])
    assert e.value.field == "mask liver" and "corrupt or truncated" in e.value.expected
    # a flipped byte in the compressed data: the CRC check catches it
    raw = bytearray(gzip.compress(gzip.decompress(data)))
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(ImagingInputError, match="corrupt or truncated"):
        run_volumetry(masks=[("liver", bad)])


def test_unknown_labelset(liver_file):
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(labels=liver_file, labelset="totalsegmentor")
    assert e.value.field == "labelset" and "totalsegmentator" in e.value.expected


def test_label_map_without_labelset_or_names(liver_file):
    with pytest.raises(ImagingInputError, match="--labelset"):
        run_volumetry(labels=liver_file)


def test_empty_liver(tmp_path, grid):
    lab = np.zeros(grid.shape, np.uint8)
    lab[5:10, 5:10, 5:10] = 1  # a spleen, say: not the liver in the total task (liver = 5)
    p = save_nifti(tmp_path / "lab.nii.gz", lab, grid)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(labels=p, labelset="totalsegmentator")
    assert e.value.field == "liver" and "liver = 5" in e.value.expected


def test_tumour_outside_the_liver(tmp_path, grid, liver_file):
    t = np.zeros(grid.shape, np.uint8)
    t[0:3, 0:3, 0:3] = 1  # a corner of the volume, far from the liver
    tp = save_nifti(tmp_path / "t.nii.gz", t, grid)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", liver_file), ("tumour", tp)])
    assert e.value.field == "tumour" and "touches no liver voxel" in e.value.expected


def test_ct_given_as_mask(tmp_path, grid, liver_file):
    rng = np.random.default_rng(1)
    ct = rng.integers(-1000, 1500, size=grid.shape).astype(np.int16)
    p = save_nifti(tmp_path / "ct.nii.gz", ct, grid)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", p)])
    assert e.value.field == "mask liver" and "like a CT image" in e.value.expected


def test_label_map_given_as_mask(tmp_path, grid):
    lab = np.zeros(grid.shape, np.uint8)
    lab[5:20, 5:20, 5:10] = 1
    lab[20:30, 5:20, 5:10] = 2
    p = save_nifti(tmp_path / "lab.nii.gz", lab, grid)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", p)])
    assert "like a label map" in e.value.expected and "--labels" in e.value.expected


@pytest.mark.parametrize("value", [1, 255])
def test_binary_masks_0_1_and_0_255_are_both_normal(tmp_path, grid, value):
    m = ellipsoid(grid, C, (15, 15, 15)).astype(np.uint8) * value
    p = save_nifti(tmp_path / "m.nii.gz", m, grid)
    assert run_volumetry(masks=[("liver", p)]).liver_ml == pytest.approx(int((m > 0).sum()) * grid.voxel_volume_ml)


def test_mismatched_grids_are_an_error_naming_both(tmp_path, grid, liver_file):
    other = make_grid((40, 40, 20), (1.0, 1.0, 2.0), centre=(0.0, 0.0, 300.0))  # another station
    t = np.zeros(other.shape, np.uint8)
    t[18:22, 18:22, 8:12] = 1
    tp = save_nifti(tmp_path / "t.nii.gz", t, other)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", liver_file), ("tumour", tp)])
    assert e.value.field == "mask tumour"
    assert "40x40x20 voxels of 1x1x2 mm, origin" in e.value.expected  # both grids described
    assert "same physical" in e.value.expected or "physical extent" in e.value.expected


def test_same_space_other_grid_is_resampled_with_a_warning(tmp_path, grid):
    """The liver at 1x1x2 mm; the tumour mask on a 0.5x0.5x1 mm grid over the same space."""
    liver = ellipsoid(grid, C, (15, 15, 15)).astype(np.uint8)
    lp = save_nifti(tmp_path / "l.nii.gz", liver, grid)
    fine = make_grid((80, 80, 40), (0.5, 0.5, 1.0), centre=C + [-0.25, -0.25, -0.5])
    t = ellipsoid(fine, C, (6, 6, 6)).astype(np.uint8)
    tp = save_nifti(tmp_path / "t.nii.gz", t, fine)
    res = run_volumetry(masks=[("liver", lp), ("tumour", tp)])
    assert any("resampled by nearest neighbour" in w for w in res.warnings)
    # the sphere (r = 6 mm, 0.905 mL) survives nearest-neighbour resampling within 5% ...
    assert res.tumour_ml == pytest.approx(4 / 3 * np.pi * 6**3 / 1000, rel=0.05)
    # ... and equals the same sphere sampled directly on the liver's grid (464 voxels of
    # 0.002 mL = 0.928 mL) to within 5 voxels: the resampling lands on the right voxels
    direct = int(ellipsoid(grid, C, (6, 6, 6)).sum()) * 0.002
    assert res.tumour_ml == pytest.approx(direct, abs=5 * 0.002)


def test_bad_mask_spec_and_roles(liver_file):
    from livermet.imaging.anatomy import parse_mask_specs

    with pytest.raises(ImagingInputError, match="ROLE=PATH"):
        parse_mask_specs(["liver.nii.gz"])
    with pytest.raises(ImagingInputError) as e:
        parse_mask_specs(["spleen=x.nii.gz"])
    assert e.value.field == "mask"
    assert parse_mask_specs(["tumor=a", "segment_4=b", "IVC=c"]) == [("tumour", "a"), ("segment_4", "b"), ("ivc", "c")]


def test_missing_file_and_bad_json_labelset(tmp_path, liver_file):
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", tmp_path / "nope.nii.gz")])
    assert "existing file" in e.value.expected
    bad = tmp_path / "ls.json"
    bad.write_text("{not json")
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(labels=liver_file, labelset=bad)
    assert e.value.field == "labelset"
    bad.write_text(json.dumps({"1": "spleen"}))
    with pytest.raises(ImagingInputError, match="at least a liver"):
        run_volumetry(labels=liver_file, labelset=bad)


def test_anatomic_resection_without_segments(liver_file):
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", liver_file)], resection="right_hepatectomy")
    assert e.value.field == "resection" and "--landmarks" in e.value.expected


def test_unknown_resection_and_lesion(liver_file):
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", liver_file)], resection="right_lobectomy")
    assert e.value.field == "resection" and "right_hepatectomy" in e.value.expected
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", liver_file)], resect_lesions=["L7"])
    assert e.value.field == "resect_lesions"
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", liver_file)], liver_condition="fatty")
    assert e.value.field == "liver_condition"


def test_imaging_input_error_survives_a_process_boundary():
    """A volumetry job run in a process pool returns its refusal to the server: the error must
    pickle with its field, value and message (unpickling used to fail and break the pool)."""
    import pickle

    from livermet.imaging.errors import ImagingInputError

    exc = ImagingInputError("labelset", "nope", "one of liver_segments, totalsegmentator")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is ImagingInputError
    assert (back.field, back.value, back.expected) == ("labelset", "nope", "one of liver_segments, totalsegmentator")
    assert str(back) == str(exc)
