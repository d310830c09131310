"""Couinaud segments from landmarks (classical planes) and from portal branches (territories)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from livermet.imaging import couinaud as C
from livermet.imaging import phantom as P
from livermet.imaging.errors import ImagingInputError
from livermet.imaging.grid import Grid

# A coarser phantom keeps these tests quick; the planes are the same.
SHAPE, SPACING = (112, 80, 56), (3.2, 3.2, 3.6)


@pytest.fixture(scope="module")
def ph() -> P.Phantom:
    return P.make_phantom(shape=SHAPE, spacing_mm=SPACING)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def test_exact_landmarks_reproduce_the_phantoms_analytic_segments(ph):
    """The phantom defines its segments by the planes in closed form (phantom.true_segments);
    landmarks sampled exactly on its veins must give back the same map, voxel for voxel."""
    seg = C.segments_from_landmarks(ph.liver, ph.grid, P.phantom_landmarks(jitter_mm=0.0))
    assert np.array_equal(seg, ph.segments)


@pytest.mark.parametrize("jitter", [1.0, 2.0])
def test_landmarks_clicked_with_error_still_agree_dice_above_0_9(ph, jitter):
    seg = C.segments_from_landmarks(ph.liver, ph.grid, P.phantom_landmarks(seed=3, jitter_mm=jitter))
    for s in range(1, 9):
        assert dice(seg == s, ph.segments == s) > 0.9, s
    assert ((seg > 0) == ph.liver).all()


def test_result_is_the_same_in_any_array_orientation(ph):
    """Flip and permute the array axes (adjusting the affine): each voxel keeps its segment."""
    lm = P.phantom_landmarks(jitter_mm=0.0)
    perm = (2, 0, 1)
    liver = np.transpose(ph.liver, perm)[::-1, :, ::-1]
    a = ph.grid.affine
    shape = liver.shape
    # m maps a new index to the old one: new axis 0 is old axis 2 flipped, new axis 1 is
    # old axis 0, new axis 2 is old axis 1 flipped
    m = np.zeros((4, 4))
    m[3, 3] = 1
    m[2, 0], m[2, 3] = -1, ph.grid.shape[2] - 1
    m[0, 1] = 1
    m[1, 2], m[1, 3] = -1, ph.grid.shape[1] - 1
    grid2 = Grid(shape, a @ m)
    seg2 = C.segments_from_landmarks(liver, grid2, lm)
    back = np.transpose(seg2[::-1, :, ::-1], np.argsort(perm))
    assert np.array_equal(back, ph.segments)


def test_ras_landmarks_are_converted(ph):
    lm = P.phantom_landmarks(jitter_mm=0.0)
    ras = {k: (v if k == "coordinate_system" else (np.asarray(v) * [-1, -1, 1]).tolist()) for k, v in lm.items()}
    ras["coordinate_system"] = "RAS"
    assert np.array_equal(C.segments_from_landmarks(ph.liver, ph.grid, ras), ph.segments)


def test_landmarks_file_round_trip(tmp_path, ph):
    p = tmp_path / "lm.json"
    p.write_text(json.dumps(ph.landmarks))
    lm = C.load_landmarks(p)
    assert lm["right_hepatic_vein"].shape == (len(ph.landmarks["right_hepatic_vein"]), 3)


def _on_ivc_axis(d):
    x, y, _ = np.mean(d["ivc"], axis=0)
    return [[x, y, 0.0], [x, y, 12.0]]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d.pop("ivc"), "landmarks"),
        (lambda d: d.update(portal_bifurcation=[1, 2]), "landmarks.portal_bifurcation"),
        (lambda d: d.update(left_hepatic_vein=[[0, 0, 0]]), "landmarks.left_hepatic_vein"),
        (lambda d: d.update(right_hepatic_vein=[1.0, 2.0, 3.0]), "landmarks.right_hepatic_vein"),
        (lambda d: d["middle_hepatic_vein"].__setitem__(1, [1, "x", 3]), "landmarks.middle_hepatic_vein[1]"),
        (lambda d: d.update(coordinate_system="IJK"), "landmarks.coordinate_system"),
        (lambda d: d.update(umbilical_fissure=[[10, 0, 0], [10.5, 0, 5]]), "landmarks.umbilical_fissure"),
        (lambda d: d.update(right_hepatic_vein=_on_ivc_axis(d)), "landmarks.right_hepatic_vein"),
    ],
)
def test_bad_landmarks_name_the_field(ph, change, field):
    lm = json.loads(json.dumps(ph.landmarks))
    change(lm)
    with pytest.raises(ImagingInputError) as exc:
        C.segments_from_landmarks(ph.liver, ph.grid, lm)
    assert exc.value.field == field
    assert "expected" in str(exc.value)


def test_missing_keys_are_listed(ph):
    lm = {k: v for k, v in ph.landmarks.items() if k not in ("ivc", "umbilical_fissure")}
    with pytest.raises(ImagingInputError, match="missing ivc, umbilical_fissure"):
        C.validate_landmarks(lm)


def test_landmarks_on_the_wrong_side_are_rejected_not_guessed(ph):
    lm = json.loads(json.dumps(ph.landmarks))
    lm["right_hepatic_vein"] = lm["middle_hepatic_vein"]  # both veins in one plane
    with pytest.raises(ImagingInputError, match="off that plane"):
        C.segments_from_landmarks(ph.liver, ph.grid, lm)


def test_empty_liver_gives_no_segments(ph):
    seg = C.segments_from_landmarks(np.zeros(ph.grid.shape, bool), ph.grid, ph.landmarks)
    assert not seg.any()


def test_portal_territories_approximate_the_planar_segments(ph):
    """Nearest-branch territories are not planes: on the phantom they agree with the planar
    truth at Dice >= 0.7 for segments 2-8 and >= 0.4 for the small caudate (measured
    0.76-0.90 and 0.51 on the default grid); every liver voxel gets a segment."""
    seg = C.segments_from_portal_branches(ph.liver, ph.grid, ph.portal_branches)
    assert ((seg > 0) == ph.liver).all()
    for s in range(2, 9):
        assert dice(seg == s, ph.segments == s) >= 0.7, s
    assert dice(seg == 1, ph.segments == 1) >= 0.4
    # every branch voxel inside the liver keeps its own label
    inside = (ph.portal_branches > 0) & ph.liver
    assert np.array_equal(seg[inside], ph.portal_branches[inside])


def test_portal_territories_split_by_the_bisecting_plane():
    """Two point branches: the boundary between territories is the plane halfway between."""
    grid = Grid((40, 30, 20), np.diag([1.0, 1.0, 1.0, 1.0]))
    liver = np.ones(grid.shape, bool)
    branches = np.zeros(grid.shape, np.uint8)
    branches[5, 15, 10] = 2
    branches[25, 15, 10] = 7
    seg = C.segments_from_portal_branches(liver, grid, branches)
    assert (seg[:15] == 2).all() and (seg[16:] == 7).all()


def test_portal_territories_use_physical_distance_with_anisotropic_voxels():
    """Branch A is 6 voxels away along i (0.5 mm voxels: 3 mm); branch B 3 voxels along k
    (2 mm voxels: 6 mm). In index units B is nearer; in millimetres A is."""
    grid = Grid((20, 20, 20), np.diag([0.5, 0.5, 2.0, 1.0]))
    liver = np.zeros(grid.shape, bool)
    liver[10, 10, 10] = True
    branches = np.zeros(grid.shape, np.uint8)
    branches[16, 10, 10] = 3
    branches[10, 10, 13] = 4
    seg = C.segments_from_portal_branches(liver, grid, branches)
    assert seg[10, 10, 10] == 3


def test_bad_branch_labels_are_errors(ph):
    with pytest.raises(ImagingInputError, match="0 \\(background\\) and 1-8"):
        C.segments_from_portal_branches(ph.liver, ph.grid, ph.portal_branches.astype(np.int16) * 2)
    with pytest.raises(ImagingInputError, match="no labelled voxel"):
        C.segments_from_portal_branches(ph.liver, ph.grid, np.zeros(ph.grid.shape, np.uint8))
    with pytest.raises(ImagingInputError, match="shape"):
        C.segments_from_portal_branches(ph.liver, ph.grid, np.zeros((3, 3, 3), np.uint8))
