"""A synthetic abdominal CT phantom with a liver, Couinaud segments, vessels and tumours.

The phantom exists so that every imaging step can be checked against numbers known in
closed form, and so that ``livermet demo`` can show the imaging part without storing any
image in the repository (everything is generated in well under a second).

Geometry (all in patient **LPS** millimetres, origin at the centre of the field of view;
x grows to the patient's left, y to the back, z to the head):

- body: an elliptic cylinder (soft tissue 40 HU inside a 15 mm fat layer, -100 HU) in air
  (-1000 HU), with a vertebral body (500 HU) and the aorta (180 HU) behind the liver;
- liver: one ellipsoid (60 HU) centred to the patient's right, so its volume is
  ``4/3 pi a b c`` exactly; the intrahepatic vessels and the tumours are part of the liver
  mask, as in TotalSegmentator's ``liver`` class;
- inferior vena cava (IVC): a vertical cylinder touching the back of the liver, outside it;
- hepatic veins: straight tubes leaving the IVC at the confluence and running down and
  forwards in vertical planes that contain the IVC axis (Couinaud's scissurae);
- Couinaud segments: defined analytically by those planes, by the transverse plane
  through the portal bifurcation and by the umbilical fissure, with the scheme documented
  in :mod:`livermet.imaging.couinaud` (the phantom is its reference answer);
- portal vein: a trunk up to the bifurcation, then for each segment a branch (label =
  segment) made of two tubes crossing at the segment's centre along its two longest axes,
  kept inside its own segment as a segmental portal pedicle is (Couinaud 1957; Bismuth,
  Ann Surg 1982;196:3-9), joined to the bifurcation by an unlabelled tube;
- tumours: hypodense spheres (30 HU) of known radius, each inside one segment, matching the
  bundled demo case (L1 in segment 7, 32 mm; L2 in segment 6, 18 mm).

The CT adds Gaussian noise (seeded) so that figures look like CT; the label maps are
exact voxelisations (voxel centre inside the analytic shape).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from livermet.imaging.grid import Grid

# --- Hounsfield units of the tissues (portal venous phase, typical textbook values) -----
HU_AIR = -1000
HU_FAT = -100
HU_SOFT = 40
HU_LIVER = 60
HU_TUMOUR = 30  # hypodense metastasis
HU_VESSEL = 180  # contrast-filled veins in the portal venous phase
HU_BONE = 500
NOISE_HU = 8.0

# --- Geometry (mm, LPS) -------------------------------------------------------------------
BODY_SEMI_AXES = (165.0, 115.0)
FAT_THICKNESS = 15.0
SPINE_CENTRE = (0.0, 95.0)
SPINE_RADIUS = 16.0
AORTA_CENTRE = (18.0, 68.0)
AORTA_RADIUS = 10.0

LIVER_CENTRE = (-35.0, -5.0, 0.0)
LIVER_SEMI_AXES = (100.0, 65.0, 60.0)

IVC_RADIUS = 11.0
# The IVC axis: vertical, 1 mm behind the liver's back surface at x = -20 mm.
_IVC_X = -20.0
_IVC_Y = (
    LIVER_CENTRE[1]
    + LIVER_SEMI_AXES[1] * float(np.sqrt(1.0 - ((_IVC_X - LIVER_CENTRE[0]) / LIVER_SEMI_AXES[0]) ** 2))
    + IVC_RADIUS
    + 1.0
)
IVC_AXIS_XY = (_IVC_X, _IVC_Y)

HEPATIC_VEIN_CONFLUENCE_Z = 35.0  # where the three veins join the IVC
HEPATIC_VEIN_DESCENT = 0.45  # mm of descent per mm run forwards (veins run down and forward)
HEPATIC_VEIN_RADIUS = 4.0
# Directions of the veins in the axial plane, (x, y), from the IVC axis.
RHV_DIRECTION = (-0.574, -0.819)  # 35 degrees right of straight forwards
MHV_DIRECTION = (0.0, -1.0)  # straight forwards (Cantlie's line)
LHV_DIRECTION = (0.574, -0.819)  # 35 degrees left of straight forwards
HEPATIC_VEIN_LENGTH = {"right": 115.0, "middle": 120.0, "left": 110.0}

PORTAL_BIFURCATION = (-25.0, 20.0, -10.0)
PORTAL_TRUNK_START = (-5.0, 10.0, -70.0)
PORTAL_RADIUS = 5.0
PORTAL_BRANCH_RADIUS = 3.5
PORTAL_BRANCH_AXES = 2
PORTAL_BRANCH_HALF_LENGTH = 1.5  # half-length of a segmental branch, in standard deviations of its segment
# The umbilical fissure: a vertical plane through these two axial points (anterior, posterior).
UMBILICAL_FISSURE_XY = ((18.0, -75.0), (0.0, 40.0))
UMBILICAL_FISSURE_Z = (-35.0, 5.0)

DEFAULT_TUMOURS: tuple[dict[str, Any], ...] = (
    {"id": "L1", "segment": 7, "centre_mm": (-93.0, 8.0, 16.0), "radius_mm": 16.0},
    {"id": "L2", "segment": 6, "centre_mm": (-90.0, 5.0, -27.5), "radius_mm": 9.0},
)

DEFAULT_SHAPE = (176, 128, 80)
DEFAULT_SPACING = (2.0, 2.0, 2.5)


@dataclass(frozen=True)
class Phantom:
    """A generated phantom: images, label maps, landmarks and the analytic truth.

    Arrays are indexed ``[i, j, k]`` on ``grid``. ``segments`` holds the true Couinaud
    segment (1-8) of every liver voxel (tumour voxels keep their segment), ``tumours`` the
    tumour number (1, 2 ... in the order of ``tumour_info``), ``portal_branches`` the segment
    fed by each portal-branch voxel.
    """

    grid: Grid
    ct: np.ndarray  # int16 HU
    liver: np.ndarray  # bool
    segments: np.ndarray  # uint8 0..8
    tumours: np.ndarray  # uint8 0..n
    portal_branches: np.ndarray  # uint8 0..8
    portal_vein: np.ndarray  # bool, trunk and all branches
    hepatic_veins: np.ndarray  # bool
    ivc: np.ndarray  # bool
    landmarks: dict[str, Any]
    tumour_info: tuple[dict[str, Any], ...]
    liver_volume_ml: float  # analytic: 4/3 pi a b c
    tumour_volumes_ml: dict[str, float] = field(default_factory=dict)  # analytic: 4/3 pi r^3

    @property
    def tumour_volume_ml(self) -> float:
        return float(sum(self.tumour_volumes_ml.values()))

    @property
    def functional_liver_ml(self) -> float:
        """Analytic functional liver volume: liver minus tumours (all tumours lie inside)."""
        return self.liver_volume_ml - self.tumour_volume_ml


# --- helpers --------------------------------------------------------------------------------


def _axes_mm(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open-mesh LPS coordinates of voxel centres (the phantom grid is axis-aligned)."""
    aff = grid.affine
    if not np.allclose(aff[:3, :3], np.diag(np.diag(aff[:3, :3]))):
        raise ValueError("the phantom grid must be axis-aligned")
    i, j, k = (np.arange(n, dtype=np.float32) for n in grid.shape)
    x = (aff[0, 0] * i + aff[0, 3]).astype(np.float32)[:, None, None]
    y = (aff[1, 1] * j + aff[1, 3]).astype(np.float32)[None, :, None]
    z = (aff[2, 2] * k + aff[2, 3]).astype(np.float32)[None, None, :]
    return x, y, z


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _segment_distance(grid: Grid, p0, p1, radius: float) -> tuple[tuple[slice, ...], np.ndarray]:
    """Boolean tube of ``radius`` around segment p0-p1, computed on its bounding box only."""
    p0 = np.asarray(p0, dtype=float)
    p1 = np.asarray(p1, dtype=float)
    lo = np.minimum(p0, p1) - radius
    hi = np.maximum(p0, p1) + radius
    idx_lo = np.floor(grid.lps_to_index(lo)).astype(int)
    idx_hi = np.ceil(grid.lps_to_index(hi)).astype(int) + 1
    a = np.minimum(idx_lo, idx_hi)
    b = np.maximum(idx_lo, idx_hi)
    a = np.clip(a, 0, grid.shape)
    b = np.clip(b, 0, grid.shape)
    sl = tuple(slice(int(s), int(e)) for s, e in zip(a, b))
    x, y, z = _axes_mm(grid)
    x, y, z = x[sl[0]], y[:, sl[1]], z[:, :, sl[2]]
    d = p1 - p0
    L2 = float(d @ d) or 1.0
    t = ((x - p0[0]) * d[0] + (y - p0[1]) * d[1] + (z - p0[2]) * d[2]) / L2
    t = np.clip(t, 0.0, 1.0)
    dist2 = (x - p0[0] - t * d[0]) ** 2 + (y - p0[1] - t * d[1]) ** 2 + (z - p0[2] - t * d[2]) ** 2
    return sl, dist2 <= radius * radius


