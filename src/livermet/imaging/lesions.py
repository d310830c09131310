"""Lesions: connected tumour components (or separate tumour masks), their volume, longest
axial diameter (RECIST), centroid and the Couinaud segments they touch.

Connectivity is **26** (face, edge and corner neighbours, ``np.ones((3, 3, 3))``): two tumour
voxels touching only by a corner belong to the same lesion, as a reader would see them.

The longest axial diameter follows RECIST 1.1 (Eisenhauer et al., Eur J Cancer
2009;45:228-247): the longest in-plane diameter on any axial slice. Slices are taken along
the stored axis closest to the patient's superior-inferior axis; in-plane distances are
physical (the affine's columns), so anisotropic pixels and any flip or permutation of the
axes give the same answer (see :func:`longest_axial_diameter_mm` for the estimator). For a
volume stored obliquely (slice axis more than 1 degree from the patient's S axis) the
voxel centres are instead binned into true axial (patient z) slabs one voxel thick, and the
diameter is measured in the patient x-y plane (:func:`oblique_axial_diameter_mm`).

Components and their bounding boxes come from ``cc3d`` (connected-components-3d, Silversmith,
seung-lab), which imports in milliseconds; ``scipy.ndimage`` (label / find_objects, the same
26-connectivity) is the fallback when cc3d is not installed. Both give the same components
(``tests/imaging/test_components_peer.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from livermet.imaging.grid import Grid

CONNECTIVITY = 26
OBLIQUE_DEGREES = 1.0  # slice axis this far from the patient S axis: measure in true axial slabs
_STRUCTURE = np.ones((3, 3, 3), dtype=bool)


@dataclass
class Lesion:
    id: str
    volume_ml: float
    longest_axial_diameter_mm: float
    centroid_mm: tuple[float, float, float]
    segments: list[int] = field(default_factory=list)
    voxels: int = 0
    label: int = 0  # value in the lesion label array
    bbox: tuple[slice, slice, slice] | None = None
    source: str = "component"

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "volume_ml": round(self.volume_ml, 3),
            "longest_axial_diameter_mm": round(self.longest_axial_diameter_mm, 1),
            "segments": list(self.segments),
            "centroid_mm": [round(v, 1) for v in self.centroid_mm],
            "voxels": self.voxels,
            "source": self.source,
        }


def axial_axis(grid: Grid) -> tuple[int, float]:
    """The stored axis closest to the patient S axis, and its angle to it in degrees."""
    d = grid.direction
    a = int(np.argmax(np.abs(d[2, :])))
    angle = float(np.degrees(np.arccos(min(1.0, abs(d[2, a])))))
    return a, angle


def _feret(points: np.ndarray) -> tuple[float, np.ndarray]:
    """Longest distance between two points and the vector joining them."""
    if len(points) < 2:
        return 0.0, np.array([1.0, 0.0])
    best, vec = -1.0, np.array([1.0, 0.0])
    for i in range(0, len(points), 512):  # blocks keep the pairwise matrix small
        diff = points[i : i + 512, None, :] - points[None, :, :]
        d2 = (diff**2).sum(-1)
        k = int(d2.argmax())
        if d2.flat[k] > best:
            best = float(d2.flat[k])
            vec = diff.reshape(-1, 2)[k]
    return float(np.sqrt(best)), vec


_BOUND_DIRECTIONS = 8
_BOUND_DIRS = np.stack(
    [np.cos(np.arange(_BOUND_DIRECTIONS) * np.pi / _BOUND_DIRECTIONS),
     np.sin(np.arange(_BOUND_DIRECTIONS) * np.pi / _BOUND_DIRECTIONS)], axis=1
)


def longest_axial_diameter_mm(mask: np.ndarray, grid: Grid) -> float:
    """RECIST longest axial diameter of a (cropped) binary lesion mask, in mm.

    On each axial slice: the longest distance between two lesion pixel centres (only the
    first and last pixel of each row can be its ends), plus half the pixel's extent along
    that direction. In a Monte Carlo check on digitised ellipses (5-40 mm, pixels 0.5-1.5
    mm, random position and angle) this estimator erred by +0.16 mm on average (sd 0.3 mm),
    against -0.49 mm for centres alone and +0.83 mm for the pixel squares' outline.
    """
    a, tilt = axial_axis(grid)
    if tilt > OBLIQUE_DEGREES:
        return oblique_axial_diameter_mm(mask, grid)
    u, v = [x for x in range(3) if x != a]
    cu, cv = grid.affine[:3, u], grid.affine[:3, v]
    # orthonormal in-plane basis from the two stored in-plane axes (exact for orthogonal axes)
    e1 = cu / np.linalg.norm(cu)
    cv_perp = cv - np.dot(cv, e1) * e1
    e2 = cv_perp / np.linalg.norm(cv_perp)
    m2 = np.array([[np.dot(cu, e1), np.dot(cv, e1)], [np.dot(cu, e2), np.dot(cv, e2)]])  # (u,v)->plane
    pix_u, pix_v = m2[:, 0], m2[:, 1]  # one pixel step along u and along v, in the plane
    pix_diag = float(np.linalg.norm(pix_u) + np.linalg.norm(pix_v))
    # Each row of each axial slice can only end a diameter at its first and last pixel: find
    # them for all slices at once, then the span of each slice's points (an upper bound).
    m = np.moveaxis(np.asarray(mask, dtype=bool), a, 0)  # (slice, u, v)
    nv = m.shape[2]
    kk, rows = np.nonzero(m.any(axis=2))  # sorted by slice, then row
    if kk.size == 0:
        return 0.0
    first = m.argmax(axis=2)[kk, rows]
    last = nv - 1 - m[:, :, ::-1].argmax(axis=2)[kk, rows]
    ends = np.concatenate([np.stack([rows, first], 1), np.stack([rows, last], 1)]).astype(float) @ m2.T
    slice_of = np.concatenate([kk, kk])
    order = np.argsort(slice_of, kind="stable")
    ends, slice_of = ends[order], slice_of[order]
    starts = np.flatnonzero(np.r_[True, slice_of[1:] != slice_of[:-1]])
    # Upper bound of each slice's longest distance: its widths in _BOUND_DIRECTIONS evenly spread
    # directions; the true longest distance is at most the largest width / cos(half the step).
    proj = ends @ _BOUND_DIRS.T
    widths = np.maximum.reduceat(proj, starts, axis=0) - np.minimum.reduceat(proj, starts, axis=0)
    bounds = widths.max(axis=1) / np.cos(np.pi / (2 * _BOUND_DIRECTIONS)) + pix_diag / 2
    stops = np.r_[starts[1:], len(ends)]
    candidates = [(float(bounds[i]), ends[starts[i] : stops[i]]) for i in range(len(starts))]
    best = 0.0
    # largest slices first; a slice whose bounding-box bound cannot beat the best is skipped
    for bound, pts in sorted(candidates, key=lambda c: -c[0]):
        if bound <= best:
            break
        dist, vec = _feret(pts)
        unit = vec / dist if dist > 0 else np.array([1.0, 0.0])
        extent = abs(float(unit @ pix_u)) + abs(float(unit @ pix_v))  # pixel width along unit
        best = max(best, dist + extent / 2)
    return best


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    f = np.concatenate([[False], flags, [False]]).astype(np.int8)
    d = np.diff(f)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _split_boxes(mask: np.ndarray, box: tuple[slice, slice, slice], out: list) -> None:
    """Cut ``box`` along empty planes (guillotine cuts) until no empty plane is left.

    A connected component never crosses an empty plane, so the boxes can be labelled one by
    one: for sparse tumours this labels a few small boxes instead of the whole liver.
    """
    sub = mask[box]
    for ax in range(3):
        prof = sub.any(axis=tuple(a for a in range(3) if a != ax))
        runs = _runs(prof)
        if not runs:
            return
        if len(runs) > 1 or runs[0] != (0, sub.shape[ax]):
            for a, b in runs:
                nb = list(box)
                start = box[ax].start
                nb[ax] = slice(start + a, start + b)
                _split_boxes(mask, tuple(nb), out)  # type: ignore[arg-type]
            return
    out.append(box)


def oblique_axial_diameter_mm(mask: np.ndarray, grid: Grid) -> float:
    """Longest axial diameter for an obliquely stored volume, in the patient's axial plane.

    Voxel centres are grouped into patient-z slabs as thick as the smallest voxel side; in
    each slab the longest x-y distance between centres (searched among the extreme points in
    64 directions) is extended by half that voxel side. In a Monte Carlo check (ellipsoids
    3-15 mm semi-axes, voxels 0.7-1.3 mm, tilts 5-40 degrees) this erred by 0.00 mm on
    average (sd 0.23 mm, range -0.9 to +0.3 mm).
    """
    pts = grid.index_to_lps(np.argwhere(mask).astype(float))
    if len(pts) == 0:
        return 0.0
    step = min(grid.spacing)
    slab = np.floor(pts[:, 2] / step).astype(np.int64)
    order = np.argsort(slab, kind="stable")
    pts, slab = pts[order], slab[order]
    cuts = np.flatnonzero(np.diff(slab)) + 1
    ang = np.linspace(0.0, np.pi, 64, endpoint=False)
    dirs = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    best = 0.0
    for group in np.split(pts[:, :2], cuts):
        if len(group) > 128:
            proj = group @ dirs.T
            keep = np.unique(np.concatenate([proj.argmax(axis=0), proj.argmin(axis=0)]))
            group = group[keep]
        dist, _ = _feret(group)
        best = max(best, dist + step / 2)
    return best


def label_lesions(
    tumour: np.ndarray, tumour_masks: list[np.ndarray] | None = None
) -> tuple[np.ndarray, int, list[str]]:
    """Lesion label array (int32, 1..n) and the source of each label.

    With two or more separate tumour masks, each mask is one lesion (tumour voxels outside all
    of them are split into connected components). Otherwise the lesions are the 26-connected
    components of the tumour.
    """
    labels, n, sources, _ = label_lesions_with_boxes(tumour, tumour_masks)
    return labels, n, sources


def label_lesions_with_boxes(
    tumour: np.ndarray, tumour_masks: list[np.ndarray] | None = None
) -> tuple[np.ndarray, int, list[str], list[tuple[slice, slice, slice] | None]]:
    """:func:`label_lesions` and each label's bounding box (as :func:`lesion_boxes`)."""
    masks = list(tumour_masks or [])
    if len(masks) >= 2:
        labels = np.zeros(tumour.shape, dtype=np.int32)
        sources = []
        for n, m in enumerate(masks, start=1):
            labels[m] = n
            sources.append(f"mask {n}")
        rest = tumour & (labels == 0)
        if rest.any():
            lab, k = _components(rest)
            labels[rest] = lab[rest] + len(masks)
            sources += ["component"] * k
        return labels, len(sources), sources, lesion_boxes(labels, len(sources))
    boxes: list[tuple[slice, slice, slice] | None] = []
    labels, n = _components(tumour, boxes)
    return labels, n, ["component"] * n, boxes


