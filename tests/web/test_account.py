"""A user's own account: changing the password, and the idle timeout of sessions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from web_support import PASSWORD, Client, make_app


def _session_row(app):
    from sqlalchemy import select

    from livermet.web.models import SessionRow

    with app.state.sessionmaker() as db:
        return db.scalars(select(SessionRow).order_by(SessionRow.created_at.desc())).first()


def _set_expiry(app, id_hash, **values):
    from sqlalchemy import update

    from livermet.web.models import SessionRow

    with app.state.sessionmaker() as db:
        db.execute(update(SessionRow).where(SessionRow.id_hash == id_hash).values(**values))
        db.commit()


def test_change_own_password_api_and_page(tmp_path):
    app = make_app(tmp_path / "d")
    from web_support import add_users

    add_users(app)
    v = Client(app, "viewer")  # even a read-only user may change their own password
    other = Client(app, "viewer")  # a second session of the same user
    r = v.post("/api/me/password", json={"current_password": "wrong-one-1", "new_password": "new-secret-99"})
    assert r.status_code == 422 and "current_password" in r.json()["detail"]
    r = v.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and "at least 8" in r.json()["detail"]
    r = v.post("/api/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert r.status_code == 422 and "different" in r.json()["detail"]
    r = v.http.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "new-secret-99"})
    assert r.status_code == 403  # no CSRF token
    r = v.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "new-secret-99"})
    assert r.status_code == 200, r.text
    # this session goes on; the other one ended; the old password no longer logs in
    assert v.get("/api/me").status_code == 200
    assert other.get("/api/me").status_code == 401
    assert v.http.post("/api/login", json={"username": "viewer", "password": PASSWORD}).status_code == 401
    v2 = Client(app, "viewer", "new-secret-99")
    # the page form, with its confirmation field
    page = v2.get("/account").text
    assert "Change your password" in page and "30 minutes" in page
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = v2.http.post("/account/password", data={"csrf_token": csrf, "current_password": "new-secret-99",
                                                "new_password": "third-pass-1", "new_password_again": "third-pass-2"})
    assert r.status_code == 422 and "differ" in r.text
    r = v2.http.post("/account/password", data={"csrf_token": csrf, "current_password": "new-secret-99",
                                                "new_password": "third-pass-1", "new_password_again": "third-pass-1"})
    assert r.status_code == 200 and "password was changed" in r.text
    Client(app, "viewer", "third-pass-1")
    # audited without the password
    entries = Client(app, "admin").get("/api/audit").json()["entries"]
    changes = [e for e in entries if e["action"] == "change_password"]
    assert len(changes) == 2 and all(e["after"] == {"password": "changed"} for e in changes)
    assert "third-pass-1" not in str(entries)
    app.state.engine.dispose()


def test_wrong_current_password_counts_towards_lockout(tmp_path):
    app = make_app(tmp_path / "d", lockout_attempts=3)
    a = Client(app, "admin")
    for _ in range(3):
        r = a.post("/api/me/password", json={"current_password": "guess-guess", "new_password": "new-secret-99"})
        assert r.status_code == 422
    assert "locked" in r.json()["detail"]
    assert a.http.post("/api/login", json={"username": "admin", "password": PASSWORD}).status_code == 401
    app.state.engine.dispose()


def test_idle_timeout(tmp_path):
    from livermet.web.models import utcnow

    app = make_app(tmp_path / "d", session_idle_minutes=20, session_hours=8)
    a = Client(app, "admin")
    row = _session_row(app)
    assert row.expires_at - row.created_at == pytest.approx(dt.timedelta(minutes=20), abs=dt.timedelta(seconds=5))
    # activity moves the idle deadline forward (the row is touched when it is over a minute old)
    _set_expiry(app, row.id_hash, expires_at=utcnow() + dt.timedelta(minutes=2))
    assert a.get("/api/me").status_code == 200
    moved = _session_row(app).expires_at - utcnow()
    assert dt.timedelta(minutes=19) < moved <= dt.timedelta(minutes=20)
    # ... but never past the absolute lifetime
    _set_expiry(app, row.id_hash, created_at=utcnow() - dt.timedelta(hours=8, minutes=-5),
                expires_at=utcnow() + dt.timedelta(minutes=1))
    assert a.get("/api/me").status_code == 200
    assert _session_row(app).expires_at - utcnow() <= dt.timedelta(minutes=5)
    # idle past the deadline: logged out (API 401, pages redirect to the log-in)
    _set_expiry(app, row.id_hash, expires_at=utcnow() - dt.timedelta(seconds=1))
    assert a.get("/api/me").status_code == 401
    r = a.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    app.state.engine.dispose()


def test_idle_timeout_setting_is_validated(tmp_path, monkeypatch):
    from livermet.web.settings import Settings, SettingsError

    monkeypatch.setenv("LIVERMET_SESSION_IDLE_MINUTES", "0")
    with pytest.raises(SettingsError, match="LIVERMET_SESSION_IDLE_MINUTES=0.0: expected"):
        Settings.from_env(data_dir=tmp_path)
    monkeypatch.setenv("LIVERMET_SESSION_IDLE_MINUTES", "soon")
    with pytest.raises(SettingsError, match="expected a number"):
        Settings.from_env(data_dir=tmp_path)
    monkeypatch.setenv("LIVERMET_SESSION_IDLE_MINUTES", "5")
    assert Settings.from_env(data_dir=tmp_path).session_idle_minutes == 5.0
