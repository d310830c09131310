"""Reading label maps in every supported format, checked against a second reader."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _h3_shapes import ellipsoid, ellipsoid_ml, make_grid, rotation, save_nifti

from livermet.imaging.io import read_label_images
from livermet.imaging.pipeline import run_volumetry

CENTRE = np.array([5.0, 12.0, -40.0])


def _phantom(grid):
    lab = np.zeros(grid.shape, np.uint8)
    lab[ellipsoid(grid, CENTRE, (30, 25, 20))] = 1
    lab[ellipsoid(grid, CENTRE + [8, 0, 0], (7, 7, 7))] = 2
    return lab


def _nrrd_header(grid, space="left-posterior-superior"):
    dirs = np.array(grid.affine[:3, :3]).T  # one row per axis
    origin = np.array(grid.affine[:3, 3])
    if space == "right-anterior-superior":
        dirs = dirs * [-1, -1, 1]
        origin = origin * [-1, -1, 1]
    return {"space": space, "space directions": dirs, "space origin": origin}


@pytest.mark.parametrize("space", ["left-posterior-superior", "right-anterior-superior"])
def test_nrrd_round_trip_matches_the_nifti_reading(tmp_path, space):
    import nrrd

    grid = make_grid((66, 72, 28), (1.2, 1.0, 1.8), rotation(0, 0, 25), centre=CENTRE)
    lab = _phantom(grid)
    nrrd.write(str(tmp_path / "lab.nrrd"), lab, _nrrd_header(grid, space))
    save_nifti(tmp_path / "lab.nii.gz", lab, grid)
    ls = tmp_path / "ls.json"
    ls.write_text(json.dumps({"1": "liver", "2": "tumour"}))
    a = run_volumetry(labels=tmp_path / "lab.nrrd", labelset=ls).to_dict()
    b = run_volumetry(labels=tmp_path / "lab.nii.gz", labelset=ls).to_dict()
    assert a["liver_ml"] == b["liver_ml"] and a["tumour_ml"] == b["tumour_ml"]
    assert a["lesions"][0]["centroid_mm"] == b["lesions"][0]["centroid_mm"]
    assert a["liver_ml"] == pytest.approx(ellipsoid_ml((30, 25, 20)), rel=0.01)


def test_slicer_seg_nrrd_segment_names_are_used(tmp_path):
    """A 3D Slicer .seg.nrrd: two layers (overlapping segments), names in SegmentN_* keys."""
    import nrrd

    grid = make_grid((40, 40, 30), (1.0, 1.0, 1.5), centre=CENTRE)
    liver = ellipsoid(grid, CENTRE, (15, 15, 15)).astype(np.uint8)
    tumour = ellipsoid(grid, CENTRE + [4, 0, 0], (5, 5, 5)).astype(np.uint8) * 3
    data = np.stack([liver, tumour])  # layers first, as Slicer writes them
    hdr = _nrrd_header(grid)
    hdr["space directions"] = np.vstack([[np.nan] * 3, hdr["space directions"]])
    hdr["kinds"] = ["list", "domain", "domain", "domain"]
    hdr.update(
        {
            "Segment0_Name": "Liver", "Segment0_LabelValue": "1", "Segment0_Layer": "0",
            "Segment1_Name": "Tumor 1", "Segment1_LabelValue": "3", "Segment1_Layer": "1",
        }
    )
    path = tmp_path / "case.seg.nrrd"
    nrrd.write(str(path), data, hdr)
    d = run_volumetry(labels=path).to_dict()  # no --labelset: the names say what is what
    vv = 1.5 / 1000
    assert d["liver_ml"] == pytest.approx(int((liver | (tumour > 0)).sum()) * vv, abs=0.006)
    assert d["tumour_ml"] == pytest.approx(int((tumour > 0).sum()) * vv, abs=0.006)


def _write_dicom_series(folder, arr, grid):
    """Store a 3-D array as a DICOM image series, one file per slice (SimpleITK)."""
    import locale

    # SimpleITK's GDCM writer leaves the process in the "C" locale; restore it, or every later
    # test in this worker decodes subprocess output as ASCII.
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        _write_dicom_series_sitk(folder, arr, grid)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def _write_dicom_series_sitk(folder, arr, grid):
    import SimpleITK as sitk

    folder.mkdir()
    img = sitk.GetImageFromArray(np.ascontiguousarray(arr.transpose(2, 1, 0)).astype(np.int16))
    img.SetSpacing(grid.spacing)
    img.SetOrigin(tuple(grid.affine[:3, 3]))
    img.SetDirection(tuple(grid.direction.ravel()))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series_uid = "1.2.826.0.1.3680043.2.1125.1.42"
    d = grid.direction
    for k in range(arr.shape[2]):
        sl = img[:, :, k]
        pos = grid.index_to_lps([0, 0, k])
        for tag, value in {
            "0008|0060": "CT",
            "0020|000d": "1.2.826.0.1.3680043.2.1125.1.41",
            "0020|000e": series_uid,
            "0020|0013": str(k + 1),
            "0020|0032": "\\".join(f"{v:.6f}" for v in pos),
            "0020|0037": "\\".join(f"{v:.6f}" for v in (*d[:, 0], *d[:, 1])),
            "0008|0018": f"{series_uid}.{k + 1}",
        }.items():
            sl.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"s{k:03d}.dcm"))
        writer.Execute(sl)


def test_dicom_series_mask_round_trip(tmp_path):
    grid = make_grid((40, 36, 24), (0.9, 0.9, 2.0), centre=CENTRE)
    lab = _phantom(grid)
    liver = (lab > 0).astype(np.uint8)
    _write_dicom_series(tmp_path / "liver_series", liver, grid)
    [img] = read_label_images(tmp_path / "liver_series")
    assert img.grid.same_space(grid, tol_mm=1e-3)
    assert np.array_equal(img.array, liver)
    d = run_volumetry(masks=[("liver", tmp_path / "liver_series")]).to_dict()
    assert d["liver_ml"] == pytest.approx(int(liver.sum()) * grid.voxel_volume_ml, abs=0.006)


def test_dicom_seg_liver_volume_matches_pydicom_pixel_count():
    """pydicom-data's liver.dcm (DICOM SEG): highdicom reading vs counting the frames' pixels."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    path = get_testdata_file("liver.dcm")
    if path is None:
        pytest.skip("pydicom-data not installed")
    ds = pydicom.dcmread(path)
    pm = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    independent_ml = (
        np.count_nonzero(ds.pixel_array) * float(pm.PixelSpacing[0]) * float(pm.PixelSpacing[1])
        * float(pm.SliceThickness) / 1000.0
    )
    r = run_volumetry(labels=path)  # segment label "Liver" -> liver
    assert r.liver_ml == pytest.approx(independent_ml, rel=1e-9)
    assert r.to_dict()["liver_ml"] == pytest.approx(independent_ml, abs=0.005)
    assert run_volumetry(masks=[("liver", path)]).liver_ml == pytest.approx(independent_ml, rel=1e-9)