def _paint_tube(mask: np.ndarray, grid: Grid, p0, p1, radius: float) -> None:
    sl, tube = _segment_distance(grid, p0, p1, radius)
    mask[sl] |= tube


def _vein_points(direction, length: float, step: float = 10.0, start: float = 15.0) -> list[list[float]]:
    u = _unit(direction)
    pts = []
    for t in np.arange(start, length + 1e-9, step):
        x = IVC_AXIS_XY[0] + t * u[0]
        y = IVC_AXIS_XY[1] + t * u[1]
        z = HEPATIC_VEIN_CONFLUENCE_Z - HEPATIC_VEIN_DESCENT * t
        pts.append([float(x), float(y), float(z)])
    return pts


def _side(x, y, origin_xy, direction_xy, ref_xy) -> np.ndarray:
    """True where (x, y) lies on the same side of the vertical plane as ``ref_xy``.

    The plane contains the vertical line through ``origin_xy`` and the axial direction
    ``direction_xy``.
    """
    ox, oy = origin_xy
    dx, dy = direction_xy
    s = (x - ox) * dy - (y - oy) * dx
    s_ref = (ref_xy[0] - ox) * dy - (ref_xy[1] - oy) * dx
    return (s > 0) if s_ref > 0 else (s < 0)


def _perp(d):
    return (-d[1], d[0])


