"""A label map cropped from its CT must not be placed on the CT where its affine says when
that puts the liver in air.

TotalSegmentator's sample `example_seg.nii.gz` was made on the top 30 slices of
`example_ct.nii.gz` without shifting the affine: resampled onto the full CT, the "liver" lands
in the pelvis, part of it in bowel gas. Before, volumetry resampled it with a warning and
reported the volume as if all were well.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.pipeline import run_volumetry

SPACING = 4.0


def _save(path, arr, z0_voxels=0):
    aff = np.diag([SPACING, SPACING, SPACING, 1.0])
    aff[2, 3] = z0_voxels * SPACING
    nib.save(nib.Nifti1Image(arr, aff), str(path))
    return path


@pytest.fixture
def ct_and_crop(tmp_path):
    # CT: air (-1000 HU) below slice 20, soft tissue (40 HU) from slice 20 up.
    ct = np.full((40, 40, 40), -1000, np.int16)
    ct[:, :, 20:] = 40
    # Label map of the upper 20 slices only; liver = 5 (TotalSegmentator total task).
    lab = np.zeros((40, 40, 20), np.uint8)
    lab[10:30, 10:30, 2:18] = 5
    return _save(tmp_path / "ct.nii.gz", ct), lab, tmp_path


def test_crop_with_its_affine_shifted_is_resampled_and_measured(ct_and_crop):
    ct, lab, tmp = ct_and_crop
    labels = _save(tmp / "crop_ok.nii.gz", lab, z0_voxels=20)
    r = run_volumetry(ct=ct, labels=labels, labelset="totalsegmentator")
    assert r.liver_ml == pytest.approx(20 * 20 * 16 * SPACING**3 / 1000)
    assert any("resampled" in w for w in r.warnings)


def test_crop_with_an_unshifted_affine_is_refused(ct_and_crop):
    ct, lab, tmp = ct_and_crop
    labels = _save(tmp / "crop_bad.nii.gz", lab, z0_voxels=0)  # lands on slices 2-17: air
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(ct=ct, labels=labels, labelset="totalsegmentator")
    assert e.value.field == "ct" and "affine" in e.value.expected and "100%" in e.value.expected


def test_the_real_sample_crop_on_the_full_ct_is_refused(totalseg_example):
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(ct=totalseg_example / "example_ct.nii.gz",
                      labels=totalseg_example / "example_seg.nii.gz", labelset="totalsegmentator")
    assert "air or lung" in e.value.expected
    # On its own CT (same grid) the crop measures as documented: 38,634 voxels of 27 uL.
    r = run_volumetry(ct=totalseg_example / "example_ct_sm.nii.gz",
                      labels=totalseg_example / "example_seg.nii.gz", labelset="totalsegmentator")
    assert r.liver_ml == pytest.approx(38_634 * 0.027, abs=0.01)


def test_same_voxels_in_another_axis_order_are_copied_without_warning(tmp_path):
    # The CT's own voxels stored with axes swapped and one flipped (as DICOM SEG frames often
    # are): nothing is interpolated, so nothing to warn about, and the volume is identical.
    ct = np.zeros((20, 30, 10), np.int16)
    aff = np.diag([2.0, 1.5, 3.0, 1.0])
    ct_path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(ct, aff), str(ct_path))
    lab = np.zeros(ct.shape, np.uint8)
    lab[3:15, 4:25, 2:8] = 5
    # voxel (i, j, k) of the CT is voxel (j, 9 - k, i) of the copy
    perm = np.transpose(lab, (1, 2, 0))[:, ::-1, :]
    paff = np.zeros((4, 4))
    paff[:3, 0] = aff[:3, 1]
    paff[:3, 1] = -aff[:3, 2]
    paff[:3, 2] = aff[:3, 0]
    paff[:3, 3] = aff[:3, 3] + 9 * aff[:3, 2]
    paff[3, 3] = 1
    copy_path = tmp_path / "labels.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(perm), paff), str(copy_path))
    r = run_volumetry(ct=ct_path, labels=copy_path, labelset="totalsegmentator")
    assert r.liver_ml == pytest.approx(12 * 21 * 6 * 2.0 * 1.5 * 3.0 / 1000)
    assert not any("resampled" in w for w in r.warnings)
