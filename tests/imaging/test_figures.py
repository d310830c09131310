"""Figures: files of the expected size, not blank, radiological orientation, true proportions."""

from __future__ import annotations

import io

import numpy as np
import pytest

from livermet.imaging import figures as F
from livermet.imaging import phantom as P
from livermet.imaging.grid import Grid

plt = pytest.importorskip("matplotlib.pyplot")


def read_png(path_or_bytes) -> np.ndarray:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    return plt.imread(src)


@pytest.fixture(scope="module")
def ph() -> P.Phantom:
    return P.make_phantom(shape=(112, 80, 56), spacing_mm=(3.2, 3.2, 3.6))


def test_write_figures_on_the_phantom(tmp_path, ph):
    resected = np.isin(ph.segments, [5, 6, 7, 8])
    paths = F.write_figures(tmp_path, ph.grid, ph.liver, ph.segments, ph.tumours, resected, ct=ph.ct,
                            remnant_segments=[1, 2, 3, 4])
    assert [p.name for p in paths] == ["axial.png", "coronal.png", "segment_volumes.png"]
    expected = {"axial.png": (700, 700), "coronal.png": (700, 700), "segment_volumes.png": (450, 800)}
    for p in paths:
        img = read_png(p)
        assert img.shape[:2] == expected[p.name]
        assert img[..., :3].std() > 0.1, f"{p.name} looks blank"


@pytest.mark.parametrize("flip_x", [False, True])
def test_slices_follow_the_radiological_convention(tmp_path, flip_x):
    """A tumour on the patient's right (small LPS x) appears on the left half of the axial
    image and, in the coronal image, a superior tumour appears in the upper half; also when
    the array's first axis runs to the patient's right (a RAS-stored image)."""
    grid = Grid((60, 60, 60), np.diag([2.0, 2.0, 2.0, 1.0]) + np.array([[0, 0, 0, -60]] * 3 + [[0, 0, 0, 0]]))
    liver = np.zeros(grid.shape, bool)
    liver[5:55, 5:55, 5:55] = True
    tum = np.zeros(grid.shape, np.uint8)
    tum[8:18, 25:35, 40:50] = 1  # small x (patient's right), high z (superior)
    if flip_x:  # same anatomy, stored with i running towards the patient's right
        aff = grid.affine.copy()
        aff[:3, 3] = grid.index_to_lps([59, 0, 0])
        aff[:3, 0] *= -1
        grid, liver, tum = Grid(grid.shape, aff), liver[::-1], tum[::-1]
    paths = F.write_figures(tmp_path, grid, liver, np.zeros(grid.shape, np.uint8), tum, np.zeros(grid.shape, bool))
    assert len(paths) == 2  # no segments: no bar chart
    for p in paths:
        img = read_png(p)[..., :3]
        yellow = (img[..., 0] > 0.9) & (img[..., 1] > 0.75) & (img[..., 2] < 0.3)
        rows, cols = np.nonzero(yellow)
        assert cols.size > 50
        assert cols.mean() < img.shape[1] / 2, p.name  # patient's right on the image's left
        if p.name == "coronal.png":
            liver_rows = np.nonzero(np.abs(img - 0.55).max(axis=2) < 0.05)[0]
            assert rows.mean() < liver_rows.mean()  # superior above the liver's middle


def test_anisotropic_voxels_are_drawn_in_true_proportion(tmp_path):
    """A 100 mm x 50 mm liver slab on 1 x 2.5 mm voxels must be drawn twice as wide as tall."""
    grid = Grid((160, 40, 8), np.diag([1.0, 2.5, 3.0, 1.0]))
    liver = np.zeros(grid.shape, bool)
    liver[30:130, 10:30, :] = True  # 100 mm (x) by 20 voxels * 2.5 mm = 50 mm (y)
    zeros = np.zeros(grid.shape, np.uint8)
    axial = F.write_figures(tmp_path, grid, liver, zeros, zeros, np.zeros(grid.shape, bool))[0]
    img = read_png(axial)[..., :3]
    grey = np.abs(img - 0.55).max(axis=2) < 0.03  # the liver's grey without a CT
    # rows and columns that cross the slab (anti-aliased text elsewhere may touch the grey)
    rows = np.nonzero(grey.sum(axis=1) > 100)[0]
    cols = np.nonzero(grey.sum(axis=0) > 50)[0]
    width, height = np.ptp(cols) + 1, np.ptp(rows) + 1
    assert width / height == pytest.approx(2.0, rel=0.06)


def test_mismatched_shapes_are_refused(tmp_path, ph):
    with pytest.raises(ValueError, match="resected"):
        F.write_figures(tmp_path, ph.grid, ph.liver, ph.segments, ph.tumours, np.zeros((2, 2, 2), bool))


def test_couinaud_schematic_png():
    png = F.couinaud_schematic(
        [{"id": "L1", "segments": [7], "diameter_mm": 32}, {"id": "L2", "segments": [4, 8], "diameter_mm": None}],
        resected_segments=[5, 6, 7, 8],
    )
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = read_png(png)
    assert img.shape[:2] == (550, 800)
    assert img[..., :3].std() > 0.1
    # lesion yellow is present, and resected segments are drawn in the red scheme
    yellow = (img[..., 0] > 0.9) & (img[..., 1] > 0.75) & (img[..., 2] < 0.3)
    assert yellow.sum() > 200
    assert F.couinaud_schematic([]) != png


def test_real_ct_is_shown_with_the_liver_on_the_image_left(tmp_path, totalseg_example):
    """On a real CT (RAS NIfTI from TotalSegmentator's repository) the liver, which lies on
    the patient's right, must appear on the left of the axial and coronal images. The body
    is passed as the 'liver' (so the view spans the body) and the liver as a yellow lesion."""
    import nibabel as nib

    ct = nib.load(str(totalseg_example / "example_ct.nii.gz"))
    hu = np.asanyarray(ct.dataobj)
    seg = np.asanyarray(nib.load(str(totalseg_example / "example_seg_fast_force_split.nii.gz")).dataobj)
    grid = Grid.from_ras_affine(ct.shape, ct.affine)
    body = hu > -500
    liver = (seg == 5).astype(np.uint8)
    paths = F.write_figures(tmp_path, grid, body, np.zeros(grid.shape, np.uint8), liver,
                            np.zeros(grid.shape, bool), ct=hu)
    for p in paths:
        img = read_png(p)[..., :3]
        yellow = (img[..., 0] > 0.9) & (img[..., 1] > 0.75) & (img[..., 2] < 0.3)
        cols = np.nonzero(yellow)[1]
        assert cols.size > 1000
        assert np.median(cols) < img.shape[1] / 2, p.name
