"""Slice-viewer data: the stored CT and label maps re-oriented once for display
(radiological convention: patient's right on the screen's left, anterior up) and rendered
as PNG slices on request. Display only: no measurement is made here.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

# Window/level presets (width, level) in Hounsfield units: common radiology defaults.
PRESETS = {"abdomen": (400, 40), "liver": (150, 90), "bone": (1800, 400), "lung": (1500, -600)}

# Role codes follow livermet.imaging.labelsets.ROLE_CODE (1-8 segments, 9 liver, 10 tumour,
# 11 portal vein, 12 hepatic veins, 13 IVC, 14 liver vessels).
_SEGMENT_COLOURS = [(230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
                    (0, 114, 178), (213, 94, 0), (204, 121, 167), (153, 153, 255)]
LIVER_COLOUR = (210, 170, 110)
TUMOUR_COLOUR = (255, 30, 30)
VESSEL_COLOUR = (60, 60, 255)
RESECTION_COLOUR = (0, 200, 255)


def canonical(array: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """``array`` re-oriented to (S, P, L) index order, i.e. ``out[k]`` is an axial slice with
    rows running anterior->posterior and columns patient right->left; spacing (dz, dy, dx)."""
    from nibabel.orientations import apply_orientation, io_orientation

    ornt = io_orientation(affine)  # affine maps to LPS, so outputs increase along L, P, S
    out = apply_orientation(array, ornt)  # axes now (L, P, S)
    spacing_in = np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)
    spacing = [0.0, 0.0, 0.0]
    for i, (axis, _flip) in enumerate(ornt):
        spacing[int(axis)] = float(spacing_in[i])
    out = np.ascontiguousarray(np.transpose(out, (2, 1, 0)))
    return out, (spacing[2], spacing[1], spacing[0])


def canonical_to_voxel(affine: np.ndarray, shape) -> np.ndarray:
    """The 4x4 matrix taking an index ``(s, p, l)`` of the :func:`canonical` array to the
    index ``(i, j, k)`` of the original array (shape ``shape``, voxel -> LPS ``affine``).
    Exact for any affine: the canonical array is the original one permuted and flipped."""
    from nibabel.orientations import inv_ornt_aff, io_orientation

    back = inv_ornt_aff(io_orientation(np.asarray(affine, dtype=float)), tuple(shape)[:3])  # (L,P,S) -> (i,j,k)
    spl_to_lps = np.zeros((4, 4))
    spl_to_lps[0, 2] = spl_to_lps[1, 1] = spl_to_lps[2, 0] = spl_to_lps[3, 3] = 1.0
    return back @ spl_to_lps


def geometry(affine: np.ndarray, shape) -> dict:
    """The viewer's geometry, kept in ``meta.json``: the grid's voxel -> LPS affine (the
    imaging library's ``Grid.affine``) and the canonical-index -> voxel-index matrix."""
    return {"affine_lps": np.asarray(affine, dtype=float).tolist(), "voxel_shape": [int(n) for n in tuple(shape)[:3]],
            "canonical_to_voxel": canonical_to_voxel(affine, shape).tolist()}


def display_to_canonical(axis: str, k: float, row: float, col: float, shape) -> np.ndarray:
    """A point of slice ``k`` along ``axis`` at (``row``, ``col``) in that slice's pixels (as
    :func:`take_slice` lays them out; pixel centres at integers) -> canonical index (s, p, l)."""
    nz = shape[0]
    if axis == "axial":
        return np.array([k, row, col], dtype=float)
    if axis == "coronal":
        return np.array([nz - 1 - row, k, col], dtype=float)
    if axis == "sagittal":
        return np.array([nz - 1 - row, col, k], dtype=float)
    raise ValueError(f"axis={axis!r}: expected one of {', '.join(AXES)}")


def canonical_to_display(idx, shape) -> dict[str, list[float]]:
    """The inverse of :func:`display_to_canonical` for every axis: ``{axis: [k, row, col]}``."""
    s, p, l = (float(v) for v in idx)
    nz = shape[0]
    return {"axial": [s, p, l], "coronal": [p, nz - 1 - s, l], "sagittal": [l, nz - 1 - s, p]}


def click_to_lps(meta: dict, axis: str, k: float, row: float, col: float) -> dict:
    """A click on the viewer -> canonical index, voxel index of the stored grid and LPS mm."""
    geo = meta.get("geometry")
    if not geo:
        raise LookupError("the viewer was prepared before it recorded its geometry: run the volumetry again")
    shape = meta["shape"]
    idx = display_to_canonical(axis, k, row, col, shape)
    for v, size, name in zip(idx, shape, ("superior-inferior", "anterior-posterior", "right-left")):
        if not (-0.5 <= v <= size - 0.5):
            raise ValueError(f"the point lies outside the image along the {name} axis "
                             f"(index {v:.1f}; the image has {size} voxels there)")
    voxel = np.asarray(geo["canonical_to_voxel"]) @ np.append(idx, 1.0)
    lps = np.asarray(geo["affine_lps"]) @ voxel
    return {"index": idx.tolist(), "voxel": voxel[:3].tolist(), "lps": lps[:3].tolist(),
            "display": canonical_to_display(idx, shape)}


def lps_to_display(meta: dict, lps) -> dict[str, list[float]] | None:
    """Where an LPS point shows on each axis (``{axis: [k, row, col]}``); None without geometry."""
    geo = meta.get("geometry")
    if not geo:
        return None
    m = np.asarray(geo["affine_lps"]) @ np.asarray(geo["canonical_to_voxel"])
    idx = np.linalg.solve(m, np.append(np.asarray(lps, dtype=float), 1.0))
    return canonical_to_display(idx[:3], meta["shape"])


def build(viewer_dir: Path, *, ct: tuple[np.ndarray, np.ndarray] | None,
          roles: tuple[np.ndarray, np.ndarray] | None, note: str = "",
          derived_segments: tuple[np.ndarray, np.ndarray] | None = None,
          resection: tuple[np.ndarray, np.ndarray] | None = None,
          segments_method: str | None = None, resection_plan: str | None = None) -> dict:
    """Write the display arrays and ``meta.json`` into ``viewer_dir``; return the meta.

    ``derived_segments``: Couinaud segments the imaging library derived (landmarks or portal
    branches), painted over liver that has no segment label. ``resection``: the liver the
    library resects for ``resection_plan`` (anatomic segments and lesions with their margin).
    """
    viewer_dir.mkdir(parents=True, exist_ok=True)
    meta: dict = {"layers": [], "note": note, "presets": {k: list(v) for k, v in PRESETS.items()},
                  "segments_method": segments_method, "resection_plan": None}
    shape = None
    if ct is not None:
        arr, spacing = canonical(ct[0], ct[1])
        arr = np.clip(arr, -1024, 3071).astype(np.int16)
        _save(viewer_dir / "ct.npy", arr)
        shape, meta["spacing_mm"] = arr.shape, spacing
        meta["has_ct"] = True
        meta["geometry"] = geometry(ct[1], np.shape(ct[0]))
    if roles is not None:
        arr, spacing = canonical(roles[0].astype(np.uint8), roles[1])
        if shape is not None and arr.shape != shape:
            meta["note"] = (note + " The label map is on another grid than the CT; the viewer "
                            "shows the labels without the CT.").strip()
            (viewer_dir / "ct.npy").unlink(missing_ok=True)
            meta["has_ct"] = False
        shape, meta["spacing_mm"] = arr.shape, spacing
        meta["geometry"] = geometry(roles[1], np.shape(roles[0]))  # the grid shown (labels over CT)
        if derived_segments is not None:
            seg, _ = canonical(np.asarray(derived_segments[0]).astype(np.uint8), derived_segments[1])
            if seg.shape == arr.shape:
                m = (arr == 9) & (seg >= 1) & (seg <= 8)
                arr[m] = seg[m]
        _save(viewer_dir / "roles.npy", arr)
        present = set(np.unique(arr).tolist())
        if present & set(range(1, 10)):
            meta["layers"].append("liver")
        if present & set(range(1, 9)):
            meta["layers"].append("segments")
        res_arr = None
        if resection is not None:
            res_arr, _ = canonical(np.asarray(resection[0]).astype(np.uint8), resection[1])
            if res_arr.shape != arr.shape:
                res_arr = None
        if res_arr is not None:
            _save(viewer_dir / "resection.npy", res_arr)
            meta["resection_plan"] = resection_plan  # imaging_jobs.resection_key of the plan
        else:
            (viewer_dir / "resection.npy").unlink(missing_ok=True)
        if present & set(range(1, 9)) or res_arr is not None:
            meta["layers"].append("resection")  # the planned resection (library's resected liver)
        if 10 in present:
            meta["layers"].append("tumour")
        if present & {11, 12, 13, 14}:
            meta["layers"].append("vessels")
    meta.setdefault("has_ct", False)
    if shape is None:
        raise ValueError("nothing to display: no CT and no label map")
    meta["shape"] = list(shape)
    meta["slices"] = int(shape[0])
    # Slices that hold liver, to open the viewer where there is something to see.
    # ... along each axis (the coronal and sagittal views count from the front / the right).
    centre = [int(n // 2) for n in shape]
    if roles is not None:
        rarr = np.load(viewer_dir / "roles.npy", mmap_mode="r")
        for ax, others in ((0, (1, 2)), (1, (0, 2)), (2, (0, 1))):
            ks = np.nonzero(np.any(rarr > 0, axis=others))[0]
            if ks.size:
                centre[ax] = int((ks[0] + ks[-1]) // 2)
    meta["first_slice"] = centre[0]
    meta["first_slices"] = {"axial": centre[0], "coronal": centre[1], "sagittal": centre[2]}
    tmp = viewer_dir / "meta.json.tmp"
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, viewer_dir / "meta.json")
    _CACHE.clear_dir(viewer_dir)
    return meta


def _save(path: Path, arr: np.ndarray) -> None:
    """Write then rename: readers holding the old file mapped keep a valid (old) copy."""
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)


class _ArrayCache:
    def __init__(self, size: int = 24):
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, path: Path) -> np.ndarray | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        key = (str(path), st.st_ino, st.st_mtime_ns)  # a rebuilt file (another process) is reloaded
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        arr = np.load(path, mmap_mode="r")
        with self._lock:
            self._d[key] = arr
            while len(self._d) > self._size:
                self._d.popitem(last=False)
        return arr

    def clear_dir(self, d: Path) -> None:
        with self._lock:
            for k in [k for k in self._d if k[0].startswith(str(d))]:
                del self._d[k]


_CACHE = _ArrayCache()


def read_meta(viewer_dir: Path) -> dict | None:
    p = viewer_dir / "meta.json"
    return json.loads(p.read_text()) if p.exists() else None


def _png(arr: np.ndarray, mode: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


AXES = ("axial", "coronal", "sagittal")


def take_slice(arr: np.ndarray, axis: str, k: int) -> np.ndarray:
    """Slice ``k`` of a canonical (S, P, L) array for display: axial (rows anterior to
    posterior, columns patient right to left), coronal (rows head to foot, columns patient
    right to left) or sagittal (rows head to foot, columns anterior to posterior)."""
    if axis == "axial":
        return np.asarray(arr[_clamp(k, arr.shape[0])])
    if axis == "coronal":
        return np.asarray(arr[::-1, _clamp(k, arr.shape[1]), :])
    if axis == "sagittal":
        return np.asarray(arr[::-1, :, _clamp(k, arr.shape[2])])
    raise ValueError(f"axis={axis!r}: expected one of {', '.join(AXES)}")


def ct_slice_png(viewer_dir: Path, k: int, width: float, level: float, axis: str = "axial") -> bytes:
    arr = _CACHE.get(viewer_dir / "ct.npy")
    if arr is None:
        raise FileNotFoundError("no CT for this case")
    sl = take_slice(arr, axis, k).astype(np.float32)
    lo = level - width / 2.0
    img = np.clip((sl - lo) / max(width, 1.0) * 255.0, 0, 255).astype(np.uint8)
    return _png(img, "L")


def overlay_slice_png(viewer_dir: Path, k: int, layers: set[str], alpha: int = 110,
                      resection_segments: tuple[int, ...] = (), resection_mask: bool = False,
                      axis: str = "axial") -> bytes:
    """The overlay of slice ``k`` along ``axis`` as RGBA PNG. The resection is drawn from the
    library's resected-liver map when ``resection_mask`` (and the map exists), otherwise as
    the segments ``resection_segments``."""
    roles = _CACHE.get(viewer_dir / "roles.npy")
    if roles is None:
        raise FileNotFoundError("no label map for this case")
    r = take_slice(roles, axis, k)
    res = None
    if "resection" in layers and resection_mask:
        rm = _CACHE.get(viewer_dir / "resection.npy")
        res = take_slice(rm, axis, k) > 0 if rm is not None and rm.shape == roles.shape else None
    rgba = np.zeros(r.shape + (4,), dtype=np.uint8)

    def paint(mask, colour, a=alpha):
        rgba[mask, :3] = colour
        rgba[mask, 3] = a

    if "liver" in layers:
        paint((r >= 1) & (r <= 9), LIVER_COLOUR)
    if "segments" in layers:
        for n in range(1, 9):
            paint(r == n, _SEGMENT_COLOURS[n - 1])
    if "vessels" in layers:
        paint((r >= 11) & (r <= 14), VESSEL_COLOUR)
    if "resection" in layers and (res is not None or resection_segments):
        m = res if res is not None else np.isin(r, list(resection_segments))
        if m.any():
            # hatched, so the structures underneath stay visible
            yy, xx = np.indices(m.shape)
            paint(m & (((yy + xx) % 6) < 3), RESECTION_COLOUR, 170)
    if "tumour" in layers:
        paint(r == 10, TUMOUR_COLOUR, 190)
    return _png(rgba, "RGBA")


def _clamp(k: int, n: int) -> int:
    return max(0, min(int(k), n - 1))


def report_figure(viewer_dir: Path, resection_segments: tuple[int, ...] = (),
                  resection_mask: bool = False) -> bytes | None:
    """An axial slice for the report: CT (liver window) with segments, tumours and the
    planned resection drawn over it, at the slice with the most tumour (else mid-liver)."""
    from PIL import Image

    meta = read_meta(viewer_dir)
    roles = _CACHE.get(viewer_dir / "roles.npy")
    if meta is None or roles is None:
        return None
    tumour_per_slice = np.asarray((np.asarray(roles) == 10).sum(axis=(1, 2)))
    k = int(np.argmax(tumour_per_slice)) if tumour_per_slice.any() else int(meta["first_slice"])
    ny, nx = roles.shape[1:]
    if meta.get("has_ct"):
        w, lv = PRESETS["liver"]
        base = Image.open(io.BytesIO(ct_slice_png(viewer_dir, k, w, lv))).convert("RGBA")
    else:
        base = Image.new("RGBA", (nx, ny), (0, 0, 0, 255))
    layers = {"segments", "tumour"} | ({"resection"} if resection_segments or resection_mask else set())
    over = Image.open(io.BytesIO(overlay_slice_png(viewer_dir, k, layers, resection_segments=resection_segments,
                                                   resection_mask=resection_mask)))
    img = Image.alpha_composite(base, over).convert("RGB")
    dz, dy, dx = meta["spacing_mm"]
    scale = 600 / max(nx * dx, ny * dy)
    img = img.resize((max(1, round(nx * dx * scale)), max(1, round(ny * dy * scale))), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
