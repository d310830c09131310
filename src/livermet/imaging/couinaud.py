"""Couinaud segments when no segment labels are given: from landmarks or portal branches.

Two methods, both returning a ``uint8`` map (0 outside the liver, 1-8 = Couinaud segment):

``segments_from_landmarks``
    Splits the liver by the classical planes (Couinaud 1957; Bismuth, Ann Surg
    1982;196:3-9; the review's *Surgical Anatomy* section [6-9]). The three hepatic veins
    run in three vertical scissurae that contain the inferior vena cava (IVC); the
    transverse plane through the portal bifurcation separates superior from inferior
    segments; the umbilical fissure separates segment 4 from the left lateral section.
``segments_from_portal_branches``
    Vascular territories: every liver voxel goes to the nearest labelled portal branch,
    measured in millimetres (the segment *is* the territory of its portal pedicle).

The scheme used by ``segments_from_landmarks`` (and its simplifications)
--------------------------------------------------------------------------
Let the *IVC axis* be the line through the mean of the IVC points along their principal
direction (the patient's z axis when they do not span 10 mm), oriented to the head.

1. **Middle hepatic vein (MHV) plane** (Cantlie's line, the main portal scissura): the plane
   containing the IVC axis and the MHV points. The side holding the right hepatic vein is
   the right liver (segments 5-8); the other side is the left liver (1-4).
2. **Right hepatic vein (RHV) plane** (right portal scissura): contains the IVC axis and the
   RHV points. In the right liver, the side holding the MHV is the right anterior section
   (5, 8); the other side the right posterior section (6, 7).
3. **Portal plane**: through the portal bifurcation, perpendicular to the IVC axis. Above it
   8 and 7, below it 5 and 6. Segment 4 is not split into 4a/4b (volumetry reports 4).
4. **Umbilical fissure plane**: the vertical plane (containing the IVC axis direction) that
   best fits the fissure points. In the left liver, the side holding the MHV is segment 4;
   the other side is the left lateral section.
5. **Left hepatic vein (LHV) plane** (left portal scissura): contains the IVC axis and the
   LHV points. In the left lateral section, the side holding the umbilical fissure is
   segment 3, the other segment 2. This follows Couinaud (the LHV runs between 2 and 3);
   Bismuth's variant splits 2 from 3 by the portal plane instead. A vertical plane makes 2
   the posterior and 3 the anterior part at every level, whereas in reality the lowest
   part of the left lateral section is all segment 3.
6. **Segment 1 (caudate)**: liver that is at once behind the portal bifurcation (on the IVC
   side of the plane through the bifurcation perpendicular to the bifurcation-IVC
   direction), in the left liver (step 1), on segment 4's side of the umbilical fissure,
   above the portal plane and below the hepatic-vein confluence (each vein's points
   extrapolated in a straight line to the IVC axis; the lowest of the three). The caudate process to the right of the IVC and the
   part below the portal plane go to the neighbouring segments.

The planes are flat: real scissurae are curved, so voxels near a boundary can be assigned
to the neighbour. On the synthetic phantom (:mod:`livermet.imaging.phantom`) the method
reproduces the true segments with a Dice coefficient above 0.9 for every segment (tested).
Always check the result on the figures before trusting a segment volume.

Landmarks file (public format)
------------------------------
JSON, points in patient millimetres::

    {
      "coordinate_system": "LPS",
      "right_hepatic_vein":  [[x, y, z], ...],   # >= 2 points along the vein
      "middle_hepatic_vein": [[x, y, z], ...],   # >= 2 points
      "left_hepatic_vein":   [[x, y, z], ...],   # >= 2 points
      "ivc":                 [[x, y, z], ...],   # >= 1 point on the IVC axis (centre line)
      "portal_bifurcation":  [x, y, z],
      "umbilical_fissure":   [[x, y, z], ...]    # >= 2 points spanning >= 5 mm axially
    }

``coordinate_system`` is ``"LPS"`` (DICOM patient coordinates: x to the patient's left, y
to the back, z to the head; the default when absent) or ``"RAS"`` (NIfTI/3D Slicer world
coordinates: x and y negated). Other keys are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.grid import Grid

VEIN_KEYS = ("right_hepatic_vein", "middle_hepatic_vein", "left_hepatic_vein")
POINT_LIST_KEYS = (*VEIN_KEYS, "ivc", "umbilical_fissure")
REQUIRED_KEYS = (*POINT_LIST_KEYS, "portal_bifurcation")
MIN_POINTS = {"right_hepatic_vein": 2, "middle_hepatic_vein": 2, "left_hepatic_vein": 2, "ivc": 1,
              "umbilical_fissure": 2}
_IVC_MIN_SPAN_MM = 10.0  # below this, the IVC points give no direction: use the z axis
_MIN_OFFSET_MM = 3.0  # vein points closer than this to the IVC axis carry no direction
# Geometric degeneracy, not anatomy: fissure points spread less than this, or a portal bifurcation
# nearer than this to the IVC axis, cannot orient a plane reliably.
_MIN_SPREAD_MM = 5.0
_MIN_SIDE_MM = 2.0  # a reference point must lie at least this far from a plane


# --- landmarks ------------------------------------------------------------------------------


def _point(value: Any, field: str) -> np.ndarray:
    arr = None
    if isinstance(value, (list, tuple)) and len(value) == 3:
        try:
            arr = np.asarray([float(v) for v in value], dtype=float)
        except (TypeError, ValueError):
            arr = None
    if arr is None or not np.all(np.isfinite(arr)):
        raise ImagingInputError(field, json.dumps(value, default=str)[:80], "a point [x, y, z] of 3 finite numbers (mm)")
    return arr


def validate_landmarks(landmarks: Any) -> dict[str, Any]:
    """Check a landmarks mapping and return it as LPS numpy arrays.

    Returns a dict with ``(n, 3)`` arrays for the point lists and a ``(3,)`` array for
    ``portal_bifurcation``. Raises :class:`ImagingInputError` naming the first bad field.
    """
    if not isinstance(landmarks, dict):
        raise ImagingInputError("landmarks", type(landmarks).__name__, "a JSON object with the keys " + ", ".join(REQUIRED_KEYS))
    missing = [k for k in REQUIRED_KEYS if k not in landmarks]
    if missing:
        raise ImagingInputError(
            "landmarks", f"missing {', '.join(missing)}", "all of " + ", ".join(REQUIRED_KEYS) + " (format: docs/landmarks.md)"
        )
    system = str(landmarks.get("coordinate_system", "LPS")).upper()
    if system not in ("LPS", "RAS"):
        raise ImagingInputError("landmarks.coordinate_system", landmarks.get("coordinate_system"), "'LPS' or 'RAS'")
    flip = np.array([-1.0, -1.0, 1.0]) if system == "RAS" else np.ones(3)
    out: dict[str, Any] = {"coordinate_system": "LPS"}
    for key in POINT_LIST_KEYS:
        value = landmarks[key]
        if not isinstance(value, (list, tuple)) or (len(value) == 3 and all(isinstance(v, (int, float)) for v in value)):
            raise ImagingInputError(f"landmarks.{key}", json.dumps(value, default=str)[:80], "a list of points [[x, y, z], ...]")
        if len(value) < MIN_POINTS[key]:
            raise ImagingInputError(f"landmarks.{key}", f"{len(value)} point(s)", f"at least {MIN_POINTS[key]} points")
        out[key] = np.stack([_point(p, f"landmarks.{key}[{i}]") for i, p in enumerate(value)]) * flip
    out["portal_bifurcation"] = _point(landmarks["portal_bifurcation"], "landmarks.portal_bifurcation") * flip
    return out


def load_landmarks(path: str | Path) -> dict[str, Any]:
    """Read and validate a landmarks JSON file (format in this module's docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ImagingInputError("landmarks", str(path), "an existing JSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImagingInputError("landmarks", str(path), f"valid JSON ({exc})") from None
    return validate_landmarks(data)


# --- planes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plane:
    """A plane ``{p : normal . (p - point) = 0}`` in LPS mm (``normal`` is a unit vector)."""

    point: np.ndarray
    normal: np.ndarray

    def signed_distance(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, dtype=float) - self.point) @ self.normal

    def oriented_towards(self, ref: np.ndarray, key: str, plane_name: str) -> "Plane":
        """The same plane with its normal pointing to the side of ``ref`` (the mean of the
        ``key`` landmarks); an error when ``ref`` lies on the plane (side undecidable)."""
        d = float(self.signed_distance(ref))
        if abs(d) < _MIN_SIDE_MM:
            raise ImagingInputError(
                f"landmarks.{key}", f"points {abs(d):.1f} mm from the {plane_name} plane",
                f"points at least {_MIN_SIDE_MM} mm off that plane, to tell its sides apart",
            )
        return self if d > 0 else Plane(self.point, -self.normal)


