"""The per-version caches that make reads cheap (bench/service.py) never serve a stale
answer: every key holds the case's stored version and the library stamp (livermet release
and knowledge base version), an edit by any path makes the next read show it, and a cached
answer is the same as one computed afresh by the library."""

from __future__ import annotations

import json

import pytest
from web_support import Client, make_app


@pytest.fixture
def app_and_case(tmp_path, demo_case, db_url):
    app = make_app(tmp_path / "d", db_url)
    a = Client(app, "admin")
    r = a.post("/api/cases", json={"data": demo_case})
    assert r.status_code == 201, r.text
    yield app, a, r.json()["pk"]
    app.state.engine.dispose()


def _library_assessment(data: dict) -> dict:
    """The assessment straight from the library (no web layer, no cache), as JSON data."""
    from livermet.assess import assess_case
    from livermet.case.model import Case

    return json.loads(json.dumps(assess_case(Case.model_validate(data), imaging=False).to_dict()))


def test_case_read_follows_every_edit(app_and_case):
    """The cached case read shows each new version: a data edit, a status change, an archive
    (all through the API) and a write that bypasses the API (the volumetry job's path)."""
    from livermet.web import services

    app, a, pk = app_and_case
    first = a.get(f"/api/cases/{pk}").json()
    assert a.get(f"/api/cases/{pk}").json() == first  # served from the cache: the same answer

    data = first["data"]
    data["labs"]["cea"] = 123.4
    put = a.put(f"/api/cases/{pk}", json={"version": first["version"], "data": data})
    assert put.status_code == 200, put.text
    after_edit = a.get(f"/api/cases/{pk}").json()
    assert after_edit["version"] == first["version"] + 1
    assert after_edit["data"]["labs"]["cea"] == 123.4
    assert after_edit == put.json()

    r = a.put(f"/api/cases/{pk}", json={"version": after_edit["version"], "status": "ready"})
    assert r.status_code == 200, r.text
    after_status = a.get(f"/api/cases/{pk}").json()
    assert (after_status["status"], after_status["version"]) == ("ready", after_edit["version"] + 1)
    assert after_status["problems"] == after_edit["problems"]  # same document, same problems

    r = a.post(f"/api/cases/{pk}/archive", json={"version": after_status["version"]})
    assert r.status_code == 200, r.text
    archived = a.get(f"/api/cases/{pk}").json()
    assert archived["archived"] is True and archived["version"] == after_status["version"] + 1

    with app.state.sessionmaker() as db:  # as the volumetry job writes its results
        row = services.get_case(db, pk)
        new = json.loads(json.dumps(row.data))
        new["labs"]["cea"] = 7.5
        services.update_case(db, services.Actor(None, "job", "system"), pk, row.version, data=new,
                             action="volumetry")
    job_written = a.get(f"/api/cases/{pk}").json()
    assert job_written["version"] == archived["version"] + 1
    assert job_written["data"]["labs"]["cea"] == 7.5


def test_case_read_problems_are_the_libraries(app_and_case):
    """A cached read carries the problems the library finds in that version's document."""
    from livermet.web import library

    app, a, pk = app_and_case
    got = a.get(f"/api/cases/{pk}").json()
    again = a.get(f"/api/cases/{pk}").json()
    assert again["problems"] == got["problems"] == json.loads(json.dumps(library.validate_case(got["data"])))


def test_assessment_follows_edits_and_equals_the_library(app_and_case):
    """After an edit, the assessment is the library's for the new document; before it, for
    the old one (the cache is keyed on the version, not on the case number)."""
    app, a, pk = app_and_case
    case = a.get(f"/api/cases/{pk}").json()
    before = a.get(f"/api/cases/{pk}/assessment").json()
    assert before == _library_assessment(case["data"])
    data = case["data"]
    data["labs"]["bilirubin"] = 3.5  # jaundice (mg/dL): Child-Pugh and ALBI change
    assert a.put(f"/api/cases/{pk}", json={"version": case["version"], "data": data}).status_code == 200
    after = a.get(f"/api/cases/{pk}/assessment").json()
    assert after == _library_assessment(data)
    assert after["scores"] != before["scores"]