def true_segments(x, y, z) -> np.ndarray:
    """The phantom's Couinaud segment (1-8) at LPS points ``x, y, z`` (broadcastable).

    The analytic reference for :func:`livermet.imaging.couinaud.segments_from_landmarks`,
    written independently of it: sides of the known planes, with the sides fixed by the
    phantom's design (which direction is right, anterior, medial).
    """
    ivc = IVC_AXIS_XY
    rhv, mhv, lhv = _unit(RHV_DIRECTION), _unit(MHV_DIRECTION), _unit(LHV_DIRECTION)
    far_right = (ivc[0] - 100.0, ivc[1])  # a point certainly in the right liver
    # right liver: on the far-right side of the middle hepatic vein plane
    right = _side(x, y, ivc, mhv[:2], far_right)
    # right anterior sector: on the MHV side of the RHV plane
    mhv_point = (ivc[0] + 60 * mhv[0], ivc[1] + 60 * mhv[1])
    anterior = _side(x, y, ivc, rhv[:2], mhv_point)
    superior = z >= PORTAL_BIFURCATION[2]
    (ux0, uy0), (ux1, uy1) = UMBILICAL_FISSURE_XY
    uf_dir = (ux1 - ux0, uy1 - uy0)
    medial = _side(x, y, (ux0, uy0), uf_dir, mhv_point)  # segment 4 side of the fissure
    # segment 3 lies on the fissure's side of the left hepatic vein plane
    uf_mid = ((ux0 + ux1) / 2, (uy0 + uy1) / 2)
    seg3_side = _side(x, y, ivc, lhv[:2], uf_mid)
    seg = np.where(
        right,
        np.where(anterior, np.where(superior, 8, 5), np.where(superior, 7, 6)),
        np.where(medial, 4, np.where(seg3_side, 3, 2)),
    ).astype(np.uint8)
    # caudate: behind the portal bifurcation (seen from the IVC), in the left liver,
    # medial to the fissure, between the portal plane and the hepatic-vein confluence
    to_ivc = (ivc[0] - PORTAL_BIFURCATION[0], ivc[1] - PORTAL_BIFURCATION[1])
    caudate = (
        _side(x, y, PORTAL_BIFURCATION[:2], _perp(to_ivc), (ivc[0], ivc[1]))  # behind the hilum
        & ~right  # in the left liver
        & medial
        & superior
        & (z <= HEPATIC_VEIN_CONFLUENCE_Z)
    )
    return np.where(caudate, np.uint8(1), seg).astype(np.uint8)


