"""Couinaud landmarks placed by clicking in the slice viewer (instead of uploading a JSON file).

The page sends a click as (view, slice, row, column) in the slice's voxels; the server turns
it into LPS millimetres with the viewer's own geometry (``viewer.click_to_lps``: canonical
index -> the stored grid's voxel index -> its affine). Saving writes the same landmarks JSON
an upload would (``docs/landmarks.md``), as the case's current ``landmarks`` image, checked by
the imaging library first, audited, and queues the volumetry job as an upload does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.web import services, uploads, viewer
from livermet.web.deps import Principal, get_db, require
from livermet.web.models import ImageFile, utcnow

router = APIRouter(prefix="/api")

# The keys of the landmarks format (livermet.imaging.couinaud.REQUIRED_KEYS), in clicking order.
KEYS = ("right_hepatic_vein", "middle_hepatic_vein", "left_hepatic_vein", "ivc", "portal_bifurcation",
        "umbilical_fissure")
MAX_POINTS = 100  # per structure: a few are enough (docs/landmarks.md)


def _viewer_dir(request: Request, pk: int) -> Path:
    return Path(request.app.state.settings.data_dir) / "viewer" / str(pk)


def _meta(request: Request, pk: int) -> dict:
    meta = viewer.read_meta(_viewer_dir(request, pk))
    if meta is None:
        raise services.NotFound("No images are ready to view for this case (upload label maps; "
                                "the viewer is prepared by the volumetry job).")
    return meta


def _current_landmarks(db: Session, pk: int) -> ImageFile | None:
    return db.scalar(select(ImageFile).where(ImageFile.case_pk == pk, ImageFile.role == "landmarks",
                                             ImageFile.superseded.is_(False)).order_by(ImageFile.id.desc()).limit(1))


@router.get("/cases/{pk}/viewer/point", tags=["imaging"])
def api_viewer_point(pk: int, request: Request,
                     axis: Literal["axial", "coronal", "sagittal"] = "axial",
                     k: float = Query(..., alias="slice", description="the slice shown (0-based, as in the "
                                                                      "slice PNG URLs)"),
                     row: float = Query(..., description="row in the slice's voxels (centres at integers)"),
                     col: float = Query(..., description="column in the slice's voxels (centres at integers)"),
                     p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    """A click on the viewer in LPS millimetres (and as voxel index of the stored grid)."""
    services.get_case(db, pk)
    meta = _meta(request, pk)
    try:
        return viewer.click_to_lps(meta, axis, k, row, col)
    except LookupError as exc:
        raise services.Conflict(f"This case's viewer cannot place points yet: {exc}.") from None
    except ValueError as exc:
        raise services.Invalid(f"slice={k:g}, row={row:g}, col={col:g} on the {axis} view: {exc}.",
                               field="point") from None


@router.get("/cases/{pk}/landmarks", tags=["imaging"])
def api_get_landmarks(pk: int, request: Request, p: Principal = Depends(require("read")),
                      db: Session = Depends(get_db)):
    """The case's current landmarks (uploaded or placed here) in LPS mm, with where each point
    shows in the viewer (``display[key][n] = {axis: [slice, row, col]}``)."""
    from livermet.imaging.couinaud import validate_landmarks
    from livermet.imaging.errors import ImagingInputError

    services.get_case(db, pk)
    img = _current_landmarks(db, pk)
    out: dict[str, Any] = {"landmarks": None, "display": None, "image": None, "keys": list(KEYS)}
    if img is None:
        return out
    path = Path(request.app.state.settings.data_dir) / img.path
    try:
        lm = validate_landmarks(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ImagingInputError) as exc:
        out["error"] = f"the stored landmarks file {img.filename!r} could not be read: {exc}"
        return out
    plain = _plain(lm)
    out["landmarks"] = plain
    out["image"] = {"id": img.id, "filename": img.filename, "sha256": img.sha256,
                    "uploaded_at": img.created_at.isoformat(timespec="seconds") + "Z"}
    meta = viewer.read_meta(_viewer_dir(request, pk)) or {}
    if meta.get("geometry"):
        out["display"] = {k: [viewer.lps_to_display(meta, pt) for pt in _points(plain, k)] for k in KEYS}
    return out


def _points(lm: dict, key: str) -> list:
    return [lm[key]] if key == "portal_bifurcation" else list(lm[key])


def _plain(lm: dict) -> dict:
    """validate_landmarks' arrays as JSON lists (LPS mm, 0.001 mm)."""
    out: dict[str, Any] = {"coordinate_system": "LPS"}
    for k in KEYS:
        out[k] = [round(float(v), 3) for v in lm[k]] if k == "portal_bifurcation" else \
            [[round(float(v), 3) for v in pt] for pt in lm[k]]
    return out


