"""Security: every route refuses the unauthenticated and the wrong role; CSRF enforced;
lock-out; cookie flags; settings refuse a placeholder secret in production."""

from __future__ import annotations

import re

import pytest

from web_support import PASSWORD, ROLES, Client, make_app

# Routes anyone may call: the log-in itself, the health probe, static files (no data).
PUBLIC = {("/login", "GET"), ("/login", "POST"), ("/api/login", "POST"), ("/healthz", "GET")}


def _routes(app):
    from livermet.web.app import iter_routes

    for path, methods, route in iter_routes(app):
        if path == "/static":
            continue
        for m in methods:
            if m == "HEAD":
                continue
            yield path, m, route


def _permission(route) -> str | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    for dep in dependant.dependencies:
        perm = getattr(dep.call, "permission", None)
        if perm:
            return perm
    return None


def _url(path: str, pk: int) -> str:
    return (path.replace("{pk}", str(pk)).replace("{user_id}", "1").replace("{job_id}", "1")
            .replace("{k}", "0").replace("{service_id}", "livermet-mdt"))


@pytest.fixture
def setup(app, clients, demo_case):
    r = clients["admin"].post("/api/cases", json={"data": demo_case})
    assert r.status_code == 201, r.text
    return app, clients, r.json()["pk"]


def test_every_route_declares_a_permission(app):
    routes = list(_routes(app))
    assert len(routes) > 40
    for path, method, route in routes:
        if (path, method) in PUBLIC:
            continue
        assert _permission(route) in {"read", "edit", "images", "admin"}, f"{method} {path} has no permission"


def test_unauthenticated_refused_everywhere(setup):
    app, clients, pk = setup
    anon = Client(app)
    checked = 0
    for path, method, _route in _routes(app):
        if (path, method) in PUBLIC:
            continue
        r = anon.http.request(method, _url(path, pk), json={})
        if method == "GET" and not path.startswith(("/api/", "/cds-services", "/openapi.json")):
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        checked += 1
    assert checked > 40
    # and nothing changed
    assert clients["admin"].get(f"/api/cases/{pk}").json()["version"] == 1


def test_wrong_role_refused_everywhere(setup):
    from livermet.web.deps import PERMISSIONS

    app, clients, pk = setup
    refused = 0
    for path, method, route in _routes(app):
        perm = _permission(route)
        if perm is None:
            continue
        for role in ROLES:
            if perm in PERMISSIONS[role]:
                continue
            r = clients[role].http.request(method, _url(path, pk), json={"version": 1},
                                           headers=clients[role].h())
            assert r.status_code == 403, (role, method, path, r.status_code, r.text[:200])
            assert "may not" in r.json()["detail"]
            refused += 1
    assert refused > 30
    assert clients["admin"].get(f"/api/cases/{pk}").json()["version"] == 1


def test_viewer_can_read_but_not_edit(setup):
    app, clients, pk = setup
    v = clients["viewer"]
    assert v.get(f"/api/cases/{pk}").status_code == 200
    assert v.get(f"/cases/{pk}").status_code == 200
    assert "Save</button>" not in v.get(f"/cases/{pk}").text
    assert v.put(f"/api/cases/{pk}", json={"version": 1, "status": "ready"}).status_code == 403


def test_csrf_enforced_on_every_change(setup):
    app, clients, pk = setup
    admin = clients["admin"]
    checked = 0
    for path, method, route in _routes(app):
        if method == "GET" or (path, method) in PUBLIC:
            continue
        for headers in ({}, {"X-CSRF-Token": "wrong"}):
            r = admin.http.request(method, _url(path, pk), json={"version": 1}, headers=headers)
            assert r.status_code == 403 and "CSRF" in r.json()["detail"], (method, path, r.status_code)
        checked += 1
    assert checked > 20
    # a form post with the right token in the body is accepted
    r = admin.http.post(f"/cases/{pk}/archive", data={"csrf_token": admin.csrf, "version": "1", "archive": "1"})
    assert r.status_code == 303
    # the login form needs its own token (login CSRF)
    r = Client(app).http.post("/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 403


def test_api_token_needs_no_csrf_and_respects_role(setup):
    app, clients, pk = setup
    tok = clients["viewer"].post("/api/tokens", json={"label": "script"}).json()["token"]
    anon = Client(app)
    bearer = {"Authorization": f"Bearer {tok}"}
    assert anon.http.get(f"/api/cases/{pk}", headers=bearer).status_code == 200
    assert anon.http.put(f"/api/cases/{pk}", json={"version": 1, "status": "ready"}, headers=bearer).status_code == 403
    assert anon.http.get("/api/me", headers={"Authorization": "Bearer lmt_forged"}).status_code == 401


def test_login_form_logout_and_cookie_flags(app):
    c = Client(app)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.http.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "livermet_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    home = c.get("/")
    assert home.status_code == 200 and "Worklist" in home.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)
    assert c.http.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert c.get("/").status_code == 303  # the server-side session is gone
    # an open redirect via ?next= is not followed
    page = c.get("/login?next=//evil.example/")
    assert 'value="/"' in page.text


def test_lockout_after_repeated_failures(tmp_path):
    app = make_app(tmp_path / "d", lockout_attempts=3, lockout_minutes=5)
    c = Client(app)
    for _ in range(3):
        assert c.http.post("/api/login", json={"username": "admin", "password": "wrong-password"}).status_code == 401
    r = c.http.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 401 and "locked" in r.json()["detail"]
    # an administrator (here: the CLI path, via services) unlocks
    from livermet.web import services

    with app.state.sessionmaker() as db:
        services.update_user(db, services.Actor(None, "t", "admin"), 1, unlock=True)
    assert c.http.post("/api/login", json={"username": "admin", "password": PASSWORD}).status_code == 200
    # unknown users get the same message as wrong passwords
    r = c.http.post("/api/login", json={"username": "nobody", "password": "x" * 10})
    assert r.json()["detail"] == "Unknown user or wrong password."
    app.state.engine.dispose()


def test_passwords_are_argon2(app):
    from livermet.web.models import User

    with app.state.sessionmaker() as db:
        h = db.get(User, 1).password_hash
    assert h.startswith("$argon2id$") and PASSWORD not in h


def test_placeholder_secret_refused_in_production(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from livermet.cli.main import app as cli
    from livermet.web.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="LIVERMET_SECRET_KEY"):
        Settings(data_dir=tmp_path, production=True, secret_key="change-me").validated()
    with pytest.raises(SettingsError, match="at least 32"):
        Settings(data_dir=tmp_path, production=True, secret_key="short-but-not-placeholder").validated()
    Settings(data_dir=tmp_path, production=True, secret_key="x" * 40).validated()
    monkeypatch.setenv("LIVERMET_PRODUCTION", "1")
    monkeypatch.setenv("LIVERMET_SECRET_KEY", "changeme")
    res = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 2
    assert "LIVERMET_SECRET_KEY" in res.output and "Traceback" not in res.output


def test_security_headers(app):
    r = Client(app).get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
