"""The JSON API (/api/...). Every route names the permission it needs (deps.require)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any, Literal, Optional

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet.web import library, services, uploads, viewer
from livermet.web.deps import Principal, get_db, require
from livermet.web.models import AuditEntry, ImageFile, Job, User, utcnow
from livermet.web.security import (SESSION_COOKIE, authenticate, create_api_token, create_session,
                                   end_session)

router = APIRouter(prefix="/api")


# ------------------------------------------------------------------ request bodies
class LoginBody(BaseModel):
    username: str
    password: str


class CaseCreate(BaseModel):
    data: dict[str, Any] = Field(..., description="the case document (livermet case JSON)")
    status: str = "new"


class CaseUpdate(BaseModel):
    version: int = Field(..., description="the version you loaded; a stale one gets 409")
    data: Optional[dict[str, Any]] = None
    status: Optional[str] = None


class VersionBody(BaseModel):
    version: int


class MdtBody(BaseModel):
    version: int
    date: Optional[str] = None
    decision: Optional[str] = None
    attendees: list[dict[str, str]] = Field(default_factory=list)
    follow_up: Optional[str] = None


class ResectionBody(BaseModel):
    version: int
    planned_resection: str = Field("", description="e.g. right_hepatectomy, segments:6,7, lesions, "
                                                    "right_hepatectomy+lesions; empty with resect_lesions: "
                                                    "non-anatomic only")
    resect_lesions: Optional[list[str]] = Field(None, description="lesion ids to remove non-anatomically")
    margin_mm: Optional[float] = Field(None, description="margin around those lesions, mm (library default 10)")


class UserCreate(BaseModel):
    username: str
    password: str
    role: Literal["admin", "clinician", "coordinator", "viewer"]


class UserUpdate(BaseModel):
    role: Optional[Literal["admin", "clinician", "coordinator", "viewer"]] = None
    active: Optional[bool] = None
    unlock: bool = False
    password: Optional[str] = None


class PasswordBody(BaseModel):
    current_password: str
    new_password: str


class TokenBody(BaseModel):
    label: str = ""


# ------------------------------------------------------------------ auth
@router.post("/login", tags=["auth"])
def api_login(body: LoginBody, request: Request, response: Response, db: Session = Depends(get_db)):
    """Log in; sets the session cookie and returns the CSRF token for later changes."""
    s = request.app.state.settings
    res = authenticate(db, body.username, body.password, attempts=s.lockout_attempts,
                       lock_minutes=s.lockout_minutes)
    if res.user is None:
        raise HTTPException(401, res.reason)
    token, row = create_session(db, res.user, s.session_hours, s.session_idle_minutes)
    set_session_cookie(response, token, request)
    return {"username": res.user.username, "role": res.user.role, "csrf_token": row.csrf_token}


def set_session_cookie(response: Response, token: str, request: Request) -> None:
    s = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=s.secure_cookies,
                        max_age=int(s.session_hours * 3600), path="/")


@router.post("/logout", tags=["auth"])
def api_logout(request: Request, response: Response, p: Principal = Depends(require("read")),
               db: Session = Depends(get_db)):
    end_session(db, request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/me", tags=["auth"])
def api_me(p: Principal = Depends(require("read"))):
    return {"username": p.username, "role": p.role, "csrf_token": p.csrf_token,
            "permissions": sorted(__import__("livermet.web.deps", fromlist=["x"]).PERMISSIONS[p.role])}


@router.post("/me/password", tags=["auth"])
def api_change_password(body: PasswordBody, request: Request, p: Principal = Depends(require("read")),
                        db: Session = Depends(get_db)):
    """Change your own password (the current one is needed). Your other sessions end."""
    s = request.app.state.settings
    services.change_own_password(db, p.actor, body.current_password, body.new_password,
                                 attempts=s.lockout_attempts, lock_minutes=s.lockout_minutes,
                                 keep_session=request.cookies.get(SESSION_COOKIE) if p.via == "session" else None)
    return {"ok": True}


@router.post("/tokens", tags=["auth"], status_code=201)
def api_new_token(body: TokenBody, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    """An API token for scripts and CDS clients (``Authorization: Bearer ...``); shown once."""
    user = db.get(User, p.user_id)
    return {"token": create_api_token(db, user, body.label)}


# ------------------------------------------------------------------ cases
@router.get("/cases", tags=["cases"])
async def api_list_cases(q: Optional[str] = None, status: Optional[str] = None,
                   meeting_date: Optional[str] = None, archived: bool = False,
                   p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    return _json(json_bytes({"cases": services.list_case_summaries(db, q=q, status=status, meeting_date=meeting_date,
                                                                   archived=archived)}))


@router.post("/cases", tags=["cases"], status_code=201)
def api_create_case(body: CaseCreate, p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    row, problems = services.create_case(db, p.actor, body.data, status=body.status)
    return case_out(row, problems)


@router.post("/cases/import", tags=["cases"], status_code=201)
async def api_import_case(request: Request, p: Principal = Depends(require("edit")),
                          db: Session = Depends(get_db)):
    """Import a case JSON document as sent (the export format)."""
    data = await _json_body(request)
    row, problems = services.create_case(db, p.actor, data, action="import_json")
    return case_out(row, problems)


@router.post("/cases/import-fhir", tags=["cases"], status_code=201)
async def api_import_fhir(request: Request, p: Principal = Depends(require("edit")),
                          db: Session = Depends(get_db)):
    """Import a FHIR R4 Bundle (mCODE); what could not be mapped is listed in ``unmapped``."""
    bundle = await _json_body(request)
    try:
        data, unmapped = library.fhir_to_case(bundle)
    except library.LibraryUnavailable:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise services.Invalid(f"The FHIR bundle could not be read: {exc}") from None
    row, problems = services.create_case(db, p.actor, data, action="import_fhir")
    out = case_out(row, problems)
    out["unmapped"] = unmapped
    return out


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise services.Invalid(f"The body is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise services.Invalid("The body must be a JSON object.")
    return data


def case_out(row, problems: list | None = None) -> dict:
    out = services.case_summary(row)
    out["data"] = row.data
    if problems is None:
        problems = library.validate_case(row.data)
    out["problems"] = problems
    return out


@router.post("/validate", tags=["cases"])
async def api_validate(request: Request, p: Principal = Depends(require("read"))):
    """Validate a case document without storing it; returns the library's problems."""
    data = await _json_body(request)
    return {"problems": library.validate_case(data)}