def check(landmarks: Any) -> dict:
    """The landmarks as the imaging library reads them, or services.Invalid with its message
    (the field and what it needs); the planes are fitted too, so a set the volumetry job
    would refuse (points that cannot orient a plane...) is refused here already."""
    from livermet.imaging.couinaud import couinaud_planes, validate_landmarks
    from livermet.imaging.errors import ImagingInputError

    if isinstance(landmarks, dict):
        for k in KEYS:
            v = landmarks.get(k)
            if k != "portal_bifurcation" and isinstance(v, list) and len(v) > MAX_POINTS:
                raise services.Invalid(f"landmarks.{k}: {len(v)} points: expected at most {MAX_POINTS}",
                                       field=f"landmarks.{k}")
    try:
        lm = validate_landmarks(landmarks)
        couinaud_planes(lm)
    except ImagingInputError as exc:
        raise services.Invalid(f"The landmarks are not usable yet: {exc}", field=exc.field,
                               expected=exc.expected) from None
    return _plain(lm)


@router.put("/cases/{pk}/landmarks", tags=["imaging"], status_code=201)
def api_save_landmarks(pk: int, request: Request,
                       landmarks: dict[str, Any] = Body(..., description="the landmarks (docs/landmarks.md), "
                                                                          "points in LPS mm"),
                       p: Principal = Depends(require("images")), db: Session = Depends(get_db)):
    """Store landmarks placed in the viewer as the case's landmarks file (replacing an
    uploaded one), audited; a volumetry job is queued when the case has label maps."""
    from livermet.web import imaging_jobs
    from livermet.web.api import image_out, job_out

    services.get_case(db, pk)
    plain = check(landmarks)
    plain["note"] = f"placed in the livermet viewer by {p.username}"
    body = (json.dumps(plain, indent=1) + "\n").encode()
    if len(body) > uploads.MAX_LANDMARKS_BYTES:
        raise services.Invalid(f"the landmarks are larger than {uploads.MAX_LANDMARKS_BYTES // 1000} kB")
    s = request.app.state.settings
    name = "landmarks.json"
    rel = Path("images") / str(pk) / uuid.uuid4().hex / name
    target = Path(s.data_dir) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    try:
        for old in db.scalars(select(ImageFile).where(ImageFile.case_pk == pk, ImageFile.role == "landmarks",
                                                      ImageFile.superseded.is_(False))):
            old.superseded = True
        img = ImageFile(case_pk=pk, role="landmarks", filename=name, kind="json", path=str(rel),
                        size_bytes=len(body), sha256=digest, labelset=None, superseded=False,
                        created_at=utcnow(), created_by=p.user_id)
        db.add(img)
        db.flush()
        services.audit(db, p.actor, "place_landmarks", "case", pk, None,
                       {"image_id": img.id, "role": "landmarks", "filename": name, "sha256": digest,
                        "bytes": len(body), "points": {k: len(_points(plain, k)) for k in KEYS}})
        db.commit()
    except BaseException:
        db.rollback()
        target.unlink(missing_ok=True)
        raise
    job = None
    if imaging_jobs.case_has_images(db, pk):
        job = request.app.state.jobs.enqueue(db, "volumetry", pk, {}, p.user_id)
    return {"image": image_out(img), "job": job_out(job) if job else None, "landmarks": plain}
