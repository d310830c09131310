"""What volumetry says about its inputs' limits: a liver cut off by the field of view, labels
that cannot show tumour, the same file given for two masks, a plan that leaves no liver."""

from __future__ import annotations

import numpy as np
import pytest

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.export import write_label_nifti
from livermet.imaging.grid import Grid
from livermet.imaging.pipeline import run_volumetry


def _grid(shape, spacing=(1.0, 1.0, 2.0)):
    aff = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])  # RAS affine of an LPS-axis image
    return Grid.from_ras_affine(shape, aff)


def _ball(shape, centre, radius, spacing=(1.0, 1.0, 2.0)):
    g = np.indices(shape).transpose(1, 2, 3, 0) * np.asarray(spacing)
    return (((g - np.asarray(centre) * np.asarray(spacing)) ** 2).sum(-1) <= radius**2)


def test_a_liver_inside_the_image_gives_no_field_of_view_warning(tmp_path):
    shape = (40, 40, 30)
    write_label_nifti(tmp_path / "liver.nii.gz", _ball(shape, (20, 20, 15), 12).astype(np.uint8), _grid(shape))
    d = run_volumetry(masks=[("liver", tmp_path / "liver.nii.gz")]).to_dict()
    assert not any("edge of the image" in w for w in d["warnings"])


def test_a_liver_cut_by_the_top_slice_is_said_to_be_cut_off(tmp_path):
    shape = (40, 40, 30)
    liver = _ball(shape, (20, 20, 28), 14).astype(np.uint8)  # reaches k = 29, the last slice
    write_label_nifti(tmp_path / "liver.nii.gz", liver, _grid(shape))
    d = run_volumetry(masks=[("liver", tmp_path / "liver.nii.gz")]).to_dict()
    cut = [w for w in d["warnings"] if "edge of the image" in w]
    # +k is +z in LPS here (the affine's z column is positive): the superior edge, only
    assert len(cut) == 1 and "reaches the superior edge" in cut[0], d["warnings"]


def test_labels_without_a_tumour_class_say_tumour_was_not_segmented(tmp_path):
    shape = (40, 40, 30)
    write_label_nifti(tmp_path / "liver.nii.gz", _ball(shape, (20, 20, 15), 12).astype(np.uint8), _grid(shape))
    d = run_volumetry(masks=[("liver", tmp_path / "liver.nii.gz")]).to_dict()
    assert d["tumour_ml"] == 0.0 and d["tumour_segmented"] is False
    assert any("not segmented" in w for w in d["warnings"])
    # with a tumour mask (even an empty one) the tumour was looked for: no such warning
    write_label_nifti(tmp_path / "t.nii.gz", _ball(shape, (20, 20, 15), 3).astype(np.uint8), _grid(shape))
    d = run_volumetry(masks=[("liver", tmp_path / "liver.nii.gz"), ("tumour", tmp_path / "t.nii.gz")]).to_dict()
    assert d["tumour_segmented"] is True and d["tumour_ml"] > 0
    assert not any("not segmented" in w for w in d["warnings"])


def test_the_same_file_for_two_masks_is_refused(tmp_path):
    shape = (40, 40, 30)
    write_label_nifti(tmp_path / "liver.nii.gz", _ball(shape, (20, 20, 15), 12).astype(np.uint8), _grid(shape))
    with pytest.raises(ImagingInputError) as exc:
        run_volumetry(masks=[("liver", tmp_path / "liver.nii.gz"), ("tumour", tmp_path / "liver.nii.gz")])
    assert exc.value.field == "mask" and "also given as liver=" in str(exc.value)


def test_a_plan_that_leaves_no_liver_names_its_threshold_and_says_why(tmp_path):
    from livermet.calculators.volume import SFLR_MIN_CHEMOTHERAPY
    from livermet.imaging.phantom import make_phantom, write_phantom

    files = write_phantom(tmp_path, make_phantom())
    r = run_volumetry(labels=files["labels"], labelset="liver_segments", resection="segments:1,2,3,4,5,6,7,8",
                      liver_condition="chemotherapy").to_dict()["resection"]
    assert r["remnant_ml"] == 0 and r["adequate"] is False
    assert r["threshold_percent"] == SFLR_MIN_CHEMOTHERAPY
    assert any("No liver remains" in n for n in r["notes"])