def test_assessment_cache_keyed_on_knowledge_version(app_and_case, monkeypatch):
    """A new knowledge base version (a changed rule or threshold) is never answered from an
    assessment computed under the old one, even for an unchanged case version."""
    import livermet.decision
    import livermet.decision.knowledge
    from livermet.web import library

    app, a, pk = app_and_case
    calls = []
    real = library.assess_with_json

    def counting(data):
        calls.append(1)
        return real(data)

    monkeypatch.setattr(library, "assess_with_json", counting)
    old = a.get(f"/api/cases/{pk}/assessment").json()
    assert a.get(f"/api/cases/{pk}/assessment").json() == old and len(calls) == 1  # cached
    assert old["knowledge_version"] == livermet.decision.knowledge.KNOWLEDGE_VERSION

    monkeypatch.setattr(livermet.decision.knowledge, "KNOWLEDGE_VERSION", "9.9.9-test")
    monkeypatch.setattr(livermet.decision, "KNOWLEDGE_VERSION", "9.9.9-test")
    new = a.get(f"/api/cases/{pk}/assessment").json()
    assert len(calls) == 2 and new["knowledge_version"] == "9.9.9-test"


def test_cache_keyed_on_livermet_release(monkeypatch):
    """Another livermet release (calculator or validation code) misses every entry."""
    import livermet
    from livermet.web import library

    cache = library.VersionCache()
    cache.put(1, 3, b"old")
    assert cache.peek(1, 3) == b"old" and cache.peek(1, 4) is None and cache.peek(2, 3) is None
    monkeypatch.setattr(livermet, "__version__", livermet.__version__ + ".post-test")
    assert cache.peek(1, 3) is None


def test_version_cache_is_bounded():
    from livermet.web import library

    cache = library.VersionCache(size=3)
    for v in range(1, 6):
        cache.put(1, v, v)
    assert len(cache) == 3 and cache.peek(1, 2) is None and cache.peek(1, 5) == 5


def test_unknown_case_is_404_for_read_and_assessment(app_and_case):
    app, a, pk = app_and_case
    for url in (f"/api/cases/{pk + 999}", f"/api/cases/{pk + 999}/assessment"):
        r = a.get(url)
        assert r.status_code == 404 and f"No case with number {pk + 999}" in r.json()["detail"]


def test_update_case_answer_is_what_is_stored(app_and_case):
    """update_case (plain SQL now) returns exactly the stored row, audits before and after,
    and a CaseRow that the caller loaded earlier in the same session is not left stale."""
    from sqlalchemy import select

    from livermet.web import services
    from livermet.web.models import AuditEntry, CaseRow

    app, a, pk = app_and_case
    with app.state.sessionmaker() as db:
        held = db.get(CaseRow, pk)
        old_version, old_cea = held.version, held.data["labs"]["cea"]
        data = json.loads(json.dumps(held.data))
        data["labs"]["cea"] = old_cea + 1
        row, problems = services.update_case(db, services.Actor(1, "admin", "admin"), pk, old_version,
                                             data=data, status="ready")
        assert db.get(CaseRow, pk).version == old_version + 1  # the held object was refreshed
    with app.state.sessionmaker() as db:
        fresh = db.get(CaseRow, pk)
        for col in CaseRow.__table__.columns:
            assert getattr(row, col.key) == getattr(fresh, col.key), col.key
        entry = db.scalars(select(AuditEntry).where(AuditEntry.entity == "case", AuditEntry.entity_id == str(pk))
                           .order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.username) == ("update", "admin")
    assert entry.before["version"] == old_version and entry.before["data"]["labs"]["cea"] == old_cea
    assert entry.after == services.case_state(fresh)
    assert fresh.status == "ready" and fresh.data["labs"]["cea"] == old_cea + 1


@pytest.mark.parametrize("filters", [{}, {"meeting_date": "2026-12-03"}, {"status": "ready"}, {"q": "müller"},
                                     {"q": "CASE-B"}, {"archived": True}, {"q": "o'br", "status": "new"}])
