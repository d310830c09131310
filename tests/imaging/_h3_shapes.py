"""Small analytic shapes on arbitrary grids for the volumetry tests (ellipsoids, spheres,
planes), and helpers to flip / permute a volume without moving it in space."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from livermet.imaging.grid import RAS_TO_LPS, Grid


def rotation(ax: float, ay: float, az: float) -> np.ndarray:
    """Rotation matrix from three angles in degrees (x, then y, then z)."""
    a, b, c = (math.radians(v) for v in (ax, ay, az))
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def make_grid(shape, spacing, direction=None, centre=(10.0, -20.0, 30.0)) -> Grid:
    """A grid whose centre voxel sits at ``centre`` (LPS mm)."""
    d = np.eye(3) if direction is None else np.asarray(direction, float)
    aff = np.eye(4)
    aff[:3, :3] = d * np.asarray(spacing, float)
    half = (np.asarray(shape, float) - 1) / 2
    aff[:3, 3] = np.asarray(centre, float) - aff[:3, :3] @ half
    return Grid(tuple(shape), aff)


def world(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LPS coordinates of every voxel centre (float32 to keep test memory small)."""
    idx = np.indices(grid.shape, dtype=np.float32).reshape(3, -1).T
    xyz = grid.index_to_lps(idx).astype(np.float32)
    return tuple(xyz[:, i].reshape(grid.shape) for i in range(3))  # type: ignore[return-value]


def ellipsoid(grid: Grid, centre, semi_axes) -> np.ndarray:
    x, y, z = world(grid)
    c = np.asarray(centre, float)
    a, b, cc = semi_axes
    return ((x - c[0]) / a) ** 2 + ((y - c[1]) / b) ** 2 + ((z - c[2]) / cc) ** 2 <= 1.0


def ellipsoid_ml(semi_axes) -> float:
    a, b, c = semi_axes
    return 4.0 / 3.0 * math.pi * a * b * c / 1000.0


def flip(arr: np.ndarray, grid: Grid, axis: int) -> tuple[np.ndarray, Grid]:
    """Reverse one stored axis; the affine changes so that every voxel stays in place."""
    aff = np.array(grid.affine)
    aff[:3, 3] = aff[:3, 3] + aff[:3, axis] * (grid.shape[axis] - 1)
    aff[:3, axis] = -aff[:3, axis]
    return np.flip(arr, axis).copy(), Grid(grid.shape, aff)


def permute(arr: np.ndarray, grid: Grid, order) -> tuple[np.ndarray, Grid]:
    """Reorder the stored axes; the affine's columns follow, so the object stays in place."""
    aff = np.array(grid.affine)
    aff[:3, :3] = aff[:3, list(order)]
    return np.transpose(arr, order).copy(), Grid(tuple(grid.shape[o] for o in order), aff)


def save_nifti(path: Path, arr: np.ndarray, grid: Grid) -> Path:
    import nibabel as nib

    nib.save(nib.Nifti1Image(arr, RAS_TO_LPS @ grid.affine), str(path))
    return path
