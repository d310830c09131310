"""Reading CT images and label maps into arrays on a :class:`~livermet.imaging.grid.Grid`.

Formats: NIfTI (``.nii``, ``.nii.gz``; nibabel), NRRD (``.nrrd``, ``.nhdr``, 3D Slicer
``.seg.nrrd`` with its segment metadata; pynrrd), a DICOM series folder (a CT or a mask
stored as an image series; SimpleITK/GDCM), a single DICOM image, and DICOM SEG (highdicom).

Every array is returned in its stored index order with the affine that maps those indices to
patient LPS millimetres, so nothing is ever re-oriented (and no voxel is interpolated) on
load. Label maps keep their stored integer type: a 512x512x600 ``uint8`` map stays 157 MB.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from livermet.imaging.errors import ImagingInputError
from livermet.imaging import readahead
from livermet.imaging.grid import Grid

SEG_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.66.4"  # DICOM Segmentation Storage
_LPS_NAMES = {"left-posterior-superior", "lps"}
_RAS_NAMES = {"right-anterior-superior", "ras"}


@dataclass
class LabelImage:
    """One 3-D array on a grid; ``names`` maps label values to structure names when the file
    says (DICOM SEG segment labels, Slicer segment names, TotalSegmentator's label table)."""

    array: np.ndarray
    grid: Grid
    source: str
    names: dict[int, str] = field(default_factory=dict)


def _kind(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir():
        return "dicom_dir"
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith((".nrrd", ".nhdr")):
        return "nrrd"
    if name.endswith((".mha", ".mhd")):
        return "itk"
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError as exc:
        raise ImagingInputError("path", str(path), f"a readable file ({exc.strerror})") from exc
    if head[128:132] == b"DICM" or name.endswith(".dcm"):
        return "dicom"
    raise ImagingInputError(
        "path", str(path), "a NIfTI (.nii/.nii.gz), NRRD (.nrrd/.seg.nrrd), DICOM file or DICOM series folder"
    )


def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        raise ImagingInputError(what, str(path), "an existing file or folder")


# --------------------------------------------------------------------------------- NIfTI

_CARET_LABEL = re.compile(r'<Label Key="(\d+)"[^>]*><!\[CDATA\[(.*?)\]\]>')


def _nifti_label_table(img) -> dict[int, str]:
    """The label table TotalSegmentator (and Connectome Workbench) embed as an XML extension."""
    names: dict[int, str] = {}
    for ext in getattr(img.header, "extensions", []) or []:
        try:
            text = ext.get_content()
            text = text.decode("utf-8", "ignore") if isinstance(text, bytes) else str(text)
        except Exception:  # noqa: BLE001 - an unreadable extension is simply ignored
            continue
        for key, name in _CARET_LABEL.findall(text):
            names[int(key)] = name
    return names


_NIFTI_DTYPES = {
    2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8",
}


_inflate = readahead.inflate  # ISA-L when installed (about 2x zlib), zlib otherwise


def _quat2mat(b: float, c: float, d: float) -> np.ndarray:
    a2 = 1.0 - (b * b + c * c + d * d)
    a = np.sqrt(a2) if a2 > 0 else 0.0
    n = a * a + b * b + c * c + d * d
    if n < 1e-12:
        return np.eye(3)
    s = 2.0 / n
    bs, cs, ds = b * s, c * s, d * s
    wb, wc, wd = a * bs, a * cs, a * ds
    bb, bc, bd = b * bs, b * cs, b * ds
    cc, cd, dd = c * cs, c * ds, d * ds
    return np.array(
        [[1 - (cc + dd), bc - wd, bd + wc], [bc + wd, 1 - (bb + dd), cd - wb], [bd - wc, cd + wb, 1 - (bb + cc)]]
    )


def _fast_nifti(path: Path) -> tuple[np.ndarray, Grid, dict[int, str]] | None:
    """Read a plain NIfTI-1 file (``.nii`` or ``.nii.gz``) without nibabel: header, label
    table extension and voxels in one pass. Returns None for anything unusual (NIfTI-2,
    scaled data, no qform/sform, more than 3 dimensions), which nibabel then reads.

    The array is read-only (a view of the decompressed bytes or a memory map).
    """
    import struct

    gz = path.name.lower().endswith(".gz")
    raw = readahead.take(path) if gz else None  # inflated meanwhile by `livermet volumetry`
    if raw is None:
        with open(path, "rb") as fh:
            comp = fh.read()
        raw = _inflate(comp) if gz else comp
        del comp
    if len(raw) < 352:
        return None
    for end in ("<", ">"):
        if struct.unpack(end + "i", raw[:4])[0] == 348:
            break
    else:
        return None
    if raw[344:347] != b"n+1":
        return None  # single-file NIfTI-1 only
    dim = struct.unpack(end + "8h", raw[40:56])
    datatype = struct.unpack(end + "h", raw[70:72])[0]
    pixdim = struct.unpack(end + "8f", raw[76:108])
    vox_offset = int(struct.unpack(end + "f", raw[108:112])[0])
    slope, inter = struct.unpack(end + "2f", raw[112:120])
    qcode, scode = struct.unpack(end + "2h", raw[252:256])
    quat = struct.unpack(end + "6f", raw[256:280])
    srow = struct.unpack(end + "12f", raw[280:328])
    ndim = dim[0]
    if vox_offset < 352:
        return None
    if not 3 <= ndim <= 7 or any(v != 1 for v in dim[4 : ndim + 1]) or datatype not in _NIFTI_DTYPES:
        return None
    if not (slope == 0 or np.isnan(slope) or (slope == 1 and inter == 0)):
        return None
    shape = tuple(int(v) for v in dim[1:4])
    if min(shape) < 1:
        return None
    if scode > 0:
        aff = np.eye(4)
        aff[:3, :] = np.asarray(srow, dtype=float).reshape(3, 4)
    elif qcode > 0:
        vox = np.asarray(pixdim[1:4], dtype=float)
        if np.any(vox < 0):
            return None
        qfac = pixdim[0] if pixdim[0] in (-1.0, 1.0) else 1.0
        vox[2] *= qfac
        aff = np.eye(4)
        aff[:3, :3] = _quat2mat(*quat[:3]) * vox
        aff[:3, 3] = quat[3:6]
    else:
        return None
    names: dict[int, str] = {}
    if raw[348] != 0:  # extensions: (esize, ecode, data) records up to vox_offset
        off = 352
        while off + 8 <= min(vox_offset, len(raw)):
            esize, _ecode = struct.unpack(end + "2i", raw[off : off + 8])
            if esize < 8:
                break
            text = raw[off + 8 : off + esize].decode("utf-8", "ignore")
            for key, name in _CARET_LABEL.findall(text):
                names[int(key)] = name
            off += esize
    dtype = np.dtype(_NIFTI_DTYPES[datatype]).newbyteorder(end)
    count = int(np.prod(shape))
    if len(raw) < vox_offset + count * dtype.itemsize:
        raise ImagingInputError("image", str(path), f"{count} voxels of {dtype} after the header (the file is truncated)")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=vox_offset).reshape(shape, order="F")
    return arr, Grid.from_ras_affine(shape, aff), names


def _read_nifti(path: Path, what: str, header_only: bool = False):
    if not header_only:
        try:
            fast = _fast_nifti(path)
        except ImagingInputError as exc:
            raise ImagingInputError(what, str(path), exc.expected) from exc
        except (zlib.error, EOFError, OSError, ValueError) as exc:
            raise ImagingInputError(
                what, str(path), f"a readable NIfTI file (it is corrupt or truncated: {exc})"
            ) from exc
        if fast is not None:
            return fast
    import nibabel as nib

    try:
        img = nib.load(str(path))
        grid = Grid.from_ras_affine(img.shape[:3], img.affine)
        if len(img.shape) > 3 and any(s != 1 for s in img.shape[3:]):
            raise ImagingInputError(what, f"{path} (shape {img.shape})", "a 3-D image")
        if header_only:
            return None, grid, {}
        arr = np.asanyarray(img.dataobj)
    except ImagingInputError:
        raise
    except (zlib.error, EOFError, OSError, ValueError) as exc:
        raise ImagingInputError(
            what, str(path), f"a readable NIfTI file (it is corrupt or truncated: {exc})"
        ) from exc
    except Exception as exc:  # nibabel raises its own types (ImageFileError...)
        raise ImagingInputError(what, str(path), f"a readable NIfTI file ({type(exc).__name__}: {exc})") from exc
    if arr.ndim > 3:
        arr = arr.reshape(arr.shape[:3])
    return arr, grid, _nifti_label_table(img)


# ---------------------------------------------------------------------------------- NRRD


def _nrrd_grid(header: dict, spatial_axes: list[int], shape: tuple[int, ...]) -> Grid:
    dirs = np.asarray(header["space directions"], dtype=object)
    aff = np.eye(4)
    for col, axis in enumerate(spatial_axes):
        aff[:3, col] = np.asarray(dirs[axis], dtype=float)
    aff[:3, 3] = np.asarray(header.get("space origin", [0, 0, 0]), dtype=float)
    space = str(header.get("space", "left-posterior-superior")).lower()
    if space in _RAS_NAMES:
        aff = np.diag([-1.0, -1.0, 1.0, 1.0]) @ aff
    elif space not in _LPS_NAMES:
        raise ImagingInputError("space", space, "an NRRD in left-posterior-superior or right-anterior-superior space")
    return Grid(tuple(shape[a] for a in spatial_axes), aff)


def _read_nrrd(path: Path, what: str, header_only: bool = False) -> list[LabelImage] | Grid:
    import nrrd

    try:
        if header_only:
            header = nrrd.read_header(str(path))
            data = None
            shape = tuple(int(s) for s in header["sizes"])
        else:
            data, header = nrrd.read(str(path))
            shape = data.shape
    except Exception as exc:  # pynrrd raises NRRDError, zlib.error, ValueError...
        raise ImagingInputError(what, str(path), f"a readable NRRD file ({type(exc).__name__}: {exc})") from exc
    if "space directions" not in header:
        raise ImagingInputError(what, str(path), "an NRRD with 'space directions' (patient geometry)")
    dirs = header["space directions"]
    spatial = [i for i, d in enumerate(dirs) if d is not None and not np.any(np.isnan(np.asarray(d, dtype=float)))]
    if len(spatial) != 3:
        raise ImagingInputError(what, str(path), "a 3-D NRRD (3 spatial axes)")
    grid = _nrrd_grid(header, spatial, shape)
    if header_only:
        return grid
    # 3D Slicer .seg.nrrd: SegmentN_Name / SegmentN_LabelValue / SegmentN_Layer.
    segs: dict[int, dict[str, str]] = {}
    for key, value in header.items():
        m = re.fullmatch(r"Segment(\d+)_(Name|LabelValue|Layer)", key)
        if m:
            segs.setdefault(int(m.group(1)), {})[m.group(2)] = str(value)
    layer_axis = next((i for i in range(data.ndim) if i not in spatial), None)
    if layer_axis is None:
        layers = [data]
    else:
        layers = [np.take(data, n, axis=layer_axis) for n in range(data.shape[layer_axis])]
    images = []
    for n, layer in enumerate(layers):
        names = {
            int(s.get("LabelValue", 1)): s.get("Name", f"segment {i}")
            for i, s in segs.items()
            if int(s.get("Layer", 0)) == n
        }
        images.append(LabelImage(layer, grid, str(path), names))
    return images


# --------------------------------------------------------------------------------- DICOM


def _sitk_to_array(img) -> tuple[np.ndarray, Grid]:
    import SimpleITK as sitk

    arr = sitk.GetArrayViewFromImage(img).transpose(2, 1, 0).copy() if img.GetDimension() == 3 else None
    if arr is None:
        raise ImagingInputError("image", f"{img.GetDimension()}-D", "a 3-D image")
    spacing = np.asarray(img.GetSpacing(), dtype=float)
    direction = np.asarray(img.GetDirection(), dtype=float).reshape(3, 3)
    aff = np.eye(4)
    aff[:3, :3] = direction * spacing  # scales the columns
    aff[:3, 3] = img.GetOrigin()
    return arr, Grid(arr.shape, aff)


def _read_dicom_dir(path: Path, what: str, header_only: bool = False):
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    series = _series_ids(path)
    if not series:
        segs = [p for p in sorted(path.iterdir()) if p.is_file() and _is_dicom_seg(p)]
        if segs:
            return _read_dicom_seg(segs[0], what)
        nifti = sorted(p.name for p in path.iterdir() if p.name.endswith((".nii", ".nii.gz")))
        if nifti:  # a TotalSegmentator output folder without any liver structure
            raise ImagingInputError(
                what, str(path),
                "a DICOM series folder, or a TotalSegmentator output folder holding liver.nii.gz or "
                f"liver_segment_N.nii.gz; this folder has {len(nifti)} NIfTI file(s) "
                f"({', '.join(nifti[:4])}{' ...' if len(nifti) > 4 else ''}) but no liver structure")
        raise ImagingInputError(what, str(path), "a folder holding one DICOM image series (none found)")
    files_by_series = {sid: reader.GetGDCMSeriesFileNames(str(path), sid) for sid in series}
    if len(files_by_series) > 1:  # a SEG, SR or RTSTRUCT beside the CT slices is not a series to read
        files_by_series = {sid: f for sid, f in files_by_series.items()
                           if _modality(f[0]) not in _NON_IMAGE_MODALITIES} or files_by_series
    if len(files_by_series) > 1:  # which phase or reconstruction to measure is the user's choice
        raise ImagingInputError(
            what, str(path),
            f"a folder holding one DICOM series; this one holds {len(files_by_series)}: "
            + "; ".join(f"{_series_label(files[0])} ({len(files)} files)" for files in files_by_series.values())
            + ". Put the series to measure in a folder of its own",
        )
    files = next(iter(files_by_series.values()))
    if len(files) < 2:
        raise ImagingInputError(what, str(path), "a DICOM series of at least 2 slices")
    _check_slice_spacing(files, what, path)
    reader.SetFileNames(files)
    try:
        img = reader.Execute()
    except RuntimeError as exc:
        raise ImagingInputError(what, str(path), f"a readable DICOM series ({exc})") from exc
    arr, grid = _sitk_to_array(img)
    if header_only:
        return None, grid, len(series)
    return arr, grid, len(series)


def _is_dicom_seg(path: Path) -> bool:
    import pydicom

    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except Exception:  # noqa: BLE001 - not a DICOM file
        return False
    return str(getattr(ds, "SOPClassUID", "")) == SEG_SOP_CLASS_UID


def _read_dicom_seg(path: Path, what: str) -> list[LabelImage]:
    import highdicom as hd

    try:
        seg = hd.seg.segread(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ImagingInputError(what, str(path), f"a readable DICOM SEG ({exc})") from exc
    names = {int(d.SegmentNumber): str(d.SegmentLabel) for d in seg.SegmentSequence}
    try:
        vol = seg.get_volume(combine_segments=True, relabel=False)
        return [LabelImage(np.asarray(vol.array), Grid(vol.array.shape, vol.affine), str(path), names)]
    except Exception:  # noqa: BLE001 - overlapping segments: one image per segment
        pass
    try:
        vol = seg.get_volume(combine_segments=False)
    except Exception as exc:  # noqa: BLE001
        raise ImagingInputError(
            what, str(path), f"a DICOM SEG whose frames form a regular 3-D volume ({exc})"
        ) from exc
    arr = np.asarray(vol.array)
    grid = Grid(arr.shape[:3], vol.affine)
    numbers = sorted(names)
    return [
        LabelImage(arr[..., i].astype(np.uint8), grid, str(path), {1: names[n]})
        for i, n in enumerate(numbers[: arr.shape[3]])
    ]


def _read_dicom_file(path: Path, what: str, header_only: bool = False):
    if _is_dicom_seg(path):
        if header_only:
            imgs = _read_dicom_seg(path, what)
            return None, imgs[0].grid
        return _read_dicom_seg(path, what)
    import SimpleITK as sitk

    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise ImagingInputError(what, str(path), f"a readable DICOM image ({exc})") from exc
    arr, grid = _sitk_to_array(img)
    return arr, grid


# --------------------------------------------------------------------------------- public


def read_label_images(path: str | Path, what: str = "labels") -> list[LabelImage]:
    """Read a label map or mask file (or DICOM folder) as one or more 3-D :class:`LabelImage`.

    A Slicer ``.seg.nrrd`` with overlapping segments, or a DICOM SEG whose segments overlap,
    gives one image per layer/segment. ``what`` names the input in error messages.
    """
    path = Path(path)
    _check_exists(path, what)
    kind = _kind(path)
    if kind == "nifti":
        arr, grid, names = _read_nifti(path, what)
        return [LabelImage(arr, grid, str(path), names)]
    if kind == "nrrd":
        return _read_nrrd(path, what)
    if kind == "dicom_dir":
        res = _read_dicom_dir(path, what)
        if isinstance(res, list):
            return res
        return [LabelImage(res[0], res[1], str(path))]
    if kind == "itk":
        import SimpleITK as sitk

        try:
            arr, grid = _sitk_to_array(sitk.ReadImage(str(path)))
        except RuntimeError as exc:
            raise ImagingInputError(what, str(path), f"a readable image ({exc})") from exc
        return [LabelImage(arr, grid, str(path))]
    res = _read_dicom_file(path, what)
    if isinstance(res, list):
        return res
    return [LabelImage(res[0], res[1], str(path))]


def read_image(path: str | Path, what: str = "ct") -> tuple[np.ndarray, Grid]:
    """Read a CT (or any scalar image) as ``(array, grid)``, in its stored type and order."""
    images = read_label_images(path, what)
    if len(images) != 1:
        raise ImagingInputError(what, str(path), "a single 3-D image")
    return images[0].array, images[0].grid


def read_grid(path: str | Path, what: str = "ct") -> Grid:
    """The grid of an image without reading its voxels where the format allows."""
    path = Path(path)
    _check_exists(path, what)
    kind = _kind(path)
    if kind == "nifti":
        return _read_nifti(path, what, header_only=True)[1]
    if kind == "nrrd":
        return _read_nrrd(path, what, header_only=True)
    return read_image(path, what)[1]


_NON_IMAGE_MODALITIES = {"SEG", "SR", "RTSTRUCT", "PR", "KO", "DOC"}


def _modality(file: str) -> str:
    import pydicom

    try:
        return str(pydicom.dcmread(file, stop_before_pixels=True, specific_tags=["Modality"]).Modality)
    except Exception:  # noqa: BLE001
        return ""


def _series_label(file: str) -> str:
    """'3: Portal venous 1.0 mm' from a series' first file (number and description)."""
    import pydicom

    try:
        ds = pydicom.dcmread(file, stop_before_pixels=True,
                             specific_tags=["SeriesNumber", "SeriesDescription", "SeriesInstanceUID"])
    except Exception:  # noqa: BLE001
        return Path(file).name
    desc = str(getattr(ds, "SeriesDescription", "") or "")
    num = getattr(ds, "SeriesNumber", None)
    label = f"series {num}" if num is not None else f"series {getattr(ds, 'SeriesInstanceUID', '?')}"
    return f"{label}: {desc}" if desc else label


# Plausibility judgement: slice gaps that differ by more than 10% (and 0.05 mm) mean missing
# or duplicated slices; read as one evenly spaced volume (as ITK does, with a mere warning),
# volumes and positions would be wrong.
SLICE_SPACING_TOLERANCE = 0.10


def _check_slice_spacing(files: Sequence[str], what: str, path: Path) -> None:
    """Refuse a DICOM series whose slices are not evenly spaced along their normal."""
    import pydicom

    positions = []
    normal = None
    for f in files:
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True,
                                 specific_tags=["ImagePositionPatient", "ImageOrientationPatient"])
            ipp = [float(v) for v in ds.ImagePositionPatient]
            if normal is None:
                iop = [float(v) for v in ds.ImageOrientationPatient]
                normal = np.cross(iop[:3], iop[3:])
        except Exception:  # noqa: BLE001 - no geometry to check: ITK decides as before
            return
        positions.append(float(np.dot(ipp, normal)))
    gaps = np.diff(np.sort(np.asarray(positions)))
    step = float(np.median(gaps))
    if step <= 0 or float(gaps.max() - gaps.min()) > max(SLICE_SPACING_TOLERANCE * step, 0.05):
        raise ImagingInputError(
            what, str(path),
            f"a DICOM series of evenly spaced slices; here the gaps between slices run from "
            f"{gaps.min():.2f} to {gaps.max():.2f} mm ({len(files)} slices): slices are missing or "
            "duplicated, so volumes would be wrong. Export the complete series",
        )


def is_dicom_series_dir(path: str | Path) -> bool:
    path = Path(path)
    if not path.is_dir():
        return False
    return bool(_series_ids(path))


def _series_ids(path: Path) -> list[str]:
    """The DICOM series in a folder, without ITK printing "No Series were found" to stderr
    (other ITK warnings, e.g. non-uniform slice spacing, stay on)."""
    import SimpleITK as sitk

    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        return list(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(path)) or [])
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)