def test_real_totalsegmentator_labels(totalseg_example):
    """TotalSegmentator `total` map on a real CT: liver = 41,692 voxels = 1125.7 mL (data README)."""
    seg = totalseg_example / "example_seg_fast_force_split.nii.gz"
    d = run_volumetry(labels=seg, labelset="totalsegmentator").to_dict()
    assert d["liver_ml"] == pytest.approx(1125.7, abs=0.05)
    assert round(d["liver_ml"] / d["grid"]["voxel_volume_ml"]) == 41692
    # The embedded label table alone gives the same answer (no --labelset).
    assert run_volumetry(labels=seg).to_dict()["liver_ml"] == d["liver_ml"]
    # TotalSegmentator's own statistics come from another run of the fast model (its liver is
    # 1062.45 mL = 39,350 voxels, not this map's 41,692): the two agree within 6%.
    stats = json.loads((totalseg_example / "example_seg_fast_statistics.json").read_text())
    assert d["liver_ml"] == pytest.approx(stats["liver"]["volume"] / 1000.0, rel=0.06)
    # The cropped CT's map (example_seg.nii.gz): 38,634 voxels = 1043.1 mL (README), within
    # 2% of TotalSegmentator's statistics.
    d2 = run_volumetry(labels=totalseg_example / "example_seg.nii.gz", labelset="totalsegmentator").to_dict()
    assert d2["liver_ml"] == pytest.approx(1043.1, abs=0.05)
    assert d2["liver_ml"] == pytest.approx(stats["liver"]["volume"] / 1000.0, rel=0.02)