def phantom_landmarks(seed: int = 0, jitter_mm: float = 1.0) -> dict[str, Any]:
    """Landmarks as a user would click them: points on the veins, IVC, fissure, with jitter."""
    rng = np.random.default_rng(seed + 1)

    def jit(pts):
        arr = np.asarray(pts, dtype=float)
        arr = arr + rng.normal(0.0, jitter_mm, size=arr.shape)
        return [[round(float(v), 2) for v in p] for p in arr]

    ivc = [[IVC_AXIS_XY[0], IVC_AXIS_XY[1], float(z)] for z in range(-40, 41, 20)]
    (ux0, uy0), (ux1, uy1) = UMBILICAL_FISSURE_XY
    uf = []
    for t in np.linspace(0.0, 1.0, 6):
        for z in UMBILICAL_FISSURE_Z:
            uf.append([ux0 + t * (ux1 - ux0), uy0 + t * (uy1 - uy0), z])
    return {
        "coordinate_system": "LPS",
        "right_hepatic_vein": jit(_vein_points(RHV_DIRECTION, HEPATIC_VEIN_LENGTH["right"])),
        "middle_hepatic_vein": jit(_vein_points(MHV_DIRECTION, HEPATIC_VEIN_LENGTH["middle"])),
        "left_hepatic_vein": jit(_vein_points(LHV_DIRECTION, HEPATIC_VEIN_LENGTH["left"])),
        "ivc": jit(ivc),
        "portal_bifurcation": jit([PORTAL_BIFURCATION])[0],
        "umbilical_fissure": jit(uf),
    }


def make_grid(shape=DEFAULT_SHAPE, spacing_mm=DEFAULT_SPACING) -> Grid:
    """An axis-aligned LPS grid of ``shape`` and ``spacing_mm`` centred on the origin."""
    shape = tuple(int(s) for s in shape)
    sp = np.asarray(spacing_mm, dtype=float)
    if len(shape) != 3 or sp.shape != (3,) or np.any(sp <= 0) or min(shape) < 1:
        raise ValueError(f"shape={shape}, spacing_mm={tuple(sp)}: expected 3 positive sizes each")
    aff = np.eye(4)
    aff[:3, :3] = np.diag(sp)
    aff[:3, 3] = -(np.asarray(shape) - 1) / 2.0 * sp
    return Grid(shape, aff)


