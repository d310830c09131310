"""Label maps out to other tools: NIfTI, DICOM SEG (highdicom) and a DICOM CT series.

- :func:`write_label_nifti` writes a label map with its RAS affine (qform and sform, code 1
  "scanner"), so it overlays the CT in 3D Slicer, ITK-SNAP or any NIfTI viewer.
- :func:`write_dicom_seg` writes a DICOM Segmentation (binary segments, one per label)
  that references the source CT series. Each label is coded from the DICOM standard's own
  tables as shipped with pydicom (``pydicom.sr.codedict``): Liver SCT 10200004 (CID 7154),
  Couinaud hepatic segments I-VIII SCT 71133005, 277956007 ... 277962002 (CID 7170, "Couinaud
  Liver Segment"), Neoplasm SCT 108369006 with category Morphologically Abnormal Structure
  SCT 49755003, Portal vein SCT 32764006, Hepatic vein SCT 8993003, Inferior vena cava
  SCT 64131007. Planning regions with no standard code (future liver remnant, resected
  liver, anything unrecognised) use the local coding scheme ``99LIVERMET`` (DICOM reserves
  designators starting with "99" for local schemes, PS3.16 section 8).
- :func:`write_ct_dicom_series` writes a CT image series from an array (one file per slice)
  so that a SEG can reference real source images when the CT came as NIfTI or NRRD.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

import numpy as np

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.grid import Grid

LOCAL_SCHEME = "99LIVERMET"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")


# --- NIfTI ---------------------------------------------------------------------------------


def write_label_nifti(path: str | Path, labels: np.ndarray, grid: Grid) -> Path:
    """Write ``labels`` (on ``grid``) as NIfTI with the grid's RAS affine; returns the path.

    The smallest unsigned integer type that holds the labels is used (uint8 for <= 255).
    """
    import nibabel as nib

    arr = np.asarray(labels)
    if arr.shape != grid.shape:
        raise ImagingInputError("labels", f"shape {arr.shape}", f"the grid's shape {grid.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ImagingInputError("labels", f"dtype {arr.dtype}", "integer labels")
    lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
    if lo < 0:
        raise ImagingInputError("labels", f"minimum {lo}", "labels >= 0")
    dtype = np.uint8 if hi <= 255 else np.uint16 if hi <= 65535 else np.uint32
    img = nib.Nifti1Image(arr.astype(dtype, copy=False), grid.affine_ras)
    img.set_qform(grid.affine_ras, code=1)
    img.set_sform(grid.affine_ras, code=1)
    img.header.set_xyzt_units("mm")
    img.header["intent_name"] = b"Label"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, str(path))
    return path


# --- codes ---------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def segment_codes(name: str) -> dict[str, Any]:
    """Category, type and anatomic region codes for a segment named ``name``.

    Recognises liver, Couinaud segments (``segment_4``, ``Couinaud segment 4``, ``S4``,
    ``segment IV``), tumour/tumor/lesion/metastasis/neoplasm, portal vein, hepatic veins,
    IVC, future liver remnant and resected liver; anything else gets a local code.
    """
    from pydicom.sr.codedict import codes
    from pydicom.sr.coding import Code

    n = _norm(name)
    anat = codes.SCT.AnatomicalStructure
    m = re.fullmatch(r"(?:couinaud )?(?:hepatic |liver )?(?:segment|seg|s)\s*([1-8]|i{1,3}|iv|v|vi{1,3})[ab]?", n)
    if m:
        tok = m.group(1)
        num = int(tok) if tok.isdigit() else _ROMAN.index(tok.upper()) + 1
        seg_code = getattr(codes.cid7170, f"CouinaudHepaticSegment{_ROMAN[num - 1]}")
        return {"category": anat, "type": seg_code, "region": codes.SCT.Liver}
    if re.search(r"\b(tumou?r|lesion|metastas[ie]s|neoplasm|cancer)\b", n):
        return {"category": codes.SCT.MorphologicallyAbnormalStructure, "type": codes.SCT.Neoplasm,
                "region": codes.SCT.Liver}
    if "remnant" in n or n in ("flr", "future liver remnant"):
        return {"category": anat, "type": Code("FLR", LOCAL_SCHEME, "Future liver remnant"), "region": codes.SCT.Liver}
    if "resect" in n:
        return {"category": anat, "type": Code("RESECTED", LOCAL_SCHEME, "Planned resection volume"),
                "region": codes.SCT.Liver}
    if "portal" in n:
        return {"category": anat, "type": codes.SCT.PortalVein, "region": None}
    if "hepatic vein" in n:
        return {"category": anat, "type": codes.SCT.HepaticVein, "region": None}
    if n in ("ivc", "inferior vena cava", "vena cava"):
        return {"category": anat, "type": codes.SCT.InferiorVenaCava, "region": None}
    if n == "liver" or n.startswith("liver "):
        return {"category": anat, "type": codes.SCT.Liver, "region": None}
    value = re.sub(r"[^A-Z0-9]", "", n.upper())[:16] or "UNKNOWN"
    return {"category": anat, "type": Code(value, LOCAL_SCHEME, name[:64]), "region": None}


# --- DICOM CT series -------------------------------------------------------------------------


def _ds_number(v: float) -> str:
    """A DICOM decimal string (<= 16 characters)."""
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s[:16]


def write_ct_dicom_series(
    directory: str | Path,
    ct: np.ndarray,
    grid: Grid,
    *,
    patient_id: str = "LIVERMET",
    patient_name: str = "Anonymous^",
    series_description: str = "livermet CT",
    study_instance_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    deflate: bool = False,
) -> list[Path]:
    """Write ``ct`` (HU, on ``grid``) as a DICOM CT Image Storage series, one file per slice.

    Slices are taken along the third array axis; pixel rows run along the second axis and
    columns along the first, with Image Orientation/Position (Patient) from the grid, so the
    series has exactly the grid's geometry. Pixel data are signed 16-bit HU (rescale slope
    1, intercept 0). ``deflate`` writes the Deflated Explicit VR Little Endian transfer
    syntax (zlib; tiny for blank images). Returns the file paths in slice order.
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        PYDICOM_IMPLEMENTATION_UID,
        generate_uid,
    )

    from livermet import __version__

    arr = np.asarray(ct)
    if arr.shape != grid.shape:
        raise ImagingInputError("ct", f"shape {arr.shape}", f"the grid's shape {grid.shape}")
    d = grid.direction
    if abs(float(d[:, 0] @ d[:, 1])) > 1e-4:
        raise ImagingInputError("grid", "sheared in-plane axes", "orthogonal row and column directions")
    hu = np.clip(np.rint(arr), -32768, 32767).astype(np.int16)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    study_uid = study_instance_uid or generate_uid()
    series_uid = generate_uid()
    for_uid = frame_of_reference_uid or generate_uid()
    now = _dt.datetime.now()
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    sx, sy, sz = grid.spacing
    iop = [_ds_number(v) for v in (*d[:, 0], *d[:, 1])]
    paths = []
    for k in range(grid.shape[2]):
        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian if deflate else ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        path = directory / f"CT{k + 1:05d}.dcm"
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = sop_uid
        ds.Modality = "CT"
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        ds.PatientID = patient_id
        ds.PatientName = patient_name
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        ds.StudyInstanceUID = study_uid
        ds.StudyID = "1"
        ds.StudyDate = date
        ds.StudyTime = time
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 1
        ds.SeriesDescription = series_description
        ds.Manufacturer = "livermet"
        ds.SoftwareVersions = __version__
        ds.FrameOfReferenceUID = for_uid
        ds.PositionReferenceIndicator = ""
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = iop
        pos = grid.index_to_lps(np.array([0.0, 0.0, float(k)]))
        ds.ImagePositionPatient = [_ds_number(v) for v in pos]
        ds.SliceLocation = _ds_number(float(pos @ np.cross(d[:, 0], d[:, 1])))
        ds.PixelSpacing = [_ds_number(sy), _ds_number(sx)]  # row spacing, column spacing
        ds.SliceThickness = _ds_number(sz)
        ds.SpacingBetweenSlices = _ds_number(sz)
        ds.KVP = ""
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = grid.shape[1], grid.shape[0]
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
        ds.PixelData = np.ascontiguousarray(hu[:, :, k].T).tobytes()
        ds.save_as(str(path), enforce_file_format=True)
        paths.append(path)
    return paths


