"""The scipy-free volumetry path against scipy.ndimage on the same data (a second library).

``livermet volumetry`` labels lesions with cc3d (connected-components-3d) and computes the
nearest-segment fill and the lesion margins with exact numpy transforms, so that the common
path does not pay scipy's import. Here every one of those pieces is compared with
scipy.ndimage (label / find_objects / binary_dilation / distance_transform_edt) on random
masks and on the phantom, and whole ``run_volumetry`` results are compared between the two.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from livermet.imaging import lesions as L
from livermet.imaging import volumetry as V
from livermet.imaging.export import write_label_nifti
from livermet.imaging.phantom import make_phantom, write_phantom
from livermet.imaging.pipeline import run_volumetry

cc3d = pytest.importorskip("cc3d")
CUBE = np.ones((3, 3, 3), dtype=bool)  # 26-connectivity for scipy
# A third tumour astride several segments (the liver's centre), so that the nearest-segment
# fill has real choices to make.
TUMOURS = (
    {"id": "L1", "segment": 7, "centre_mm": (-93.0, 8.0, 16.0), "radius_mm": 16.0},
    {"id": "L2", "segment": 6, "centre_mm": (-90.0, 5.0, -27.5), "radius_mm": 9.0},
    {"id": "L3", "segment": 8, "centre_mm": (-35.0, -5.0, 5.0), "radius_mm": 14.0},
)


def random_masks():
    rng = np.random.default_rng(42)
    for density in (0.05, 0.2, 0.35):
        yield rng.random((31, 24, 17)) < density
    blobs = np.zeros((40, 40, 30), dtype=bool)
    g = np.indices(blobs.shape)
    for _ in range(12):
        c, r = rng.uniform(0, 40, 3), rng.uniform(1, 6)
        blobs |= ((g[0] - c[0]) ** 2 + (g[1] - c[1]) ** 2 + (g[2] - c[2] * 0.75) ** 2) < r * r
    yield blobs


@pytest.fixture(scope="module")
def phantom():
    return make_phantom(tumours=TUMOURS)


def assert_same_components(ours: np.ndarray, n: int, theirs: np.ndarray, m: int) -> None:
    """Same partition into components (numbering may differ), same sizes and boxes."""
    assert n == m
    fg = theirs > 0
    assert np.array_equal(ours > 0, fg)
    pairs = np.unique(np.stack([ours[fg], theirs[fg]]), axis=1)
    assert pairs.shape[1] == n  # one-to-one
    assert len(np.unique(pairs[0])) == n and len(np.unique(pairs[1])) == n
    our_boxes = L.lesion_boxes(ours, n)
    their_boxes = ndimage.find_objects(theirs, max_label=m)
    our_counts = np.bincount(ours.ravel(), minlength=n + 1)
    their_counts = np.bincount(theirs.ravel(), minlength=m + 1)
    for a, b in pairs.T:
        assert our_boxes[a - 1] == their_boxes[b - 1]
        assert our_counts[a] == their_counts[b]


@pytest.mark.parametrize("case", range(4))
def test_cc3d_components_equal_scipy_label_26(case):
    mask = list(random_masks())[case]
    ref, m = ndimage.label(mask, structure=CUBE)
    lab, n = L.label_components(mask)
    assert_same_components(lab, n, ref, m)
    # the box-by-box labelling of the lesion pipeline, and the boxes it returns
    lab2, n2, _, boxes = L.label_lesions_with_boxes(mask)
    assert_same_components(lab2, n2, ref, m)
    assert boxes == L.lesion_boxes(lab2, n2)


def test_corner_contact_is_one_lesion_in_both_libraries():
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[1, 1, 1] = mask[2, 2, 2] = True  # touching by a corner only
    mask[0, 3, 3] = True
    assert L.label_components(mask)[1] == ndimage.label(mask, structure=CUBE)[1] == 2


def test_phantom_tumours_equal_scipy(phantom):
    tumour = phantom.tumours > 0
    ref, m = ndimage.label(tumour, structure=CUBE)
    lab, n, _, boxes = L.label_lesions_with_boxes(tumour)
    assert n == len(TUMOURS)
    assert_same_components(lab, n, ref, m)
    assert boxes == [tuple(b) for b in ndimage.find_objects(lab)]
    grid = phantom.grid
    ours = L.measure_lesions(lab, n, grid, phantom.segments)
    theirs = L.measure_lesions(ref.astype(np.int32), m, grid, phantom.segments)
    assert [x.to_dict() for x in ours] == [x.to_dict() for x in theirs]


def test_lesion_boxes_with_missing_labels_match_find_objects():
    lab = np.zeros((10, 12, 8), dtype=np.int32)
    lab[1:3, 2:5, 0:2] = 1
    lab[6:9, 0:1, 3:8] = 3  # label 2 absent (a mask fully covered by a later one)
    assert L.lesion_boxes(lab, 4) == ndimage.find_objects(lab, max_label=4)


def test_scipy_fallback_gives_the_same_lesions(monkeypatch):
    # All the random masks, not only the smooth blobs: in the sparse ones 6- and 26-connectivity
    # differ, so a fallback that lost the 3x3x3 structure would fail here.
    corner = np.zeros((4, 4, 4), dtype=bool)
    corner[1, 1, 1] = corner[2, 2, 2] = True  # one lesion touching by a corner (26-connected)
    masks = [*random_masks(), corner]
    with_cc3d = [L.label_lesions_with_boxes(m) for m in masks]
    monkeypatch.setattr(L, "_cc3d", lambda: None)
    for mask, (lab, n, _, boxes) in zip(masks, with_cc3d):
        lab2, n2, _, boxes2 = L.label_lesions_with_boxes(mask)
        assert_same_components(lab, n, lab2, n2)
        assert sorted(boxes) == sorted(boxes2)
    assert L.label_components(corner)[1] == 1


def test_dilate_cube_equals_binary_dilation():
    for mask in random_masks():
        assert np.array_equal(L.dilate_cube(mask), ndimage.binary_dilation(mask, structure=CUBE))


@pytest.mark.parametrize("seed", range(6))
def test_nearest_feature_equals_scipy_feature_transform(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        shape = tuple(int(v) for v in rng.integers(1, 24, 3))
        spacing = tuple(rng.uniform(0.4, 3.0, 3)) if seed % 2 else (1.0, 1.0, 1.0)
        feat = rng.random(shape) < rng.uniform(0.005, 0.9)
        feat.flat[rng.integers(feat.size)] = True
        query = rng.random(shape) < 0.5
        dist, idx = ndimage.distance_transform_edt(~feat, sampling=spacing, return_indices=True)
        d2, nearest = V.nearest_feature(feat, spacing, query)
        assert np.allclose(np.sqrt(d2), dist[query], rtol=0, atol=1e-9)
        assert feat[nearest].all()
        for ax in range(3):  # the same voxel, ties included
            assert np.array_equal(nearest[ax], idx[ax][query])


@pytest.mark.parametrize("seed", range(6))
def test_min_distance_equals_scipy_edt_minimum(seed):
    rng = np.random.default_rng(100 + seed)
    for trial in range(30):
        shape = tuple(int(v) for v in rng.integers(2, 28, 3))
        spacing = tuple(rng.uniform(0.4, 3.0, 3))
        g = np.indices(shape)
        c, r = [rng.uniform(0, s) for s in shape], rng.uniform(1, 8)
        a = sum((g[k] - c[k]) ** 2 for k in range(3)) < r * r
        b = (rng.random(shape) < rng.uniform(0.001, 0.3)) if trial % 2 else (g[0] > rng.uniform(0, shape[0]))
        b &= ~a
        if not a.any() or not b.any():
            assert L.min_distance_mm(a, b, spacing) == np.inf
            continue
        ref = float(ndimage.distance_transform_edt(~b, sampling=spacing)[a].min())
        assert L.min_distance_mm(a, b, spacing) == ref  # the same floating-point operations
        limit = float(rng.uniform(0, 10))
        got = L.min_distance_mm(a, b, spacing, limit=limit)
        assert got == ref if ref <= limit else got > limit


def test_min_distance_of_overlapping_sets_is_zero():
    a = np.zeros((9, 9, 9), dtype=bool)
    a[1:8, 1:8, 1:8] = True
    b = np.zeros_like(a)
    b[3:6, 3:6, 3:9] = True  # its inner voxels are inner voxels of a too
    assert L.min_distance_mm(a, b, (0.8, 0.8, 2.0)) == 0.0 == ndimage.distance_transform_edt(~b)[a].min()


def _scipy_min_distance(a, b, spacing, limit=np.inf):
    return float(ndimage.distance_transform_edt(~b, sampling=spacing)[a].min())


def _both_ways(monkeypatch, **kwargs) -> tuple[dict, dict]:
    """run_volumetry as shipped, and with scipy.ndimage in every place the fast path avoids."""
    ours = run_volumetry(**kwargs).to_dict()
    with monkeypatch.context() as mp:
        mp.setattr(L, "_cc3d", lambda: None)
        mp.setattr(L, "min_distance_mm", _scipy_min_distance)
        mp.setattr(V, "_NUMPY_MAX_WORK", -1)  # nearest-segment fill by scipy's feature transform
        theirs = run_volumetry(**kwargs).to_dict()
    return ours, theirs


@pytest.fixture(scope="module")
def phantom_files(phantom, tmp_path_factory):
    out = tmp_path_factory.mktemp("peer-phantom")
    files = write_phantom(out, phantom)
    # one label map where the tumours replace the segments (as in the benchmark): the
    # tumour voxels then take the nearest segment
    combined = phantom.segments.copy()
    combined[phantom.tumours > 0] = 9
    write_label_nifti(out / "combined.nii.gz", combined, phantom.grid)
    mapping = {str(n): f"segment_{n}" for n in range(1, 9)} | {"9": "tumour"}
    (out / "combined.json").write_text(json.dumps(mapping))
    return out, files


@pytest.mark.parametrize("resection", ["right_hepatectomy", "left_lateral_sectionectomy+lesions"])
def test_run_volumetry_unchanged_with_segment_labels_and_tumour_masks(monkeypatch, phantom_files, resection):
    out, files = phantom_files
    masks = [("tumour", str(files[f"tumour_{t['id']}"])) for t in TUMOURS]
    kwargs = dict(labels=str(files["labels"]), labelset="liver_segments", masks=masks, resection=resection,
                  resect_lesions=["L3"] if "lesions" in resection else None, height_cm=175, weight_kg=75)
    ours, theirs = _both_ways(monkeypatch, **kwargs)
    assert ours == theirs
    assert len(ours["lesions"]) == 3 and ours["resection"]["lesions_removed"]


@pytest.mark.parametrize("resection", ["right_hepatectomy", "central_hepatectomy"])
def test_run_volumetry_unchanged_when_tumours_replace_segments(monkeypatch, phantom_files, resection):
    out, _ = phantom_files
    kwargs = dict(labels=str(out / "combined.nii.gz"), labelset=str(out / "combined.json"), resection=resection,
                  height_cm=175, weight_kg=75)
    ours, theirs = _both_ways(monkeypatch, **kwargs)
    assert ours == theirs
    # the fill was exercised: the segments sum to the whole liver, tumours included
    assert sum(ours["segments_ml"].values()) == pytest.approx(ours["liver_ml"], abs=0.05)
    margins = [d["margin_mm"] for d in ours["resection"]["lesions_removed"] if d["removed"]]
    assert margins and all(m is not None for m in margins)


def test_common_path_does_not_import_scipy(phantom_files):
    out, _ = phantom_files
    code = (
        "import sys; from livermet.imaging.pipeline import run_volumetry; "
        "r = run_volumetry(labels=sys.argv[1], labelset=sys.argv[2], resection='right_hepatectomy', "
        "height_cm=175, weight_kg=75); assert r.lesions and r.resection; "
        "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(out / "combined.nii.gz"), str(out / "combined.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def _nearest_label_distances(given_segments: np.ndarray, spacing) -> dict[int, np.ndarray]:
    """scipy: distance (mm) from every voxel to the nearest voxel of each segment."""
    return {
        s: ndimage.distance_transform_edt(given_segments != s, sampling=spacing)
        for s in np.unique(given_segments) if s != 0
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fill_is_exact_when_lesion_boxes_cut_the_nearest_label_off(seed):
    """Tumours at the liver's surface and next to each other: from inside a lesion's padded
    box the nearest segment can lie outside it. Every filled voxel must still get a segment
    at the least distance over the whole crop (scipy on the map as given), and no voxel
    filled for one tumour may serve as a label for another."""
    rng = np.random.default_rng(seed)
    shape, spacing = (48, 44, 30), (0.8, 0.9, 1.7)
    g = np.indices(shape).transpose(1, 2, 3, 0) * np.array(spacing)
    centre = np.array(shape) * spacing / 2
    liver = (((g - centre) / (np.array(shape) * spacing * [0.45, 0.4, 0.45])) ** 2).sum(-1) <= 1
    # segments: an irregular partition by random planes, inside the liver only
    seg = np.ones(shape, np.uint8)
    for s in range(2, 6):
        n = rng.normal(size=3)
        seg[((g - centre - rng.normal(scale=5, size=3)) @ n) > 0] = s
    seg[~liver] = 0
    given = seg.copy()
    # tumours: several spheres, some astride the surface, some almost touching each other
    tumour = np.zeros(shape, bool)
    for _ in range(6):
        c = centre + rng.uniform(-1, 1, 3) * np.array(shape) * spacing * 0.4
        tumour |= (((g - c) ** 2).sum(-1) <= rng.uniform(3, 9) ** 2)
    tumour &= liver
    seg[tumour] = 0
    labels, n = ndimage.label(tumour, structure=CUBE)
    boxes = ndimage.find_objects(labels)
    class _G:  # the fill reads only the spacing of the grid
        pass
    grid = _G()
    grid.spacing = spacing
    filled = V.fill_unassigned_segments(seg, liver, grid, boxes)
    assert filled == int(np.count_nonzero(tumour)) > 0
    dist = _nearest_label_distances(np.where(tumour, 0, given), spacing)
    best = np.min(np.stack(list(dist.values())), axis=0)
    for s, d in dist.items():
        here = tumour & (seg == s)
        np.testing.assert_allclose(d[here], best[here], rtol=0, atol=1e-9)


def test_fill_looks_past_the_lesion_box_for_a_nearer_segment():
    """A tumour slab beside a 3-voxel gap in the liver (a fissure): across the gap, segment 1
    is 4 voxels from the tumour's near face, outside the lesion's padded box; segment 2, inside
    the box, is 6 voxels away. The near face must take segment 1."""
    shape = (30, 12, 12)
    liver = np.ones(shape, bool)
    liver[7:10] = False  # the fissure
    seg = np.zeros(shape, np.uint8)
    seg[:7] = 1
    seg[10:] = 2
    seg[10:16] = 0  # the tumour slab x = 10..15, across the whole liver in y and z
    tumour = seg == 0
    tumour &= liver

    class _G:
        spacing = (1.0, 1.0, 1.0)

    box = (slice(10, 16), slice(0, 12), slice(0, 12))
    V.fill_unassigned_segments(seg, liver, _G(), [box])
    assert (seg[10] == 1).all()  # 4 voxels to segment 1 (across the fissure), 6 to segment 2
    assert np.isin(seg[11], [1, 2]).all()  # 5 and 5: either is right
    assert (seg[12:16] == 2).all()  # 6 vs 4 and nearer still
