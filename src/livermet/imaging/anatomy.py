"""From files to the liver anatomy on one grid: liver, tumour, Couinaud segments, vessels.

Inputs are a multilabel map with a label set, separate role masks, a TotalSegmentator output
folder, or any mix. Everything is brought onto one *reference grid* (the CT when given,
otherwise the label map, otherwise the first mask):

- a source on the same grid is used as is;
- a source on another grid that lies inside the reference's physical extent (within one
  voxel) is resampled by nearest neighbour, with a warning;
- anything else is an error naming both grids.

Only the region around the liver is kept (a crop): all later steps (volumes, lesions,
distance maps) work on it, so a 512x512x600 map costs two passes over the full volume
(its maximum and a slab-wise bounding box) and nothing more.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from livermet.imaging import labelsets, parallel
from livermet.imaging.errors import ImagingInputError
from livermet.imaging.grid import Grid
from livermet.imaging.io import LabelImage, read_grid, read_label_images

Progress = Callable[[str], None]
_SLAB_VOXELS = 4_000_000  # voxels per slab in full-volume passes (about 4 MB as uint8)
MASK_ROLES = labelsets.ROLES


@dataclass
class Anatomy:
    """The liver region of one study, cropped from the reference grid.

    ``liver`` includes the tumours (total liver volume, TLV); ``tumour`` is the union of all
    tumour voxels; ``tumour_masks`` keeps separate tumour masks apart (each is one lesion);
    ``segments`` holds Couinaud numbers 1-8 (0 = unknown) or is None.
    """

    grid: Grid  # the full reference grid
    offset: tuple[int, int, int]  # crop origin in the reference grid's indices
    crop_grid: Grid
    liver: np.ndarray
    tumour: np.ndarray
    segments: np.ndarray | None = None
    segments_method: str | None = None
    tumour_masks: list[np.ndarray] = field(default_factory=list)
    vessels: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ct_path: str | None = None
    tumour_labelled: bool = True  # False: no input could mark tumour (tumour 0 = not segmented)

    @property
    def crop_slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(o, o + s) for o, s in zip(self.offset, self.liver.shape))  # type: ignore[return-value]

    def uncrop(self, arr: np.ndarray, fill=0) -> np.ndarray:
        """Embed a crop-shaped array into a full reference-grid array."""
        full = np.full(self.grid.shape, fill, dtype=arr.dtype)
        full[self.crop_slices] = arr
        return full


@dataclass
class _Piece:
    offset: tuple[int, int, int]
    codes: np.ndarray  # uint8 role codes (labelsets.ROLE_CODE) in reference-grid space
    separate_tumour: bool = False
    source: str = ""


def crop_grid(grid: Grid, offset: Sequence[int], shape: Sequence[int]) -> Grid:
    aff = np.array(grid.affine, dtype=float)
    aff[:3, 3] = grid.index_to_lps(np.asarray(offset, dtype=float))
    return Grid(tuple(int(s) for s in shape), aff)


def _describe(grid: Grid) -> str:
    sp = "x".join(f"{s:.3g}" for s in grid.spacing)
    org = ", ".join(f"{v:.1f}" for v in grid.affine[:3, 3])
    return f"{'x'.join(map(str, grid.shape))} voxels of {sp} mm, origin ({org}) LPS"


# ------------------------------------------------------------------ full-volume passes


def _slab_axis(arr: np.ndarray) -> int:
    """The axis along which slabs are contiguous in memory (largest stride)."""
    return int(np.argmax([abs(s) for s in arr.strides]))


def _as_index_array(arr: np.ndarray, field_name: str, source: str) -> np.ndarray:
    if arr.dtype.kind == "b":
        return arr.view(np.uint8)
    if arr.dtype.kind in "iu":
        return arr
    if arr.dtype.kind == "f":
        sample = arr[tuple(slice(None, None, max(1, n // 64)) for n in arr.shape)]
        if not np.all(np.isfinite(sample)) or not np.all(sample == np.round(sample)):
            raise ImagingInputError(
                field_name, source, "integer label values (this file holds non-integer values: is it an image, not labels?)"
            )
        return arr  # cast slab by slab
    raise ImagingInputError(field_name, source, f"a numeric label array (got {arr.dtype})")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Runs ``(start, length)`` of True values in a 1-D boolean array."""
    f = np.concatenate([[False], flags, [False]]).astype(np.int8)
    d = np.diff(f)
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(int(a), int(b - a)) for a, b in zip(starts, stops)]