# --- DICOM SEG ---------------------------------------------------------------------------


def _read_source_series(source_ct_dir: Path) -> list:
    import pydicom

    files = [p for p in sorted(Path(source_ct_dir).iterdir()) if p.is_file()]
    datasets = []
    for p in files:
        try:
            ds = pydicom.dcmread(str(p), stop_before_pixels=True)
        except Exception:  # not DICOM (DICOMDIR, notes...): skip
            continue
        if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds:
            datasets.append(ds)
    if not datasets:
        raise ImagingInputError("source_ct_dir", str(source_ct_dir), "a folder with a DICOM image series")
    series = {ds.SeriesInstanceUID for ds in datasets}
    if len(series) > 1:
        raise ImagingInputError("source_ct_dir", f"{len(series)} series", "one DICOM series")
    return datasets


def _frames_for_sources(labels: np.ndarray, grid: Grid, sources: list, tol: float = 0.05) -> np.ndarray:
    """The label frame under each source image, mapped through physical space.

    Works for any permutation or flip of the array axes relative to the DICOM rows and
    columns; raises when the source image pixels do not fall on the label grid's voxels.
    """
    frames = []
    for ds in sources:
        rows, cols = int(ds.Rows), int(ds.Columns)
        iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
        ipp = np.asarray(ds.ImagePositionPatient, dtype=float)
        dr, dc = (float(v) for v in ds.PixelSpacing)  # row spacing, column spacing
        start = grid.lps_to_index(ipp)
        inv = np.linalg.inv(grid.affine[:3, :3])
        step_col = inv @ (iop[:3] * dc)  # index step per column
        step_row = inv @ (iop[3:] * dr)  # index step per row
        r = np.arange(rows, dtype=float)[:, None, None]
        c = np.arange(cols, dtype=float)[None, :, None]
        ijk = start + r * step_row + c * step_col  # (rows, cols, 3)
        near = np.rint(ijk)
        if np.max(np.abs(ijk - near)) > tol or np.any(near < 0) or np.any(near >= np.asarray(grid.shape)):
            raise ImagingInputError(
                "labels", "a grid that does not match the source CT",
                "labels on the source series' voxel grid (same positions, spacing and orientation)",
            )
        near = near.astype(int)
        frames.append(labels[near[..., 0], near[..., 1], near[..., 2]])
    return np.stack(frames)


