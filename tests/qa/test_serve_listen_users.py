"""`livermet serve` and `livermet users` as a hospital's IT person meets them.

- A port in use (or a host that is not this machine's) was found by uvicorn only after the
  database had been migrated, the first admin's password printed and "serving on ..." said;
  it then exited 3. It is now refused first, exit 2, nothing created.
- `users list` (or `token`, `set-password`) in a folder without a database created a new
  empty one there and listed no users; it now says no database is there.
- `users add` / `token` / `set-password` take --json, as data commands do.
"""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 300)
    monkeypatch.setattr(common.out, "width", 300)
    return CliRunner()


def test_serve_on_a_port_in_use_is_refused_before_anything_starts(runner, tmp_path, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("uvicorn must not start"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(app, ["serve", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 2
    assert f"--port {port}: already in use on 127.0.0.1" in r.stderr
    assert f"--port {port + 1}" in r.stderr  # what to do instead
    assert "serving on" not in r.output and "password" not in r.output
    assert not (tmp_path / "d").exists()  # no database migrated, no admin created


@pytest.mark.parametrize("host, needle", [
    ("0.0.0.0.1", "not an address this machine can listen on"),
    ("192.0.2.1", "not an address of this machine"),  # TEST-NET-1 (RFC 5737): never local
])
def test_serve_on_a_host_that_is_not_this_machine(runner, tmp_path, host, needle):
    r = runner.invoke(app, ["serve", "--host", host, "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 2
    assert f"--host {host}: {needle}" in r.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("args", [["list"], ["token", "admin"], ["set-password", "admin"]])
def test_users_in_a_folder_without_a_database(runner, tmp_path, args):
    d = tmp_path / "wrong-folder"
    r = runner.invoke(app, ["users", *args, "--data-dir", str(d), "--json"])
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    assert data["error"] == f"no livermet database in {d.resolve()} (livermet.sqlite3 is missing)"
    assert "--data-dir" in data["hint"]
    assert not d.exists()  # nothing created there


def test_users_add_token_set_password_json(runner, tmp_path):
    d = str(tmp_path / "d")
    r = runner.invoke(app, ["users", "add", "nurse", "--role", "viewer", "--data-dir", d, "--json"])
    assert r.exit_code == 0, r.output
    added = json.loads(r.stdout)
    assert added["username"] == "nurse" and added["role"] == "viewer"
    assert len(added["password"]) >= 8
    assert "created a new livermet database" in r.stderr
    assert "no administrator" in r.stderr  # serve creates none in a database with accounts
    r = runner.invoke(app, ["users", "token", "nurse", "--label", "ehr", "--data-dir", d, "--json"])
    assert r.exit_code == 0, r.output
    tok = json.loads(r.stdout)
    assert tok["username"] == "nurse" and tok["label"] == "ehr" and tok["token"].startswith("lmt_")
    r = runner.invoke(app, ["users", "set-password", "nurse", "--data-dir", d, "--json"])
    assert r.exit_code == 0, r.output
    new = json.loads(r.stdout)["password"]
    assert len(new) >= 8 and new != added["password"]
    r = runner.invoke(app, ["users", "add", "boss", "--role", "admin", "--password", "long-enough-1",
                            "--data-dir", d, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["password"] is None  # not echoed back
    assert "no administrator" not in r.stderr and "created a new" not in r.stderr
    users = json.loads(runner.invoke(app, ["users", "list", "--data-dir", d, "--json"]).stdout)
    assert [u["username"] for u in users] == ["nurse", "boss"]


@pytest.mark.parametrize("value", ["-5", "0", "nan"])
def test_session_idle_minutes_names_the_option(runner, tmp_path, value, monkeypatch):
    # the settings' message named LIVERMET_SESSION_IDLE_MINUTES although the option was given
    monkeypatch.delenv("LIVERMET_SESSION_IDLE_MINUTES", raising=False)
    r = runner.invoke(app, ["serve", "--session-idle-minutes", value,
                            "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 2
    assert f"--session-idle-minutes {value}: expected a number of minutes > 0" in r.stderr
    assert "LIVERMET_SESSION_IDLE_MINUTES" not in r.stderr
    assert not (tmp_path / "d").exists()
