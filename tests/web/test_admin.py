"""First start, accounts (page and CLI), history page."""

from __future__ import annotations

import re

from web_support import PASSWORD, Client, make_app


def test_first_start_prints_a_password_once(tmp_path, capsys):
    from livermet.web.app import _print_admin, create_app
    from livermet.web.settings import Settings

    s = Settings(data_dir=tmp_path / "d", start_worker=False)
    app = create_app(s, announce_admin=_print_admin)
    err = capsys.readouterr().err
    password = re.search(r"password: (\S+)", err).group(1)
    assert Client(app, "admin", password).get("/api/me").json()["role"] == "admin"
    app.state.engine.dispose()
    app2 = create_app(s, announce_admin=_print_admin)  # second start: nothing printed, same password
    assert "password" not in capsys.readouterr().err
    assert Client(app2, "admin", password).get("/api/me").status_code == 200
    app2.state.engine.dispose()


def test_admin_user_pages(tmp_path):
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    page = a.get("/admin/users").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = a.http.post("/admin/users", data={"csrf_token": csrf, "username": "rad", "password": "radiology-1",
                                          "role": "clinician"})
    assert r.status_code == 200 and "User created." in r.text
    r = a.http.post("/admin/users", data={"csrf_token": csrf, "username": "x", "password": "short", "role": "viewer"})
    assert r.status_code == 422 and "at least 8" in r.text
    uid = [u for u in a.get("/api/users").json()["users"] if u["username"] == "rad"][0]["id"]
    r = a.http.post(f"/admin/users/{uid}", data={"csrf_token": csrf, "role": "viewer", "active": "1"})
    assert r.status_code == 200
    assert Client(app, "rad", "radiology-1").get("/api/me").json()["role"] == "viewer"
    # user changes are audited too
    entries = a.get("/api/audit").json()["entries"]
    assert any(e["entity"] == "user" and e["after"].get("role") == "viewer" for e in entries)
    app.state.engine.dispose()


def test_history_page_lists_changes(tmp_path, demo_case):
    app = make_app(tmp_path / "d")
    a = Client(app, "admin")
    pk = a.post("/api/cases", json={"data": demo_case}).json()["pk"]
    a.put(f"/api/cases/{pk}", json={"version": 1, "status": "ready"})
    page = a.get(f"/cases/{pk}/history").text
    assert page.count("<tr><td>") == 2 and "update" in page and "create" in page and "1 → 2" in page
    app.state.engine.dispose()


def test_users_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from livermet.cli.main import app as cli

    d = tmp_path / "d"
    app = make_app(d)
    app.state.engine.dispose()
    run = CliRunner().invoke
    res = run(cli, ["users", "add", "coord", "--role", "coordinator", "--password", "coordinator-1",
                    "--data-dir", str(d)])
    assert res.exit_code == 0, res.output
    res = run(cli, ["users", "list", "--json", "--data-dir", str(d)])
    assert [u["username"] for u in __import__("json").loads(res.stdout)] == ["admin", "coord"]
    res = run(cli, ["users", "add", "bad", "--role", "surgeon", "--data-dir", str(d)])
    assert res.exit_code == 2 and "role='surgeon'" in res.output
    token = run(cli, ["users", "token", "coord", "--data-dir", str(d)]).stdout.strip()
    app = make_app(d)
    assert Client(app).get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "coord"
    res = run(cli, ["users", "set-password", "admin", "--password", "new-admin-pass", "--data-dir", str(d)])
    assert res.exit_code == 0
    assert Client(app, "admin", "new-admin-pass").get("/api/me").status_code == 200
    assert Client(app).http.post("/api/login", json={"username": "admin", "password": PASSWORD}).status_code == 401
    app.state.engine.dispose()