def _phantom_case(tmp_path, masks, lesions, tumour_ml=None, **imaging):
    from livermet.case.model import Case

    return Case.model_validate({
        "id": "w1", "patient": {"age": 60, "sex": "male"}, "primary": {"site": "colorectal"},
        "metastases": {"lesions": lesions},
        "volumetry": {"tumour_ml": tumour_ml} if tumour_ml is not None else {},
        "imaging": {"masks": masks, **imaging},
    })


def test_case_tumour_volume_is_kept_when_the_images_cannot_show_tumour(tmp_path):
    from livermet.imaging.phantom import make_phantom, write_phantom
    from livermet.imaging.pipeline import volumetry_for_case

    files = write_phantom(tmp_path, make_phantom())
    liver = tmp_path / "liver.nii.gz"
    import nibabel as nib

    seg = nib.load(str(files["labels"]))
    nib.save(nib.Nifti1Image((np.asanyarray(seg.dataobj) > 0).astype(np.uint8), seg.affine, seg.header), str(liver))
    case = _phantom_case(tmp_path, {"liver": str(liver)},
                         [{"id": "L1", "segments": [7], "diameter_mm": 30}], tumour_ml=45.0)
    d = volumetry_for_case(case)
    assert case.volumetry.tumour_ml == 45.0  # not overwritten by a 0 the images cannot measure
    assert case.volumetry.total_liver_ml == d["liver_ml"] > 0
    assert any("kept as typed" in w for w in d["warnings"])


def test_case_listing_more_lesions_than_the_tumour_labels_is_warned(tmp_path):
    from livermet.imaging.phantom import make_phantom, write_phantom
    from livermet.imaging.pipeline import volumetry_for_case

    ph = make_phantom()
    files = write_phantom(tmp_path, ph)
    first = ph.tumour_info[0]["id"]
    case = _phantom_case(tmp_path, {"tumour": [str(files[f"tumour_{first}"])]},
                         [{"id": f"X{i}", "segments": [5]} for i in range(3)],
                         labels=str(files["labels"]), labelset="liver_segments")
    d = volumetry_for_case(case)
    assert len(d["lesions"]) == 1
    assert any("lists 3 lesion(s) but the tumour labels show 1" in w for w in d["warnings"])


def test_case_mask_roles_and_label_set_names_are_read_as_on_the_command_line(tmp_path):
    """A case's `masks: {"Tumor": ...}` and `labelset: "Liver_Segments"` mean what
    `--mask tumor=...` and `--labelset Liver_Segments` mean (they were a KeyError and a path)."""
    from livermet.imaging.phantom import make_phantom, write_phantom
    from livermet.imaging.pipeline import volumetry_for_case

    ph = make_phantom()
    files = write_phantom(tmp_path, ph)
    first = ph.tumour_info[0]["id"]
    case = _phantom_case(tmp_path, {"Tumor": [str(files[f"tumour_{first}"])]},
                         [{"id": "L1", "segments": [7]}],
                         labels=str(files["labels"]), labelset="Liver_Segments")
    d = volumetry_for_case(case)
    assert d["segments_method"] == "labels" and len(d["lesions"]) == 1 and d["tumour_ml"] > 0


def test_case_portal_branches_is_a_declared_field_used_by_the_imaging_step(tmp_path):
    from livermet.case.validate import validate_case
    from livermet.imaging.phantom import make_phantom, write_phantom
    from livermet.imaging.pipeline import volumetry_for_case

    files = write_phantom(tmp_path, make_phantom())
    import nibabel as nib

    seg = nib.load(str(files["labels"]))
    liver = tmp_path / "liver_only.nii.gz"
    nib.save(nib.Nifti1Image((np.asanyarray(seg.dataobj) > 0).astype(np.uint8), seg.affine, seg.header), str(liver))
    raw = {"id": "pb", "patient": {"age": 60, "sex": "male"}, "primary": {"site": "colorectal"},
           "imaging": {"masks": {"liver": str(liver)}, "portal_branches": str(files["portal_branches"])}}
    report = validate_case(raw)
    assert not [p for p in report.problems if "portal_branches" in p.path], report.problems
    d = volumetry_for_case(report.case)
    assert d["segments_method"] == "portal_territories"
    assert set(d["segments_ml"]) == {str(n) for n in range(1, 9)}