def _cc3d():
    """The cc3d module, or None when connected-components-3d is not installed."""
    try:
        import cc3d
    except ImportError:  # pragma: no cover - scipy.ndimage does the same, only slower to import
        return None
    return cc3d


def label_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """26-connected components of a boolean mask: int32 labels 1..n (0 = background) and n.

    cc3d when installed, else ``scipy.ndimage.label`` with a 3x3x3 structure (same result up
    to the numbering of the components).
    """
    cc3d = _cc3d()
    if cc3d is not None:
        lab, k = cc3d.connected_components(
            np.asarray(mask, dtype=bool), connectivity=CONNECTIVITY, return_N=True, out_dtype=np.uint32
        )
        return lab.view(np.int32), int(k)
    from scipy import ndimage

    lab, k = ndimage.label(mask, structure=_STRUCTURE, output=np.int32)
    return lab, int(k)


def lesion_boxes(labels: np.ndarray, n: int) -> list[tuple[slice, slice, slice] | None]:
    """Bounding box of each label 1..n (None for a label with no voxel).

    The same as ``scipy.ndimage.find_objects(labels, max_label=n)``; computed by
    ``cc3d.statistics`` when cc3d is installed.
    """
    if n == 0:
        return []
    cc3d = _cc3d()
    if cc3d is None:
        from scipy import ndimage

        return list(ndimage.find_objects(labels, max_label=n))
    lab = labels if labels.dtype in (np.uint32, np.int32) else labels.astype(np.int32)
    if lab.dtype == np.int32:
        lab = lab.view(np.uint32)  # labels are >= 0
    stats = cc3d.statistics(lab)
    counts = stats["voxel_counts"]
    out: list[tuple[slice, slice, slice] | None] = []
    for k in range(1, n + 1):
        if k < len(counts) and counts[k] > 0:
            out.append(tuple(slice(int(b.start), int(b.stop)) for b in stats["bounding_boxes"][k]))  # type: ignore[arg-type]
        else:
            out.append(None)
    return out