def _slab_mask(slab: np.ndarray, interest: np.ndarray | None, runs: list[tuple[int, int]] | None) -> np.ndarray:
    if slab.dtype.kind == "f":
        slab = slab.astype(np.int64)
    if interest is None:
        return slab != 0
    if runs is not None and slab.dtype.kind in "iu":
        # value in [lo, lo + width): one subtraction and one unsigned comparison per run
        unsigned = np.dtype(f"u{slab.dtype.itemsize}")
        m = None
        for lo, width in runs:
            d = (slab - slab.dtype.type(lo)).view(unsigned)
            r = d < unsigned.type(width)
            m = r if m is None else (m | r)
        return m
    return interest[slab]


def _interest_bbox(arr: np.ndarray, interest: np.ndarray | None) -> tuple[slice, slice, slice] | None:
    """Bounding box of voxels whose value is marked in the boolean lookup ``interest``.

    ``interest`` None means "any non-zero value". Works slab by slab along the slowest axis
    in memory, with no full-size temporary; the in-plane projection ORs 8 voxels at a time.
    """
    ax = _slab_axis(arr)
    order = sorted(range(3), key=lambda a: -abs(arr.strides[a]))  # slowest ... fastest
    ap, aq = order[1], order[2]
    n = arr.shape[ax]
    per = max(1, _SLAB_VOXELS // max(1, arr.size // max(n, 1)))
    runs = None
    if interest is not None:
        r = _runs(interest[1:])
        runs = [(lo + 1, w) for lo, w in r] if len(r) <= 4 else None
    along = np.zeros(n, dtype=bool)
    projections: list[np.ndarray] = []
    lock = threading.Lock()

    def slabs(start: int, stop: int) -> None:  # one thread's slices: its own projection
        fast = arr.shape[aq] % 8 == 0
        proj = np.zeros((arr.shape[ap], arr.shape[aq] // 8 if fast else arr.shape[aq]),
                        dtype=np.uint64 if fast else bool)
        for k0 in range(start, stop, per):
            idx = [slice(None)] * 3
            idx[ax] = slice(k0, min(stop, k0 + per))
            m = _slab_mask(arr[tuple(idx)], interest, runs).transpose(order)
            if fast and m.flags.c_contiguous:
                v = m.view(np.uint8).view(np.uint64)
                proj |= np.bitwise_or.reduce(v, axis=0)
                along[k0 : k0 + m.shape[0]] = v.reshape(m.shape[0], -1).any(axis=1)
            else:
                if fast:  # not contiguous after all: fall back for the rest
                    proj = proj.view(np.uint8).reshape(arr.shape[ap], arr.shape[aq]) != 0
                    fast = False
                proj |= m.any(axis=0)
                along[k0 : k0 + m.shape[0]] = m.reshape(m.shape[0], -1).any(axis=1)
        if fast:
            proj = proj.view(np.uint8).reshape(arr.shape[ap], arr.shape[aq]) != 0
        with lock:
            projections.append(proj)

    parallel.for_ranges(slabs, n, min_part=per)
    if not along.any():
        return None
    proj = np.logical_or.reduce(projections)
    out: list[slice] = [slice(0)] * 3
    for axis, flags in ((ap, proj.any(axis=1)), (aq, proj.any(axis=0)), (ax, along)):
        w = np.flatnonzero(flags)
        out[axis] = slice(int(w[0]), int(w[-1]) + 1)
    return tuple(out)  # type: ignore[return-value]


def _lut(mapping: dict[int, str], max_value: int) -> np.ndarray:
    lut = np.zeros(max(int(max_value), max(mapping, default=0)) + 1, dtype=np.uint8)
    for value, role in mapping.items():
        if 0 < value < lut.size:
            lut[value] = labelsets.ROLE_CODE[role]
    return lut


# --------------------------------------------------------------------------- resampling


def _extent_inside(src: Grid, ref: Grid) -> bool:
    """Whether every corner of ``src`` lies inside ``ref``'s extent (tolerance one voxel)."""
    idx = ref.lps_to_index(src.bounds_lps())
    tol = 1.0 + 1e-6
    lo, hi = -0.5 - tol, np.asarray(ref.shape) - 0.5 + tol
    return bool(np.all(idx >= lo) and np.all(idx <= hi))


def _same_voxels(src: Grid, ref: Grid, tol: float = 1e-3) -> bool:
    """Whether ``src`` holds exactly ``ref``'s voxels in another index order (axes permuted or
    flipped, e.g. a DICOM SEG's frames over its CT): then nearest neighbour is an exact copy."""
    m = np.linalg.inv(src.affine) @ ref.affine  # reference index -> source index
    r, t = m[:3, :3], m[:3, 3]
    if not (np.allclose(r, np.round(r), atol=tol) and np.allclose(np.abs(np.round(r)).sum(axis=0), 1)
            and np.allclose(np.abs(np.round(r)).sum(axis=1), 1) and np.allclose(t, np.round(t), atol=tol)):
        return False
    corners = np.array([[i, j, k] for i in (0, ref.shape[0] - 1) for j in (0, ref.shape[1] - 1)
                        for k in (0, ref.shape[2] - 1)], dtype=float) @ r.T + t
    return bool(np.allclose(corners.min(axis=0), 0, atol=tol)
                and np.allclose(corners.max(axis=0), np.asarray(src.shape) - 1, atol=tol))


def _resample_codes(codes: np.ndarray, src: Grid, ref: Grid) -> tuple[tuple[int, int, int], np.ndarray] | None:
    """Nearest-neighbour resampling of a (cropped) code array onto ``ref``'s voxel centres."""
    corners = ref.lps_to_index(src.bounds_lps())
    lo = np.clip(np.floor(corners.min(axis=0)).astype(int), 0, np.asarray(ref.shape))
    hi = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 1, 0, np.asarray(ref.shape))
    if np.any(hi <= lo):
        return None
    # reference index -> source index: inv(src) @ ref
    m = np.linalg.inv(src.affine) @ ref.affine
    shape = tuple(int(v) for v in hi - lo)
    out = np.zeros(shape, dtype=np.uint8)
    ii, jj = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]), indexing="ij")
    base = m[:3, 0, None, None] * ii + m[:3, 1, None, None] * jj + m[:3, 3, None, None]
    sshape = np.asarray(codes.shape)[:, None, None]
    for kk in range(lo[2], hi[2]):
        s = np.rint(base + m[:3, 2, None, None] * kk).astype(np.int64)
        ok = np.all((s >= 0) & (s < sshape), axis=0)
        sl = out[:, :, kk - lo[2]]
        sl[ok] = codes[s[0][ok], s[1][ok], s[2][ok]]
    return (int(lo[0]), int(lo[1]), int(lo[2])), out