def json_bytes(content) -> bytes:
    """JSON exactly as ``JSONResponse`` renders it (compact, UTF-8, no NaN)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def _json(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code, media_type="application/json")


@router.get("/cases/{pk}", tags=["cases"])
async def api_get_case(pk: int, request: Request, p: Principal = Depends(require("read")),
                       db: Session = Depends(get_db)):
    # async: small queries by primary key, answered without a thread-pool hop. The answer
    # for a stored version never changes: it is serialised once per version (and library
    # stamp, since it carries the validation problems), then only the version is read.
    state = request.app.state
    body = state.case_reads.peek(pk, services.case_version(db, pk))
    if body is None:
        row = services.read_case(db, pk)
        body = json_bytes(case_out(row, state.case_problems.get(row.id, row.version, row.data)))
        state.case_reads.put(row.id, row.version, body)
    return _json(body)


@router.put("/cases/{pk}", tags=["cases"])
def api_update_case(pk: int, body: CaseUpdate, request: Request, background: BackgroundTasks,
                    p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    row, problems = services.update_case(db, p.actor, pk, body.version, data=body.data, status=body.status)
    state = request.app.state
    out = json_bytes(case_out(row, problems))
    if body.data is not None:  # the new version's problems, answer and assessment, ready for its readers
        state.case_problems.put(row.id, row.version, problems)
        state.case_reads.put(row.id, row.version, out)  # what GET answers for this version
        background.add_task(run_in_threadpool, state.assessments.warm, row.id, row.version, row.data)
    return _json(out)


@router.post("/cases/{pk}/archive", tags=["cases"])
def api_archive(pk: int, body: VersionBody, p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    row, _ = services.update_case(db, p.actor, pk, body.version, archived=True, action="archive")
    return services.case_summary(row)


@router.post("/cases/{pk}/restore", tags=["cases"])
def api_restore(pk: int, body: VersionBody, p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    row, _ = services.update_case(db, p.actor, pk, body.version, archived=False, action="restore")
    return services.case_summary(row)


@router.get("/cases/{pk}/export", tags=["cases"])
def api_export(pk: int, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    row = services.get_case(db, pk)
    return JSONResponse(row.data, headers={"Content-Disposition": f'attachment; filename="case-{pk}.json"'})


@router.get("/cases/{pk}/audit", tags=["cases"])
def api_case_audit(pk: int, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    services.get_case(db, pk)
    rows = db.scalars(select(AuditEntry).where(AuditEntry.entity == "case", AuditEntry.entity_id == str(pk))
                      .order_by(AuditEntry.id))
    return {"entries": [audit_out(a) for a in rows]}


def audit_out(a: AuditEntry) -> dict:
    return {"id": a.id, "at": a.at.isoformat(timespec="seconds") + "Z", "username": a.username,
            "action": a.action, "entity": a.entity, "entity_id": a.entity_id,
            "before": a.before, "after": a.after}


# ------------------------------------------------------------------ assessment, report
@router.get("/cases/{pk}/assessment", tags=["results"])
async def api_assessment(pk: int, request: Request, p: Principal = Depends(require("read")),
                         db: Session = Depends(get_db)):
    """The scores, options and findings for the case's current version (cached per version)."""
    cache = request.app.state.assessments
    body = cache.peek_json(pk, services.case_version(db, pk))  # the case document is read only on a miss
    if body is None:  # computed by the library: off the event loop
        row = services.read_case(db, pk)
        body = await run_in_threadpool(cache.get_json, row.id, row.version, row.data)
    return _json(body)