def dilate_cube(mask: np.ndarray) -> np.ndarray:
    """Binary dilation by the 3x3x3 cube (26 neighbours), voxels outside the array being 0.

    The cube is separable: three one-voxel dilations along the axes give exactly
    ``scipy.ndimage.binary_dilation(mask, structure=np.ones((3, 3, 3)))``.
    """
    out = np.array(mask, dtype=bool)
    for ax in range(out.ndim):
        src = out.copy()
        lo = [slice(None)] * out.ndim
        hi = [slice(None)] * out.ndim
        lo[ax], hi[ax] = slice(None, -1), slice(1, None)
        out[tuple(hi)] |= src[tuple(lo)]
        out[tuple(lo)] |= src[tuple(hi)]
    return out


_MAX_CELL_PAIRS = 250_000


def min_distance_mm(
    a: np.ndarray, b: np.ndarray, spacing: tuple[float, float, float] | np.ndarray, limit: float = np.inf
) -> float:
    """Smallest distance in mm between a voxel centre of ``a`` and one of ``b`` (same box).

    Exact, and equal to ``scipy.ndimage.distance_transform_edt(~b, sampling=spacing)[a].min()``
    (the same floating-point operations), without importing scipy. Only voxels with a
    26-neighbour outside their own set can be the closest pair (a step from an inner voxel
    towards the other set stays inside its set and comes closer), so the two surfaces are
    compared, cell by cell in order of the cells' lower-bound distance, until no cell pair
    can beat the best found. Above ``limit`` the answer is only known to exceed ``limit``:
    then some value > ``limit`` (possibly inf) is returned. inf when either set is empty.
    """
    sp = np.asarray(spacing, dtype=float)
    if (a & b).any():
        return 0.0
    ia = np.argwhere(a & dilate_cube(~a))
    ib = np.argwhere(b & dilate_cube(~b))
    if len(ia) == 0 or len(ib) == 0:
        return float("inf")
    cell = 8
    while True:
        ca, cb = _cells(ia, cell, sp), _cells(ib, cell, sp)
        if len(ca[0]) * len(cb[0]) <= _MAX_CELL_PAIRS:
            break
        cell *= 2
    starts_a, lo_a, hi_a, ia = ca  # indices now sorted by cell
    starts_b, lo_b, hi_b, ib = cb
    gap = np.maximum(0.0, np.maximum(lo_b[None, :, :] - hi_a[:, None, :], lo_a[:, None, :] - hi_b[None, :, :]))
    lower = (gap**2).sum(axis=2)
    order = np.argsort(lower, axis=None, kind="stable")
    lower = lower.ravel()[order]
    ends_a = np.append(starts_a[1:], len(ia))
    ends_b = np.append(starts_b[1:], len(ib))
    best = np.inf
    stop = (float(limit) + 1e-9) ** 2 if np.isfinite(limit) else np.inf
    for pos, flat in enumerate(order):
        lb = lower[pos]
        if lb >= best or lb > stop:
            break
        i, j = divmod(int(flat), len(starts_b))
        pa = ia[starts_a[i] : ends_a[i]]
        pb = ib[starts_b[j] : ends_b[j]]
        d = (pa[:, None, :] - pb[None, :, :]).astype(float) * sp  # as scipy: index differences, then mm
        d2 = d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2]
        best = min(best, float(d2.min()))
    return float(np.sqrt(best))