def make_phantom(
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    spacing_mm: tuple[float, float, float] = DEFAULT_SPACING,
    seed: int = 0,
    tumours: tuple[dict[str, Any], ...] | list[dict[str, Any]] = DEFAULT_TUMOURS,
) -> Phantom:
    """Generate the phantom on a grid of ``shape`` voxels of ``spacing_mm`` (x, y, z).

    The field of view must contain the liver (190 x 140 x 120 mm around (-35, -5, 0));
    a smaller one raises ``ValueError``. ``seed`` drives the CT noise and landmark jitter.
    ``tumours``: dicts with ``id``, ``segment``, ``centre_mm`` (LPS) and ``radius_mm``; each
    must lie wholly inside the liver.
    """
    grid = make_grid(shape, spacing_mm)
    lo, hi = grid.bounds_lps().min(axis=0), grid.bounds_lps().max(axis=0)
    c, r = np.asarray(LIVER_CENTRE), np.asarray(LIVER_SEMI_AXES)
    if np.any(c - r < lo) or np.any(c + r > hi):
        raise ValueError(
            f"field of view {np.round(lo, 1).tolist()}..{np.round(hi, 1).tolist()} mm does not "
            f"contain the liver ({(c - r).tolist()}..{(c + r).tolist()} mm): use a larger shape or spacing"
        )
    x, y, z = _axes_mm(grid)
    shape3 = grid.shape

    # body, fat, spine, aorta
    ex = (x / BODY_SEMI_AXES[0]) ** 2 + (y / BODY_SEMI_AXES[1]) ** 2
    ex_in = (x / (BODY_SEMI_AXES[0] - FAT_THICKNESS)) ** 2 + (y / (BODY_SEMI_AXES[1] - FAT_THICKNESS)) ** 2
    ct = np.full(shape3, HU_AIR, dtype=np.float32)
    ct[np.broadcast_to(ex <= 1.0, shape3)] = HU_FAT
    ct[np.broadcast_to(ex_in <= 1.0, shape3)] = HU_SOFT
    spine = (x - SPINE_CENTRE[0]) ** 2 + (y - SPINE_CENTRE[1]) ** 2 <= SPINE_RADIUS**2
    ct[np.broadcast_to(spine, shape3)] = HU_BONE
    aorta = (x - AORTA_CENTRE[0]) ** 2 + (y - AORTA_CENTRE[1]) ** 2 <= AORTA_RADIUS**2
    ct[np.broadcast_to(aorta, shape3)] = HU_VESSEL

    # liver ellipsoid
    liver = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1.0
    ct[liver] = HU_LIVER
    segments = np.zeros(shape3, dtype=np.uint8)
    segments[liver] = np.broadcast_to(true_segments(x, y, z), shape3)[liver]

    # IVC (outside the liver by construction) and hepatic veins
    ivc2d = (x - IVC_AXIS_XY[0]) ** 2 + (y - IVC_AXIS_XY[1]) ** 2 <= IVC_RADIUS**2
    ivc = np.broadcast_to(ivc2d, shape3).copy()
    hepatic = np.zeros(shape3, dtype=bool)
    for name, direction in (("right", RHV_DIRECTION), ("middle", MHV_DIRECTION), ("left", LHV_DIRECTION)):
        pts = _vein_points(direction, HEPATIC_VEIN_LENGTH[name], step=HEPATIC_VEIN_LENGTH[name], start=0.0)
        _paint_tube(hepatic, grid, pts[0], pts[-1], HEPATIC_VEIN_RADIUS)
    hepatic &= liver | ivc  # veins run inside the liver up to the IVC
    hepatic &= ~ivc

    # portal vein: trunk, then one branch per segment towards the segment's centre
    portal = np.zeros(shape3, dtype=bool)
    _paint_tube(portal, grid, PORTAL_TRUNK_START, PORTAL_BIFURCATION, PORTAL_RADIUS)
    branches = np.zeros(shape3, dtype=np.uint8)
    pb = np.asarray(PORTAL_BIFURCATION)
    for s in range(1, 9):
        seg_mask = segments == s
        if not seg_mask.any():
            continue
        # the segmental branch runs along the segment's long axis through its centre, and
        # stays inside the segment (a portal pedicle lies at the core of its segment)
        pts = grid.index_to_lps(np.argwhere(seg_mask))
        centre = pts.mean(axis=0)
        _, sv, vt = np.linalg.svd(pts - centre, full_matrices=False)
        tube = np.zeros(shape3, dtype=bool)
        ends = []
        for axis in range(PORTAL_BRANCH_AXES):  # the pedicle and its main subsegmental branch
            half = PORTAL_BRANCH_HALF_LENGTH * sv[axis] / np.sqrt(len(pts))
            ends += [centre - half * vt[axis], centre + half * vt[axis]]
            _paint_tube(tube, grid, ends[-2], ends[-1], PORTAL_BRANCH_RADIUS)
        p0 = min(ends, key=lambda e: float(np.linalg.norm(e - pb)))  # the end nearest the hilum
        tube &= seg_mask
        branches[tube] = s
        portal |= tube
        _paint_tube(portal, grid, pb, p0, PORTAL_BRANCH_RADIUS)  # unlabelled connection to the hilum
    portal &= liver | ~ivc
    vessels_in_liver = (hepatic | portal) & liver
    ct[vessels_in_liver] = HU_VESSEL
    ct[hepatic | ivc] = HU_VESSEL
    ct[portal] = HU_VESSEL

    # tumours (hypodense spheres, drawn over the vessels they replace)
    labels = np.zeros(shape3, dtype=np.uint8)
    info = []
    volumes = {}
    for n, t in enumerate(tumours, start=1):
        tc = np.asarray(t["centre_mm"], dtype=float)
        tr = float(t["radius_mm"])
        sphere = (x - tc[0]) ** 2 + (y - tc[1]) ** 2 + (z - tc[2]) ** 2 <= tr * tr
        if np.any(sphere & ~liver):
            raise ValueError(f"tumour {t['id']}: sphere at {tc.tolist()} r={tr} mm leaves the liver")
        labels[sphere] = n
        ct[sphere] = HU_TUMOUR
        volumes[str(t["id"])] = 4.0 / 3.0 * np.pi * tr**3 / 1000.0
        info.append(
            {
                "id": str(t["id"]),
                "segment": int(t["segment"]),
                "centre_mm": [float(v) for v in tc],
                "radius_mm": tr,
                "diameter_mm": 2 * tr,
                "volume_ml": volumes[str(t["id"])],
            }
        )

    rng = np.random.default_rng(seed)
    body = np.broadcast_to(ex <= 1.0, shape3)
    ct += np.where(body, rng.normal(0.0, NOISE_HU, size=shape3).astype(np.float32), 0.0)
    ct_i16 = np.clip(np.rint(ct), -1024, 3071).astype(np.int16)

    return Phantom(
        grid=grid,
        ct=ct_i16,
        liver=liver,
        segments=segments,
        tumours=labels,
        portal_branches=branches,
        portal_vein=portal,
        hepatic_veins=hepatic,
        ivc=ivc,
        landmarks=phantom_landmarks(seed),
        tumour_info=tuple(info),
        liver_volume_ml=4.0 / 3.0 * np.pi * float(np.prod(r)) / 1000.0,
        tumour_volumes_ml=volumes,
    )


