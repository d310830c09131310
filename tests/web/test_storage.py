"""Storage on SQLite and PostgreSQL: migrations, cases, optimistic concurrency, append-only
audit, archive-not-delete, search, restart losing nothing, job recovery."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text
from web_support import PASSWORD, Client, make_app


def test_migrations_at_head_and_match_models(tmp_path, db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from livermet.web import db as dbmod
    from livermet.web.models import Base

    app = make_app(tmp_path / "d", db_url)
    engine = app.state.engine
    head = ScriptDirectory.from_config(dbmod.alembic_config(engine)).get_current_head()
    assert dbmod.current_revision(engine) == head
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == [], diffs
    engine.dispose()


def test_case_lifecycle_conflict_and_audit(tmp_path, db_url, demo_case):
    app = make_app(tmp_path / "d", db_url)
    a = Client(app, "admin")
    r = a.post("/api/cases", json={"data": demo_case})
    assert r.status_code == 201
    pk = r.json()["pk"]
    assert a.post("/api/cases", json={"data": demo_case}).status_code == 409  # same id twice

    # two people open version 1; the first save wins, the second gets 409 and nothing is lost
    mine = copy.deepcopy(demo_case)
    mine["labs"]["cea"] = 50
    theirs = copy.deepcopy(demo_case)
    theirs["labs"]["cea"] = 99
    r1 = a.put(f"/api/cases/{pk}", json={"version": 1, "data": mine})
    assert r1.status_code == 200 and r1.json()["version"] == 2
    r2 = a.put(f"/api/cases/{pk}", json={"version": 1, "data": theirs})
    assert r2.status_code == 409
    assert "NOT saved" in r2.json()["detail"] and r2.json()["current_version"] == 2
    assert a.get(f"/api/cases/{pk}").json()["data"]["labs"]["cea"] == 50

    # the HTML editor gives the same 409, with the message on the page
    page = a.http.post(f"/cases/{pk}", data={"csrf_token": a.csrf, "version": "1", "id": demo_case["id"],
                                             "labs.cea": "77"})
    assert page.status_code == 409 and "changed by someone else" in page.text

    # invalid data is refused with the library's messages, by field path
    bad = copy.deepcopy(mine)
    bad["patient"]["age"] = "sixty"
    r = a.put(f"/api/cases/{pk}", json={"version": 2, "data": bad})
    assert r.status_code == 422
    assert any(p["path"] == "patient.age" for p in r.json()["problems"])

    # archive, never delete
    assert a.post(f"/api/cases/{pk}/archive", json={"version": 2}).status_code == 200
    assert a.get("/api/cases").json()["cases"] == []
    archived = a.get("/api/cases?archived=true").json()["cases"]
    assert [c["pk"] for c in archived] == [pk]
    assert a.get(f"/api/cases/{pk}").status_code == 200

    entries = a.get(f"/api/cases/{pk}/audit").json()["entries"]
    assert [e["action"] for e in entries] == ["create", "update", "archive"]
    upd = entries[1]
    assert upd["username"] == "admin"
    assert upd["before"]["data"]["labs"]["cea"] == demo_case["labs"]["cea"]
    assert upd["after"]["data"]["labs"]["cea"] == 50
    assert upd["before"]["version"] == 1 and upd["after"]["version"] == 2

    # the database itself refuses to change or delete the audit log
    with app.state.engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE audit_log SET username = 'mallory'"))
        conn.rollback()
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM audit_log"))
        conn.rollback()
    app.state.engine.dispose()


def test_worklist_search_and_filters(tmp_path, db_url, demo_case):
    app = make_app(tmp_path / "d", db_url)
    a = Client(app, "admin")
    for i, (name, date, status) in enumerate([("Ada Lovelace", "2026-12-01", "ready"),
                                              ("Alan Turing", "2026-12-01", "new"),
                                              ("Grace Hopper", "2026-12-08", "new")]):
        d = copy.deepcopy(demo_case)
        d["id"] = f"case-{i}"
        d["meeting_date"] = date
        d["patient"]["name"] = name
        assert a.post("/api/cases", json={"data": d, "status": status}).status_code == 201
    ids = lambda r: sorted(c["case_id"] for c in r.json()["cases"])  # noqa: E731
    assert ids(a.get("/api/cases", params={"q": "turing"})) == ["case-1"]
    assert ids(a.get("/api/cases", params={"meeting_date": "2026-12-01"})) == ["case-0", "case-1"]
    assert ids(a.get("/api/cases", params={"status": "new"})) == ["case-1", "case-2"]
    page = a.get("/", params={"q": "hopper"})
    assert "Grace Hopper" in page.text and "Alan Turing" not in page.text
    app.state.engine.dispose()


def test_restart_loses_nothing(tmp_path, db_url, demo_case):
    data_dir = tmp_path / "d"
    app = make_app(data_dir, db_url)
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    a.put(f"/api/cases/{pk}/mdt", json={"version": 1, "decision": "resection", "attendees": [
        {"name": "Dr A", "role": "hepatobiliary_surgeon"}]})
    a.post("/api/users", json={"username": "nurse", "password": "nurse-password", "role": "coordinator"})
    cookie = a.http.cookies.get("livermet_session")
    app.state.engine.dispose()

    app2 = make_app(data_dir, db_url)  # a new server on the same database
    b = Client(app2, "admin", PASSWORD)
    case = b.get(f"/api/cases/{pk}").json()
    assert case["version"] == 2 and case["data"]["mdt"]["decision"] == "resection"
    assert case["status"] == "discussed"
    assert len(b.get(f"/api/cases/{pk}/audit").json()["entries"]) == 2
    assert Client(app2, "nurse", "nurse-password").get("/api/me").json()["role"] == "coordinator"
    # a session opened before the restart is still valid (server-side sessions)
    c = Client(app2)
    c.http.cookies.set("livermet_session", cookie)
    assert c.get("/api/me").status_code == 200
    # only one admin: the first-start account is not created again
    assert [u["username"] for u in b.get("/api/users").json()["users"]] == ["admin", "nurse"]
    app2.state.engine.dispose()


def test_interrupted_job_is_requeued(tmp_path, db_url, demo_case):
    from livermet.web.models import Job, utcnow

    app = make_app(tmp_path / "d", db_url)
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    with app.state.sessionmaker() as db:
        db.add(Job(kind="volumetry", case_pk=pk, status="running", progress=0.3, message="running",
                   params={}, created_at=utcnow()))
        db.commit()
    app.state.jobs.recover()
    job = a.get("/api/jobs/1").json()
    assert job["status"] == "queued" and "restart" in job["message"]
    app.state.engine.dispose()
