"""The voxel grid every imaging function shares.

Arrays are indexed ``[i, j, k]`` (k = slice); ``affine`` maps a voxel index to patient
coordinates in **LPS** millimetres (the DICOM convention; NIfTI's RAS is converted on
load by flipping the first two rows). Volumes are physical: ``voxel_volume_ml`` uses the
determinant of the affine, so they are the same in any orientation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Grid:
    shape: tuple[int, int, int]
    affine: np.ndarray  # 4x4, voxel index -> LPS mm

    def __post_init__(self) -> None:
        aff = np.asarray(self.affine, dtype=float)
        if aff.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got shape {aff.shape}")
        aff.setflags(write=False)
        object.__setattr__(self, "affine", aff)
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))

    @classmethod
    def from_ras_affine(cls, shape, affine_ras) -> "Grid":
        return cls(tuple(shape), RAS_TO_LPS @ np.asarray(affine_ras, dtype=float))

    @property
    def affine_ras(self) -> np.ndarray:
        return RAS_TO_LPS @ self.affine

    @property
    def spacing(self) -> tuple[float, float, float]:
        return tuple(float(v) for v in np.linalg.norm(self.affine[:3, :3], axis=0))

    @property
    def direction(self) -> np.ndarray:
        return self.affine[:3, :3] / np.asarray(self.spacing)

    @property
    def voxel_volume_ml(self) -> float:
        return abs(float(np.linalg.det(self.affine[:3, :3]))) / 1000.0

    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        ijk = np.asarray(ijk, dtype=float)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def lps_to_index(self, xyz: np.ndarray) -> np.ndarray:
        inv = np.linalg.inv(self.affine)
        xyz = np.asarray(xyz, dtype=float)
        return xyz @ inv[:3, :3].T + inv[:3, 3]

    def same_space(self, other: "Grid", tol_mm: float = 1e-3) -> bool:
        """Same shape and the same voxel-to-world mapping (within ``tol_mm``)."""
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, atol=tol_mm)
        )

    def bounds_lps(self) -> np.ndarray:
        """The 8 corner points (voxel edges) of the grid in LPS mm."""
        s = np.asarray(self.shape, dtype=float)
        corners = np.array(
            [[i, j, k] for i in (-0.5, s[0] - 0.5) for j in (-0.5, s[1] - 0.5) for k in (-0.5, s[2] - 0.5)]
        )
        return self.index_to_lps(corners)
