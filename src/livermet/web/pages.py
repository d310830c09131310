"""The HTML pages (server-rendered, Jinja2). Every page names its permission; forms carry
the CSRF token. Pages call the same services and library wrappers as the JSON API."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from livermet import __version__
from livermet.web import forms, library, services
from livermet.web.api import set_session_cookie
from livermet.web.deps import Principal, current_principal, get_db, require
from livermet.web.models import AuditEntry, User
from livermet.web.security import (LOGIN_CSRF_COOKIE, SESSION_COOKIE, authenticate, create_session,
                                   end_session, tokens_equal)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.globals["version"] = __version__
templates.env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False, default=str)


def render(request: Request, name: str, p: Principal | None, status_code: int = 200, **ctx) -> HTMLResponse:
    ctx.update(request=request, user=p, csrf=p.csrf_token if p else None,
               can=(lambda perm: p is not None and p.can(perm)))
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _safe_next(url: str | None) -> str:
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


# ------------------------------------------------------------------ login
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Optional[str] = None, db: Session = Depends(get_db)):
    if current_principal(request, db) is not None:
        return RedirectResponse(_safe_next(next), 303)
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", None, next=_safe_next(next), login_csrf=token, error=None)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                    secure=request.app.state.settings.secure_cookies, max_age=3600, path="/login")
    return resp


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, db: Session = Depends(get_db)):
    form = await request.form()
    s = request.app.state.settings
    nxt = _safe_next(form.get("next"))
    if not tokens_equal(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        token = secrets.token_urlsafe(24)
        resp = render(request, "login.html", None, 403, next=nxt, login_csrf=token,
                      error="The log-in form expired; please try again.")
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=s.secure_cookies, max_age=3600, path="/login")
        return resp
    res = authenticate(db, str(form.get("username", "")), str(form.get("password", "")),
                       attempts=s.lockout_attempts, lock_minutes=s.lockout_minutes)
    if res.user is None:
        return render(request, "login.html", None, 401, next=nxt, error=res.reason,
                      login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE))
    token, _row = create_session(db, res.user, s.session_hours, s.session_idle_minutes)
    resp = RedirectResponse(nxt, 303)
    set_session_cookie(resp, token, request)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    end_session(db, request.cookies.get(SESSION_COOKIE))
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


# ------------------------------------------------------------------ own account
@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, p: Principal = Depends(require("read"))):
    return render(request, "account.html", p, message=None, error=None,
                  idle_minutes=request.app.state.settings.session_idle_minutes)


@router.post("/account/password", response_class=HTMLResponse)
async def account_password(request: Request, p: Principal = Depends(require("read")),
                           db: Session = Depends(get_db)):
    form = await request.form()
    s = request.app.state.settings
    new, again = str(form.get("new_password", "")), str(form.get("new_password_again", ""))
    try:
        if new != again:
            raise services.Invalid("new_password_again: the two new passwords differ")
        services.change_own_password(db, p.actor, str(form.get("current_password", "")), new,
                                     attempts=s.lockout_attempts, lock_minutes=s.lockout_minutes,
                                     keep_session=request.cookies.get(SESSION_COOKIE))
    except services.ServiceError as exc:
        return render(request, "account.html", p, exc.status_code, message=None, error=exc.message,
                      idle_minutes=s.session_idle_minutes)
    return render(request, "account.html", p, message="Your password was changed; your other sessions were ended.",
                  error=None, idle_minutes=s.session_idle_minutes)


# ------------------------------------------------------------------ worklist
@router.get("/", response_class=HTMLResponse)
def worklist(request: Request, q: Optional[str] = None, status: Optional[str] = None,
             meeting_date: Optional[str] = None, archived: bool = False,
             p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    summaries = services.list_case_summaries(db, q=q, status=status or None, meeting_date=meeting_date or None,
                                             archived=archived)
    groups: dict[str, list] = {}
    for s in summaries:
        groups.setdefault(s["meeting_date"] or "no meeting date", []).append(s)
    return render(request, "worklist.html", p, groups=groups, q=q or "", status=status or "",
                  meeting_date=meeting_date or "", archived=archived, statuses=services.STATUSES)


@router.post("/cases/import", response_class=HTMLResponse)
async def import_case(request: Request, p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    form = await request.form()
    kind = form.get("kind", "json")
    upload = form.get("file")
    text = ""
    if upload is not None and hasattr(upload, "read"):
        text = (await upload.read()).decode("utf-8", "replace")
    if not text.strip():
        text = str(form.get("document", ""))
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return _error(request, p, 422, "Import failed", f"The document is not a JSON object ({exc}).")
    unmapped: list = []
    try:
        if kind == "fhir":
            doc, unmapped = library.fhir_to_case(doc)
        row, problems = services.create_case(db, p.actor, doc, action="import_fhir" if kind == "fhir" else "import_json")
    except library.LibraryUnavailable as exc:
        return _error(request, p, 501, "Import failed", str(exc))
    except services.ServiceError as exc:
        return _error(request, p, exc.status_code, "Import failed", exc.message,
                      problems=exc.extra.get("problems"))
    except (ValueError, TypeError, KeyError) as exc:
        return _error(request, p, 422, "Import failed", f"The bundle could not be read: {exc}")
    if unmapped:
        request.state.flash = unmapped
        return render(request, "imported.html", p, row=services.case_summary(row), unmapped=unmapped)
    return RedirectResponse(f"/cases/{row.id}", 303)


def _error(request, p, status: int, title: str, message: str, problems=None):
    return render(request, "error.html", p, status, title=title, message=message, problems=problems or [])


# ------------------------------------------------------------------ case editor
def _editor(request, p, *, data: dict, row=None, problems=None, status_code=200, message=None, conflict=None):
    sections = forms.build_sections()
    if problems is None:
        problems = library.validate_case(data) if data.get("id") else []
    by_path = forms.problems_by_path(problems)
    lesions = ((data.get("metastases") or {}).get("lesions") or []) if isinstance(data.get("metastases"), dict) else []
    return render(request, "case_form.html", p, status_code, sections=sections, data=data, row=row,
                  summary=services.case_summary(row) if row is not None else None, forms=forms,
                  by_path=by_path, unplaced=forms.unplaced_problems(by_path, sections), lesions=lesions,
                  message=message, conflict=conflict, statuses=services.STATUSES,
                  n_errors=sum(1 for x in problems if x.get("severity") == "error"))


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(request: Request, p: Principal = Depends(require("edit"))):
    return _editor(request, p, data={})


@router.post("/cases/new", response_class=HTMLResponse)
async def create_case(request: Request, p: Principal = Depends(require("edit")), db: Session = Depends(get_db)):
    form = dict(await request.form())
    data = forms.apply_form({}, form, forms.build_sections())
    try:
        row, _ = services.create_case(db, p.actor, data, status=form.get("status") or "new")
    except services.ServiceError as exc:
        return _editor(request, p, data=data, problems=exc.extra.get("problems"), status_code=exc.status_code,
                       message=exc.message)
    return RedirectResponse(f"/cases/{row.id}?saved=1", 303)


@router.get("/cases/{pk}", response_class=HTMLResponse)
def edit_case(pk: int, request: Request, saved: int = 0, p: Principal = Depends(require("read")),
              db: Session = Depends(get_db)):
    row = _row_or_404(db, pk)
    return _editor(request, p, data=row.data, row=row, message="Saved." if saved else None,
                   problems=request.app.state.case_problems.get(row.id, row.version, row.data))


@router.post("/cases/{pk}", response_class=HTMLResponse)
async def save_case(pk: int, request: Request, p: Principal = Depends(require("edit")),
                    db: Session = Depends(get_db)):
    row = _row_or_404(db, pk)
    form = dict(await request.form())
    data = forms.apply_form(row.data, form, forms.build_sections())
    try:
        row, _ = services.update_case(db, p.actor, pk, form.get("version"), data=data,
                                      status=form.get("status") or None)
    except services.Conflict as exc:
        current = services.get_case(db, pk)
        return _editor(request, p, data=data, row=current, status_code=409, message=exc.message,
                       conflict={"yours": form.get("version"), "current": current.version})
    except services.ServiceError as exc:
        return _editor(request, p, data=data, row=row, problems=exc.extra.get("problems"),
                       status_code=exc.status_code, message=exc.message)
    return RedirectResponse(f"/cases/{pk}?saved=1", 303)


@router.post("/cases/{pk}/archive")
async def archive_case(pk: int, request: Request, p: Principal = Depends(require("edit")),
                       db: Session = Depends(get_db)):
    form = await request.form()
    archived = form.get("archive", "1") == "1"
    try:
        services.update_case(db, p.actor, pk, form.get("version"), archived=archived,
                             action="archive" if archived else "restore")
    except services.ServiceError as exc:
        return _error(request, p, exc.status_code, "Not archived", exc.message)
    return RedirectResponse("/" if archived else f"/cases/{pk}", 303)


def _row_or_404(db, pk):
    return services.get_case(db, pk)


# ------------------------------------------------------------------ imaging, results, meeting
@router.get("/cases/{pk}/imaging", response_class=HTMLResponse)
def imaging_page(pk: int, request: Request, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    from livermet.web.uploads import IMAGE_ROLES

    row = _row_or_404(db, pk)
    return render(request, "imaging.html", p, summary=services.case_summary(row), roles=IMAGE_ROLES,
                  max_mb=request.app.state.settings.max_upload_mb)


@router.get("/cases/{pk}/results", response_class=HTMLResponse)
def results_page(pk: int, request: Request, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    from livermet.web.imaging_jobs import latest_volumetry

    row = _row_or_404(db, pk)
    assessment, error = None, None
    try:
        assessment = request.app.state.assessments.get(row.id, row.version, row.data)
    except library.LibraryUnavailable as exc:
        error = str(exc)
    except Exception as exc:  # shown to the user; the log gets the type only
        error = f"The assessment could not be computed: {type(exc).__name__}: {exc}"
    return render(request, "results.html", p, summary=services.case_summary(row), data=row.data,
                  assessment=assessment, error=error, volumetry=latest_volumetry(db, pk),
                  resections=library.resection_names(), default_margin=library.default_margin_mm(),
                  lesions=[les for les in ((row.data.get("metastases") or {}).get("lesions") or [])
                           if isinstance(les, dict) and les.get("id")])


@router.get("/cases/{pk}/meeting", response_class=HTMLResponse)
def meeting_page(pk: int, request: Request, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    row = _row_or_404(db, pk)
    mdt = row.data.get("mdt") or {}
    return render(request, "meeting.html", p, summary=services.case_summary(row), mdt=mdt,
                  team=library.missing_team_members(mdt.get("attendees") or [], row.data),
                  minimum_team=library.minimum_team(), message=None)


@router.post("/cases/{pk}/meeting", response_class=HTMLResponse)
async def meeting_submit(pk: int, request: Request, p: Principal = Depends(require("edit")),
                         db: Session = Depends(get_db)):
    row = _row_or_404(db, pk)
    form = await request.form()
    attendees = []
    for line in str(form.get("attendees", "")).splitlines():
        if not line.strip():
            continue
        name, _, role = line.partition(",")
        attendees.append({"name": name.strip(), "role": role.strip()})
    mdt = {"date": form.get("date") or None, "decision": form.get("decision") or None,
           "attendees": attendees, "follow_up": form.get("follow_up") or None}
    data = json.loads(json.dumps(row.data))
    data["mdt"] = mdt
    try:
        services.update_case(db, p.actor, pk, form.get("version"), data=data,
                             status="discussed" if mdt["decision"] else None, action="record_mdt")
    except services.ServiceError as exc:
        current = services.get_case(db, pk)
        return render(request, "meeting.html", p, exc.status_code, summary=services.case_summary(current),
                      mdt=mdt, team=library.missing_team_members(attendees, data),
                      minimum_team=library.minimum_team(), message=exc.message)
    return RedirectResponse(f"/cases/{pk}/meeting", 303)


@router.get("/cases/{pk}/history", response_class=HTMLResponse)
def history_page(pk: int, request: Request, p: Principal = Depends(require("read")), db: Session = Depends(get_db)):
    row = _row_or_404(db, pk)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.entity == "case", AuditEntry.entity_id == str(pk))
                         .order_by(AuditEntry.id.desc()))
    return render(request, "history.html", p, summary=services.case_summary(row), entries=list(entries))


# ------------------------------------------------------------------ admin
@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, p: Principal = Depends(require("admin")), db: Session = Depends(get_db)):
    users = [services.user_state(u) for u in db.scalars(select(User).order_by(User.id))]
    return render(request, "users.html", p, users=users, message=None)


@router.post("/admin/users", response_class=HTMLResponse)
async def users_create(request: Request, p: Principal = Depends(require("admin")), db: Session = Depends(get_db)):
    form = await request.form()
    msg = None
    try:
        services.create_user(db, p.actor, str(form.get("username", "")), str(form.get("password", "")),
                             str(form.get("role", "")))
    except services.ServiceError as exc:
        msg = exc.message
    users = [services.user_state(u) for u in db.scalars(select(User).order_by(User.id))]
    return render(request, "users.html", p, 422 if msg else 200, users=users,
                  message=msg or "User created.")


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
async def users_update(user_id: int, request: Request, p: Principal = Depends(require("admin")),
                       db: Session = Depends(get_db)):
    form = await request.form()
    msg = None
    try:
        services.update_user(db, p.actor, user_id, role=form.get("role") or None,
                             active={"1": True, "0": False}.get(str(form.get("active", ""))),
                             unlock=form.get("unlock") == "1", password=form.get("password") or None)
    except services.ServiceError as exc:
        msg = exc.message
    users = [services.user_state(u) for u in db.scalars(select(User).order_by(User.id))]
    return render(request, "users.html", p, 422 if msg else 200, users=users, message=msg or "Saved.")