def _ivc_axis(ivc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = ivc.mean(axis=0)
    if len(ivc) >= 2:
        centred = ivc - centre
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        span = float(np.ptp(centred @ vt[0]))
        if span >= _IVC_MIN_SPAN_MM:
            axis = vt[0] / np.linalg.norm(vt[0])
            if axis[2] < 0:
                axis = -axis
            if axis[2] < np.cos(np.radians(45)):
                raise ImagingInputError(
                    "landmarks.ivc", f"axis {np.round(axis, 2).tolist()}", "points along the IVC, which runs head to foot (within 45 degrees of z)"
                )
            return centre, axis
    return centre, np.array([0.0, 0.0, 1.0])


def _horizontal(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Components of ``v`` (rows) perpendicular to ``axis``."""
    v = np.atleast_2d(v)
    return v - np.outer(v @ axis, axis)


def _vein_plane(points: np.ndarray, centre: np.ndarray, axis: np.ndarray, key: str) -> Plane:
    w = _horizontal(points - centre, axis)
    w = w[np.linalg.norm(w, axis=1) >= _MIN_OFFSET_MM]
    if len(w) == 0:
        raise ImagingInputError(
            f"landmarks.{key}", "all points on the IVC axis", f"points along the vein, at least {_MIN_OFFSET_MM} mm from the IVC axis"
        )
    _, _, vt = np.linalg.svd(w, full_matrices=False)  # line through the axis: no centring
    u = vt[0]
    normal = np.cross(axis, u)
    return Plane(centre, normal / np.linalg.norm(normal))


def _fissure_plane(points: np.ndarray, axis: np.ndarray) -> Plane:
    centre = points.mean(axis=0)
    w = _horizontal(points - centre, axis)
    _, s, vt = np.linalg.svd(w, full_matrices=False)
    if float(np.ptp(w @ vt[0])) < _MIN_SPREAD_MM:
        raise ImagingInputError(
            "landmarks.umbilical_fissure", f"points within {_MIN_SPREAD_MM:g} mm of each other in the axial plane",
            f"points along the fissure, spanning at least {_MIN_SPREAD_MM:g} mm front to back",
        )
    normal = np.cross(axis, vt[0])
    return Plane(centre, normal / np.linalg.norm(normal))


@dataclass(frozen=True)
class CouinaudPlanes:
    """The oriented planes of the landmark scheme; each normal points to the named side."""

    middle: Plane  # -> right liver
    right: Plane  # -> right anterior section (5, 8)
    portal: Plane  # -> superior (7, 8, 1)
    fissure: Plane  # -> segment 4 (medial)
    left: Plane  # -> segment 3
    caudate_front: Plane  # -> behind the portal bifurcation (caudate side)
    caudate_top: Plane  # -> below the hepatic-vein confluence


def couinaud_planes(landmarks: dict[str, Any]) -> CouinaudPlanes:
    """Fit and orient the planes of the scheme (see the module docstring)."""
    lm = landmarks if isinstance(landmarks.get("ivc"), np.ndarray) else validate_landmarks(landmarks)
    centre, axis = _ivc_axis(lm["ivc"])
    rhv_c = lm["right_hepatic_vein"].mean(axis=0)
    mhv_c = lm["middle_hepatic_vein"].mean(axis=0)
    uf_c = lm["umbilical_fissure"].mean(axis=0)
    pb = lm["portal_bifurcation"]

    middle = _vein_plane(lm["middle_hepatic_vein"], centre, axis, "middle_hepatic_vein").oriented_towards(
        rhv_c, "right_hepatic_vein", "middle hepatic vein")
    right = _vein_plane(lm["right_hepatic_vein"], centre, axis, "right_hepatic_vein").oriented_towards(
        mhv_c, "middle_hepatic_vein", "right hepatic vein")
    left = _vein_plane(lm["left_hepatic_vein"], centre, axis, "left_hepatic_vein").oriented_towards(
        uf_c, "umbilical_fissure", "left hepatic vein")
    fissure = _fissure_plane(lm["umbilical_fissure"], axis).oriented_towards(
        mhv_c, "middle_hepatic_vein", "umbilical fissure")
    portal = Plane(pb, axis)

    to_ivc = _horizontal(centre - pb, axis)[0]
    if np.linalg.norm(to_ivc) < _MIN_SPREAD_MM:
        raise ImagingInputError("landmarks.portal_bifurcation", np.round(pb, 1).tolist(),
                                f"a point in front of the IVC (at least {_MIN_SPREAD_MM:g} mm from its axis)")
    to_ivc /= np.linalg.norm(to_ivc)
    caudate_front = Plane(pb, to_ivc)
    # confluence: where the veins reach the IVC axis. Each vein's level (along the axis) is
    # extrapolated linearly to zero distance from the axis; the lowest of the three is used.
    levels = []
    for key in VEIN_KEYS:
        pts = lm[key]
        dist = np.linalg.norm(_horizontal(pts - centre, axis), axis=1)
        level = (pts - centre) @ axis
        if np.ptp(dist) >= _MIN_OFFSET_MM:
            slope, intercept = np.polyfit(dist, level, 1)
            levels.append(float(intercept))
        else:
            levels.append(float(level[np.argmin(dist)]))
    caudate_top = Plane(centre + min(levels) * axis, -axis)
    return CouinaudPlanes(middle, right, portal, fissure, left, caudate_front, caudate_top)


# --- voxel classification ---------------------------------------------------------------------


def _bbox(mask: np.ndarray) -> tuple[slice, slice, slice] | None:
    slices = []
    for ax in range(3):
        other = tuple(a for a in range(3) if a != ax)
        nz = np.flatnonzero(mask.any(axis=other))
        if nz.size == 0:
            return None
        slices.append(slice(int(nz[0]), int(nz[-1]) + 1))
    return tuple(slices)  # type: ignore[return-value]


def _check_inputs(liver_mask: np.ndarray, grid: Grid, name: str = "liver_mask") -> np.ndarray:
    liver = np.asarray(liver_mask)
    if liver.shape != grid.shape:
        raise ImagingInputError(name, f"shape {liver.shape}", f"the grid's shape {grid.shape}")
    return liver.astype(bool, copy=False)


def _positive_side(plane: Plane, grid: Grid, sl: tuple[slice, slice, slice], shape) -> np.ndarray:
    """``plane.signed_distance >= 0`` at every voxel centre of the crop ``sl`` (float32 math)."""
    a = grid.affine
    g = plane.normal @ a[:3, :3]  # change of signed distance per voxel step along i, j, k
    const = float(plane.normal @ (a[:3, 3] - plane.point)) + float(g @ [s.start for s in sl])
    i = (g[0] * np.arange(shape[0], dtype=np.float32))[:, None, None]
    j = (g[1] * np.arange(shape[1], dtype=np.float32))[None, :, None]
    k = (g[2] * np.arange(shape[2], dtype=np.float32))[None, None, :]
    return (i + j + (k + np.float32(const))) >= 0


def segments_from_landmarks(liver_mask: np.ndarray, grid: Grid, landmarks: dict) -> np.ndarray:
    """Couinaud segments (uint8 0-8) of ``liver_mask`` from landmark points (LPS mm).

    ``landmarks`` is the mapping described in this module's docstring (as read from its
    JSON file). Works on the liver's bounding box only, with one float32 pass per plane.
    Raises :class:`ImagingInputError` for malformed or degenerate landmarks.
    """
    liver = _check_inputs(liver_mask, grid)
    planes = couinaud_planes(landmarks)
    out = np.zeros(grid.shape, dtype=np.uint8)
    sl = _bbox(liver)
    if sl is None:
        return out
    crop = liver[sl]
    shape = crop.shape

    def side(p: Plane) -> np.ndarray:
        return _positive_side(p, grid, sl, shape)

    right = side(planes.middle)
    anterior = side(planes.right)
    superior = side(planes.portal)
    right_seg = np.where(anterior, np.where(superior, 8, 5), np.where(superior, 7, 6)).astype(np.uint8)
    del anterior
    medial = side(planes.fissure)
    seg3 = side(planes.left)
    left_seg = np.where(medial, 4, np.where(seg3, 3, 2)).astype(np.uint8)
    del seg3
    seg = np.where(right, right_seg, left_seg)
    del right_seg, left_seg
    caudate = medial & ~right & superior
    del right, medial, superior
    caudate &= side(planes.caudate_front)
    caudate &= side(planes.caudate_top)
    seg[caudate] = 1
    seg[~crop] = 0
    out[sl] = seg
    return out


def segments_from_portal_branches(liver_mask: np.ndarray, grid: Grid, branch_labels: np.ndarray) -> np.ndarray:
    """Couinaud segments (uint8 0-8) as the territories of labelled portal branches.

    Each liver voxel takes the label (1-8) of the nearest branch voxel, distances in
    millimetres (Euclidean distance transform with the voxel spacing, on the bounding box
    of the liver and the branches). Segments whose branch is not labelled get no voxels.
    The voxel axes must be orthogonal (true of CT and MR series).

    Territories are Couinaud's own definition of a segment, but they depend on how much of
    each branch is labelled: on the synthetic phantom, whose true segments are bounded by
    planes, they agree at Dice 0.76-0.90 for segments 2-8 and 0.51 for the small caudate.
    """
    from scipy import ndimage

    liver = _check_inputs(liver_mask, grid)
    branches = np.asarray(branch_labels)
    if branches.shape != grid.shape:
        raise ImagingInputError("branch_labels", f"shape {branches.shape}", f"the grid's shape {grid.shape}")
    if not np.issubdtype(branches.dtype, np.integer):
        if not np.all(np.mod(branches, 1) == 0):
            raise ImagingInputError("branch_labels", f"dtype {branches.dtype} with fractions", "integer labels 0-8")
        branches = branches.astype(np.int16)
    lo, hi = (int(branches.min()), int(branches.max())) if branches.size else (0, 0)
    if lo < 0 or hi > 8:
        raise ImagingInputError("branch_labels", f"values {lo}..{hi}", "0 (background) and 1-8 (the segment each branch feeds)")
    d = grid.direction
    gram = d.T @ d
    if np.max(np.abs(gram - np.diag(np.diag(gram)))) > 1e-3:
        raise ImagingInputError("grid", "oblique (sheared) voxel axes", "orthogonal voxel axes")
    out = np.zeros(grid.shape, dtype=np.uint8)
    sl_liver = _bbox(liver)
    if sl_liver is None:
        return out
    has_branch = branches > 0
    sl_branch = _bbox(has_branch)
    if sl_branch is None:
        raise ImagingInputError("branch_labels", "no labelled voxel", "portal branches labelled 1-8")
    sl = tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(sl_liver, sl_branch))
    crop_b = branches[sl]
    crop_l = liver[sl]
    idx = ndimage.distance_transform_edt(
        crop_b == 0, sampling=grid.spacing, return_distances=False, return_indices=True
    )
    nearest = crop_b[tuple(idx)]
    del idx
    seg = np.where(crop_l, nearest, 0).astype(np.uint8)
    out[sl] = seg
    return out
