"""The application factory. Nothing is created at import time: ``create_app(settings)``
opens the database, runs the migrations, creates the first admin and wires the routes."""

from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select

from livermet import __version__
from livermet.web import db as dbmod
from livermet.web import library, services, uploads
from livermet.web.deps import NotAuthenticated, Principal, is_api_path, require
from livermet.web.models import User, utcnow
from livermet.web.security import hash_password, new_password
from livermet.web.settings import Settings

log = logging.getLogger("livermet.web")
access_log = logging.getLogger("livermet.web.access")
HERE = Path(__file__).parent


def ensure_admin(Session, settings: Settings, announce=None) -> str | None:
    """Create the first admin when there is no user; return the password if generated."""
    with Session() as db:
        if db.scalar(select(func.count()).select_from(User)):
            return None
        password = settings.admin_password or new_password()
        db.add(User(username=settings.admin_username, password_hash=hash_password(password), role="admin",
                    active=True, failed_logins=0, created_at=utcnow()))
        services.audit(db, services.Actor(None, "system", "system"), "create", "user", settings.admin_username,
                       None, {"username": settings.admin_username, "role": "admin"})
        db.commit()
    if settings.admin_password:
        return None
    if announce is not None:
        announce(settings.admin_username, password)
    return password


def _print_admin(username: str, password: str) -> None:
    sys.stderr.write(f"\nlivermet: first start - created the administrator account\n"
                     f"  username: {username}\n  password: {password}\n"
                     f"  (shown once; change it after logging in)\n\n")
    sys.stderr.flush()


