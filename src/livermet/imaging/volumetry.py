"""Volumes in millilitres from voxel counts and the physical voxel volume.

The voxel volume is ``|det(A)|`` of the 3x3 part of the voxel-to-patient affine
(:attr:`Grid.voxel_volume_ml`), so volumes do not depend on orientation, axis order, flips
or obliquity. Counting is done with ``np.count_nonzero`` and chunked ``np.bincount`` on the
liver crop: no float copy of any volume is ever made.
"""

from __future__ import annotations

import numpy as np

from livermet.imaging.grid import Grid

_CHUNK = 8_000_000


def volume_ml(mask: np.ndarray, grid: Grid) -> float:
    """Volume of the non-zero voxels of ``mask`` in mL."""
    return int(np.count_nonzero(mask)) * grid.voxel_volume_ml


def label_counts(labels: np.ndarray, minlength: int, where: np.ndarray | None = None) -> np.ndarray:
    """Voxel count per label value (``np.bincount`` in chunks, optionally restricted to ``where``)."""
    flat = labels.reshape(-1)
    sel = None if where is None else where.reshape(-1)
    counts = np.zeros(minlength, dtype=np.int64)
    for a in range(0, flat.size, _CHUNK):
        chunk = flat[a : a + _CHUNK]
        if sel is not None:
            chunk = chunk[sel[a : a + _CHUNK]]
        c = np.bincount(chunk, minlength=minlength)
        counts[: c.size] += c[:minlength]
    return counts


def segment_volumes_ml(
    segments: np.ndarray, grid: Grid, where: np.ndarray | None = None
) -> dict[str, float]:
    """Volume of each Couinaud segment 1-8 in mL, keys ``"1"`` ... ``"8"``."""
    counts = label_counts(segments, 9, where)
    vv = grid.voxel_volume_ml
    return {str(n): float(counts[n] * vv) for n in range(1, 9)}


def fill_unassigned_segments(
    segments: np.ndarray, liver: np.ndarray, grid: Grid, boxes: list[tuple[slice, ...]] | None = None
) -> int:
    """Give liver voxels without a segment (typically tumour voxels cut out of a segment map)
    the segment of the nearest labelled voxel (physical distance). Modifies ``segments`` in
    place; returns the number of voxels filled.

    ``boxes`` (e.g. the lesions' bounding boxes) limit the work when they hold every
    unassigned voxel; each is padded by 3 voxels. Otherwise the bounding box of all
    unassigned voxels is used.
    """
    todo = liver & (segments == 0)
    total = int(np.count_nonzero(todo))
    if total == 0 or not segments.any():
        return 0
    if boxes:
        padded = [
            tuple(slice(max(s.start - 3, 0), min(s.stop + 3, n)) for s, n in zip(b, segments.shape)) for b in boxes
        ]
        inside = sum(int(np.count_nonzero(todo[b])) for b in padded) if len(padded) < 64 else -1
        if inside >= total:
            done = 0
            for b in padded:
                done += _fill_box(segments, todo, grid, b)
            if not (liver & (segments == 0)).any():
                return done
    idx = np.argwhere(todo)
    lo = np.maximum(idx.min(axis=0) - 3, 0)
    hi = np.minimum(idx.max(axis=0) + 4, segments.shape)
    return _fill_box(segments, liver & (segments == 0), grid, tuple(slice(int(a), int(b)) for a, b in zip(lo, hi)))


def _fill_box(segments: np.ndarray, todo: np.ndarray, grid: Grid, box: tuple[slice, ...]) -> int:
    from scipy import ndimage

    seg_box = segments[box]
    t = todo[box] & (seg_box == 0)
    if not t.any():
        return 0
    if not seg_box.any():  # no labelled voxel near: use the whole crop
        box = tuple(slice(0, s) for s in segments.shape)
        seg_box = segments
        t = todo & (segments == 0)
    nearest = ndimage.distance_transform_edt(
        seg_box == 0, sampling=grid.spacing, return_distances=False, return_indices=True
    )
    seg_box[t] = seg_box[tuple(ix[t] for ix in nearest)]
    return int(t.sum())