def test_real_ct_as_reference_grid(totalseg_example):
    ct = totalseg_example / "example_ct.nii.gz"
    seg = totalseg_example / "example_seg_fast_force_split.nii.gz"
    d = run_volumetry(ct=ct, labels=seg, labelset="totalsegmentator").to_dict()
    assert d["liver_ml"] == pytest.approx(1125.7, abs=0.05)
    # the data's README: "the liver is cut off by the field of view (it touches the top slice)";
    # the total task has no tumour class. Both are said, nothing else.
    assert len(d["warnings"]) == 2
    assert d["warnings"][0].startswith("the liver reaches the superior edge of the image")
    assert "not segmented" in d["warnings"][1] and d["tumour_segmented"] is False


def test_totalsegmentator_output_folder_is_read_as_is(tmp_path):
    grid = make_grid((40, 40, 30), (1.0, 1.0, 2.0), centre=CENTRE)
    liver = ellipsoid(grid, CENTRE, (15, 15, 20)).astype(np.uint8)
    tum = ellipsoid(grid, CENTRE + [3, 0, 0], (4, 4, 6)).astype(np.uint8)
    folder = tmp_path / "ts"
    folder.mkdir()
    save_nifti(folder / "liver.nii.gz", liver, grid)
    save_nifti(folder / "liver_tumor.nii.gz", tum, grid)
    save_nifti(folder / "spleen.nii.gz", np.zeros(grid.shape, np.uint8), grid)
    d = run_volumetry(labels=folder).to_dict()
    vv = grid.voxel_volume_ml
    assert d["liver_ml"] == pytest.approx(int((liver | tum).sum()) * vv, abs=0.006)
    assert d["tumour_ml"] == pytest.approx(int(tum.sum()) * vv, abs=0.006)


@pytest.mark.parametrize("form", ["sform", "qform", "qform_flipped", "uncompressed", "scaled"])
def test_fast_nifti_reader_agrees_with_nibabel(tmp_path, form):
    """livermet reads plain NIfTI-1 itself (one-shot inflate); nibabel is the reference."""
    import nibabel as nib

    rng = np.random.default_rng(3)
    arr = rng.integers(0, 6, size=(7, 5, 4)).astype(np.int16)
    aff = np.eye(4)
    aff[:3, :3] = rotation(10, -20, 30) * [0.8, 1.1, 2.5]
    aff[:3, 3] = [-50.0, 20.0, 7.5]
    if form == "qform_flipped":
        aff[:3, 2] *= -1  # left-handed: qfac = -1
    img = nib.Nifti1Image(arr, None)
    if form == "sform":
        img.set_sform(aff, code=2)
        img.set_qform(np.eye(4), code=0)
    else:
        img.set_qform(aff, code=1)
        img.set_sform(None, code=0)
    if form == "scaled":
        img.header.set_slope_inter(2.0, 0.0)  # scaled data: nibabel's path
    path = tmp_path / ("x.nii" if form == "uncompressed" else "x.nii.gz")
    nib.save(img, str(path))
    [got] = read_label_images(path)
    ref = nib.load(str(path))
    assert np.array_equal(np.asarray(got.array), np.asanyarray(ref.dataobj))
    assert np.allclose(got.grid.affine_ras, ref.affine, atol=1e-5)


def test_label_set_disagreeing_with_the_file_is_reported(totalseg_example, tmp_path):
    """A TotalSegmentator v1-style mapping (9 = portal vein) on a v2 map (9 = adrenal gland)."""
    ls = tmp_path / "v1.json"
    ls.write_text(json.dumps({"5": "liver", "9": "portal_vein"}))
    res = run_volumetry(labels=totalseg_example / "example_seg.nii.gz", labelset=ls)
    assert any("value 9 is 'adrenal_gland_left'" in w for w in res.warnings)
    assert res.to_dict()["liver_ml"] == pytest.approx(1043.1, abs=0.05)