COMPANION_DIR = "source_ct_dicom"


def _companion_series(folder: Path, labels: np.ndarray, grid: Grid, ct: np.ndarray | None) -> Path:
    """The CT series a SEG without a DICOM source references: reused when one on the same
    grid (and of the same kind, real or blank) is already there, else written."""
    kind = "livermet CT" if ct is not None else "livermet geometry reference (no image data)"
    n = 0
    while True:
        d = folder / (COMPANION_DIR if n == 0 else f"{COMPANION_DIR}_{n}")
        if not d.exists():
            break
        try:
            sources = _read_source_series(d)
            if len(sources) == grid.shape[2] and str(sources[0].get("SeriesDescription", "")) == kind and ct is None:
                _frames_for_sources(labels, grid, [sources[0], sources[-1]])  # raises if off-grid
                return d
        except ImagingInputError:
            pass
        n += 1
    ct_arr = np.full(grid.shape, -1000, dtype=np.int16) if ct is None else ct
    write_ct_dicom_series(d, ct_arr, grid, series_description=kind, deflate=ct is None)
    return d


def write_dicom_seg(
    path: str | Path,
    labels: np.ndarray,
    grid: Grid,
    segment_names: dict[int, str],
    source_ct_dir: str | Path | None = None,
    *,
    ct: np.ndarray | None = None,
    series_description: str = "livermet segmentation",
    segmentation_type: str = "BINARY",
) -> Path:
    """Write ``labels`` as a DICOM SEG; one segment per entry of ``segment_names``.

    ``labels`` (on ``grid``) holds the keys of ``segment_names`` (0 = background). The SEG
    references the CT series in ``source_ct_dir`` and must lie on its voxel grid. Without
    a DICOM CT, a CT series is written first into ``source_ct_dicom/`` beside the SEG (from
    ``ct`` when given; otherwise a blank (-1000 HU, deflated, small) series that carries only
    the geometry, so that the SEG is complete and loads in any DICOM viewer) and referenced;
    SEGs written into the same folder on the same grid share that series.
    ``segmentation_type``: ``BINARY`` (widest viewer support) or ``LABELMAP`` (DICOM 2024).
    Returns ``path``.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from livermet import __version__

    arr = np.asarray(labels)
    if arr.shape != grid.shape:
        raise ImagingInputError("labels", f"shape {arr.shape}", f"the grid's shape {grid.shape}")
    if not segment_names:
        raise ImagingInputError("segment_names", "{}", "at least one {label: name}")
    keys = sorted(int(k) for k in segment_names)
    if keys[0] < 1:
        raise ImagingInputError("segment_names", keys[0], "label values >= 1 (0 is background)")
    present = np.unique(arr)
    unknown = sorted(set(int(v) for v in present) - set(keys) - {0})
    if unknown:
        raise ImagingInputError("labels", f"values {unknown[:10]}", f"only 0 and the named labels {keys}")
    seg_type = str(segmentation_type).upper()
    if seg_type not in ("BINARY", "LABELMAP"):
        raise ImagingInputError("segmentation_type", segmentation_type, "BINARY or LABELMAP")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if source_ct_dir is None:
        source_ct_dir = _companion_series(path.parent, arr, grid, ct)
    sources = _read_source_series(Path(source_ct_dir))
    frames = _frames_for_sources(arr, grid, sources)
    # highdicom numbers segments 1..N: map label values to their rank
    lut = np.zeros(int(max(keys)) + 1, dtype=np.uint8 if len(keys) < 256 else np.uint16)
    for rank, k in enumerate(keys, start=1):
        lut[k] = rank
    frames = lut[frames]
    algo = hd.AlgorithmIdentificationSequence(
        name="livermet", version=__version__, family=codes.cid7162.ArtificialIntelligence
    )
    descriptions = []
    for rank, k in enumerate(keys, start=1):
        name = str(segment_names[k])
        c = segment_codes(name)
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=rank,
                segment_label=name[:64],
                segmented_property_category=c["category"],
                segmented_property_type=c["type"],
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
                algorithm_identification=algo,
                anatomic_regions=[c["region"]] if c["region"] is not None else None,
                tracking_uid=hd.UID(),
                tracking_id=f"{name[:50]} ({k})",
            )
        )
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=frames,
        segmentation_type=getattr(hd.seg.SegmentationTypeValues, seg_type),
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=300,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="livermet",
        manufacturer_model_name="livermet",
        software_versions=__version__,
        device_serial_number="0",
        series_description=series_description,
        content_label="LIVERMET",
        content_description=series_description[:64],
    )
    seg.save_as(str(path))
    return path
