"""The whole pipeline on the synthetic CT phantom (livermet.imaging.phantom): lesion truth,
segments from landmarks and portal branches, and the exported label maps read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from livermet.imaging.io import read_label_images
from livermet.imaging.pipeline import run_volumetry


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from livermet.imaging.phantom import write_phantom

    out = tmp_path_factory.mktemp("phantom")
    files = write_phantom(out)
    truth = json.loads(files["truth"].read_text())
    return files, truth


def _tumour_masks(files, truth):
    return [("tumour", files[f"tumour_{t['id']}"]) for t in truth["tumours"]]


def test_lesions_match_the_phantom_truth(phantom):
    files, truth = phantom
    d = run_volumetry(ct=files["ct"], labels=files["labels"], labelset="liver_segments",
                      masks=_tumour_masks(files, truth)).to_dict()
    assert d["liver_ml"] == pytest.approx(truth["liver_ml"], rel=0.01)
    assert d["tumour_ml"] == pytest.approx(truth["tumour_ml"], rel=0.02)
    spacing = min(d["grid"]["spacing_mm"])
    assert len(d["lesions"]) == len(truth["tumours"])
    for t in truth["tumours"]:
        les = min(d["lesions"], key=lambda x: np.linalg.norm(np.subtract(x["centroid_mm"], t["centre_mm"])))
        assert les["centroid_mm"] == pytest.approx(t["centre_mm"], abs=spacing / 2)
        assert les["longest_axial_diameter_mm"] == pytest.approx(t["diameter_mm"], abs=spacing)
        assert les["volume_ml"] == pytest.approx(t["volume_ml"], rel=0.03)
        assert t["segment"] in les["segments"]


@pytest.mark.parametrize("source, method", [("landmarks", "landmarks"), ("portal_branches", "portal_territories")])
def test_segments_without_labels(phantom, source, method):
    """Liver mask only: segments come from the landmarks or the portal branches."""
    import nibabel as nib

    files, truth = phantom
    kw = {"landmarks": files["landmarks"]} if source == "landmarks" else {"portal_branches": files["portal_branches"]}
    seg_img = nib.load(str(files["labels"]))
    liver = (np.asanyarray(seg_img.dataobj) > 0).astype(np.uint8)
    liver_path = files["labels"].parent / "liver_mask.nii.gz"
    nib.save(nib.Nifti1Image(liver, seg_img.affine), str(liver_path))
    d = run_volumetry(masks=[("liver", liver_path)], resection="right_hepatectomy", **kw).to_dict()
    assert d["segments_method"] == method
    assert sum(d["segments_ml"].values()) == pytest.approx(d["liver_ml"], rel=1e-6)
    ref = run_volumetry(labels=files["labels"], labelset="liver_segments").to_dict()
    right = sum(d["segments_ml"][k] for k in "5678")
    ref_right = sum(ref["segments_ml"][k] for k in "5678")
    assert right == pytest.approx(ref_right, rel=0.10)  # an approximation of the true split
    assert d["resection"]["resected_ml"] == pytest.approx(right, rel=1e-3)


def test_export_round_trip_nifti_and_dicom_seg(phantom, tmp_path):
    files, truth = phantom
    res = run_volumetry(labels=files["labels"], labelset="liver_segments", masks=_tumour_masks(files, truth),
                        resection="right_hepatectomy", export_dir=tmp_path / "export")
    d = res.to_dict()
    names = {p.rsplit("/", 1)[-1] for p in d["files"]}
    assert {"segments.nii.gz", "segments.seg.dcm", "resection.nii.gz", "resection.seg.dcm"} <= names
    vv = d["grid"]["voxel_volume_ml"]
    for fname in ("segments.nii.gz", "segments.seg.dcm"):
        imgs = read_label_images(tmp_path / "export" / fname)
        counts: dict[int, int] = {}
        for img in imgs:
            vals, cnt = np.unique(np.asarray(img.array), return_counts=True)
            for v, c in zip(vals, cnt):
                if v:
                    name = img.names.get(int(v), str(v)) if img.names else str(v)
                    counts[name] = counts.get(name, 0) + int(c)  # type: ignore[index]
        seg4 = next(v for k, v in counts.items() if str(k) in ("4", "Couinaud segment 4"))
        tum = next(v for k, v in counts.items() if str(k) in ("9", "Tumour"))
        # segment 4 holds no tumour: its exported voxels are its functional volume
        assert seg4 * vv == pytest.approx(d["segments_functional_ml"]["4"], abs=0.01), fname
        assert tum * vv == pytest.approx(d["tumour_ml"], abs=0.01), fname
    back = run_volumetry(labels=tmp_path / "export" / "resection.seg.dcm").to_dict()
    assert back["liver_ml"] == pytest.approx(d["liver_ml"], abs=0.01)


def test_dicom_ct_series_as_reference_and_seg_referencing_it(phantom, tmp_path):
    """NIfTI labels on a DICOM CT series (the usual TotalSegmentator-on-PACS case): the grids
    agree without resampling, and the exported SEG references the CT series."""
    import nibabel as nib
    import pydicom

    from livermet.imaging.export import write_ct_dicom_series
    from livermet.imaging.grid import Grid

    files, truth = phantom
    img = nib.load(str(files["ct"]))
    grid = Grid.from_ras_affine(img.shape, img.affine)
    ct_dir = tmp_path / "ct"
    written = write_ct_dicom_series(ct_dir, np.asanyarray(img.dataobj).astype(np.int16), grid)
    d = run_volumetry(ct=ct_dir, labels=files["labels"], labelset="liver_segments",
                      resection="left_hepatectomy", export_dir=tmp_path / "out").to_dict()
    assert not any("resampled" in w for w in d["warnings"])
    assert d["liver_ml"] == pytest.approx(truth["liver_ml"], rel=0.01)
    seg = pydicom.dcmread(str(tmp_path / "out" / "segments.seg.dcm"))
    ct_series = pydicom.dcmread(str(written[0]), stop_before_pixels=True).SeriesInstanceUID
    refs = {r.SeriesInstanceUID for r in seg.ReferencedSeriesSequence}
    assert ct_series in refs