def create_app(settings: Settings, *, announce_admin=_print_admin) -> FastAPI:
    settings = settings.validated().with_secret()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = dbmod.make_engine(settings.db_url)
    dbmod.upgrade(engine)
    Session = dbmod.make_sessionmaker(engine)
    ensure_admin(Session, settings, announce_admin)

    from livermet.web.imaging_jobs import HANDLERS
    from livermet.web.jobs import JobQueue

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.start_worker:
            app.state.jobs.start()
        if app.state.assessment_process is not None:
            app.state.assessment_process.start()
        yield
        app.state.jobs.stop()
        if app.state.job_pool is not None:
            library.stop_process_pool(app.state.job_pool)
        if app.state.assessment_process is not None:
            app.state.assessment_process.shutdown()

    app = FastAPI(title="livermet", version=__version__, lifespan=lifespan,
                  description="The liver-metastasis MDT: cases, imaging, assessments, reports. "
                              "Decision support only: not a medical device.",
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = Session
    app.state.read_sessionmaker = dbmod.make_read_sessionmaker(engine)  # GET and HEAD requests
    app.state.jobs = JobQueue(Session, app.state, HANDLERS)
    app.state.assessments = library.AssessmentCache()
    app.state.case_problems = library.ProblemsCache()
    app.state.case_reads = library.VersionCache()  # GET /api/cases/{pk} answers, serialised once per version
    app.state.job_pool = None
    app.state.assessment_process = None
    if settings.job_processes > 0:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        app.state.job_pool = ProcessPoolExecutor(max_workers=settings.job_processes,
                                                 mp_context=multiprocessing.get_context("spawn"))
        # Assessments (pure-Python library work, milliseconds each) in a process of their own,
        # apart from the long volumetry jobs: the server's process keeps its core for requests.
        app.state.assessment_process = library.AssessmentProcess()
        app.state.assessments.process = app.state.assessment_process

    app.add_middleware(AccessLogAndHeaders)

    _exception_handlers(app)

    from livermet.web.api import router as api_router
    from livermet.web.cds import router as cds_router
    from livermet.web.landmark_picking import router as landmarks_router
    from livermet.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(landmarks_router)
    app.include_router(cds_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(p: Principal = Depends(require("read"))):
        return app.openapi()

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"status": "ok", "version": __version__}

    return app


_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")


_REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; frame-ancestors 'none'"


class AccessLogAndHeaders:
    """Pure ASGI middleware: an access log line per request with the route *template* only
    (e.g. /api/cases/{pk}: no query string, no identifiers, no patient data), and security
    headers on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.datastructures import MutableHeaders

        start = time.perf_counter()
        path = scope.get("path", "")
        status = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "same-origin")
                # the report is one self-contained file: inline styles and data: images, nothing else
                h.setdefault("Content-Security-Policy", _REPORT_CSP if path.endswith("/report.html") else _CSP)
                if path.startswith(("/api/", "/cases", "/admin")) and "/viewer/ct/" not in path:
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        started = [False]

        async def send_tracking(message):
            if message["type"] == "http.response.start":
                started[0] = True
            await send_wrapper(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            # Logged by type and place only, and not re-raised to the server (uvicorn would log
            # the traceback, whose messages can quote case data).
            ref = f"{int(time.time() * 1000) % 10**9:09d}"
            log.error("unhandled %s at %s (ref %s)", type(exc).__name__, _where(exc), ref)
            status[0] = 500
            if not started[0]:
                body = json.dumps({"detail": f"Internal error ({type(exc).__name__}); reference {ref}. "
                                             "The administrator can find it in the server log."}).encode()
                await send_wrapper({"type": "http.response.start", "status": 500,
                                    "headers": [(b"content-type", b"application/json"),
                                                (b"content-length", str(len(body)).encode())]})
                await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/static" if path.startswith("/static/") else "?")
            access_log.info("%s %s %s %.1fms", scope.get("method"), template, status[0],
                            (time.perf_counter() - start) * 1000)


def _exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _unauth(request: Request, exc: NotAuthenticated):
        if is_api_path(request.url.path) or request.method not in ("GET", "HEAD"):
            return JSONResponse({"detail": "Log in first (session cookie or Bearer API token)."}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/login?next=" + _quote(request.url.path), 303)

    @app.exception_handler(services.ServiceError)
    async def _service(request: Request, exc: services.ServiceError):
        return JSONResponse({"detail": exc.message, **library.to_plain(exc.extra)}, exc.status_code)

    @app.exception_handler(uploads.UploadError)
    async def _upload(request: Request, exc: uploads.UploadError):
        return JSONResponse({"detail": exc.message}, exc.status_code)

    @app.exception_handler(library.LibraryUnavailable)
    async def _unavailable(request: Request, exc: library.LibraryUnavailable):
        return JSONResponse({"detail": str(exc)}, 501)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # Say which field is wrong; never echo the input (it may be patient data) into logs.
        errors = [{"path": ".".join(str(x) for x in e.get("loc", ())), "message": e.get("msg")}
                  for e in exc.errors()]
        return JSONResponse({"detail": "The request is not valid: " +
                             "; ".join(f"{e['path']}: {e['message']}" for e in errors), "errors": errors}, 422)

    _ = HTTPException  # FastAPI's own handler renders HTTPException as {"detail": ...}


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def iter_routes(app: FastAPI):
    """Every concrete route as (path, methods, route), through included routers."""

    def walk(routes, prefix=""):
        for r in routes:
            original = getattr(r, "original_router", None)
            if original is not None:
                ctx = getattr(r, "include_context", None)
                yield from walk(original.routes, prefix + (getattr(ctx, "prefix", "") or ""))
            elif hasattr(r, "methods") and r.methods:
                yield prefix + r.path, sorted(r.methods), r
            elif hasattr(r, "path"):
                yield prefix + r.path, [], r

    yield from walk(app.routes)


def app_from_env() -> FastAPI:
    """Factory for multi-process serving (``livermet serve --workers N``): settings from
    the ``LIVERMET_*`` environment, which ``livermet serve`` sets for its workers."""
    import os

    settings = Settings.from_env(start_worker=os.environ.get("LIVERMET_JOBS", "1") == "1")
    return create_app(settings, announce_admin=None)