@router.post("/cases/{pk}/resection", tags=["results"])
def api_choose_resection(pk: int, body: ResectionBody, request: Request,
                         p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    """Plan another resection. Stored in the case (audited); when the case has images, its
    remnant is cleared and a volumetry job recomputes it (poll ``job``); otherwise the
    typed-in volumes stay and the new assessment is returned at once."""
    from livermet.web import imaging_jobs

    row = services.get_case(db, pk)
    data = json.loads(json.dumps(row.data))
    ids = [x.strip() for x in (body.resect_lesions or []) if x and x.strip()]
    name = body.planned_resection.strip()
    if ids and not name:
        name = "lesions"
    try:
        plan = library.check_resection(name, ids, body.margin_mm)
    except library.LibraryUnavailable:
        raise
    except ValueError as exc:
        raise services.Invalid(f"The resection cannot be planned: {exc}") from None
    known = {str(les.get("id")).upper() for les in (data.get("metastases") or {}).get("lesions") or []
             if isinstance(les, dict) and les.get("id")}
    unknown = [i for i in plan["lesion_ids"] if i not in known]
    if unknown:
        raise services.Invalid(f"resect_lesions={','.join(unknown)}: expected lesion ids of this case "
                               f"({', '.join(sorted(known)) or 'none yet: run volumetry on the images first'})")
    vol = dict(data.get("volumetry") or {}, planned_resection=name,
               resect_lesions=plan["lesion_ids"] or None,
               margin_mm=plan["margin_mm"] if plan["lesion_ids"] else None)
    with_images = imaging_jobs.case_has_images(db, pk)
    if with_images:
        vol["remnant_ml"] = None  # measured again for the new plan by the job
    data["volumetry"] = vol
    row, problems = services.update_case(db, p.actor, pk, body.version, data=data, action="plan_resection")
    job = request.app.state.jobs.enqueue(db, "volumetry", pk, {}, p.user_id) if with_images else None
    return {"case": case_out(row, problems), "job": job_out(job) if job else None,
            "assessment": None if job else request.app.state.assessments.get(row.id, row.version, row.data)}


def _report_figures(request: Request, row) -> dict | None:
    """The case's images as a report figure (display only), when it has any."""
    segs, use_mask = _resection_drawing(request, row)
    png = viewer.report_figure(_viewer_dir(request, row.id), segs, resection_mask=use_mask)
    if png is None:
        return None
    return {"axial_CT_slice_with_Couinaud_segments,_tumours_and_the_planned_resection.png": png}


@router.get("/cases/{pk}/report.html", tags=["results"], response_class=HTMLResponse)
def api_report_html(pk: int, request: Request, deidentify: bool = False, p: Principal = Depends(require("read")),
                    db: Session = Depends(get_db)):
    """The MDT report as one self-contained HTML file (``deidentify=true``: no names,
    identifiers or birth dates; dates shifted)."""
    from livermet.web.imaging_jobs import latest_volumetry

    row = services.get_case(db, pk)
    html = library.report_html(row.data, volumetry=latest_volumetry(db, pk), deidentify=deidentify,
                               figures=_report_figures(request, row))
    if isinstance(html, bytes):
        html = html.decode()
    return HTMLResponse(html, headers={"Content-Disposition": f'inline; filename="report-{pk}.html"'})


@router.get("/cases/{pk}/report.pdf", tags=["results"])
def api_report_pdf(pk: int, request: Request, deidentify: bool = False, p: Principal = Depends(require("read")),
                   db: Session = Depends(get_db)):
    """The same report as PDF."""
    from livermet.web.imaging_jobs import latest_volumetry

    row = services.get_case(db, pk)
    pdf = library.report_pdf(row.data, volumetry=latest_volumetry(db, pk), deidentify=deidentify,
                             figures=_report_figures(request, row))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="report-{pk}.pdf"'})


# ------------------------------------------------------------------ meeting
@router.put("/cases/{pk}/mdt", tags=["meeting"])
def api_record_mdt(pk: int, body: MdtBody, p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    row = services.get_case(db, pk)
    data = json.loads(json.dumps(row.data))
    data["mdt"] = {"date": body.date, "decision": body.decision, "attendees": body.attendees,
                   "follow_up": body.follow_up}
    status = "discussed" if body.decision else None
    row, problems = services.update_case(db, p.actor, pk, body.version, data=data, status=status,
                                         action="record_mdt")
    return {"case": case_out(row, problems), "team": library.missing_team_members(body.attendees, data)}


@router.get("/cases/{pk}/mdt", tags=["meeting"])
def api_get_mdt(pk: int, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    row = services.get_case(db, pk)
    mdt = row.data.get("mdt") or {}
    return {"mdt": mdt, "team": library.missing_team_members(mdt.get("attendees") or [], row.data),
            "minimum_team": library.minimum_team()}


# ------------------------------------------------------------------ imaging
@router.put("/cases/{pk}/images", tags=["imaging"], status_code=201)
async def api_upload_image(pk: int, request: Request,
                           role: str = Query(..., description="ct, labels, liver, tumour, segment_1..8, "
                                                                "portal_branches (label map of portal branches 1-8), "
                                                                "landmarks (JSON) ..."),
                           filename: str = Query(...), labelset: Optional[str] = None,
                           p: Principal = Depends(require("images")), db: Session = Depends(get_db)):
    """Upload one image as the raw request body (so that browsers can show progress).
    A volumetry job is queued when the case then has label maps."""
    from livermet.web import imaging_jobs

    s = request.app.state.settings
    services.get_case(db, pk)
    if role not in uploads.IMAGE_ROLES:
        raise uploads.UploadError(f"role={role!r}: expected one of {', '.join(uploads.IMAGE_ROLES)}")
    if role == "labels" and not labelset:
        raise uploads.UploadError("a multilabel map needs its label set: labelset=liver_segments, "
                                  "totalsegmentator, liver_vessels (or upload separate masks by role)")
    name = uploads.safe_filename(filename)
    kind = uploads.kind_of(name, role)
    limit = int(s.max_upload_mb * 1e6)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise uploads.UploadError(f"the upload is larger than the limit of {limit / 1e6:.0f} MB "
                                  "(LIVERMET_MAX_UPLOAD_MB).", 413)
    rel = Path("images") / str(pk) / uuid.uuid4().hex
    folder = Path(s.data_dir) / rel
    target = folder / name
    def check_and_unpack() -> Path:  # file work off the event loop
        uploads.check_content(target, name, kind, max_image_bytes=int(s.max_unzipped_mb * 1e6))
        stored = rel / name
        if kind == "dicom_zip":
            uploads.safe_extract_dicom_zip(target, folder / "dicom", max_total_bytes=int(s.max_unzipped_mb * 1e6),
                                           max_ratio=s.max_zip_ratio, max_members=s.max_zip_members)
            target.unlink()
            stored = rel / "dicom"
        if kind != "json":
            imaging_jobs.check_readable(Path(s.data_dir) / stored, role)
        return stored

    try:
        size, digest = await uploads.receive_to_file(request.stream(), target, limit)
        stored = await run_in_threadpool(check_and_unpack)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    for old in db.scalars(select(ImageFile).where(ImageFile.case_pk == pk, ImageFile.role == role,
                                                  ImageFile.superseded.is_(False))):
        if role != "tumour":  # several tumour masks are several tumours
            old.superseded = True
    img = ImageFile(case_pk=pk, role=role, filename=name, kind=kind, path=str(stored), size_bytes=size,
                    sha256=digest, labelset=labelset, superseded=False, created_at=utcnow(),
                    created_by=p.user_id)
    db.add(img)
    db.flush()
    services.audit(db, p.actor, "upload_image", "case", pk, None,
                   {"image_id": img.id, "role": role, "filename": name, "sha256": digest, "bytes": size})
    db.commit()
    job = None
    if imaging_jobs.case_has_images(db, pk):
        job = request.app.state.jobs.enqueue(db, "volumetry", pk, {}, p.user_id)
    return {"image": image_out(img), "job": job_out(job) if job else None}


def image_out(i: ImageFile) -> dict:
    return {"id": i.id, "role": i.role, "filename": i.filename, "kind": i.kind, "bytes": i.size_bytes,
            "sha256": i.sha256, "labelset": i.labelset, "superseded": i.superseded,
            "uploaded_at": i.created_at.isoformat(timespec="seconds") + "Z"}


def job_out(j: Job) -> dict:
    return {"id": j.id, "kind": j.kind, "case_pk": j.case_pk, "status": j.status, "progress": j.progress,
            "message": j.message, "result": j.result,
            "created_at": j.created_at.isoformat(timespec="seconds") + "Z",
            "finished_at": j.finished_at.isoformat(timespec="seconds") + "Z" if j.finished_at else None}


@router.get("/cases/{pk}/images", tags=["imaging"])
def api_list_images(pk: int, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    services.get_case(db, pk)
    imgs = db.scalars(select(ImageFile).where(ImageFile.case_pk == pk).order_by(ImageFile.id))
    jobs = db.scalars(select(Job).where(Job.case_pk == pk).order_by(Job.id.desc()).limit(10))
    return {"images": [image_out(i) for i in imgs], "jobs": [job_out(j) for j in jobs]}


@router.post("/cases/{pk}/volumetry", tags=["imaging"], status_code=202)
def api_run_volumetry(pk: int, request: Request, p: Principal = Depends(require("images")),
                      db: Session = Depends(get_db)):
    from livermet.web import imaging_jobs

    services.get_case(db, pk)
    if not imaging_jobs.case_has_images(db, pk):
        raise services.Invalid("This case has no label maps yet: upload them first.")
    job = request.app.state.jobs.enqueue(db, "volumetry", pk, {}, p.user_id)
    return job_out(job)


@router.get("/jobs/{job_id}", tags=["imaging"])
def api_job(job_id: int, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    job = db.get(Job, job_id)
    if job is None:
        raise services.NotFound(f"No job with number {job_id}.")
    return job_out(job)


def _viewer_dir(request: Request, pk: int) -> Path:
    return Path(request.app.state.settings.data_dir) / "viewer" / str(pk)


# Label maps the imaging library writes with each volumetry (segments 1-8, tumour 9, liver
# without a segment 10; resection: 1 remnant, 2 resected), as NIfTI and DICOM SEG for PACS.
EXPORT_FILES = {"segments.nii.gz": "application/gzip", "segments.seg.dcm": "application/dicom",
                "resection.nii.gz": "application/gzip", "resection.seg.dcm": "application/dicom"}


@router.get("/cases/{pk}/exports", tags=["imaging"])
def api_exports(pk: int, request: Request, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    """The label maps of the last volumetry (segments as used, the planned resection)."""
    services.get_case(db, pk)
    d = _viewer_dir(request, pk) / "export"
    return {"files": [{"name": n, "bytes": (d / n).stat().st_size, "url": f"/api/cases/{pk}/exports/{n}"}
                      for n in EXPORT_FILES if (d / n).is_file()]}


@router.get("/cases/{pk}/exports/{name}", tags=["imaging"], response_class=Response)
def api_export_file(pk: int, name: str, request: Request, p: Principal = Depends(require("read")),
                    db: Session = Depends(get_db)):
    services.get_case(db, pk)
    path = _viewer_dir(request, pk) / "export" / name
    if name not in EXPORT_FILES or not path.is_file():
        raise services.NotFound(f"No export {name!r} for this case (expected one of {', '.join(EXPORT_FILES)}, "
                                "written by the volumetry job).")
    return Response(path.read_bytes(), media_type=EXPORT_FILES[name],
                    headers={"Content-Disposition": f'attachment; filename="case-{pk}-{name}"'})


@router.get("/cases/{pk}/viewer", tags=["imaging"])
def api_viewer_meta(pk: int, request: Request, p: Principal = Depends(require("read")),
                    db: Session = Depends(get_db)):
    services.get_case(db, pk)
    meta = viewer.read_meta(_viewer_dir(request, pk))
    if meta is None:
        raise services.NotFound("No images are ready to view for this case (upload label maps; "
                                "the viewer is prepared by the volumetry job).")
    return meta


Axis = Literal["axial", "coronal", "sagittal"]


@router.get("/cases/{pk}/viewer/ct/{k}.png", tags=["imaging"], response_class=Response)
def api_ct_slice(pk: int, k: int, request: Request, preset: str = "abdomen", width: Optional[float] = None,
                 level: Optional[float] = None, axis: Axis = "axial", p: Principal = Depends(require("read"))):
    w, lv = viewer.PRESETS.get(preset, viewer.PRESETS["abdomen"])
    try:
        png = viewer.ct_slice_png(_viewer_dir(request, pk), k, width or w, level if level is not None else lv,
                                  axis=axis)
    except FileNotFoundError as exc:
        raise services.NotFound(str(exc)) from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


def _resection_drawing(request: Request, row) -> tuple[tuple[int, ...], bool]:
    """How to draw the case's planned resection: the library's resected-liver map when it was
    computed for this plan (exact, lesions with their margin included), else its segments."""
    from livermet.web.imaging_jobs import resection_key

    meta = viewer.read_meta(_viewer_dir(request, row.id)) or {}
    if meta.get("resection_plan") and meta["resection_plan"] == resection_key(row.data):
        return (), True
    return library.resection_segments((row.data.get("volumetry") or {}).get("planned_resection")), False


@router.get("/cases/{pk}/viewer/overlay/{k}.png", tags=["imaging"], response_class=Response)
def api_overlay_slice(pk: int, k: int, request: Request, layers: str = "liver,tumour", axis: Axis = "axial",
                      p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    wanted = set(layers.split(","))
    segments: tuple[int, ...] = ()
    use_mask = False
    if "resection" in wanted:  # the case's planned resection, as the imaging library defines it
        segments, use_mask = _resection_drawing(request, services.get_case(db, pk))
    try:
        png = viewer.overlay_slice_png(_viewer_dir(request, pk), k, wanted, resection_segments=segments,
                                       resection_mask=use_mask, axis=axis)
    except FileNotFoundError as exc:
        raise services.NotFound(str(exc)) from None
    return Response(png, media_type="image/png")


# ------------------------------------------------------------------ users and audit (admin)
@router.get("/users", tags=["admin"])
def api_users(p: Principal = Depends(require("admin")), db: Session = Depends(get_db)):
    return {"users": [services.user_state(u) for u in db.scalars(select(User).order_by(User.id))]}


@router.post("/users", tags=["admin"], status_code=201)
def api_create_user(body: UserCreate, p: Principal = Depends(require("admin")), db: Session = Depends(get_db)):
    return services.user_state(services.create_user(db, p.actor, body.username, body.password, body.role))


@router.put("/users/{user_id}", tags=["admin"])
def api_update_user(user_id: int, body: UserUpdate, p: Principal = Depends(require("admin")),
                    db: Session = Depends(get_db)):
    return services.user_state(services.update_user(db, p.actor, user_id, role=body.role, active=body.active,
                                                    unlock=body.unlock, password=body.password))


@router.get("/audit", tags=["admin"])
def api_audit(limit: int = Query(200, le=2000), p: Principal = Depends(require("admin")),
              db: Session = Depends(get_db)):
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return {"entries": [audit_out(a) for a in rows]}