def test_worklist_summaries_match_the_documents(tmp_path, demo_case, db_url, filters):
    """The worklist reads the patient's name and the primary site out of the stored document
    in SQL; it must list the same cases, in the same order, with the same values as
    ``case_summary`` of the ORM rows (unicode, quotes, a missing site or patient)."""
    from livermet.web import services

    app = make_app(tmp_path / "d", db_url)
    a = Client(app, "admin")
    names = ["Anna Müller", "Seán O'Brien", None, 'Ødegård, "Kari" \\ Ås', "Zoë"]
    for i, name in enumerate(names):
        d = json.loads(json.dumps(demo_case))
        d["id"] = f"case-{'ab'[i % 2]}-{i}"
        d["meeting_date"] = ["2026-12-03", "2026-12-01", "2026-12-03", None, "2026-11-30"][i]
        if name is None:
            d["patient"] = {k: v for k, v in d["patient"].items() if k != "name"}
        else:
            d["patient"]["name"] = name
        if i == 4:
            d["primary"] = {k: v for k, v in d["primary"].items() if k != "site"}
        d = {k: v for k, v in d.items() if v is not None}
        r = a.post("/api/cases", json={"data": d, "status": "ready" if i % 2 else "new"})
        assert r.status_code == 201, r.text
        if i == 2:
            a.post(f"/api/cases/{r.json()['pk']}/archive", json={"version": 1})
    with app.state.sessionmaker() as db:
        expected = [services.case_summary(r) for r in services.list_cases(db, **filters)]
        got = services.list_case_summaries(db, **filters)
    assert got == expected and (expected or filters.get("q") == "o'br")
    api = a.get("/api/cases", params={k: str(v).lower() if isinstance(v, bool) else v
                                      for k, v in filters.items()}).json()["cases"]
    assert api == expected
    app.state.engine.dispose()


def test_editor_sections_built_once_and_equal_to_a_fresh_build():
    """The case editor's form is derived from the case model once; the shared copy is the
    same as a fresh derivation (every field of the model, in order)."""
    from livermet.case.model import Case
    from livermet.web import forms

    assert forms.build_sections() is forms.build_sections()
    fresh = forms._build_sections(Case)
    assert forms.build_sections() == fresh
    paths = [f.path for s in fresh for f in s.fields]
    assert "labs.bilirubin" in paths and "patient.name" in paths and len(paths) == len(set(paths))


def test_assessment_process_gives_the_libraries_answer(tmp_path, demo_case):
    """With a job process (as ``livermet serve`` runs), assessments are computed in a process
    of their own: the API's bytes and the pages' data are those computed in the server's own
    process, and an edit gets the new version's assessment."""
    from fastapi.testclient import TestClient
    from web_support import PASSWORD

    from livermet.web import library

    app = make_app(tmp_path / "d", job_processes=1)
    assert isinstance(app.state.assessments.process, library.AssessmentProcess)
    with TestClient(app) as http:  # the context runs the lifespan, which starts the process
        h = {"X-CSRF-Token": http.post("/api/login", json={"username": "admin", "password": PASSWORD})
             .json()["csrf_token"]}
        pk = http.post("/api/cases", json={"data": demo_case}, headers=h).json()["pk"]
        case = http.get(f"/api/cases/{pk}").json()
        got = http.get(f"/api/cases/{pk}/assessment")
        assert got.status_code == 200 and got.content == library.assess_with_json(case["data"])[1]
        assert isinstance(app.state.assessments.peek(pk, case["version"]), library._Computed)  # from the process
        assert app.state.assessments.get(pk, case["version"], case["data"]) == library.assess(case["data"])
        data = case["data"]
        data["labs"]["bilirubin"] = 3.5
        assert http.put(f"/api/cases/{pk}", json={"version": case["version"], "data": data},
                        headers=h).status_code == 200
        after = http.get(f"/api/cases/{pk}/assessment").json()
        assert after == _library_assessment(data) and after != got.json()
    app.state.engine.dispose()


