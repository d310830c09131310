"""The synthetic phantom: analytic volumes, anatomy, files and the demo run."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from livermet.imaging import phantom as P
from livermet.imaging.grid import Grid


@pytest.fixture(scope="module")
def ph() -> P.Phantom:
    return P.make_phantom()


def test_liver_voxel_volume_matches_the_ellipsoid_within_1_percent(ph):
    a, b, c = P.LIVER_SEMI_AXES
    analytic = 4 / 3 * np.pi * a * b * c / 1000
    assert ph.liver_volume_ml == pytest.approx(analytic)
    measured = ph.liver.sum() * ph.grid.voxel_volume_ml
    assert measured == pytest.approx(analytic, rel=0.01)


def test_tumour_voxel_volumes_match_the_spheres_within_1_percent(ph):
    for n, t in enumerate(ph.tumour_info, start=1):
        analytic = 4 / 3 * np.pi * t["radius_mm"] ** 3 / 1000
        measured = (ph.tumours == n).sum() * ph.grid.voxel_volume_ml
        assert measured == pytest.approx(analytic, rel=0.01), t["id"]
    assert ph.functional_liver_ml == pytest.approx(ph.liver_volume_ml - ph.tumour_volume_ml)


@pytest.mark.parametrize("spacing", [(1.6, 1.6, 2.0), (2.5, 2.0, 3.0)])
def test_liver_volume_holds_on_other_grids(spacing):
    shape = tuple(int(np.ceil(fov / s)) for fov, s in zip((352, 256, 200), spacing))
    ph = P.make_phantom(shape=shape, spacing_mm=spacing)
    assert ph.liver.sum() * ph.grid.voxel_volume_ml == pytest.approx(ph.liver_volume_ml, rel=0.01)


def test_each_tumour_lies_inside_the_liver_and_in_its_stated_segment(ph):
    for n, t in enumerate(ph.tumour_info, start=1):
        voxels = ph.tumours == n
        assert ph.liver[voxels].all()
        assert set(np.unique(ph.segments[voxels])) == {t["segment"]}


def test_segments_partition_the_liver_with_a_plausible_layout(ph):
    assert ((ph.segments > 0) == ph.liver).all()
    frac = {s: (ph.segments == s).sum() / ph.liver.sum() for s in range(1, 9)}
    assert all(f > 0.01 for f in frac.values())
    right = sum(frac[s] for s in (5, 6, 7, 8))
    assert 0.55 < right < 0.7  # right liver is about 60-65% of the liver in adults
    # LPS: the right liver (5-8) lies at smaller x (patient's right) than the left lateral section
    x = ph.grid.index_to_lps(np.argwhere(ph.segments == 7).astype(float))[:, 0].mean()
    x2 = ph.grid.index_to_lps(np.argwhere(ph.segments == 2).astype(float))[:, 0].mean()
    assert x < x2
    # superior segments (7, 8) lie above inferior ones (6, 5); anterior ones (5, 8) in front
    # of posterior ones (6, 7): LPS y grows to the back
    centre = {s: ph.grid.index_to_lps(np.argwhere(ph.segments == s).astype(float)).mean(axis=0) for s in (5, 6, 7, 8)}
    assert centre[7][2] > centre[6][2] and centre[8][2] > centre[5][2]
    assert centre[8][1] < centre[7][1] and centre[5][1] < centre[6][1]
    # the IVC lies behind the liver
    ivc_y = ph.grid.index_to_lps(np.argwhere(ph.ivc).astype(float))[:, 1].mean()
    assert ivc_y > ph.grid.index_to_lps(np.argwhere(ph.liver).astype(float))[:, 1].mean()


def test_portal_branches_lie_in_their_own_segment(ph):
    for s in range(1, 9):
        voxels = ph.portal_branches == s
        assert voxels.sum() > 20
        assert (ph.segments[voxels] == s).all()


def test_ct_values_are_those_of_the_tissues(ph):
    liver_only = ph.liver & (ph.tumours == 0) & ~ph.hepatic_veins & ~ph.portal_vein
    assert np.median(ph.ct[liver_only]) == pytest.approx(P.HU_LIVER, abs=2)
    assert np.median(ph.ct[ph.tumours > 0]) == pytest.approx(P.HU_TUMOUR, abs=2)
    assert np.median(ph.ct[ph.ivc]) == pytest.approx(P.HU_VESSEL, abs=2)
    assert ph.ct.dtype == np.int16
    assert not (ph.ivc & ph.liver).any()


def test_too_small_field_of_view_is_refused():
    with pytest.raises(ValueError, match="does not contain the liver"):
        P.make_phantom(shape=(64, 64, 32), spacing_mm=(2, 2, 2))


def test_write_phantom_files_overlay_the_phantom_grid_and_the_case_validates(tmp_path, ph):
    from livermet.case.model import Case

    files = P.write_phantom(tmp_path, ph)
    for key in ("ct", "labels", "landmarks", "portal_branches", "case", "tumour_L1", "tumour_L2"):
        assert files[key].is_file(), key
    img = nib.load(str(files["ct"]))
    grid = Grid.from_ras_affine(img.shape, img.affine)
    assert grid.same_space(ph.grid)
    assert np.array_equal(np.asanyarray(img.dataobj), ph.ct)
    seg = np.asanyarray(nib.load(str(files["labels"])).dataobj)
    assert np.array_equal(seg, ph.segments)
    case = Case.model_validate(json.loads(files["case"].read_text()))
    assert case.imaging is not None and case.imaging.labelset == "liver_segments"
    assert (tmp_path / case.imaging.ct).is_file()
    assert [les.id for les in case.metastases.lesions] == ["L1", "L2"]
    assert json.loads(files["landmarks"].read_text())["coordinate_system"] == "LPS"


def test_run_demo_measures_the_analytic_volumes(tmp_path):
    import livermet.imaging.pipeline  # noqa: F401  (part of livermet: never skipped)
    result = P.run_demo(tmp_path)
    vol = result["volumetry"]
    assert vol["liver_ml"] == pytest.approx(result["truth"]["liver_ml"], rel=0.01)
    assert vol["tumour_ml"] == pytest.approx(result["truth"]["tumour_ml"], rel=0.01)
    assert {les["id"]: les["segments"] for les in vol["lesions"]} == {"L1": [7], "L2": [6]}
    res = vol["resection"]
    assert res["name"] == "right_hepatectomy"
    # the remnant is segments 1-4 of the phantom
    ph = P.make_phantom()
    remnant = np.isin(ph.segments, [1, 2, 3, 4]).sum() * ph.grid.voxel_volume_ml
    assert res["remnant_ml"] == pytest.approx(remnant, rel=0.005)
    assert all(les["removed"] for les in res["lesions_removed"])
    for name in ("axial.png", "coronal.png", "segment_volumes.png"):
        assert (tmp_path / "figures" / name).is_file()
    assert "right_hepatectomy" in result["summary"]
