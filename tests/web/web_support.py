"""Helpers shared by the web tests (imported by conftest and the test modules)."""

from __future__ import annotations

import os
from pathlib import Path


PG_BASE = os.environ.get("LIVERMET_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROLES = ("admin", "clinician", "coordinator", "viewer")
PASSWORD = "correct-horse-battery"
DEMO = Path(__file__).resolve().parents[2] / "src" / "livermet" / "data" / "demo_case.json"


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_reason() -> str | None:
    """None when PostgreSQL answers, else why the PostgreSQL tests skip."""
    try:
        import psycopg

        with psycopg.connect(_pg_conninfo(PG_BASE), connect_timeout=2) as conn:
            conn.execute("select 1")
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable here
        return f"PostgreSQL not reachable at {PG_BASE} ({type(exc).__name__})"
    return None


def make_settings(data_dir: Path, db_url: str | None = None, **kw):
    from livermet.web.settings import Settings

    kw.setdefault("start_worker", False)
    kw.setdefault("job_processes", 0)  # jobs run in-process here; the browser test runs the real server
    return Settings(data_dir=data_dir, database_url=db_url, admin_password=PASSWORD, **kw)


def make_app(data_dir: Path, db_url: str | None = None, **kw):
    from livermet.web.app import create_app

    return create_app(make_settings(data_dir, db_url, **kw), announce_admin=None)


class Client:
    """A TestClient logged in as one user, sending the CSRF token on changes."""

    def __init__(self, app, username: str | None = None, password: str = PASSWORD):
        from fastapi.testclient import TestClient

        self.app = app
        self.http = TestClient(app, follow_redirects=False)
        self.csrf = None
        if username:
            r = self.http.post("/api/login", json={"username": username, "password": password})
            assert r.status_code == 200, r.text
            self.csrf = r.json()["csrf_token"]

    def h(self, extra=None):
        h = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        h.update(extra or {})
        return h

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def post(self, url, **kw):
        return self.http.post(url, headers=self.h(kw.pop("headers", None)), **kw)

    def put(self, url, **kw):
        return self.http.put(url, headers=self.h(kw.pop("headers", None)), **kw)


def add_users(app) -> None:
    from livermet.web import services

    with app.state.sessionmaker() as db:
        for role in ROLES[1:]:
            services.create_user(db, services.Actor(None, "test", "admin"), role, PASSWORD, role)