# --- files and the demo ----------------------------------------------------------------------

PHANTOM_PATIENT = {"age": 61, "sex": "male", "height_cm": 175.0, "weight_kg": 75.0, "ecog": 1}
DEMO_RESECTION = "right_hepatectomy"


def phantom_case(ph: Phantom, files: dict[str, str], case_id: str = "phantom-001") -> dict[str, Any]:
    """A livermet case (issue 2's model) for the phantom; ``files`` are relative paths."""
    return {
        "id": case_id,
        "patient": dict(PHANTOM_PATIENT),
        "primary": {"site": "colorectal", "side": "left", "resected": True, "node_positive": True},
        "metastases": {
            "synchronous": False,
            "lesions": [
                {"id": t["id"], "segments": [t["segment"]], "diameter_mm": t["diameter_mm"]}
                for t in ph.tumour_info
            ],
            "extrahepatic": {"present": False, "sites": []},
        },
        "liver": {"cirrhosis": False, "ascites": "none", "encephalopathy": "none",
                  "chemotherapy_weeks": 0, "chemotherapy_lines": 0},
        "volumetry": {"planned_resection": DEMO_RESECTION},
        "imaging": {
            "ct": files["ct"],
            "labels": files["labels"],
            "labelset": "liver_segments",
            "masks": {
                "tumour": [files[f"tumour_{t['id']}"] for t in ph.tumour_info],
                "hepatic_veins": files["hepatic_veins"],
                "ivc": files["ivc"],
                "portal_vein": files["portal_vein"],
            },
            "landmarks": files["landmarks"],
            "studies": [{"modality": "ct", "phase": "portal_venous", "note": "synthetic phantom"}],
        },
    }


