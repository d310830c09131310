"""Exports: NIfTI (nibabel round trip), DICOM CT series (SimpleITK reads the same geometry),
DICOM SEG (highdicom round trip: same voxels at the same patient coordinates)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pydicom
import pytest

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.export import segment_codes, write_ct_dicom_series, write_dicom_seg, write_label_nifti
from livermet.imaging.grid import Grid


def oblique_grid(shape=(24, 20, 12)) -> Grid:
    """Axes permuted and flipped, anisotropic spacing, a translation: nothing is trivial."""
    aff = np.zeros((4, 4))
    aff[:3, 0] = [0.0, -1.5, 0.0]  # i runs towards anterior (-y), 1.5 mm
    aff[:3, 1] = [0.8, 0.0, 0.0]  # j runs to the patient's left, 0.8 mm
    aff[:3, 2] = [0.0, 0.0, -3.0]  # k runs towards the feet, 3 mm
    aff[:3, 3] = [-40.0, 25.0, 110.0]
    aff[3, 3] = 1
    return Grid(shape, aff)


def sample_labels(grid: Grid) -> np.ndarray:
    lab = np.zeros(grid.shape, np.uint8)
    lab[2:10, 3:9, 1:5] = 1
    lab[12:20, 5:15, 4:10] = 4
    lab[14:16, 8:10, 6:8] = 9
    return lab


def world_points(grid: Grid, labels: np.ndarray) -> dict[int, np.ndarray]:
    return {int(v): np.sort(grid.index_to_lps(np.argwhere(labels == v).astype(float)).round(3), axis=0)
            for v in np.unique(labels) if v}


def test_nifti_round_trip_keeps_voxels_at_the_same_world_coordinates(tmp_path):
    grid = oblique_grid()
    lab = sample_labels(grid)
    p = write_label_nifti(tmp_path / "lab.nii.gz", lab, grid)
    img = nib.load(str(p))
    back = np.asanyarray(img.dataobj)
    g2 = Grid.from_ras_affine(img.shape, img.affine)
    assert back.dtype == np.uint8
    assert g2.same_space(grid)
    assert np.array_equal(back, lab)
    assert int(img.header["qform_code"]) == 1 and int(img.header["sform_code"]) == 1
    # RAS world of voxel (0,0,0) is the LPS origin with x, y negated
    assert np.allclose(img.affine[:3, 3], [40.0, -25.0, 110.0])


def test_nifti_rejects_wrong_shape_and_negative_labels(tmp_path):
    grid = oblique_grid()
    with pytest.raises(ImagingInputError, match="shape"):
        write_label_nifti(tmp_path / "x.nii.gz", np.zeros((2, 2, 2), np.uint8), grid)
    with pytest.raises(ImagingInputError, match=">= 0"):
        write_label_nifti(tmp_path / "x.nii.gz", -np.ones(grid.shape, np.int16), grid)


def test_ct_series_geometry_read_back_by_simpleitk(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    grid = oblique_grid()
    ct = np.random.default_rng(0).integers(-1000, 1000, size=grid.shape).astype(np.int16)
    write_ct_dicom_series(tmp_path / "ct", ct, grid)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "ct")))
    img = reader.Execute()
    arr = sitk.GetArrayFromImage(img)  # (k, j, i) in ITK's sorted slice order
    # map every ITK voxel to world, then to our index, and compare the values
    size = img.GetSize()
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in size], indexing="ij"), -1).reshape(-1, 3)
    direction = np.asarray(img.GetDirection()).reshape(3, 3)
    world = np.asarray(img.GetOrigin()) + (idx * np.asarray(img.GetSpacing())) @ direction.T
    ours = np.rint(grid.lps_to_index(world)).astype(int)
    assert np.allclose(grid.lps_to_index(world), ours, atol=1e-3)
    assert np.array_equal(arr[idx[:, 2], idx[:, 1], idx[:, 0]], ct[ours[:, 0], ours[:, 1], ours[:, 2]])


def test_dicom_seg_round_trip_with_highdicom(tmp_path):
    hd = pytest.importorskip("highdicom")
    grid = oblique_grid()
    lab = sample_labels(grid)
    ct = np.zeros(grid.shape, np.int16)
    files = write_ct_dicom_series(tmp_path / "ct", ct, grid)
    names = {1: "Couinaud segment 1", 4: "segment_4", 9: "Tumour"}
    path = write_dicom_seg(tmp_path / "seg.dcm", lab, grid, names, source_ct_dir=tmp_path / "ct")
    seg = hd.seg.segread(str(path))
    # it references the source CT series
    ct_series = pydicom.dcmread(str(files[0]), stop_before_pixels=True).SeriesInstanceUID
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == ct_series
    assert seg.FrameOfReferenceUID == pydicom.dcmread(str(files[0]), stop_before_pixels=True).FrameOfReferenceUID
    # standard codes: Couinaud segment I (CID 7170), IV, and a neoplasm
    codes = [s.SegmentedPropertyTypeCodeSequence[0].CodeValue for s in seg.SegmentSequence]
    assert codes == ["71133005", "277958008", "108369006"]
    assert [s.SegmentLabel for s in seg.SegmentSequence] == list(names.values())
    # voxels: segment n of the SEG holds label keys[n-1], at the same patient coordinates
    vol = seg.get_volume(combine_segments=True, relabel=False)
    keys = sorted(names)
    read = {keys[int(v) - 1]: None for v in np.unique(vol.array) if v}
    assert set(read) == set(keys)
    idx = np.argwhere(vol.array > 0).astype(float)
    world = idx @ vol.affine[:3, :3].T + vol.affine[:3, 3]
    ours = np.rint(grid.lps_to_index(world)).astype(int)
    assert np.allclose(grid.lps_to_index(world), ours, atol=1e-3)
    values = np.asarray(keys)[vol.array[vol.array > 0].astype(int) - 1]
    assert np.array_equal(values, lab[ours[:, 0], ours[:, 1], ours[:, 2]])
    assert len(values) == np.count_nonzero(lab)  # and no labelled voxel is lost


def test_dicom_seg_without_source_writes_a_companion_series(tmp_path):
    hd = pytest.importorskip("highdicom")
    grid = oblique_grid()
    lab = sample_labels(grid)
    path = write_dicom_seg(tmp_path / "plan.seg.dcm", lab, grid, {1: "Future liver remnant", 4: "Resected liver", 9: "Tumour"})
    companion = tmp_path / "source_ct_dicom"
    files = sorted(companion.glob("*.dcm"))
    assert len(files) == grid.shape[2]
    first = pydicom.dcmread(str(files[0]))
    assert first.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1.99"  # deflated: blank images cost little
    assert (first.pixel_array == -1000).all()
    # a second SEG on the same grid shares the series
    write_dicom_seg(tmp_path / "other.seg.dcm", (lab > 0).astype(np.uint8), grid, {1: "Liver"})
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["source_ct_dicom"]
    seg = hd.seg.segread(str(path))
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == first.SeriesInstanceUID
    types = [s.SegmentedPropertyTypeCodeSequence[0] for s in seg.SegmentSequence]
    assert [(t.CodingSchemeDesignator, t.CodeValue) for t in types[:2]] == [("99LIVERMET", "FLR"), ("99LIVERMET", "RESECTED")]


def test_dicom_seg_refuses_a_grid_that_is_not_the_source_grid(tmp_path):
    grid = oblique_grid()
    write_ct_dicom_series(tmp_path / "ct", np.zeros(grid.shape, np.int16), grid)
    shifted = Grid(grid.shape, grid.affine + np.array([[0, 0, 0, 0.4], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ImagingInputError, match="does not match the source CT"):
        write_dicom_seg(tmp_path / "s.dcm", sample_labels(grid), shifted, {1: "a", 4: "b", 9: "c"}, source_ct_dir=tmp_path / "ct")


def test_dicom_seg_refuses_unnamed_labels(tmp_path):
    grid = oblique_grid()
    with pytest.raises(ImagingInputError, match="only 0 and the named labels"):
        write_dicom_seg(tmp_path / "s.dcm", sample_labels(grid), grid, {1: "Liver"})


@pytest.mark.parametrize(
    "name, scheme, value",
    [
        ("Liver", "SCT", "10200004"),
        ("segment_8", "SCT", "277962002"),
        ("Couinaud segment 4", "SCT", "277958008"),
        ("S6", "SCT", "277960005"),
        ("segment VII", "SCT", "277961009"),
        ("tumor", "SCT", "108369006"),
        ("Portal vein", "SCT", "32764006"),
        ("hepatic veins", "SCT", "8993003"),
        ("IVC", "SCT", "64131007"),
        ("Something else", "99LIVERMET", "SOMETHINGELSE"),
    ],
)
def test_segment_codes(name, scheme, value):
    code = segment_codes(name)["type"]
    assert (code.scheme_designator, code.value) == (scheme, value)