def test_assessment_process_failure_falls_back_with_the_libraries_error(monkeypatch):
    """A failing or dead assessment process never loses an assessment: it is computed in the
    server's process, and a library error reaches the caller with its own type."""
    from concurrent.futures.process import BrokenProcessPool

    from livermet.web import library

    class Dead(library.AssessmentProcess):
        def compute(self, data):
            raise BrokenProcessPool("gone")

    calls = []
    monkeypatch.setattr(library, "assess_with_json", lambda data: calls.append(data) or ({"ok": 1}, b'{"ok": 1}'))
    cache = library.AssessmentCache(process=Dead())
    assert cache.get_json(1, 1, {"id": "x"}) == b'{"ok": 1}' and calls == [{"id": "x"}]

    class Boom(Exception):
        pass

    def failing(data):
        raise Boom("the library's own error")

    monkeypatch.setattr(library, "assess_with_json", failing)
    with pytest.raises(Boom):
        library.AssessmentCache(process=Dead()).get_json(1, 1, {"id": "x"})


def test_assessment_process_is_replaced_after_it_dies(tmp_path):
    """A computing process that was killed is replaced by a new one at the next assessment."""
    import os
    import signal
    from concurrent.futures.process import BrokenProcessPool

    from web_support import DEMO

    from livermet.web import library

    data = json.loads(DEMO.read_text())
    proc = library.AssessmentProcess()
    try:
        first = proc.compute(data)
        assert first == library.assess_with_json(data)[1]
        (pid,) = proc._pool._processes.keys()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            proc.compute(data)
        assert proc.compute(data) == first  # a fresh process
    finally:
        proc.shutdown()


def test_read_requests_autocommit_and_writes_stay_atomic(tmp_path, demo_case, db_url, monkeypatch):
    """On PostgreSQL a GET runs in autocommit (no BEGIN/ROLLBACK round trips); the pooled
    connection goes back to transactions afterwards, so an edit whose audit row fails
    leaves the case unchanged (the UPDATE is rolled back with it)."""
    from livermet.web import services

    app = make_app(tmp_path / "d", db_url)
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    pg = app.state.engine.dialect.name == "postgresql"
    if pg:
        with app.state.read_sessionmaker() as db:
            assert db.connection().connection.dbapi_connection.autocommit is True
    for _ in range(3):  # the pool's connections have all served reads
        assert a.get(f"/api/cases/{pk}").status_code == 200
    with app.state.sessionmaker() as db:
        if pg:
            assert db.connection().connection.dbapi_connection.autocommit is False

    def broken_audit(*args, **kw):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "audit", broken_audit)
    case = a.get(f"/api/cases/{pk}").json()
    data = case["data"]
    data["labs"]["cea"] = 999.0
    r = a.put(f"/api/cases/{pk}", json={"version": case["version"], "data": data})
    assert r.status_code == 500 and "RuntimeError" in r.json()["detail"]
    monkeypatch.undo()
    again = a.get(f"/api/cases/{pk}").json()
    assert again["version"] == case["version"] and again["data"]["labs"]["cea"] != 999.0
    app.state.engine.dispose()


def test_idle_pooled_connection_checked_and_replaced(pg_url, monkeypatch):
    """PostgreSQL: a pooled connection idle past the limit is pinged before use, and one the
    server has closed meanwhile is replaced instead of failing the request."""
    import psycopg
    from sqlalchemy import text

    from livermet.web import db as dbmod

    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)
    engine = dbmod.make_engine(pg_url)
    try:
        with engine.connect() as c:
            first = c.execute(text("select pg_backend_pid()")).scalar()
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (first,))
        with engine.connect() as c:
            second = c.execute(text("select pg_backend_pid()")).scalar()
        assert second != first
    finally:
        engine.dispose()


def test_server_uses_the_c_http_parser_and_event_loop(tmp_path):
    """``livermet serve`` leaves uvicorn's choice on auto: with the dependencies installed it
    parses HTTP with httptools and runs uvloop (where uvloop exists), ~0.12 ms less server
    CPU per request than h11 and asyncio's loop (bench/service.py)."""
    import sys

    import uvicorn

    app = make_app(tmp_path / "d")
    config = uvicorn.Config(app, loop="auto", http="auto", log_level="warning")
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    if sys.platform != "win32":
        import uvloop  # noqa: F401 - a dependency on this platform; uvicorn's auto loop picks it
    app.state.engine.dispose()
