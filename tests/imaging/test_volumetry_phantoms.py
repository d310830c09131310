"""Volumes, lesions and invariance on analytic phantoms (ellipsoids and spheres).

Every expected value is computed from the shape's formula (4/3 pi abc), never from
livermet's own output; invariance tests compare a volume with itself re-stored flipped,
permuted or rotated.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _h3_shapes import ellipsoid, ellipsoid_ml, flip, make_grid, permute, rotation, save_nifti

from livermet.imaging.pipeline import run_volumetry

LIVER = ((0.0, 0.0, 0.0), (50.0, 40.0, 35.0))  # centre offset from grid centre, semi-axes (mm)
TUMOUR = ((15.0, 5.0, 0.0), (12.0, 12.0, 12.0))
CENTRE = np.array([10.0, -20.0, 30.0])
LABELSET = {"1": "segment_1", "2": "segment_2", "9": "tumour"}


def _labelmap(grid):
    """Liver ellipsoid split by the plane x = centre_x into label 1 (x < c) and 2; tumour 9."""
    liver = ellipsoid(grid, CENTRE + LIVER[0], LIVER[1])
    tumour = ellipsoid(grid, CENTRE + TUMOUR[0], TUMOUR[1])
    x = grid.index_to_lps(np.indices(grid.shape).reshape(3, -1).T)[:, 0].reshape(grid.shape)
    lab = np.zeros(grid.shape, np.uint8)
    lab[liver & (x < CENTRE[0])] = 1
    lab[liver & (x >= CENTRE[0])] = 2
    lab[tumour] = 9
    return lab


@pytest.fixture
def labelset_file(tmp_path):
    p = tmp_path / "labels.json"
    p.write_text(json.dumps(LABELSET))
    return p


def _run(tmp_path, lab, grid, labelset_file, name="lab.nii.gz", **kw):
    path = save_nifti(tmp_path / name, lab, grid)
    return run_volumetry(labels=path, labelset=labelset_file, **kw)


@pytest.mark.parametrize(
    "spacing, direction",
    [
        ((1.0, 1.0, 1.0), None),
        ((0.7, 0.9, 2.5), None),  # anisotropic, thick slices
        ((1.1, 0.8, 1.6), rotation(20, -10, 35)),  # oblique storage
    ],
)
def test_ellipsoid_volumes_match_the_formula_within_1_percent(tmp_path, labelset_file, spacing, direction):
    shape = tuple(int(math.ceil(2 * 60 / s)) for s in spacing)
    grid = make_grid(shape, spacing, direction, centre=CENTRE)
    res = _run(tmp_path, _labelmap(grid), grid, labelset_file).to_dict()
    assert res["liver_ml"] == pytest.approx(ellipsoid_ml(LIVER[1]), rel=0.01)
    assert res["tumour_ml"] == pytest.approx(ellipsoid_ml(TUMOUR[1]), rel=0.01 if spacing[2] < 2 else 0.02)
    assert res["functional_liver_ml"] == pytest.approx(res["liver_ml"] - res["tumour_ml"], abs=0.02)
    # the plane x = centre splits the ellipsoid in two equal halves (the tumour voxels are
    # given back to their nearest segment, so each half is whole)
    half = ellipsoid_ml(LIVER[1]) / 2
    assert res["segments_ml"]["1"] == pytest.approx(half, rel=0.015)
    assert res["segments_ml"]["2"] == pytest.approx(half, rel=0.015)
    assert res["segments_method"] == "labels"
    [les] = res["lesions"]
    assert les["volume_ml"] == pytest.approx(res["tumour_ml"], abs=0.01)
    # the tumour is centred at x = c + 15 with r = 12: it lies wholly in segment 2
    assert les["segments"] == [2]
    assert les["centroid_mm"] == pytest.approx(list(CENTRE + TUMOUR[0]), abs=0.5)


def _summary(res):
    d = res.to_dict()
    return (
        d["liver_ml"],
        d["tumour_ml"],
        d["segments_ml"],
        [(x["volume_ml"], x["longest_axial_diameter_mm"], x["segments"], x["centroid_mm"]) for x in d["lesions"]],
    )


def test_flips_and_permutations_give_identical_results(tmp_path, labelset_file):
    grid = make_grid((70, 60, 30), (1.7, 1.4, 3.0), centre=CENTRE)
    lab = _labelmap(grid)
    ref = _summary(_run(tmp_path, lab, grid, labelset_file, "ref.nii.gz"))
    variants = []
    for axis in range(3):
        variants.append(flip(lab, grid, axis))
    for order in [(1, 0, 2), (2, 0, 1), (2, 1, 0)]:
        variants.append(permute(lab, grid, order))
    a2, g2 = permute(*flip(lab, grid, 0), (2, 1, 0))
    variants.append(flip(a2, g2, 1))
    for n, (arr, g) in enumerate(variants):
        got = _summary(_run(tmp_path, arr, g, labelset_file, f"v{n}.nii.gz"))
        assert got[:3] == ref[:3], f"variant {n}"
        assert got[3] == ref[3], f"variant {n}"


def test_axial_diameter_uses_the_patient_axial_plane_in_any_storage(tmp_path, labelset_file):
    """A lesion elongated along the patient's z axis has a short axial diameter, one
    elongated along x a long one, whatever the order and direction of the stored axes."""
    grid = make_grid((61, 61, 61), (0.8, 1.0, 1.25), centre=CENTRE)  # lesion centres on a slice
    liver = ellipsoid(grid, CENTRE, (40, 40, 40))
    tall = ellipsoid(grid, CENTRE + [-12, 0, 0], (5, 5, 18))  # 10 mm axially, 36 mm tall
    wide = ellipsoid(grid, CENTRE + [10, 14, 0], (15, 4, 4))  # 30 mm along x
    lab = np.zeros(grid.shape, np.uint8)
    lab[liver] = 1
    lab[tall | wide] = 9
    for n, (arr, g) in enumerate([(lab, grid), permute(lab, grid, (2, 0, 1)), flip(*permute(lab, grid, (1, 2, 0)), 2)]):
        d = _run(tmp_path, arr, g, labelset_file, f"d{n}.nii.gz").to_dict()
        by_x = sorted(d["lesions"], key=lambda les: les["centroid_mm"][0])
        tall_d, wide_d = by_x[0]["longest_axial_diameter_mm"], by_x[1]["longest_axial_diameter_mm"]
        # within one in-plane voxel of the true diameter
        assert tall_d == pytest.approx(10.0, abs=1.0), n
        assert wide_d == pytest.approx(30.0, abs=1.0), n


def test_lesions_are_26_connected_components(tmp_path, labelset_file):
    grid = make_grid((40, 40, 40), (1.0, 1.0, 1.0), centre=CENTRE)
    lab = np.zeros(grid.shape, np.uint8)
    lab[5:35, 5:35, 5:35] = 1
    lab[10:13, 10:13, 10:13] = 9
    lab[13:16, 13:16, 13:16] = 9  # touches the first cube at one corner only: same lesion
    lab[25:28, 25:28, 25:28] = 9  # separate
    d = _run(tmp_path, lab, grid, labelset_file).to_dict()
    assert d["lesion_connectivity"] == 26
    assert sorted(les["voxels"] for les in d["lesions"]) == [27, 54]
    assert sorted(les["volume_ml"] for les in d["lesions"]) == pytest.approx([0.027, 0.054])
    assert [les["id"] for les in d["lesions"]] == ["L1", "L2"]  # numbered by decreasing volume


def test_each_separate_tumour_mask_is_one_lesion(tmp_path):
    grid = make_grid((40, 40, 40), (1.0, 1.0, 1.0), centre=CENTRE)
    liver = np.zeros(grid.shape, np.uint8)
    liver[5:35, 5:35, 5:35] = 1
    t1 = np.zeros(grid.shape, np.uint8)
    t1[10:14, 10:14, 10:14] = 255  # 0/255 masks are normal
    t2 = np.zeros(grid.shape, np.uint8)
    t2[14:16, 10:14, 10:14] = 1  # touches t1, still its own lesion
    paths = [save_nifti(tmp_path / f"{n}.nii.gz", a, grid) for n, a in (("liver", liver), ("t1", t1), ("t2", t2))]
    d = run_volumetry(masks=[("liver", paths[0]), ("tumour", paths[1]), ("tumour", paths[2])]).to_dict()
    assert [les["volume_ml"] for les in d["lesions"]] == pytest.approx([0.064, 0.032])
    assert d["liver_ml"] == pytest.approx(27.0)
    assert d["segments_ml"] is None and d["segments_method"] is None


def test_partial_segment_masks_leave_the_rest_unassigned(tmp_path):
    """Only segment 5 given beside the whole liver: the rest is not forced into segment 5."""
    grid = make_grid((40, 40, 40), (1.0, 1.0, 1.0), centre=CENTRE)
    liver = np.zeros(grid.shape, np.uint8)
    liver[5:35, 5:35, 5:35] = 1
    seg5 = np.zeros(grid.shape, np.uint8)
    seg5[5:15, 5:35, 5:35] = 1
    lp = save_nifti(tmp_path / "l.nii.gz", liver, grid)
    sp = save_nifti(tmp_path / "s5.nii.gz", seg5, grid)
    d = run_volumetry(masks=[("liver", lp), ("segment_5", sp)], resection="segmentectomy_5").to_dict()
    assert d["segments_ml"]["5"] == pytest.approx(9.0)
    assert d["unassigned_liver_ml"] == pytest.approx(18.0)
    assert d["resection"]["resected_ml"] == pytest.approx(9.0)
    assert any("no segment label" in w for w in d["warnings"])


def test_oblique_storage_measures_in_the_patient_axial_plane(tmp_path, labelset_file):
    """Slices tilted 35 degrees: a tall lesion (10 mm across axially, 36 mm tall) still
    measures about 10 mm; on the tilted stored slices it would measure 12 mm."""
    grid = make_grid((61, 61, 61), (1.0, 1.0, 1.0), rotation(35, 0, 0), centre=CENTRE)
    liver = ellipsoid(grid, CENTRE, (28, 28, 28))
    tall = ellipsoid(grid, CENTRE, (5, 5, 18))
    lab = np.zeros(grid.shape, np.uint8)
    lab[liver] = 1
    lab[tall] = 9
    d = _run(tmp_path, lab, grid, labelset_file).to_dict()
    [les] = d["lesions"]
    assert les["longest_axial_diameter_mm"] == pytest.approx(10.0, abs=0.8)
    assert any("oblique" in w for w in d["warnings"])