def _cells(idx: np.ndarray, cell: int, sp: np.ndarray):
    """Group voxel indices by cubic cell: cell starts, per-cell bounding boxes in mm, sorted indices."""
    key = idx // cell
    k = (key[:, 0] * (key[:, 1].max() + 1) + key[:, 1]) * (key[:, 2].max() + 1) + key[:, 2]
    order = np.argsort(k, kind="stable")
    idx, k = idx[order], k[order]
    starts = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
    mm = idx * sp
    return starts, np.minimum.reduceat(mm, starts, axis=0), np.maximum.reduceat(mm, starts, axis=0), idx


def _components(mask: np.ndarray, boxes_out: list | None = None) -> tuple[np.ndarray, int]:
    """26-connected components, labelled box by box (see :func:`_split_boxes`); with
    ``boxes_out``, each component's bounding box is appended to it (label order)."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    boxes: list = []
    _split_boxes(mask, tuple(slice(0, s) for s in mask.shape), boxes)  # type: ignore[arg-type]
    n = 0
    for box in boxes:
        lab, k = label_components(mask[box])
        if k:
            view = labels[box]
            sel = lab > 0
            view[sel] = lab[sel] + n
            n += int(k)
            if boxes_out is not None:
                for sub in lesion_boxes(lab, int(k)):
                    assert sub is not None  # components are labelled 1..k without gaps
                    boxes_out.append(tuple(slice(b.start + s.start, b.stop + s.start) for b, s in zip(sub, box)))
    return labels, n


def measure_lesions(
    labels: np.ndarray,
    n: int,
    grid: Grid,
    segments: np.ndarray | None = None,
    sources: list[str] | None = None,
    boxes: list | None = None,
) -> list[Lesion]:
    """Measure each labelled lesion on ``grid`` (the grid of ``labels``, e.g. a crop).

    Lesions are numbered L1, L2... by decreasing volume.
    """
    out: list[Lesion] = []
    if n == 0:
        return out
    boxes = lesion_boxes(labels, n) if boxes is None else boxes
    vv = grid.voxel_volume_ml
    for lab, box in enumerate(boxes, start=1):
        if box is None:
            continue
        m = labels[box] == lab
        count = int(m.sum())
        origin = np.array([s.start for s in box], dtype=float)
        centroid = grid.index_to_lps(np.argwhere(m).mean(axis=0) + origin)
        segs: list[int] = []
        if segments is not None:
            s = segments[box][m]
            segs = [int(x) for x in np.flatnonzero(np.bincount(s, minlength=9)[1:]) + 1]
        out.append(
            Lesion(
                id="",
                volume_ml=count * vv,
                longest_axial_diameter_mm=longest_axial_diameter_mm(m, grid),
                centroid_mm=tuple(float(c) for c in centroid),
                segments=segs,
                voxels=count,
                label=lab,
                bbox=box,
                source=(sources or ["component"] * n)[lab - 1],
            )
        )
    out.sort(key=lambda les: (-les.voxels, les.centroid_mm))
    for i, les in enumerate(out, start=1):
        les.id = f"L{i}"
    return out