# ------------------------------------------------------------------------------- pieces


def _check_mask_values(arr: np.ndarray, what: str, source: str) -> None:
    """A mask holds 0 and one other value (1 or 255 usually). Label maps and CTs are refused."""
    if arr.dtype.kind == "b":
        return
    mn, mx = arr.min(), arr.max()
    sample = arr[tuple(slice(None, None, max(1, n // 48)) for n in arr.shape)]
    distinct = np.unique(sample)
    if arr.dtype.kind == "f" and mn >= 0 and mx <= 255 and not np.all(distinct == np.round(distinct)):
        raise ImagingInputError(
            what,
            source,
            f"a binary mask (0 and 1, or 0 and 255); this one has fractions between 0 and {float(mx):g}, "
            "like a mask resampled with linear interpolation or a probability map. Resample it with "
            "nearest neighbour, or threshold it at half its maximum",
        )
    # Many distinct values mean a CT image, unless they are whole numbers 0-255: a label map
    # (TotalSegmentator's total task has 117 classes), refused below as such.
    if mn < 0 or (arr.dtype.kind == "f" and not np.all(distinct == np.round(distinct))) or (
        distinct.size > 16 and mx > 255
    ):
        raise ImagingInputError(
            what,
            source,
            f"a binary mask (0 and 1, or 0 and 255); this file has {distinct.size}+ distinct values from "
            f"{float(mn):g} to {float(mx):g}, like a CT image. Pass the CT as the CT argument, not as --mask",
        )
    if mx != 0 and np.any((arr != 0) & (arr != mx)):
        vals = [int(v) for v in distinct if v != 0]
        raise ImagingInputError(
            what,
            source,
            f"a binary mask (0 and 1, or 0 and 255); this file holds several labels ({vals[:10]}), like a "
            "label map. Pass it with --labels and --labelset instead",
        )


def _pieces_from_image(
    img: LabelImage,
    mapping: dict[int, str],
    ref: Grid,
    what: str,
    warnings: list[str],
    separate_tumour: bool = False,
) -> list[_Piece]:
    arr = _as_index_array(img.array, what, img.source)
    if arr.dtype == np.uint8:  # a lookup table over all 256 values: no full pass for min and max
        mx, mn = 255, 0
    else:
        mx = int(arr.max()) if arr.size else 0
        mn = int(arr.min()) if arr.size else 0
    if mn < 0:
        raise ImagingInputError(what, img.source, f"label values >= 0 (found {mn}): is this a CT image?")
    lut = _lut(mapping, mx)
    interest = np.isin(lut, labelsets.LIVER_CODES + (11, 12, 13, 14))
    if mx == 0 or not interest[1 : mx + 1].any():
        return []
    bbox = _interest_bbox(arr, None if interest[1 : mx + 1].all() else interest)
    if bbox is None:
        return []
    crop = arr[bbox]
    if crop.dtype.kind == "f":
        crop = crop.astype(np.int64)
    codes = lut[crop]
    offset = tuple(int(s.start) for s in bbox)
    if img.grid.same_space(ref):
        return [_Piece(offset, codes, separate_tumour, img.source)]
    if not _extent_inside(img.grid, ref):
        raise ImagingInputError(
            what,
            img.source,
            f"an image on the reference grid ({_describe(ref)}) or inside its physical extent; this one is "
            f"{_describe(img.grid)}. Check that the mask belongs to this CT series",
        )
    sub = crop_grid(img.grid, offset, codes.shape)
    res = _resample_codes(codes, sub, ref)
    if _same_voxels(img.grid, ref):  # the same voxels in another order: an exact copy, no warning
        return [] if res is None else [_Piece(res[0], res[1], separate_tumour, img.source)]
    msg = (
        f"{what} ({Path(img.source).name}) is on another grid ({_describe(img.grid)}) than the reference "
        f"({_describe(ref)}); resampled by nearest neighbour."
    )
    if msg not in warnings:  # once per file, not once per segment of a DICOM SEG
        warnings.append(msg)
    if res is None:
        return []
    return [_Piece(res[0], res[1], separate_tumour, img.source)]


def _names_mapping(names: dict[int, str]) -> dict[int, str]:
    out = {}
    for value, name in names.items():
        role = labelsets.normalise_role(name)
        if role is not None and value > 0:
            out[value] = role
    return out


def totalsegmentator_folder_masks(folder: Path) -> list[tuple[str, Path]]:
    """``(role, file)`` pairs for the liver structures in a TotalSegmentator output folder."""
    pairs = []
    for stem, role in labelsets.TOTALSEGMENTATOR_FILES.items():
        for ext in (".nii.gz", ".nii"):
            p = folder / f"{stem}{ext}"
            if p.exists():
                pairs.append((role, p))
                break
    return pairs


def is_totalsegmentator_folder(path: Path) -> bool:
    return path.is_dir() and bool(totalsegmentator_folder_masks(path))


def parse_mask_specs(specs: Iterable[str]) -> list[tuple[str, str]]:
    """``["liver=liver.nii.gz", "tumour=t1.nii.gz"]`` -> ``[(role, path), ...]``."""
    pairs = []
    for spec in specs:
        if "=" not in spec:
            raise ImagingInputError("mask", spec, "ROLE=PATH, e.g. liver=liver.nii.gz")
        role, path = spec.split("=", 1)
        canon = labelsets.normalise_role(role)
        if canon is None:
            raise ImagingInputError("mask", spec, f"a role among {', '.join(MASK_ROLES)}")
        pairs.append((canon, path))
    return pairs


# ------------------------------------------------------------------------------- public


def load_anatomy(
    *,
    ct: str | Path | None = None,
    labels: str | Path | None = None,
    labelset: str | Path | None = None,
    masks: Sequence[tuple[str, str | Path]] = (),
    progress: Progress | None = None,
) -> Anatomy:
    """Read the inputs and return the cropped liver :class:`Anatomy`.

    Parameters
    ----------
    ct : path, optional
        The CT (reference grid). Only its header is read here.
    labels : path, optional
        A multilabel map, or a TotalSegmentator output folder (one file per class).
    labelset : str or path, optional
        ``totalsegmentator``, ``liver_segments``, ``liver_vessels`` or a JSON mapping. When
        absent, the label names stored in the file (DICOM SEG, Slicer, TotalSegmentator's
        NIfTI label table) are used.
    masks : sequence of (role, path)
        Separate binary masks; several ``tumour`` masks are several lesions.

    Raises
    ------
    ImagingInputError
        Unreadable or corrupt files, unknown label set, masks that are label maps or CT
        images, grids that do not cover the same space, an empty liver, a tumour outside it.
    """
    say = progress or (lambda _msg: None)
    warnings: list[str] = []
    masks = list(masks)
    if labels is not None and is_totalsegmentator_folder(Path(labels)):
        masks = totalsegmentator_folder_masks(Path(labels)) + masks
        labels = None
    if labels is None and not masks:
        raise ImagingInputError("labels", None, "a label map (--labels) or at least one mask (--mask ROLE=PATH)")
    _check_distinct_mask_files(masks, labels)
    mapping = labelsets.resolve(labelset) if labelset is not None else None

    ref: Grid | None = read_grid(ct, "ct") if ct is not None else None
    pieces: list[_Piece] = []
    tumour_labelled = False
    if labels is not None:
        say(f"reading labels {Path(labels).name}")
        images = read_label_images(labels, "labels")
        ref = ref or images[0].grid
        # A file of several named images (a DICOM SEG with overlapping segments): those whose
        # names are no liver structure (e.g. "remnant") are skipped with a warning, as long as
        # some are known.
        named = [(img, _names_mapping(img.names)) for img in images] if mapping is None else []
        if len(images) > 1 and any(mp for _, mp in named):
            for img, mp in named:
                if not mp:
                    warnings.append(f"labels: {', '.join(repr(n) for n in img.names.values()) or 'a segment'} "
                                    f"in {Path(labels).name} is not a structure livermet uses; ignored.")
            images = [img for img, mp in named if mp]
        for img in images:
            mp = mapping if mapping is not None else _names_mapping(img.names)
            if mapping is not None and img.names:
                # the file names its labels: say so when the chosen label set disagrees
                for value, role in mapping.items():
                    name = img.names.get(value)
                    if name is not None and labelsets.normalise_role(name) != role:
                        warnings.append(
                            f"labels: value {value} is '{name}' in the file but '{role}' in label set "
                            f"{labelset}; the label set was followed."
                        )
            if not mp:
                raise ImagingInputError(
                    "labelset",
                    None,
                    f"--labelset for {Path(labels).name} (it names no structures itself): one of "
                    f"{', '.join(sorted(labelsets.BUILTIN))}, or a JSON mapping file",
                )
            pieces += _pieces_from_image(img, mp, ref, "labels", warnings)
            tumour_labelled = tumour_labelled or any(r in _TUMOUR_ROLES for r in mp.values())
    tumour_labelled = tumour_labelled or any(role in _TUMOUR_ROLES for role, _ in masks)
    for role, path in masks:
        say(f"reading mask {role}={Path(path).name}")
        what = f"mask {role}"
        for img in read_label_images(path, what):
            _check_mask_values(img.array, what, img.source)
            ref = ref or img.grid
            value = int(img.array.max()) if img.array.size else 0
            if value == 0:
                warnings.append(f"{what} ({Path(path).name}) is empty.")
                continue
            pieces += _pieces_from_image(img, {value: role}, ref, what, warnings, separate_tumour=role == "tumour")
    assert ref is not None
    anat = _assemble(pieces, ref, warnings, labelset, str(ct) if ct else None)
    anat.tumour_labelled = tumour_labelled
    if ct is not None and any("resampled by nearest neighbour" in w for w in warnings):
        _check_liver_lies_on_the_ct(anat, ct)
    return anat


# Plausibility judgement: liver parenchyma and its tumours attenuate well above -200 HU on any
# CT (fat is about -100 HU, air and lung -1000 to -500 HU). A liver of which more than 5% lies
# below -200 HU sits over lung, bowel gas or outside the body: the labels are not where their
# grid puts them (e.g. a cropped label map whose affine was not shifted with the crop).
AIR_HU = -200.0
LIVER_IN_AIR_MAX_FRACTION = 0.05


def _check_liver_lies_on_the_ct(anat: Anatomy, ct: str | Path) -> None:
    """Labels resampled onto the CT must put the liver on soft tissue (only then is the CT read)."""
    from livermet.imaging.io import read_image

    arr, grid = read_image(ct, "ct")
    if not grid.same_space(anat.grid) or arr.min() >= AIR_HU:  # not in HU: nothing to judge
        return
    values = np.asarray(arr[anat.crop_slices])[anat.liver]
    if values.size == 0:
        return
    fraction = float(np.count_nonzero(values < AIR_HU)) / values.size
    if fraction > LIVER_IN_AIR_MAX_FRACTION:
        raise ImagingInputError(
            "ct",
            str(ct),
            f"labels that put the liver on soft tissue of this CT; resampled onto it, {fraction:.0%} of "
            f"the liver lies below {AIR_HU:g} HU (air or lung). The labels were made on another grid: "
            "check that they belong to this CT series and that their position (affine) was kept when "
            "they were cropped; without the CT argument they are measured on their own grid",
        )


_TUMOUR_ROLES = ("tumour",)
# patient direction of +x, +y, +z in LPS: (negative side, positive side)
_LPS_SIDES = (("right", "left"), ("anterior", "posterior"), ("inferior", "superior"))


def _warn_if_cut_off(lo: np.ndarray, hi: np.ndarray, ref: Grid, warnings: list[str]) -> None:
    """The liver reaching the image's edge is probably cut off by the field of view: its
    volumes (and the remnant's share) are then too small. Say on which side."""
    sides = []
    for ax in range(3):
        for at_edge, sign in ((lo[ax] == 0, -1.0), (hi[ax] == ref.shape[ax], 1.0)):
            if at_edge and ref.shape[ax] > 1:
                d = sign * ref.direction[:, ax]
                c = int(np.argmax(np.abs(d)))
                sides.append(_LPS_SIDES[c][int(d[c] > 0)])
    if sides:
        warnings.append(
            f"the liver reaches the {' and '.join(dict.fromkeys(sides))} edge of the image: it is probably cut "
            "off by the field of view, and every volume (liver, segments, remnant) is then too small."
        )


def _check_distinct_mask_files(masks: list, labels) -> None:
    """The same file given for two roles (or twice) is a slip: each role needs its own mask."""
    import os

    seen: dict[str, str] = {}
    if labels is not None and Path(labels).is_file():
        seen[os.path.realpath(labels)] = "--labels"
    for role, path in masks:
        key = os.path.realpath(path)
        if key in seen:
            raise ImagingInputError(
                "mask", f"{role}={path}",
                f"a different file for each mask; this file was also given as {seen[key]}",
            )
        seen[key] = f"{role}="


def _liver_code_mask(c: np.ndarray) -> np.ndarray:
    # codes 1-10: segments, liver, tumour (labelsets.LIVER_CODES)
    return (c - np.uint8(1)) < np.uint8(10)


def _piece_in_crop(p: _Piece, lo, hi) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """Where a piece and the crop [lo, hi) overlap: (slices into the piece, slices into the
    crop), or None when they do not."""
    src, dst = [], []
    for ax in range(3):
        a0 = max(p.offset[ax], lo[ax])
        a1 = min(p.offset[ax] + p.codes.shape[ax], hi[ax])
        if a1 <= a0:
            return None
        src.append(slice(a0 - p.offset[ax], a1 - p.offset[ax]))
        dst.append(slice(a0 - lo[ax], a1 - lo[ax]))
    return tuple(src), tuple(dst)


def _assemble(pieces: list[_Piece], ref: Grid, warnings: list[str], labelset, ct_path) -> Anatomy:
    lo = np.array(ref.shape)
    hi = np.zeros(3, dtype=int)
    found = False
    for p in pieces:
        m = _liver_code_mask(p.codes)
        p_ij = m.any(axis=2)  # one reduction over the big array, then small ones
        if not p_ij.any():
            continue
        found = True
        flags = (p_ij.any(axis=1), p_ij.any(axis=0), m.any(axis=(0, 1)))
        for ax in range(3):
            w = np.flatnonzero(flags[ax])
            lo[ax] = min(lo[ax], p.offset[ax] + w[0])
            hi[ax] = max(hi[ax], p.offset[ax] + w[-1] + 1)
    if not found or np.any(hi <= lo):
        raise ImagingInputError(
            "liver",
            "empty",
            "liver voxels: no liver, segment or tumour label was found"
            + (f" with label set {labelset}" if labelset else "")
            + ". Check --labelset (e.g. totalsegmentator: liver = 5) or pass --mask liver=PATH",
        )
    _warn_if_cut_off(lo, hi, ref, warnings)
    lo = np.maximum(lo - 1, 0)
    hi = np.minimum(hi + 1, np.array(ref.shape))
    shape = tuple(int(v) for v in hi - lo)
    tumour_masks: list[np.ndarray] = []
    vessels: dict[str, np.ndarray] = {}
    liver = np.zeros(shape, dtype=bool)
    segments = np.zeros(shape, dtype=np.uint8)
    tumour = np.zeros(shape, dtype=bool)
    for p in pieces:
        overlap = _piece_in_crop(p, lo, hi)
        if overlap is not None:
            src, d = overlap
            # one copy into C order (the crop's), then every pass below runs along memory
            c = np.ascontiguousarray(p.codes[src])
            np.copyto(segments[d], c, where=(c - np.uint8(1)) < np.uint8(8))  # codes 1-8 are the segments
            liver[d] |= _liver_code_mask(c)
            t = c == labelsets.ROLE_CODE["tumour"]
            if t.any():
                tumour[d] |= t
                if p.separate_tumour:
                    tm = np.zeros(shape, dtype=bool)
                    tm[d] = t
                    tumour_masks.append(tm)
            if c.max() > labelsets.ROLE_CODE["tumour"]:
                for role in ("portal_vein", "hepatic_veins", "ivc", "liver_vessels"):
                    v = c == labelsets.ROLE_CODE[role]
                    if v.any():
                        vessels.setdefault(role, np.zeros(shape, dtype=bool))[d] |= v
    has_segments = bool(segments.any())
    grid_c = crop_grid(ref, lo, shape)
    return Anatomy(
        grid=ref,
        offset=tuple(int(v) for v in lo),
        crop_grid=grid_c,
        liver=liver,
        tumour=tumour,
        segments=segments if has_segments else None,
        segments_method="labels" if has_segments else None,
        tumour_masks=tumour_masks,
        vessels=vessels,
        warnings=warnings,
        ct_path=ct_path,
    )


def check_tumour_inside(anat: Anatomy, lesion_labels: np.ndarray, n: int, boxes: list | None = None) -> None:
    """A lesion with no voxel in or next to the liver parenchyma lies outside the liver.

    ``lesion_labels`` holds the lesions 1..n on the crop (see :func:`lesions.label_lesions`).
    """
    if n == 0:
        return
    from livermet.imaging.lesions import dilate_cube, lesion_boxes

    parenchyma = anat.liver & ~anat.tumour
    if not parenchyma.any():
        raise ImagingInputError(
            "liver", "tumour only", "liver parenchyma besides the tumour (pass --mask liver=PATH or a liver label)"
        )
    if boxes is None:
        boxes = lesion_boxes(lesion_labels, n)
    for i, sl in enumerate(boxes, start=1):
        if sl is None:
            continue
        box = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in sl)
        comp = lesion_labels[box] == i
        near = dilate_cube(comp)
        if not (near & parenchyma[box]).any():
            centre = anat.crop_grid.index_to_lps(np.argwhere(comp).mean(axis=0) + [s.start for s in box])
            raise ImagingInputError(
                "tumour",
                f"lesion at LPS ({centre[0]:.0f}, {centre[1]:.0f}, {centre[2]:.0f}) mm",
                "tumours inside the liver: this one touches no liver voxel. Check that the tumour mask "
                "and the liver mask belong to the same study and label set",
            )


def read_into_crop(path: str | Path, anat: Anatomy, mapping: dict[int, str] | None, what: str) -> np.ndarray:
    """Read a label map onto ``anat``'s crop (role codes, uint8), resampling when needed.

    ``mapping`` None keeps values 1-8 as they are (e.g. portal branch N -> segment N).
    """
    mp = mapping or {n: f"segment_{n}" for n in range(1, 9)}
    out = np.zeros(anat.liver.shape, dtype=np.uint8)
    lo = np.asarray(anat.offset)
    hi = lo + np.asarray(anat.liver.shape)
    for img in read_label_images(path, what):
        for p in _pieces_from_image(img, mp, anat.grid, what, anat.warnings):
            overlap = _piece_in_crop(p, lo, hi)
            if overlap is not None:
                c = p.codes[overlap[0]]
                view = out[overlap[1]]
                view[c > 0] = c[c > 0]
    return out