def write_phantom(out_dir: str | Path, phantom: Phantom | None = None, **make_kwargs: Any) -> dict[str, Path]:
    """Write the phantom's images, masks, landmarks and a case file into ``out_dir``.

    Files: ``ct.nii.gz`` (int16 HU), ``liver_segments.nii.gz`` (1-8, TotalSegmentator's
    ``liver_segments`` convention; tumour voxels keep their segment), ``tumour_<id>.nii.gz``
    (one mask per tumour), ``hepatic_veins.nii.gz``, ``ivc.nii.gz``, ``portal_vein.nii.gz``,
    ``portal_branches.nii.gz`` (1-8 = segment fed), ``landmarks.json`` (format in
    :mod:`livermet.imaging.couinaud`), ``truth.json`` (analytic volumes) and ``case.json``
    whose ``imaging`` section points at them by relative path. Returns name -> path.
    """
    import nibabel as nib

    from livermet.imaging.export import write_label_nifti

    ph = phantom if phantom is not None else make_phantom(**make_kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = ph.grid
    rel: dict[str, str] = {}

    ct_img = nib.Nifti1Image(ph.ct, g.affine_ras)
    ct_img.set_qform(g.affine_ras, code=1)
    ct_img.set_sform(g.affine_ras, code=1)
    ct_img.header.set_xyzt_units("mm")
    nib.save(ct_img, str(out / "ct.nii.gz"))
    rel["ct"] = "ct.nii.gz"
    label_maps = {
        "labels": ("liver_segments.nii.gz", ph.segments),
        "hepatic_veins": ("hepatic_veins.nii.gz", ph.hepatic_veins),
        "ivc": ("ivc.nii.gz", ph.ivc),
        "portal_vein": ("portal_vein.nii.gz", ph.portal_vein),
        "portal_branches": ("portal_branches.nii.gz", ph.portal_branches),
    }
    for n, t in enumerate(ph.tumour_info, start=1):
        label_maps[f"tumour_{t['id']}"] = (f"tumour_{t['id']}.nii.gz", ph.tumours == n)
    for key, (name, arr) in label_maps.items():
        write_label_nifti(out / name, arr, g)
        rel[key] = name
    (out / "landmarks.json").write_text(json.dumps(ph.landmarks, indent=1) + "\n", encoding="utf-8")
    rel["landmarks"] = "landmarks.json"
    truth = {
        "description": "livermet synthetic phantom: analytic volumes (liver = ellipsoid, tumours = spheres)",
        "liver_ml": ph.liver_volume_ml,
        "tumour_ml": ph.tumour_volume_ml,
        "functional_liver_ml": ph.functional_liver_ml,
        "tumours": list(ph.tumour_info),
        "liver_centre_mm": list(LIVER_CENTRE),
        "liver_semi_axes_mm": list(LIVER_SEMI_AXES),
        "grid": {"shape": list(g.shape), "spacing_mm": list(g.spacing)},
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    rel["truth"] = "truth.json"
    case = phantom_case(ph, rel)
    (out / "case.json").write_text(json.dumps(case, indent=2) + "\n", encoding="utf-8")
    rel["case"] = "case.json"
    return {k: out / v for k, v in rel.items()}


def run_demo(out_dir: str | Path) -> dict[str, Any]:
    """Generate the phantom into ``out_dir`` and run volumetry with a right hepatectomy.

    Used by ``livermet demo``. Writes the phantom files, figures (``figures/``) and the
    volumetry result (``volumetry.json``); returns a summary dict: ``volumetry`` (as
    ``livermet volumetry --json``), ``truth`` (analytic volumes), ``errors_percent`` (measured
    against analytic), ``files`` and ``summary`` (a few readable lines).
    """
    from livermet.imaging.pipeline import run_volumetry

    out = Path(out_dir)
    ph = make_phantom()
    files = write_phantom(out, ph)
    result = run_volumetry(
        ct=files["ct"],
        labels=files["labels"],
        labelset="liver_segments",
        masks=[("tumour", files[f"tumour_{t['id']}"]) for t in ph.tumour_info],
        resection=DEMO_RESECTION,
        height_cm=PHANTOM_PATIENT["height_cm"],
        weight_kg=PHANTOM_PATIENT["weight_kg"],
        figures_dir=out / "figures",
    )
    vol = result.to_dict()
    (out / "volumetry.json").write_text(json.dumps(vol, indent=2, default=str) + "\n", encoding="utf-8")

    def err(measured: float, truth: float) -> float:
        return round(100.0 * (measured - truth) / truth, 3)

    errors = {
        "liver_ml": err(result.liver_ml, ph.liver_volume_ml),
        "tumour_ml": err(result.tumour_ml, ph.tumour_volume_ml),
        "functional_liver_ml": err(result.functional_liver_ml, ph.functional_liver_ml),
    }
    res = vol.get("resection") or {}
    lines = [
        f"Synthetic CT phantom {ph.grid.shape[0]}x{ph.grid.shape[1]}x{ph.grid.shape[2]} voxels, "
        f"spacing {' x '.join(f'{s:g}' for s in ph.grid.spacing)} mm",
        f"liver {result.liver_ml:.1f} mL (analytic {ph.liver_volume_ml:.1f} mL, {errors['liver_ml']:+.2f} %), "
        f"tumour {result.tumour_ml:.1f} mL (analytic {ph.tumour_volume_ml:.1f} mL, {errors['tumour_ml']:+.2f} %)",
    ]
    if res:
        sflr = res.get("sflr_standardised_percent") or res.get("sflr_measured_percent")
        kind = "standardised" if res.get("sflr_standardised_percent") is not None else "measured"
        lines.append(
            f"{res.get('name')}: remnant {res.get('remnant_ml')} mL, sFLR {kind} {sflr} % "
            f"({'adequate' if res.get('adequate') else 'inadequate'})"
        )
    lines.append(f"figures: {', '.join(Path(f).name for f in vol.get('files', []))}")
    return {
        "volumetry": vol,
        "truth": {
            "liver_ml": ph.liver_volume_ml,
            "tumour_ml": ph.tumour_volume_ml,
            "functional_liver_ml": ph.functional_liver_ml,
            "tumours": list(ph.tumour_info),
        },
        "errors_percent": errors,
        "files": {k: str(v) for k, v in files.items()} | {"volumetry": str(out / "volumetry.json")},
        "summary": "\n".join(lines),
    }
